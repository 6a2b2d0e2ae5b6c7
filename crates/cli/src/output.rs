//! Writes the report to standard output or to `--out FILE`.
//!
//! A regular file is written to a temporary name beside it and renamed into place, so a
//! full disk or a crash never leaves a half-written report where the old one was. Anything
//! else that already exists — `/dev/null`, a FIFO, a terminal — is written in place: renaming
//! over a device node would replace it with a regular file (as root, `/dev/null` itself). A
//! symbolic link is followed, so the link stays and its target gets the report.

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
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => std::fs::OpenOptions::new()
            .write(true)
            .open(path)?
            .write_all(text.as_bytes()),
        Ok(_) => write_replacing(&std::fs::canonicalize(path)?, text),
        Err(_) => write_replacing(path, text),
    }
}

/// Writes a temporary file beside `path`, then renames it over `path`.
fn write_replacing(path: &Path, text: &str) -> std::io::Result<()> {
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn a_fifo_is_written_in_place_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("report.fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        write_report(Some(&fifo), "report\n").unwrap();
        assert_eq!(reader.join().unwrap(), "report\n");
        let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(kind.is_fifo(), "the FIFO was replaced by {kind:?}");
    }

    #[test]
    fn a_symlink_keeps_pointing_at_the_report() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.txt");
        let link = dir.path().join("link.txt");
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_report(Some(&link), "new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
    }

    #[test]
    fn a_regular_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.txt");
        std::fs::write(&path, "a much longer old report").unwrap();
        write_report(Some(&path), "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert!(!dir.path().join("report.txt.mw-tmp").exists());
    }
}
