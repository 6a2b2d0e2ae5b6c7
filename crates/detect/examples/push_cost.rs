//! Measures what `Detector::push` costs per GC event on synthetic traces (release build):
//!
//! `cargo run --release -p memwatchdog-detect --example push_cost`
//!
//! Prints, per trace: samples, majors, total detector time, mean cost per sample, and the cost of
//! the non-major samples alone (which must be O(1)).

use memwatchdog_detect::{Config, Detector, GcKind, Sample, synth};
use std::time::Instant;

fn time_push(samples: &[Sample]) -> f64 {
    let mut detector = Detector::new(Config::default()).expect("valid");
    let start = Instant::now();
    let mut events = 0;
    for sample in samples {
        events += detector.push(sample).len();
    }
    std::hint::black_box(events);
    start.elapsed().as_secs_f64()
}

fn main() {
    println!(
        "| trace | samples | majors | detector time | mean per sample | per non-major sample |"
    );
    println!("|---|---|---|---|---|---|");
    for scenario in synth::healthy_corpus(synth::hours(6.0)) {
        if !matches!(scenario.name, "warmup_plateau" | "heavy_churn") {
            continue;
        }
        let all: Vec<Sample> = scenario.samples(1).collect();
        let majors = all.iter().filter(|s| s.gc_kind == GcKind::Major).count();
        let others: Vec<Sample> = all
            .iter()
            .filter(|s| s.gc_kind != GcKind::Major)
            .map(|s| Sample { rss: None, ..*s })
            .collect();
        let total = time_push(&all);
        let minor = time_push(&others);
        println!(
            "| {} (6 h) | {} | {majors} | {:.0} ms | {:.2} µs | {:.0} ns |",
            scenario.name,
            all.len(),
            total * 1e3,
            total / all.len() as f64 * 1e6,
            minor / others.len() as f64 * 1e9,
        );
    }
}
