//! Replays the real GC traces in `fixtures/traces/` (or the CSV files given) through the detector
//! in both threshold modes and prints the markdown table used in `docs/detection.md`: the first
//! `leaking` event of each trace, the first `oom_risk` with its projected time to exhaustion, and
//! the number of `suspect` episodes.
//!
//! `cargo run --release -p memwatchdog-detect --example trace_report [-v] [FILE.csv ...]`
//!
//! The "without limits" column replays the same trace with its `heap_limit` and `memory_limit`
//! removed: no headroom, so the fixed 64 MiB allowance and no `oom_risk` (close to the detector
//! before it knew the limits).
//!
//! `-v` also prints every event with its evidence. `--retention [GATE]` instead evaluates the
//! rejected idea of crediting the heap's climb between major GCs as floor growth (see
//! `docs/detection.md`, "The fast path"): after a major that kept at least GATE (default 0.85) of
//! the climb since the previous one, rising by 3 × 256 B/ms × Δt or more, the readings after minor
//! GCs are credited at that share; it prints the largest credit per trace. What each trace must give is asserted by
//! `crates/detect/tests/real_traces.rs`.

use memwatchdog_detect::trace::read_trace;
use memwatchdog_detect::{Config, Detector, Event, GcKind, Sample, State};
use std::path::{Path, PathBuf};

fn configs() -> [Config; 2] {
    [Config::with_threshold(256.0), Config::default()]
}

/// The same samples without their limits.
fn without_limits(samples: &[Sample]) -> Vec<Sample> {
    samples.iter().map(|s| s.with_limits(None, None)).collect()
}

fn secs(ms: f64) -> String {
    format!("{:.1} s", ms / 1000.0)
}

/// First `leaking` event as "signal time" (and the first `oom_risk` with its projection), the
/// number of `suspect` episodes, and all events.
fn run(samples: &[Sample], config: &Config) -> (String, usize, Vec<Event>) {
    let mut d = Detector::new(*config).unwrap();
    let events = d.push_all(samples);
    let mut first = events
        .iter()
        .find(|e| e.state == State::Leaking)
        .map_or_else(
            || "—".to_owned(),
            |e| format!("{} {}", e.signal, secs(e.t_ms)),
        );
    if let Some(e) = events.iter().find(|e| e.state == State::OomRisk) {
        let left = e
            .exhaustion_ms
            .map_or_else(String::new, |ms| format!(", {:.0} min left", ms / 60_000.0));
        first = format!("{first}; **oom_risk** {}{left}", secs(e.t_ms));
    }
    let suspects = events.iter().filter(|e| e.state == State::Suspect).count();
    (first, suspects, events)
}

/// The largest growth the rejected "retention" rule would credit beyond the last floor: (bytes,
/// time of the reading, time of the major, kept share).
fn retention_credit(samples: &[Sample], gate: f64) -> (f64, f64, f64, f64) {
    let mut best = (0.0, 0.0, 0.0, 0.0);
    let mut last: Option<(f64, f64)> = None; // last major: time, floor
    let mut peak: Option<f64> = None; // highest reading after a minor GC since it
    let mut first: Option<f64> = None; // first reading after a minor GC since it
    let mut kept: Option<f64> = None;
    for s in samples {
        let v = s.heap_used as f64;
        match s.gc_kind {
            GcKind::Major => {
                if let (Some((t0, f0)), Some(p)) = (last, peak) {
                    let (climb, rise) = (p - f0, v - f0);
                    kept = (climb > 1e6 && rise >= 3.0 * 256.0 * (s.t_ms - t0))
                        .then_some(rise / climb)
                        .filter(|&k| k >= gate);
                } else if last.is_some_and(|(t0, _)| s.t_ms - t0 > 1_000.0) {
                    kept = None;
                }
                last = Some((s.t_ms, v));
                peak = None;
                first = None;
            }
            GcKind::Minor => {
                peak = Some(peak.map_or(v, |p: f64| p.max(v)));
                let m0 = *first.get_or_insert(v);
                if let (Some(k), Some((t0, _))) = (kept, last) {
                    let credit = k * (v - m0);
                    if credit > best.0 {
                        best = (credit, s.t_ms, t0, k);
                    }
                }
            }
            _ => {}
        }
    }
    best
}

fn print_events(fixed: &[Event], adaptive: &[Event]) {
    for (mode, events) in [("fixed", fixed), ("adaptive", adaptive)] {
        for e in events {
            let t = &e.evidence.trend;
            println!(
                "    {mode} {} {} {} -> {} slope {:.0} B/ms thr {:.0} n {} span {} growth {:?} allowance {:?} fast {:?}",
                secs(e.t_ms),
                e.signal,
                e.from,
                e.state,
                e.slope,
                t.threshold,
                t.points,
                secs(t.span_ms),
                e.evidence.growth_bytes.map(|g| (g / 1e6).round()),
                e.evidence.growth_allowance_bytes.map(|g| (g / 1e6).round()),
                e.evidence.fast_path.map(|f| (f.points, secs(f.span_ms))),
            );
        }
    }
}

fn print_retention(files: &[PathBuf], gate: f64) {
    println!(
        "| trace | largest credited growth (gate {gate}) | at | after the major at | kept share |"
    );
    println!("|---|---|---|---|---|");
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let file = std::fs::File::open(path).unwrap();
        let samples = read_trace(std::io::BufReader::new(file)).unwrap();
        let (credit, t, t0, k) = retention_credit(&samples, gate);
        if credit > 0.0 {
            println!(
                "| {name} | {:.1} MB | {} | {} | {k:.2} |",
                credit / 1e6,
                secs(t),
                secs(t0)
            );
        } else {
            println!("| {name} | — | | | |");
        }
    }
}

fn main() {
    let mut verbose = false;
    let mut retention: Option<f64> = None;
    let mut files: Vec<PathBuf> = Vec::new();
    let mut args = std::env::args().skip(1).peekable();
    while let Some(arg) = args.next() {
        if arg == "-v" {
            verbose = true;
        } else if arg == "--retention" {
            let gate = args.next_if(|a| a.parse::<f64>().is_ok());
            retention = Some(gate.map_or(0.85, |g| g.parse().unwrap()));
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
    if let Some(gate) = retention {
        print_retention(&files, gate);
        return;
    }
    println!(
        "| trace | length | major GCs in the first 60 s (s) | fixed 256 B/ms | adaptive | adaptive without limits | `suspect` episodes (fixed / adaptive) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for path in &files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let samples: Vec<Sample> = read_trace(std::io::BufReader::new(file))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut majors: Vec<String> = Vec::new();
        let mut last = f64::NEG_INFINITY;
        for s in samples.iter().filter(|s| s.gc_kind == GcKind::Major) {
            // Pairs of majors within a second count once.
            if s.t_ms <= 60_000.0 && s.t_ms - last > 1_000.0 {
                majors.push(format!("{:.1}", s.t_ms / 1000.0));
            }
            last = s.t_ms;
        }
        let majors = if majors.len() > 6 {
            format!(
                "{} ({}, {}, {} …)",
                majors.len(),
                majors[0],
                majors[1],
                majors[2]
            )
        } else {
            majors.join(", ")
        };
        let minutes = samples.last().map_or(0.0, |s| s.t_ms / 60_000.0);
        let [fixed, adaptive] = configs().map(|c| run(&samples, &c));
        let unlimited = run(&without_limits(&samples), &Config::default());
        println!(
            "| {name} | {minutes:.1} min | {majors} | {} | {} | {} | {} / {} |",
            fixed.0, adaptive.0, unlimited.0, fixed.1, adaptive.1
        );
        if verbose {
            print_events(&fixed.2, &adaptive.2);
        }
    }
}
