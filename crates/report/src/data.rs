//! The document embedded in the page as JSON: the report model as `mw analyze --json`
//! writes it (paths bounded, see [`crate::bound`]), the inputs, the verdict and the trace.
//! The page's script draws everything from it.

use serde::Serialize;
use serde_json::Value;

use crate::bound::{MAX_PATH_STEPS, bound_paths};
use crate::page::{Analysis, Input};
use crate::trace::TraceChart;

/// Version of the embedded document's layout (`format` in it).
pub const FORMAT_VERSION: u32 = 1;

/// The embedded document.
#[derive(Serialize)]
pub struct Document<'a> {
    format: u32,
    /// `leak`, `summary` or `profile`.
    kind: &'static str,
    generator: &'a str,
    verdict: &'a str,
    inputs: &'a [Input],
    /// The report model, as `--json` prints it.
    report: Value,
    trace: Option<&'a TraceChart>,
    max_path_steps: usize,
}

impl<'a> Document<'a> {
    /// The document of `analysis`.
    pub fn new(
        analysis: &Analysis<'_>,
        generator: &'a str,
        verdict: &'a str,
        inputs: &'a [Input],
        trace: Option<&'a TraceChart>,
    ) -> Result<Self, serde_json::Error> {
        let (kind, mut report) = match analysis {
            Analysis::Leak(r) => ("leak", serde_json::to_value(r)?),
            Analysis::Summary(r) => ("summary", serde_json::to_value(r)?),
            Analysis::Profile(r) => ("profile", serde_json::to_value(r)?),
        };
        bound_paths(&mut report, "suspects");
        bound_paths(&mut report, "holders");
        Ok(Self {
            format: FORMAT_VERSION,
            kind,
            generator,
            verdict,
            inputs,
            report,
            trace,
            max_path_steps: MAX_PATH_STEPS,
        })
    }
}
