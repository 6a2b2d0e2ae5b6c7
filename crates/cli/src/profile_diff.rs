//! `mw analyze` on sampling heap profiles: parse each file, diff, map the frames of scripts
//! that have source maps to their original source, print the report.

use std::io::BufReader;
use std::path::Path;
use std::process::ExitCode;

use memwatchdog_heapprofile::{DiffOptions, HeapProfile, diff, parse};
use memwatchdog_sourcemap::Resolver;

use crate::analyze::emit;
use crate::cli::AnalyzeArgs;
use crate::inputs::InputError;
use crate::load::LoadError;
use crate::profile_table::render;

/// Runs `mw analyze` on two or three `.heapprofile` files.
pub fn run(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let profiles = args
        .inputs()
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
    emit(args, &report, render)
}

fn load(path: &Path) -> anyhow::Result<HeapProfile> {
    let file = std::fs::File::open(path).map_err(|source| LoadError::Open {
        path: path.to_owned(),
        source,
    })?;
    parse(BufReader::new(file)).map_err(|source| {
        InputError::Profile {
            path: path.to_owned(),
            source,
        }
        .into()
    })
}
