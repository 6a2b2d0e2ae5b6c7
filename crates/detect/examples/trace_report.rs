//! Replays the real GC traces in `fixtures/traces/` (or the CSV files given) through the detector
//! in both threshold modes and prints the markdown table used in `docs/detection.md`: when each
//! leaking trace is declared, and every `suspect`/`leaking` event of the healthy ones.
//!
//! `cargo run --release -p memwatchdog-detect --example trace_report [-v] [--before] [FILE.csv ...]`
//!
//! `--before` replays with the fast path off and the off-heap allowance at 1× (the detector as it
//! was before both existed), for comparison.
//!
//! A trace whose name contains `leak` is expected to leak (`external` in the name: the
//! `external` signal, otherwise `heap`); every other trace is healthy. `-v` also prints every
//! event with its evidence.

use memwatchdog_detect::trace::read_trace;
use memwatchdog_detect::{Config, Detector, GcKind, Sample, State};
use std::path::{Path, PathBuf};

fn modes(before: bool) -> [(&'static str, Config); 2] {
    let mut modes = [
        ("fixed 256 B/ms", Config::with_threshold(256.0)),
        ("adaptive", Config::default()),
    ];
    if before {
        for (_, c) in &mut modes {
            c.fast_path.enabled = false;
            c.growth_allowance.external_factor = 1.0;
        }
    }
    modes
}

fn secs(ms: f64) -> String {
    format!("{:.1} s", ms / 1000.0)
}

fn main() {
    let mut verbose = false;
    let mut before = false;
    let mut files: Vec<PathBuf> = Vec::new();
    for arg in std::env::args().skip(1) {
        if arg == "-v" {
            verbose = true;
        } else if arg == "--before" {
            before = true;
        } else {
            files.push(arg.into());
        }
    }
    if files.is_empty() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/traces");
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .collect();
        found.sort();
        files = found;
    }
    println!(
        "| trace | minutes | majors (first 60 s) | threshold | first `leaking` | `suspect` episodes |"
    );
    println!("|---|---|---|---|---|---|");
    for path in &files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let samples: Vec<Sample> = read_trace(std::io::BufReader::new(file))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let majors = samples.iter().filter(|s| s.gc_kind == GcKind::Major);
        let majors_60 = majors.clone().filter(|s| s.t_ms <= 60_000.0).count();
        let minutes = samples.last().map_or(0.0, |s| s.t_ms / 60_000.0);
        for (mode, config) in modes(before) {
            let mut d = Detector::new(config).unwrap();
            let events = d.push_all(&samples);
            let leaking: Vec<String> = events
                .iter()
                .filter(|e| e.state == State::Leaking)
                .map(|e| format!("{} {}", e.signal, secs(e.t_ms)))
                .collect();
            let suspects = events.iter().filter(|e| e.state == State::Suspect).count();
            println!(
                "| {name} | {minutes:.1} | {} ({majors_60}) | {mode} | {} | {suspects} |",
                majors.clone().count(),
                if leaking.is_empty() {
                    "—".to_owned()
                } else {
                    leaking.join(", ")
                },
            );
            if verbose {
                for e in &events {
                    let t = &e.evidence.trend;
                    println!(
                        "    {} {} {} -> {} slope {:.0} B/ms lb {:?} recent {:.0} thr {:.0} n {} span {} growth {:?}/{:?}",
                        secs(e.t_ms),
                        e.signal,
                        e.from,
                        e.state,
                        e.slope,
                        t.slope_lower_bound.map(f64::round),
                        t.recent_slope,
                        t.threshold,
                        t.points,
                        secs(t.span_ms),
                        e.evidence.growth_bytes.map(|g| (g / 1e6).round()),
                        e.evidence.growth_allowance_bytes.map(|g| (g / 1e6).round()),
                    );
                }
            }
        }
    }
}
