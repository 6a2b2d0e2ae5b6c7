//! Prints the events of one synthetic scenario, to study the detector's behaviour.
//!
//! `cargo run --release -p memwatchdog-detect --example synth_events NAME SEED [THRESHOLD|adaptive] [HOURS]`
//!
//! With `--csv` as the last argument, writes the trace as CSV to stdout instead (the format
//! `mw detect` reads).

use memwatchdog_detect::synth;
use memwatchdog_detect::trace::TraceWriter;
use memwatchdog_detect::{Config, Detector};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map_or("bursty_traffic", String::as_str);
    let seed: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(0);
    let config = match args.get(2).map(String::as_str) {
        None | Some("adaptive") => Config::default(),
        Some(t) => Config::with_threshold(t.parse().expect("threshold in B/ms")),
    };
    let hours: f64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(6.0);
    let csv = args.iter().any(|a| a == "--csv");
    let scenario = synth::healthy_corpus(synth::hours(hours))
        .into_iter()
        .chain(synth::leak_corpus().into_iter().map(|c| c.scenario))
        .find(|s| s.name == name)
        .expect("unknown scenario");
    if csv {
        let mut w = TraceWriter::new(std::io::BufWriter::new(std::io::stdout().lock())).unwrap();
        for s in scenario.samples(seed) {
            w.write(&s).unwrap();
        }
        return;
    }
    let every: Option<f64> = args
        .iter()
        .position(|a| a == "--status")
        .and_then(|i| args.get(i + 1))
        .and_then(|m| m.parse().ok());
    let mut next_status = 0.0;
    let mut d = Detector::new(config).unwrap();
    let mut samples = scenario.samples(seed);
    while let Some(s) = samples.next() {
        if let Some(every) = every
            && s.t_ms >= next_status
        {
            next_status += every * 60_000.0;
            let st = d.signal_status(memwatchdog_detect::Signal::Heap);
            let f = |t: Option<memwatchdog_detect::Trend>| {
                t.map_or("-".to_owned(), |t| {
                    format!(
                        "n {} span {:.1}m slope {:.2} lb {:.2} recent {:.2} thr {:.2} ex {}",
                        t.points,
                        t.span_ms / 60_000.0,
                        t.theil_sen_slope,
                        t.slope_lower_bound.unwrap_or(f64::NAN),
                        t.recent_slope,
                        t.threshold,
                        t.exceeds
                    )
                })
            };
            println!(
                "  [{:.1} min] heap {} | short {} | long {}",
                s.t_ms / 60_000.0,
                st.state,
                f(st.short),
                f(st.long)
            );
        }
        for e in d.push(&s) {
            let t = e.evidence.trend;
            println!(
                "{:>9.1} min {:<8} {:>8} -> {:<8} slope {:>9.3} lb {:>9.3} recent {:>9.3} thr {:>8.3} n {:>3} span {:>6.1} min p {:.2e} vif {:.1} floor {:>7.1} MB noise {:.2} MB growth {:?}",
                e.t_ms / 60_000.0,
                e.signal.as_str(),
                e.from.as_str(),
                e.state.as_str(),
                e.slope,
                t.slope_lower_bound.unwrap_or(f64::NAN),
                t.recent_slope,
                t.threshold,
                t.points,
                t.span_ms / 60_000.0,
                t.p_value,
                t.variance_inflation,
                t.floor_bytes / 1e6,
                t.noise_bytes / 1e6,
                e.evidence.growth_bytes.map(|g| (g / 1e6).round()),
            );
        }
        // Close the loop as the watchdog does (see synth::replay_until).
        if d.take_gc_request() {
            println!("{:>9.3} min confirmation GC requested", s.t_ms / 60_000.0);
            samples.request_major(s.t_ms + synth::CONFIRMATION_DELAY_MS);
        }
    }
    println!("{}", serde_json_like(&d));
}

fn serde_json_like(d: &Detector) -> String {
    let st = d.status();
    st.signals
        .iter()
        .map(|s| format!("{}: {} slope {:.3}", s.signal, s.state, s.slope))
        .collect::<Vec<_>>()
        .join("; ")
}
