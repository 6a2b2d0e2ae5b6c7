//! Reads snapshot files, in parallel, with a progress bar per file on a terminal: mapped
//! into memory a window at a time where possible ([`crate::mapped`]), read otherwise (pipes,
//! FIFOs and standard input, from the bytes [`Opened`] already read on).

use std::io::BufReader;
use std::path::{Path, PathBuf};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use memwatchdog_heapsnapshot::{HeapGraph, ParseError, ParseOptions, parse, parse_windows};
use thiserror::Error;

use crate::inputs::{Opened, Source};
use crate::mapped::Mapped;

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

/// One input to read and whether its edges are needed.
pub struct Job {
    pub input: Opened,
    pub edges: bool,
}

/// Parses the jobs in parallel and returns the graphs in job order: each job with edges
/// (the long pole: the graph the dominators need) gets a thread of its own, the
/// nodes-only jobs share one, one after the other. On two cores the full parse then
/// never waits for a core, and the baselines, which take less time together, are done
/// before it is.
pub fn load_all(jobs: Vec<Job>, progress: bool) -> Result<Vec<HeapGraph>, LoadError> {
    let multi = MultiProgress::with_draw_target(if progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let bars: Vec<ProgressBar> = jobs
        .iter()
        .map(|job| multi.add(bar_for(&job.input)))
        .collect();
    let (full, nodes_only): (Vec<_>, Vec<_>) = jobs
        .into_iter()
        .zip(&bars)
        .enumerate()
        .partition(|(_, (job, _))| job.edges);
    std::thread::scope(|scope| {
        let baselines = scope.spawn(move || {
            let mut done = Vec::new();
            for (i, (job, bar)) in nodes_only {
                let graph = load_one(job, bar);
                let failed = graph.is_err();
                done.push((i, graph));
                if failed {
                    break; // its error is reported; the rest need not be read
                }
            }
            done
        });
        let full: Vec<_> = full
            .into_iter()
            .map(|(i, (job, bar))| (i, scope.spawn(move || load_one(job, bar))))
            .collect();
        let mut done: Vec<_> = full
            .into_iter()
            .map(|(i, h)| (i, h.join().expect("snapshot parser thread panicked")))
            .collect();
        done.extend(baselines.join().expect("snapshot parser thread panicked"));
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, graph)| graph).collect()
    })
}

/// Parses one file, with a progress bar on standard error when `progress`.
pub fn load_one_file(job: Job, progress: bool) -> Result<HeapGraph, LoadError> {
    let bar = bar_for(&job.input);
    if !progress {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    load_one(job, &bar)
}

fn bar_for(input: &Opened) -> ProgressBar {
    let path: &Path = &input.path;
    let bar = ProgressBar::new(input.len());
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

fn load_one(job: Job, bar: &ProgressBar) -> Result<HeapGraph, LoadError> {
    let path = job.input.path.clone();
    let opts = ParseOptions {
        edges: job.edges,
        locations: job.edges,
    };
    let mut progress = |offset| bar.set_position(offset);
    let parsed = match job.input.into_source()? {
        Source::File(file) => match Mapped::new(file) {
            Ok(mapped) => parse_windows(mapped, &opts, &mut progress),
            Err(file) => parse(
                BufReader::with_capacity(1 << 20, file),
                &opts,
                &mut progress,
            ),
        },
        Source::Stream(stream) => parse(stream, &opts, &mut progress),
    };
    let graph = parsed.map_err(|source| LoadError::Parse { path, source })?;
    bar.finish();
    Ok(graph)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use memwatchdog_heapsnapshot::ParseError;

    use super::LoadError;

    /// `mw` prints an error as `{err:#}`: the file, what went wrong in it, and the OS's words,
    /// each once.
    #[test]
    fn a_read_error_prints_each_cause_once() {
        let err = anyhow::Error::from(LoadError::Parse {
            path: PathBuf::from("leak.heapsnapshot"),
            source: ParseError::Io {
                offset: 4096,
                source: std::io::Error::other("Input/output error"),
            },
        });
        let text = format!("{err:#}");
        assert_eq!(
            text,
            "leak.heapsnapshot: cannot read the snapshot (at byte 4096): Input/output error"
        );
        assert_eq!(text.matches("Input/output error").count(), 1);
    }
}
