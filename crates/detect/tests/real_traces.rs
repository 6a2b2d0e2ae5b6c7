//! Real GC traces, recorded from real Node 20 programs by the product's own recorder
//! (`fixtures/traces/`, see its README), replayed through the detector in both threshold modes
//! (fixed 256 B/ms and adaptive).
//!
//! Leaking traces must be declared by the deadline given below, measured from t = 0 of the
//! trace's clock (`performance.now()`, whose origin is the process start, a few milliseconds
//! before `start()`); healthy traces must never reach `leaking`. The traces are read from the
//! repository at test time; every CSV file there must be listed here.

use memwatchdog_detect::trace::read_trace;
use memwatchdog_detect::{Config, Detector, Event, Sample, Signal, State, WindowKind};
use std::path::PathBuf;

fn modes() -> [(&'static str, Config); 2] {
    [
        ("fixed 256 B/ms", Config::with_threshold(256.0)),
        ("adaptive", Config::default()),
    ]
}

fn dir() -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "..", "..", "fixtures", "traces"]
        .iter()
        .collect()
}

fn load(name: &str) -> Vec<Sample> {
    let path = dir().join(name).with_extension("csv");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let samples = read_trace(std::io::BufReader::new(file))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(samples.len() > 50, "{name}: only {} samples", samples.len());
    samples
}

fn replay(samples: &[Sample], config: &Config) -> (Vec<Event>, Detector) {
    let mut d = Detector::new(*config).unwrap();
    let events = d.push_all(samples);
    (events, d)
}

/// The leaking traces: name, leaking signal, deadline (ms).
const LEAKS: &[(&str, Signal, f64)] = &[
    // 2.5 MB/s of request records on top of a 40 MB warm-up. V8 ran majors at 0.4, 2.8, 5.0 and
    // 10.2 s, then none until 51.1 s: declared at 51.1 s.
    ("fast_leak_http", Signal::Heap, 60_000.0),
    // Busy CPU: majors at 0.6, 3.3 and 15.5 s, then none until 69.1 s: declared at 15.5 s.
    ("fast_leak_http_busy", Signal::Heap, 60_000.0),
    // 2 MB/s, majors every ~4 s after 19.5 s: declared at 31.9 s.
    ("fast_leak_ticker_busy", Signal::Heap, 60_000.0),
    // 2 MB/s, but V8 ran majors only at 3.0, 19.1 and 83.0 s: by 60 s the floor was seen to rise
    // by 34 MB over 16 s, no more. Declared at the 83.0 s major; the 60 s goal is NOT met here
    // (see docs/detection.md, "Goals").
    ("fast_leak_ticker", Signal::Heap, 90_000.0),
    // 1 MiB/s of Buffers (V8 runs a major every 3-12 s as off-heap memory grows).
    ("external_leak_http", Signal::External, 60_000.0),
    ("external_leak_http_busy", Signal::External, 60_000.0),
];

/// Healthy traces: never `leaking`.
const HEALTHY: &[&str] = &[
    "steady_http",
    "steady_http_busy",
    "heavy_churn_http",
    "bursty_http",
    "cache_fill_http",
    "cache_fill_http_busy",
    "buffer_cache_http",
    "warmup_first_http",
    "warmup_first_http_busy",
    "batch_job",
    "batch_job_busy",
    "idle_ticker",
    "idle_ticker_busy",
];

/// Healthy programs whose floor grows by more than the growth allowance while rising faster
/// than the threshold: outside the design envelope, reported by design.
const OVER_ALLOWANCE: &[&str] = &["cache_fill_big_http", "cache_fill_big_http_busy"];

/// A 1 MiB/min leak, 9 minutes long: too slow for the short window and too short for the long
/// one (it needs 20-90 minutes); it must not be declared yet, and the long window must see it.
const SLOW: &str = "slow_leak_http";

#[test]
fn every_trace_file_is_covered() {
    let mut listed: Vec<&str> = LEAKS.iter().map(|l| l.0).collect();
    listed.extend(HEALTHY);
    listed.extend(OVER_ALLOWANCE);
    listed.push(SLOW);
    let mut files: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "csv").then(|| p.file_stem().unwrap().to_string_lossy().into())
        })
        .collect();
    files.sort();
    for f in &files {
        assert!(
            listed.contains(&f.as_str()),
            "{f}.csv is not covered by a test"
        );
    }
    for l in &listed {
        assert!(files.iter().any(|f| f == l), "{l}.csv is missing");
    }
}

#[test]
fn leaking_traces_are_declared_in_time() {
    for &(name, signal, limit_ms) in LEAKS {
        let samples = load(name);
        for (mode, config) in modes() {
            let (events, _) = replay(&samples, &config);
            let first = events
                .iter()
                .find(|e| e.state == State::Leaking)
                .unwrap_or_else(|| panic!("{name} ({mode}): not declared: {events:#?}"));
            assert_eq!(first.signal, signal, "{name} ({mode}): {first:#?}");
            assert!(
                first.t_ms <= limit_ms,
                "{name} ({mode}): declared at {:.1} s, deadline {:.0} s: {first:#?}",
                first.t_ms / 1000.0,
                limit_ms / 1000.0
            );
            // The alert carries a sensible growth rate: 1-3 MB/s for these leaks.
            assert!(
                (500.0..10_000.0).contains(&first.slope),
                "{name} ({mode}): {first:#?}"
            );
            let growth = first.evidence.growth_bytes.unwrap();
            assert!(
                growth >= first.evidence.growth_allowance_bytes.unwrap(),
                "{name} ({mode}): {first:#?}"
            );
        }
    }
}

#[test]
fn healthy_traces_are_never_declared() {
    for name in HEALTHY {
        let samples = load(name);
        for (mode, config) in modes() {
            let (events, _) = replay(&samples, &config);
            let alarms: Vec<&Event> = events
                .iter()
                .filter(|e| e.state == State::Leaking)
                .collect();
            assert!(
                alarms.is_empty(),
                "{name} ({mode}): false alarm: {alarms:#?}"
            );
        }
    }
}

#[test]
fn growth_beyond_the_allowance_is_reported_only_for_its_size() {
    for name in OVER_ALLOWANCE {
        let samples = load(name);
        for (mode, config) in modes() {
            let (events, _) = replay(&samples, &config);
            for e in events.iter().filter(|e| e.state == State::Leaking) {
                assert_eq!(e.evidence.trend.window, WindowKind::Short, "{e:#?}");
                let growth = e.evidence.growth_bytes.unwrap();
                assert!(growth >= 64.0 * 1024.0 * 1024.0, "{name} ({mode}): {e:#?}");
            }
        }
    }
}

#[test]
fn slow_leak_is_seen_by_the_long_window_but_not_declared_yet() {
    let samples = load(SLOW);
    for (mode, config) in modes() {
        let (events, d) = replay(&samples, &config);
        assert!(
            events.iter().all(|e| e.state != State::Leaking),
            "{mode}: {events:#?}"
        );
        let long = d
            .signal_status(Signal::Heap)
            .long
            .expect("a long-window fit");
        // 1 MiB/min = 17.5 B/ms.
        assert!(
            (5.0..60.0).contains(&long.theil_sen_slope),
            "{mode}: {long:#?}"
        );
    }
}
