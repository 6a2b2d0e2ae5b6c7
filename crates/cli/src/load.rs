//! Reads snapshot files, in parallel, with a progress bar per file on a terminal.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use memwatchdog_heapsnapshot::{HeapGraph, ParseError, ParseOptions, parse};
use thiserror::Error;

/// A snapshot file that could not be read.
#[derive(Debug, Error)]
pub enum LoadError {
    /// The file could not be opened.
    #[error("cannot open {path}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid heap snapshot.
    #[error("{path}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: ParseError,
    },
}

/// One file to read and whether its edges are needed.
pub struct Job<'a> {
    pub path: &'a Path,
    pub edges: bool,
}

/// Parses every job on its own thread; returns the graphs in job order.
pub fn load_all(jobs: &[Job<'_>], progress: bool) -> Result<Vec<HeapGraph>, LoadError> {
    let multi = MultiProgress::with_draw_target(if progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|job| {
                let bar = multi.add(bar_for(job.path));
                scope.spawn(move || load_one(job, &bar))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("snapshot parser thread panicked"))
            .collect()
    })
}

fn bar_for(path: &Path) -> ProgressBar {
    let len = std::fs::metadata(path).map_or(0, |m| m.len());
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    bar.set_prefix(name);
    bar
}

fn load_one(job: &Job<'_>, bar: &ProgressBar) -> Result<HeapGraph, LoadError> {
    let file = std::fs::File::open(job.path).map_err(|source| LoadError::Open {
        path: job.path.to_owned(),
        source,
    })?;
    let opts = ParseOptions {
        edges: job.edges,
        locations: job.edges,
    };
    let graph = parse(
        BufReader::with_capacity(1 << 20, file),
        &opts,
        &mut |offset| bar.set_position(offset),
    )
    .map_err(|source| LoadError::Parse {
        path: job.path.to_owned(),
        source,
    })?;
    bar.finish();
    Ok(graph)
}
