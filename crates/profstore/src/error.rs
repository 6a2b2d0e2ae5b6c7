//! [`StoreError`]: a profile or report file that could not be written.

use std::path::PathBuf;

/// Writing a file failed; the message names the file and says what to check.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory could not be created.
    #[error("cannot create directory {}", path.display())]
    Dir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file could not be written (full disk, permissions...).
    #[error("cannot write {}{}", path.display(), hint(source))]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl StoreError {
    /// The metric label of the failure: `disk_full` or `io`.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            StoreError::Write { source, .. } | StoreError::Dir { source, .. }
                if source.kind() == std::io::ErrorKind::StorageFull =>
            {
                "disk_full"
            }
            _ => "io",
        }
    }
}

fn hint(e: &std::io::Error) -> &'static str {
    if e.kind() == std::io::ErrorKind::StorageFull {
        " (the disk is full: free space or point profile.dir elsewhere)"
    } else {
        ""
    }
}
