//! How good the `oom_risk` projection is on a trace of a process that died of it: replays
//! the trace and, at each major GC from the first `oom_risk` on, prints the projected time of
//! exhaustion (sample time + `exhaustion_ms`) against the time the process died (the trace's
//! last sample, unless `--died-at MS` says otherwise).
//!
//! `cargo run --release -p memwatchdog-detect --example projection TRACE.csv [--heap-limit BYTES] [--died-at MS]`
//!
//! The figures in `docs/detection.md` ("Projection") come from this.

use memwatchdog_detect::trace::read_trace;
use memwatchdog_detect::{Config, Detector, Signal, State};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .expect("usage: projection TRACE.csv [--heap-limit BYTES] [--died-at MS]");
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse::<f64>().expect("a number"))
    };
    let text = std::fs::read(path).expect("readable trace");
    let mut samples = read_trace(text.as_slice()).expect("a valid trace");
    if let Some(limit) = flag("--heap-limit") {
        for s in &mut samples {
            s.heap_limit = Some(limit as u64);
        }
    }
    let start = samples.first().map_or(0.0, |s| s.t_ms);
    let died = flag("--died-at").unwrap_or_else(|| samples.last().map_or(0.0, |s| s.t_ms));
    println!("died at {:.1} s", (died - start) / 1000.0);
    println!(
        "{:>8}  {:>10}  {:>14}  {:>12}  {:>7}",
        "t (s)", "state", "projected (s)", "error", "left"
    );
    let mut d = Detector::new(Config::default()).expect("default config");
    let mut seen = false;
    for s in &samples {
        d.push(s);
        let st = d.signal_status(Signal::Heap);
        seen |= st.state == State::OomRisk;
        if seen && s.gc_kind.is_major() {
            if let Some(ms) = st.exhaustion_ms {
                let projected = s.t_ms + ms;
                let left = died - s.t_ms;
                println!(
                    "{:>8.1}  {:>10}  {:>14.1}  {:>+11.0}%  {:>6.0}%",
                    (s.t_ms - start) / 1000.0,
                    st.state.as_str(),
                    (projected - start) / 1000.0,
                    100.0 * (projected - died) / left.max(1.0),
                    100.0 * left / (died - start),
                );
            }
        }
    }
}
