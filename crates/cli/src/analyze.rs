//! `mw analyze`: tell snapshots from profiles and one file from several, load and diff
//! them (oldest first, whatever the order given), print the report.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use memwatchdog_heapsnapshot::report::LeakReport;
use memwatchdog_heapsnapshot::{AnalyzeOptions, DiffError, analyze};
use memwatchdog_report::Analysis;
use memwatchdog_sourcemap::Resolver;
use serde::Serialize;

use crate::chronology::{InOrder, load_in_order, reorder_note};
use crate::cli::{AnalyzeArgs, UsageError};
use crate::inputs::{Inputs, Opened, classify, open_all};
use crate::output::write_report;
use crate::table::render;

/// Runs `mw analyze`: heap profiles go to [`crate::profile_diff`], one snapshot to
/// [`crate::summary`] (or [`crate::story`] with `--node`/`--class`), two or three snapshots
/// are diffed here.
pub fn run(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let paths = args.inputs();
    args.check_options_for(paths.len())?;
    crate::html::check_args(args)?;
    let mut inputs = open_all(&paths)?;
    if classify(&inputs)? == Inputs::Profiles {
        if let [one] = paths[..] {
            return Err(UsageError::OneProfile {
                path: one.to_owned(),
            }
            .into());
        }
        return crate::profile_diff::run(args, inputs);
    }
    if let [_] = paths[..] {
        let input = inputs.pop().expect("one input");
        return if args.node.is_some() || args.class.is_some() {
            crate::story::run(args, input)
        } else {
            crate::summary::run(args, input)
        };
    }
    let report = diff_snapshots(inputs, &paths, args.top, progress_wanted(args))?;
    crate::html::write_if_asked(args, Analysis::Leak(&report))?;
    emit(args, &report, render)
}

/// The leak diff of two or three opened snapshots (`paths` in the order given): loaded in
/// time order, diffed with `top` rows kept, in the user's order and with source positions
/// mapped; a note on standard error when the files were reordered.
pub fn diff_snapshots(
    inputs: Vec<Opened>,
    paths: &[&Path],
    top: usize,
    progress: bool,
) -> anyhow::Result<LeakReport> {
    let InOrder { graphs, given } = load_in_order(inputs, progress)?;
    let mut graphs = graphs.into_iter();
    let (base, target, last) = (
        graphs.next().expect("base"),
        graphs.next().expect("target"),
        graphs.next(),
    );
    let opts = AnalyzeOptions { top };
    let mut report = while_computing(progress, || analyze(base, target, last, &opts))
        .map_err(|err| name_the_file(err, paths, &given))?;
    report.given_as(&given);
    let mut maps = Resolver::new();
    report.map_sources(|url, line, column| maps.resolve(url, line, column));
    if let Some(note) = reorder_note(paths, &given) {
        anstream::eprintln!("mw: note: {note}");
    }
    Ok(report)
}

/// A diff error about one snapshot (a corrupt one) prefixed with its file's name.
pub fn name_the_file(err: DiffError, paths: &[&Path], given: &[usize]) -> anyhow::Error {
    match &err {
        DiffError::DuplicateId { which, .. } => {
            let path = paths[given[*which]].display().to_string();
            anyhow::Error::from(err).context(path)
        }
        _ => err.into(),
    }
}

/// Whether to draw progress bars: on a terminal, unless `--no-progress`.
pub fn progress_wanted(args: &AnalyzeArgs) -> bool {
    !args.no_progress && std::io::stderr().is_terminal()
}

/// Runs `work` (the graph passes after the parse) under a spinner when `progress`.
pub fn while_computing<T>(progress: bool, work: impl FnOnce() -> T) -> T {
    let spinner = progress.then(|| {
        let spinner = indicatif::ProgressBar::new_spinner()
            .with_message("computing dominators, retained sizes and retainer paths");
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        spinner
    });
    let result = work();
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    result
}

/// Prints `report` as `--json` asks (JSON, else text from `render`, coloured on a terminal
/// without `NO_COLOR`) to standard output or `--out`.
pub fn emit<R: Serialize>(
    args: &AnalyzeArgs,
    report: &R,
    render: impl FnOnce(&R, bool) -> String,
) -> anyhow::Result<ExitCode> {
    let text = if args.json {
        let mut json = serde_json::to_string_pretty(report).context("serialising the report")?;
        json.push('\n');
        json
    } else {
        let color = args.out.is_none()
            && anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never;
        render(report, color)
    };
    write_report(args.out.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}
