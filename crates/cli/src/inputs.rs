//! What `mw analyze` was given: heap snapshots or sampling heap profiles, told apart by
//! content (the first bytes of each file), never by file name.

use std::io::Read;
use std::path::{Path, PathBuf};

use memwatchdog_heapprofile::{FileKind, ProfileError, sniff};
use thiserror::Error;

use crate::load::LoadError;

/// How many bytes of each file [`classify`] reads.
const PREFIX: usize = 4096;

/// The kind of a whole `mw analyze` run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inputs {
    /// Heap snapshots (also when no file looks like anything: the snapshot parser says why).
    Snapshots,
    /// Sampling heap profiles.
    Profiles,
}

/// Inputs that cannot be analysed together or a profile that cannot be read.
#[derive(Debug, Error)]
pub enum InputError {
    /// A heap snapshot and a sampling heap profile were given together.
    #[error(
        "cannot compare a heap snapshot with a sampling heap profile: {} is a heap snapshot, {} is a sampling heap profile",
        snapshot.display(),
        profile.display()
    )]
    Mixed {
        /// The first snapshot given.
        snapshot: PathBuf,
        /// The first profile given.
        profile: PathBuf,
    },
    /// A file could not be read as a sampling heap profile.
    #[error("{}", path.display())]
    Profile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: ProfileError,
    },
}

/// Reads the first bytes of every file and decides what the run compares: profiles when
/// any file is a profile, snapshots otherwise; a snapshot among profiles is an error.
pub fn classify(paths: &[&Path]) -> anyhow::Result<Inputs> {
    let mut snapshot = None;
    let mut profile = None;
    for &path in paths {
        match sniff(&prefix(path)?) {
            FileKind::HeapSnapshot => snapshot = snapshot.or(Some(path)),
            FileKind::HeapProfile => profile = profile.or(Some(path)),
            FileKind::Unknown => {}
        }
    }
    match (snapshot, profile) {
        (Some(snapshot), Some(profile)) => Err(InputError::Mixed {
            snapshot: snapshot.to_owned(),
            profile: profile.to_owned(),
        }
        .into()),
        (_, Some(_)) => Ok(Inputs::Profiles),
        (_, None) => Ok(Inputs::Snapshots),
    }
}

/// Up to [`PREFIX`] bytes from the start of `path`.
fn prefix(path: &Path) -> Result<Vec<u8>, LoadError> {
    let open_error = |source| LoadError::Open {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(open_error)?;
    let mut bytes = Vec::with_capacity(PREFIX);
    file.take(PREFIX as u64)
        .read_to_end(&mut bytes)
        .map_err(open_error)?;
    Ok(bytes)
}
