//! A real recorded trace (`fixtures/traces/fast_leak_ticker.csv`) cut at every byte and
//! mutated thousands of seeded ways: never a panic; what a cut trace yields is the real
//! trace's rows (all but the last, which the cut may shorten) or an error; every error is one
//! short line, escaped, that names a line of the input.

use memwatchdog_detect::trace::read_trace;
use memwatchdog_detect::{Sample, TraceError};
use memwatchdog_rng::Rng;

const REAL: &[u8] = include_bytes!("../../../fixtures/traces/fast_leak_ticker.csv");

const MAX_MESSAGE: usize = 512;

fn check_error(e: &TraceError, input: &[u8]) {
    let message = e.to_string();
    assert!(
        message.len() <= MAX_MESSAGE,
        "{} bytes: {message:.600}",
        message.len()
    );
    assert!(!message.chars().any(char::is_control), "{message:?}");
    let lines = input.split(|&b| b == b'\n').count() as u64;
    let line = match e {
        TraceError::Empty => return,
        TraceError::NoSamples { header_line } => *header_line,
        TraceError::Io { line, .. }
        | TraceError::LineTooLong { line }
        | TraceError::TimeBackwards { line, .. }
        | TraceError::MissingColumn { line, .. }
        | TraceError::DuplicateColumn { line, .. }
        | TraceError::Cell { line, .. } => *line,
    };
    assert!(
        (1..=lines).contains(&line),
        "line {line} of {lines}: {message}"
    );
    if !matches!(e, TraceError::NoSamples { .. }) {
        assert!(message.starts_with(&format!("line {line}: ")), "{message}");
    }
}

#[test]
fn every_cut_yields_the_rows_before_it_or_an_error_naming_a_line() {
    let full: Vec<Sample> = read_trace(REAL).unwrap();
    assert!(full.len() > 50, "{}", full.len());
    for cut in 0..REAL.len() {
        match read_trace(&REAL[..cut]) {
            Ok(rows) => {
                assert!(!rows.is_empty() && rows.len() <= full.len(), "cut {cut}");
                let whole = rows.len() - 1;
                assert_eq!(rows[..whole], full[..whole], "cut {cut}");
            }
            Err(e) => check_error(&e, &REAL[..cut]),
        }
    }
}

#[test]
fn mutations_never_panic_and_errors_name_the_line() {
    const GRAMMAR: &[u8] = b"0123456789,.-e\n\r x";
    let mut rng = Rng::new(0x7ace_0f17);
    let (mut read, mut failed) = (0, 0);
    for _ in 0..3000 {
        let mut bytes = REAL.to_vec();
        rng.mutate(&mut bytes, GRAMMAR);
        match read_trace(bytes.as_slice()) {
            Ok(rows) => {
                assert!(rows.windows(2).all(|w| w[0].t_ms <= w[1].t_ms));
                assert!(rows.iter().all(|s| s.t_ms.is_finite()));
                read += 1;
            }
            Err(e) => {
                check_error(&e, &bytes);
                failed += 1;
            }
        }
    }
    assert!(read > 100 && failed > 100, "{read} read, {failed} failed");
}
