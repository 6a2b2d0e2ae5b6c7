//! The CSV trace reader and the detector as `mw detect TRACE.csv` runs them: rows read from a
//! `BufRead`, each pushed into a `Detector` with the default configuration.
//!
//! Checks: no panic (in the reader or in the detector's arithmetic on any finite time and
//! any 64-bit byte count); rows come out in time order with finite times; there are never
//! more rows than lines; the same samples however the input arrives; errors are short single
//! lines, and all but "empty" name their line, a line that exists.

#![no_main]

use std::io::BufReader;

use libfuzzer_sys::fuzz_target;
use memwatchdog_detect::{Config, Detector, Sample, TraceError, TraceReader};
use memwatchdog_fuzz::{Trickle, check_message};

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count() as u64;
    let whole = read(data);
    let sizes = [(1 + data.len() % 11) as u8, 64, 2];
    let trickled = read(BufReader::with_capacity(16, Trickle::new(data, &sizes)));
    assert_eq!(
        whole.0, trickled.0,
        "the samples read in pieces differ from those read whole"
    );
    assert_eq!(
        whole.1.as_ref().map(ToString::to_string),
        trickled.1.as_ref().map(ToString::to_string)
    );
    let (samples, error) = whole;
    assert!((samples.len() as u64) < lines.max(1));
    assert!(samples.iter().all(|s| s.t_ms.is_finite()));
    assert!(samples.windows(2).all(|w| w[0].t_ms <= w[1].t_ms));
    if let Some(e) = error {
        let line = match e {
            TraceError::Empty => None,
            TraceError::NoSamples { header_line } => Some(header_line),
            TraceError::Io { line, .. }
            | TraceError::LineTooLong { line }
            | TraceError::TimeBackwards { line, .. }
            | TraceError::MissingColumn { line, .. }
            | TraceError::DuplicateColumn { line, .. }
            | TraceError::Cell { line, .. } => Some(line),
        };
        if let Some(line) = line {
            assert!(line >= 1 && line <= lines, "line {line} of {lines}");
        }
        check_message(&e, line.is_some().then_some("line "));
    }

    let mut detector = Detector::new(Config::default()).expect("the default config is valid");
    for sample in &samples {
        for event in detector.push(sample) {
            assert!(event.t_ms.is_finite());
        }
        let _ = detector.take_gc_request();
    }
});

/// The samples read before the first error, and that error.
fn read(input: impl std::io::BufRead) -> (Vec<Sample>, Option<TraceError>) {
    let reader = match TraceReader::new(input) {
        Ok(reader) => reader,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut samples = Vec::new();
    for row in reader {
        match row {
            Ok(sample) => samples.push(sample),
            Err(e) => return (samples, Some(e)),
        }
    }
    (samples, None)
}
