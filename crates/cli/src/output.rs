//! Writes the report to standard output or to `--out FILE`.
//!
//! A file is written to a temporary name beside it and renamed into place, so a full
//! disk or a crash never leaves a half-written report where the old one was.

use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// The report could not be written.
#[derive(Debug, Error)]
#[error("cannot write the report to {path}")]
pub struct OutputError {
    path: PathBuf,
    source: std::io::Error,
}

/// Writes `text` to `out`, or to standard output when `out` is `None`.
pub fn write_report(out: Option<&Path>, text: &str) -> Result<(), OutputError> {
    match out {
        None => {
            let mut stdout = anstream::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|source| OutputError {
                    path: PathBuf::from("standard output"),
                    source,
                })
        }
        Some(path) => write_file(path, text).map_err(|source| OutputError {
            path: path.to_owned(),
            source,
        }),
    }
}

fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    if path == Path::new("/dev/stdout") || path == Path::new("-") {
        return std::io::stdout().write_all(text.as_bytes());
    }
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(".mw-tmp");
    let tmp = path.with_file_name(tmp_name);
    let result = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.sync_all()
    });
    match result {
        Ok(()) => std::fs::rename(&tmp, path),
        Err(err) => {
            let _ = std::fs::remove_file(&tmp);
            Err(err)
        }
    }
}
