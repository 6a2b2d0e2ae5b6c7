//! [`CopyError`]: why a copy failed, naming the path and what to do.

use std::io;
use std::path::PathBuf;

/// Why [`crate::copy_tree`] stopped. Each message names the path; the first entry that fails
/// stops the copy (the init container then fails and Kubernetes retries it).
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The source is missing or is not a directory.
    #[error("the source {path} is not a directory: {reason}")]
    Source {
        /// The source given.
        path: PathBuf,
        /// What it is instead.
        reason: String,
    },
    /// The destination is missing or is not a directory.
    #[error(
        "the destination {path} is not a directory: {reason} (mount the shared volume there: an emptyDir in the init container's volumeMounts)"
    )]
    Destination {
        /// The destination given.
        path: PathBuf,
        /// What it is instead.
        reason: String,
    },
    /// An entry of the source could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The entry.
        path: PathBuf,
        /// The system's reason.
        source: io::Error,
    },
    /// An entry of the destination could not be written.
    #[error("cannot write {path}: {source}{hint}", hint = write_hint(source))]
    Write {
        /// The entry.
        path: PathBuf,
        /// The system's reason.
        source: io::Error,
    },
    /// The source holds something that is not a file, a directory or a symbolic link.
    #[error("{path} is a {kind}; only files, directories and symbolic links are copied")]
    Unsupported {
        /// The entry.
        path: PathBuf,
        /// What it is (`FIFO`, `socket`, `device`).
        kind: &'static str,
    },
}

fn write_hint(err: &io::Error) -> &'static str {
    match err.kind() {
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            " (the init container's user cannot write the volume: it must be a writable emptyDir, \
             and with fsGroup or a non-root runAsUser the volume must be writable by that user or group)"
        }
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            " (the volume is full: raise the emptyDir's sizeLimit)"
        }
        _ => "",
    }
}
