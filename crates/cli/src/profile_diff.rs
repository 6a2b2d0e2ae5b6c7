//! `mw analyze` on sampling heap profiles: parse each file, diff, map the frames of scripts
//! that have source maps to their original source, print the report.

use std::io::BufReader;
use std::process::ExitCode;

use memwatchdog_heapprofile::{DiffOptions, HeapProfile, diff, parse};
use memwatchdog_sourcemap::Resolver;

use crate::analyze::emit;
use crate::cli::AnalyzeArgs;
use crate::inputs::{InputError, Opened, Source};
use crate::profile_table::render;

/// Runs `mw analyze` on two or three `.heapprofile` inputs.
pub fn run(args: &AnalyzeArgs, inputs: Vec<Opened>) -> anyhow::Result<ExitCode> {
    let profiles = inputs
        .into_iter()
        .map(load)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut report = diff(
        &profiles[0],
        &profiles[1],
        profiles.get(2),
        &DiffOptions { top: args.top },
    );
    let mut maps = Resolver::new();
    report.map_sources(|url, line, column| maps.resolve(url, line, column));
    crate::html::write_if_asked(args, memwatchdog_report::Analysis::Profile(&report))?;
    emit(args, &report, render)
}

/// Parses one profile input; an unreadable one is [`InputError::Profile`] with its name.
pub fn load(input: Opened) -> anyhow::Result<HeapProfile> {
    let path = input.path.clone();
    let parsed = match input.into_source()? {
        Source::File(file) => parse(BufReader::new(file)),
        Source::Stream(stream) => parse(stream),
    };
    parsed.map_err(|source| InputError::Profile { path, source }.into())
}
