//! `mw analyze FILE --node ID` / `--class NAME`: one object's story. Reads the snapshot with
//! its edges, computes retention, tells why the object (or the class's largest objects) is
//! alive ([`memwatchdog_heapsnapshot::retainers`]), prints the report.

use std::process::ExitCode;

use memwatchdog_heapsnapshot::{RetainerOptions, Retention, Target, retainers};

use crate::analyze::{emit, progress_wanted, while_computing};
use crate::cli::AnalyzeArgs;
use crate::inputs::Opened;
use crate::load::{Job, load_one_file};
use crate::story_table::render;

/// Objects of a class told when `--sample` is not given.
const DEFAULT_SAMPLE: usize = 3;
/// Retainer paths per object when `--paths` is not given.
const DEFAULT_PATHS: usize = 10;

/// Runs `mw analyze FILE` with `--node` or `--class`.
pub fn run(args: &AnalyzeArgs, input: Opened) -> anyhow::Result<ExitCode> {
    let target = match (&args.node, &args.class) {
        (Some(id), _) => Target::Id(*id),
        (None, Some(name)) => Target::Class {
            name: name.clone(),
            sample: args.sample.unwrap_or(DEFAULT_SAMPLE),
        },
        (None, None) => unreachable!("mw analyze dispatches here only with --node or --class"),
    };
    let progress = progress_wanted(args);
    let job = Job { input, edges: true };
    let graph = load_one_file(job, progress)?;
    let opts = RetainerOptions {
        paths: args.paths.unwrap_or(DEFAULT_PATHS),
        show_strings: args.show_strings,
    };
    let report = while_computing(progress, || {
        retainers(&graph, &Retention::compute(&graph), &target, &opts)
    })?;
    emit(args, &report, render)
}
