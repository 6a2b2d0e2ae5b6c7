//! `mw detect TRACE.csv`: replays recorded GC samples through the production detector
//! and prints every state change.
//!
//! The trace is read with the detect crate's own reader and fed to the same `Detector`
//! the Node addon runs, so what `mw detect` says is what the watchdog would have done.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use memwatchdog_detect::{Config, Detector, Event, State, TraceError, TraceReader};
use memwatchdog_units::HumanBytes;
use serde::Serialize;
use thiserror::Error;

use crate::cli::DetectArgs;
use crate::exit;
use crate::output::write_report;

/// A trace that could not be replayed.
#[derive(Debug, Error)]
pub enum DetectError {
    /// The trace file could not be opened.
    #[error("cannot open {path}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The trace is not valid CSV of samples.
    #[error("{path}")]
    Trace {
        /// The file.
        path: PathBuf,
        /// Why, with the line number.
        source: TraceError,
    },
    /// The `--config` file could not be read.
    #[error("cannot read the detector settings {path}")]
    ConfigOpen {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The detector settings are invalid.
    #[error("invalid detector settings{}", .path.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default())]
    Config {
        /// The `--config` file, when they came from one.
        path: Option<PathBuf>,
        /// Which setting and why (docs/detection.md lists them).
        source: memwatchdog_detect::ConfigError,
    },
}

/// The defaults, overlaid with `--config` and then `--threshold`.
fn config(args: &DetectArgs) -> Result<Config, DetectError> {
    let mut config = match &args.config {
        None => Config::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| DetectError::ConfigOpen {
                path: path.clone(),
                source,
            })?;
            Config::from_json(&text).map_err(|source| DetectError::Config {
                path: Some(path.clone()),
                source,
            })?
        }
    };
    if args.threshold.is_some() {
        config.threshold = args.threshold;
    }
    Ok(config)
}

/// Runs `mw detect`.
pub fn run(args: &DetectArgs) -> anyhow::Result<ExitCode> {
    let mut detector = Detector::new(config(args)?)
        .map_err(|source| DetectError::Config { path: None, source })?;
    let file = crate::inputs::open_file(&args.trace).map_err(|source| DetectError::Open {
        path: args.trace.clone(),
        source,
    })?;
    let reader =
        TraceReader::new(std::io::BufReader::new(file)).map_err(|source| DetectError::Trace {
            path: args.trace.clone(),
            source,
        })?;
    let mut events = Vec::new();
    let mut first_t = None;
    let mut samples = 0u64;
    let mut gc_requests = 0u64;
    for sample in reader {
        let mut sample = sample.map_err(|source| DetectError::Trace {
            path: args.trace.clone(),
            source,
        })?;
        if args.heap_limit.is_some() {
            sample.heap_limit = args.heap_limit;
        }
        if args.memory_limit.is_some() {
            sample.memory_limit = args.memory_limit;
        }
        first_t.get_or_insert(sample.t_ms);
        samples += 1;
        events.extend(detector.push(&sample));
        gc_requests += u64::from(detector.take_gc_request());
    }
    let start = first_t.unwrap_or(0.0);
    let text = if args.json {
        events.iter().fold(String::new(), |mut out, e| {
            let line = JsonEvent {
                version: JSON_VERSION,
                event: e,
            };
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string(&line).expect("events serialise")
            );
            out
        })
    } else {
        render(
            &events,
            start,
            samples,
            gc_requests,
            detector.config().threshold,
        )
    };
    write_report(args.out.as_deref(), &text)?;
    Ok(ExitCode::from(verdict_code(&events)))
}

/// Version of the `--json` event lines (docs/cli.md): 2 added `version`, the `oom_risk` state,
/// `limit_bytes`, `headroom_bytes` and `exhaustion_ms`.
const JSON_VERSION: u32 = 2;

/// One `--json` line: the event with the schema version first.
#[derive(Serialize)]
struct JsonEvent<'a> {
    version: u32,
    #[serde(flatten)]
    event: &'a Event,
}

/// The exit code for the worst verdict reached: `oom_risk` over `leaking` over none.
fn verdict_code(events: &[Event]) -> u8 {
    if events.iter().any(|e| e.state == State::OomRisk) {
        exit::OOM_RISK
    } else if events.iter().any(|e| e.state == State::Leaking) {
        exit::LEAK_DECLARED
    } else {
        0
    }
}

fn render(
    events: &[Event],
    start: f64,
    samples: u64,
    gc_requests: u64,
    threshold: Option<f64>,
) -> String {
    let mut out = String::new();
    let mode = threshold.map_or_else(
        || "adaptive threshold".to_owned(),
        |t| format!("threshold {t} B/ms"),
    );
    let _ = writeln!(out, "Replayed {samples} samples ({mode})");
    if gc_requests > 0 {
        // Replay cannot run them: the trace's GCs are what happened.
        let _ = writeln!(
            out,
            "the watchdog would have asked for {gc_requests} confirmation GC(s) (see docs/detection.md)"
        );
    }
    if events.is_empty() {
        let _ = writeln!(out, "no state changes: no leak declared");
        return out;
    }
    let _ = writeln!(
        out,
        "{:>10}  {:<8}  {:<22}  {:>14}  {:>12}  evidence",
        "time", "signal", "state", "slope", "limit in"
    );
    for e in events {
        let trend = &e.evidence.trend;
        let _ = writeln!(
            out,
            "{:>10}  {:<8}  {:<22}  {:>14}  {:>12}  {:?} window: {} points over {}, Mann–Kendall p={:.2e}, threshold {:.1} B/ms, floor {:.1}{}",
            elapsed((e.t_ms - start).max(0.0)),
            e.signal.as_str(),
            format!("{} → {}", e.from, e.state),
            format!("{:.1} B/ms", e.slope),
            e.exhaustion_ms.map_or_else(|| "—".to_owned(), elapsed),
            trend.window,
            trend.points,
            elapsed(trend.span_ms),
            trend.p_value,
            trend.threshold,
            HumanBytes(trend.floor_bytes.max(0.0) as u64),
            match (e.limit_bytes, e.headroom_bytes) {
                (Some(limit), Some(headroom)) => format!(
                    ", {:.1} left of {:.1}",
                    HumanBytes(headroom as u64),
                    HumanBytes(limit as u64)
                ),
                _ => String::new(),
            },
        );
    }
    out
}

/// `3723400` ms → `1h02m03s`; short spans as seconds.
fn elapsed(ms: f64) -> String {
    let s = (ms / 1000.0).round() as u64;
    match s {
        0..60 => format!("{:.1}s", ms / 1000.0),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use memwatchdog_detect::TraceError;

    use super::DetectError;

    #[test]
    fn a_trace_read_error_prints_each_cause_once() {
        let err = anyhow::Error::from(DetectError::Trace {
            path: PathBuf::from("app.csv"),
            source: TraceError::Io {
                line: 12,
                source: std::io::Error::other("stream did not contain valid UTF-8"),
            },
        });
        let text = format!("{err:#}");
        assert_eq!(
            text,
            "app.csv: line 12: could not read the trace: stream did not contain valid UTF-8"
        );
        assert_eq!(text.matches("valid UTF-8").count(), 1);
    }
}
