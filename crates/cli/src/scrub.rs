//! `mw scrub IN OUT`: a copy of a heap snapshot with its string values replaced
//! ([`memwatchdog_heapsnapshot::scrub`]), so it can be shared.
//!
//! IN is read twice: mapped a window at a time to collect what to keep, then read to write
//! the copy. OUT is written under a temporary name in its directory (mode 0600) and renamed
//! into place only when complete, so a failure never leaves a partial OUT behind; an
//! existing OUT that is not a regular file (`/dev/stdout`, a FIFO) is written in place. The
//! key of the replacements is 32 bytes from `/dev/urandom`, drawn for each run and never
//! stored.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use memwatchdog_heapsnapshot::scrub::{
    ScrubError, ScrubKey, ScrubStats, plan, plan_windows, rewrite,
};
use memwatchdog_units::HumanBytes;
use thiserror::Error;

use crate::cli::{ScrubArgs, UsageError};
use crate::format::count;
use crate::load::LoadError;
use crate::mapped::Mapped;

/// Why `mw scrub` failed, other than a bad command line.
#[derive(Debug, Error)]
pub enum ScrubFailure {
    /// IN is a pipe or another file that cannot be read twice.
    #[error(
        "{}: not a regular file; mw scrub reads its input twice (save the snapshot to a file first)",
        path.display()
    )]
    NotRegular {
        /// IN.
        path: PathBuf,
    },
    /// IN is not a snapshot mw scrub can copy, or changed while it was read.
    #[error("{}", path.display())]
    Input {
        /// IN.
        path: PathBuf,
        /// Why.
        source: ScrubError,
    },
    /// OUT could not be written.
    #[error("cannot write {}", path.display())]
    Output {
        /// OUT.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Runs `mw scrub`.
pub fn run(args: &ScrubArgs) -> anyhow::Result<ExitCode> {
    let (input, output) = (args.input.as_path(), args.output.as_path());
    let open_error = |source| LoadError::Open {
        path: input.to_owned(),
        source,
    };
    let mut file = File::open(input).map_err(open_error)?;
    let before = file.metadata().map_err(open_error)?;
    if !before.is_file() {
        return Err(ScrubFailure::NotRegular {
            path: input.to_owned(),
        }
        .into());
    }
    let target = Target::of(output, input, &before)?;
    let input_error = |source| ScrubFailure::Input {
        path: input.to_owned(),
        source,
    };

    let bar = bar(input, before.len(), "reading", !args.no_progress);
    let mut progress = |at| bar.set_position(at);
    let plan = match Mapped::new(file) {
        Ok(mapped) => {
            let plan = plan_windows(mapped, &mut progress);
            file = File::open(input).map_err(open_error)?;
            plan
        }
        Err(mut same) => {
            let plan = plan(&mut same, &mut progress);
            same.seek(SeekFrom::Start(0)).map_err(open_error)?;
            file = same;
            plan
        }
    }
    .map_err(input_error)?;

    let key = fresh_key()?;
    bar.set_prefix(format!("{} (writing)", file_name(input)));
    bar.set_position(0);
    let mut progress = |at| bar.set_position(at);
    let stats = target.write(|out| {
        let stats = rewrite(&mut file, &plan, &key, out, &mut progress).map_err(|e| match e {
            ScrubError::Write(source) => ScrubFailure::Output {
                path: output.to_owned(),
                source,
            },
            source => input_error(source),
        })?;
        let after = file.metadata().map_err(open_error)?;
        if after.len() != before.len() || modified(&after) != modified(&before) {
            return Err(input_error(ScrubError::Changed {
                detail: "another process wrote to it".to_owned(),
            })
            .into());
        }
        Ok(stats)
    })?;
    bar.finish_and_clear();
    report(input, output, &stats);
    Ok(ExitCode::SUCCESS)
}

fn modified(meta: &std::fs::Metadata) -> Option<SystemTime> {
    meta.modified().ok()
}

/// One line on standard error (standard output may be OUT).
fn report(input: &Path, output: &Path, stats: &ScrubStats) {
    anstream::eprintln!(
        "{}: {} of {} strings scrubbed, written to {} ({})",
        input.display(),
        count(stats.scrubbed),
        count(stats.strings),
        output.display(),
        HumanBytes(stats.bytes)
    );
}

/// Where OUT goes: replaced by a renamed temporary file, or written in place.
enum Target {
    /// A regular file (or none yet): the final path, after symbolic links.
    Replace(PathBuf),
    /// A device, FIFO or socket that exists.
    InPlace(PathBuf),
}

impl Target {
    /// OUT's kind; OUT being IN (`input`, whose metadata is `input_meta`) is a usage error.
    fn of(output: &Path, input: &Path, input_meta: &Metadata) -> anyhow::Result<Self> {
        match std::fs::metadata(output) {
            Ok(meta) if same_file((output, &meta), (input, input_meta)) => {
                Err(UsageError::ScrubInPlace {
                    path: output.to_owned(),
                }
                .into())
            }
            Ok(meta) if meta.is_file() => Ok(Self::Replace(
                std::fs::canonicalize(output).map_err(|source| ScrubFailure::Output {
                    path: output.to_owned(),
                    source,
                })?,
            )),
            Ok(_) => Ok(Self::InPlace(output.to_owned())),
            Err(_) => Ok(Self::Replace(output.to_owned())),
        }
    }

    /// Runs `body` with a writer into OUT. When replacing, the temporary file is removed
    /// unless `body` and the final flush, sync and rename all succeed.
    fn write<T>(
        &self,
        body: impl FnOnce(&mut BufWriter<&File>) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let (Self::Replace(path) | Self::InPlace(path)) = self;
        let out_error = |source| ScrubFailure::Output {
            path: path.clone(),
            source,
        };
        let Self::Replace(path) = self else {
            let file = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(out_error)?;
            let mut out = BufWriter::with_capacity(1 << 20, &file);
            let value = body(&mut out)?;
            out.flush().map_err(out_error)?;
            return Ok(value);
        };
        let tmp = temporary_name(path);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let file = options.open(&tmp).map_err(out_error)?;
        let result = (|| {
            let mut out = BufWriter::with_capacity(1 << 20, &file);
            let value = body(&mut out)?;
            out.flush().map_err(out_error)?;
            drop(out);
            file.sync_all().map_err(out_error)?;
            std::fs::rename(&tmp, path).map_err(out_error)?;
            Ok(value)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// Whether two paths with their metadata are one file: the same device and inode on Unix;
/// elsewhere (no stable file id in std) the same canonical path.
#[cfg(unix)]
fn same_file((_, a): (&Path, &Metadata), (_, b): (&Path, &Metadata)) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file((a, _): (&Path, &Metadata), (b, _): (&Path, &Metadata)) -> bool {
    std::fs::canonicalize(a).is_ok_and(|a| std::fs::canonicalize(b).is_ok_and(|b| a == b))
}

/// A hidden name beside `path`, unique to this process.
fn temporary_name(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(".mw-scrub-{}.partial", std::process::id()));
    path.with_file_name(name)
}

/// The key of this run's replacements, from the kernel's random source.
fn fresh_key() -> anyhow::Result<ScrubKey> {
    let mut bytes = [0; 32];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("cannot read /dev/urandom for the key of the replacements")?;
    Ok(ScrubKey::from_bytes(bytes))
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn bar(path: &Path, len: u64, what: &str, progress: bool) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if !progress {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(format!("{} ({what})", file_name(path)));
    bar
}
