//! `mw analyze FILE`: one snapshot alone. Reads it with its edges, computes what holds its
//! memory ([`memwatchdog_heapsnapshot::summarize`]), maps closures of scripts that have source
//! maps to their original source, prints the report.

use std::process::ExitCode;

use memwatchdog_heapsnapshot::{Retention, SummaryOptions, summarize};
use memwatchdog_sourcemap::Resolver;

use crate::analyze::{emit, progress_wanted, while_computing};
use crate::cli::AnalyzeArgs;
use crate::inputs::Opened;
use crate::load::{Job, load_one_file};
use crate::summary_table::render;

/// Runs `mw analyze` on one heap snapshot.
pub fn run(args: &AnalyzeArgs, input: Opened) -> anyhow::Result<ExitCode> {
    let progress = progress_wanted(args);
    let job = Job { input, edges: true };
    let graph = load_one_file(job, progress)?;
    let opts = SummaryOptions {
        top: args.top,
        show_strings: args.show_strings,
    };
    let mut report = while_computing(progress, || {
        summarize(&graph, &Retention::compute(&graph), &opts)
    });
    let mut maps = Resolver::new();
    report.map_sources(|url, line, column| maps.resolve(url, line, column));
    crate::html::write_if_asked(args, memwatchdog_report::Analysis::Summary(&report))?;
    emit(args, &report, render)
}
