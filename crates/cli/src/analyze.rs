//! `mw analyze`: tell snapshots from profiles, load and diff them (oldest first, whatever
//! the order given), print the report.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use memwatchdog_heapsnapshot::{AnalyzeOptions, analyze};
use serde::Serialize;

use crate::chronology::{InOrder, load_in_order, reorder_note};
use crate::cli::AnalyzeArgs;
use crate::inputs::{Inputs, classify};
use crate::output::write_report;
use crate::table::render;

/// Runs `mw analyze`: heap profiles go to [`crate::profile_diff`], snapshots are diffed here.
pub fn run(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    if classify(&args.inputs())? == Inputs::Profiles {
        return crate::profile_diff::run(args);
    }
    let paths = args.inputs();
    let progress = !args.no_progress && std::io::stderr().is_terminal();
    let InOrder { graphs, given } = load_in_order(&paths, progress)?;
    let mut graphs = graphs.into_iter();
    let (base, target, last) = (
        graphs.next().expect("base"),
        graphs.next().expect("target"),
        graphs.next(),
    );
    let opts = AnalyzeOptions { top: args.top };
    let spinner = progress.then(|| {
        let spinner = indicatif::ProgressBar::new_spinner()
            .with_message("computing dominators, retained sizes and retainer paths");
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        spinner
    });
    let report = analyze(base, target, last, &opts);
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    let mut report = report?;
    report.given_as(&given);
    if let Some(note) = reorder_note(&paths, &given) {
        anstream::eprintln!("mw: note: {note}");
    }
    emit(args, &report, render)
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
