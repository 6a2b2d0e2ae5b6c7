//! Replays the synthetic corpus through the detector and prints the markdown tables used in
//! `docs/detection.md`: detection delay per leaking trace, false alarms per healthy trace.
//!
//! `cargo run --release -p memwatchdog-detect --example corpus_report [SEEDS] [HEALTHY_HOURS]`
//! (defaults: 20 seeds, 6 hours).

use memwatchdog_detect::synth::{self, LeakCase};
use memwatchdog_detect::{Config, Event, Signal, State};

fn modes() -> [(&'static str, Config); 2] {
    [
        ("fixed 256 B/ms", Config::with_threshold(256.0)),
        ("adaptive", Config::default()),
    ]
}

fn fmt_s(ms: f64) -> String {
    let s = ms / 1000.0;
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.2} h", s / 3600.0)
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    let idx = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[idx]
}

fn first(events: &[Event], signal: Signal, state: State, after: f64) -> Option<f64> {
    events
        .iter()
        .find(|e| e.signal == signal && e.state == state && e.t_ms >= after)
        .map(|e| e.t_ms)
}

fn leak_rows(case: &LeakCase, seeds: u64) {
    for (mode, config) in modes() {
        let mut delays = Vec::new();
        let mut resolves = Vec::new();
        let mut early = 0;
        for seed in 0..seeds {
            let events = synth::replay(&case.scenario, seed, config);
            if events
                .iter()
                .any(|e| e.state == State::Leaking && e.t_ms < case.leak_start_ms)
            {
                early += 1;
            }
            if let Some(t) = first(&events, case.signal, State::Leaking, case.leak_start_ms) {
                delays.push(t - case.leak_start_ms);
                if let Some(stop) = case.leak_stop_ms
                    && let Some(r) = first(&events, case.signal, State::Resolved, t.max(stop))
                {
                    resolves.push(r - stop);
                }
            }
        }
        delays.sort_by(f64::total_cmp);
        resolves.sort_by(f64::total_cmp);
        let detected = format!("{}/{seeds}", delays.len());
        let (med, max) = if delays.is_empty() {
            ("—".to_owned(), "—".to_owned())
        } else {
            (
                fmt_s(percentile(&delays, 0.5)),
                fmt_s(*delays.last().unwrap()),
            )
        };
        let resolution = match case.leak_stop_ms {
            None => "—".to_owned(),
            Some(_) if resolves.is_empty() => "never".to_owned(),
            Some(_) => format!(
                "{}/{} (median {}, max {})",
                resolves.len(),
                delays.len(),
                fmt_s(percentile(&resolves, 0.5)),
                fmt_s(*resolves.last().unwrap())
            ),
        };
        println!(
            "| {} | {} | {mode} | {detected} | {med} | {max} | {resolution} | {early} |",
            case.scenario.name, case.signal
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seeds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let hours: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(6.0);

    println!("### Leaking traces ({seeds} seeds each)\n");
    println!(
        "Delay = time from the start of the leak to the first `leaking` event of the leaking signal.\n"
    );
    println!(
        "| trace | signal | threshold | detected | median delay | max delay | resolved after stop | false `leaking` before the leak |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for case in synth::leak_corpus() {
        leak_rows(&case, seeds);
    }

    println!("\n### Healthy traces ({seeds} seeds × {hours} h each)\n");
    println!(
        "| trace | threshold | traces with a `leaking` event | `suspect` episodes (all seeds) |"
    );
    println!("|---|---|---|---|");
    for scenario in synth::healthy_corpus(synth::hours(hours)) {
        for (mode, config) in modes() {
            let mut alarms = 0;
            let mut suspects = 0;
            for seed in 0..seeds {
                let events = synth::replay(&scenario, seed, config);
                if events.iter().any(|e| e.state == State::Leaking) {
                    alarms += 1;
                }
                suspects += events.iter().filter(|e| e.state == State::Suspect).count();
            }
            println!(
                "| {} | {mode} | {alarms}/{seeds} | {suspects} |",
                scenario.name
            );
        }
    }
}
