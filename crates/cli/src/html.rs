//! `mw analyze ... --html FILE`: the report as one self-contained HTML page
//! ([`memwatchdog_report`]), written like `--out` (a temporary file renamed into place), with
//! the inputs' sizes and times and, with `--trace CSV`, the trace replayed through the
//! detector.

use std::path::Path;
use std::time::UNIX_EPOCH;

use anyhow::Context;
use memwatchdog_detect::{Detector, TraceReader};
use memwatchdog_report::{Analysis, Input, Page, TraceChart, write_html};

use crate::cli::{AnalyzeArgs, UsageError};
use crate::detect::DetectError;
use crate::inputs::STDIN;
use crate::output::write_report;

/// What made the page: `mw 0.1.0`.
const GENERATOR: &str = concat!("mw ", env!("CARGO_PKG_VERSION"));

/// Fails when `--html`/`--trace` cannot be honoured for this command line: `--trace` and an
/// input both on standard input. Run before any input is read.
pub fn check_args(args: &AnalyzeArgs) -> Result<(), UsageError> {
    if let Some(trace) = &args.trace
        && trace.as_os_str() == STDIN
        && args.files.iter().any(|f| f.as_os_str() == STDIN)
    {
        return Err(UsageError::StdinTwice);
    }
    Ok(())
}

/// Writes the page of `analysis` to `--html FILE` when it was given.
pub fn write_if_asked(args: &AnalyzeArgs, analysis: Analysis<'_>) -> anyhow::Result<()> {
    let Some(out) = &args.html else {
        return Ok(());
    };
    let trace = args.trace.as_deref().map(replay).transpose()?;
    write_page(out, analysis, &args.files, trace)
}

/// Writes the page of `analysis` over `files` (the inputs in the order given) to `out`.
pub fn write_page(
    out: &Path,
    analysis: Analysis<'_>,
    files: &[impl AsRef<Path>],
    trace: Option<TraceChart>,
) -> anyhow::Result<()> {
    let page = Page {
        analysis,
        inputs: files.iter().map(|f| input(f.as_ref())).collect(),
        trace,
        generator: GENERATOR.to_owned(),
    };
    let mut html = Vec::new();
    write_html(&page, &mut html).context("rendering the HTML report")?;
    let html = String::from_utf8(html).expect("the page is UTF-8");
    write_report(Some(out), &html)?;
    Ok(())
}

/// An input's name, size and modification time (none for standard input or a pipe).
fn input(path: &Path) -> Input {
    let meta = (path.as_os_str() != STDIN)
        .then(|| std::fs::metadata(path).ok())
        .flatten()
        .filter(std::fs::Metadata::is_file);
    Input {
        name: path.display().to_string(),
        bytes: meta.as_ref().map(std::fs::Metadata::len),
        modified_ms: meta
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as u64),
    }
}

/// Reads the trace at `path` (as `mw detect` does) and replays it through a detector with
/// the default settings, the watchdog's.
fn replay(path: &Path) -> anyhow::Result<TraceChart> {
    let file = crate::inputs::open_file(path).map_err(|source| DetectError::Open {
        path: path.to_owned(),
        source,
    })?;
    let trace_error = |source| DetectError::Trace {
        path: path.to_owned(),
        source,
    };
    let reader = TraceReader::new(std::io::BufReader::new(file)).map_err(trace_error)?;
    Ok(TraceChart::replay(reader, Detector::default()).map_err(trace_error)?)
}
