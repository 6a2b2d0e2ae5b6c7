//! What `mw analyze` was given: heap snapshots or sampling heap profiles, told apart by
//! content (the first bytes of each file), never by file name.
//!
//! Each path is opened once ([`Opened`]): the bytes read to tell its format are handed on to
//! the parser, so a pipe, a FIFO, process substitution (`<(zcat a.heapsnapshot.gz)`) or `-`
//! (standard input) reads like a file. Opening a path twice would wait for a second writer
//! that never comes (a FIFO) or find the pipe's first bytes gone.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use memwatchdog_heapprofile::{FileKind, ProfileError, sniff};
use thiserror::Error;

use crate::cli::UsageError;
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

/// The path that names standard input.
pub const STDIN: &str = "-";

/// One input, opened once, with its first bytes already read.
#[derive(Debug)]
pub struct Opened {
    /// The path given (`-` for standard input).
    pub path: PathBuf,
    file: File,
    /// Up to [`PREFIX`] bytes from the start, read from `file`.
    prefix: Vec<u8>,
    /// A regular file: it can be mapped, and read again from its start.
    regular: bool,
}

/// What to parse an input from.
pub enum Source {
    /// A regular file, read from its start (mapped, or read when it cannot be mapped).
    File(File),
    /// A pipe or another special file: the first bytes already read, then the rest.
    Stream(std::io::Chain<std::io::Cursor<Vec<u8>>, File>),
}

impl Opened {
    /// Opens `path` (`-`: a duplicate of standard input) and reads its first bytes.
    pub fn open(path: &Path) -> Result<Self, LoadError> {
        let open_error = |source| LoadError::Open {
            path: path.to_owned(),
            source,
        };
        let file = open_file(path).map_err(open_error)?;
        let regular = file.metadata().map_err(open_error)?.is_file();
        let mut prefix = Vec::with_capacity(PREFIX);
        (&file)
            .take(PREFIX as u64)
            .read_to_end(&mut prefix)
            .map_err(open_error)?;
        Ok(Self {
            path: path.to_owned(),
            file,
            prefix,
            regular,
        })
    }

    /// The first bytes of the input (up to 4 KiB).
    pub fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// Whether the input can be read again from its start ([`Opened::again`]): a regular
    /// file can, a pipe cannot.
    pub fn rereadable(&self) -> bool {
        self.regular
    }

    /// The length of a regular file (for progress bars); `0` when unknown.
    pub fn len(&self) -> u64 {
        if self.regular {
            self.file.metadata().map_or(0, |m| m.len())
        } else {
            0
        }
    }

    /// Another handle on the same regular file, to read it again; `None` for a pipe.
    pub fn again(&self) -> Option<Result<Self, LoadError>> {
        self.regular.then(|| {
            let file = self.file.try_clone().map_err(|source| LoadError::Open {
                path: self.path.clone(),
                source,
            })?;
            Ok(Self {
                path: self.path.clone(),
                file,
                prefix: self.prefix.clone(),
                regular: true,
            })
        })
    }

    /// The whole input, from its first byte.
    pub fn into_source(self) -> Result<Source, LoadError> {
        if self.regular {
            let mut file = self.file;
            file.seek(SeekFrom::Start(0))
                .map_err(|source| LoadError::Open {
                    path: self.path.clone(),
                    source,
                })?;
            Ok(Source::File(file))
        } else {
            Ok(Source::Stream(
                std::io::Cursor::new(self.prefix).chain(self.file),
            ))
        }
    }
}

/// Opens `path` for reading; `-` is a duplicate of standard input.
pub fn open_file(path: &Path) -> std::io::Result<File> {
    if path.as_os_str() == STDIN {
        #[cfg(unix)]
        let stdin = std::os::fd::AsFd::as_fd(&std::io::stdin()).try_clone_to_owned()?;
        #[cfg(windows)]
        let stdin =
            std::os::windows::io::AsHandle::as_handle(&std::io::stdin()).try_clone_to_owned()?;
        Ok(File::from(stdin))
    } else {
        File::open(path)
    }
}

/// Opens every path once, in order; standard input (`-`) at most once.
pub fn open_all(paths: &[&Path]) -> anyhow::Result<Vec<Opened>> {
    if paths.iter().filter(|p| p.as_os_str() == STDIN).count() > 1 {
        return Err(UsageError::StdinTwice.into());
    }
    Ok(paths
        .iter()
        .map(|path| Opened::open(path))
        .collect::<Result<_, _>>()?)
}

/// Decides from the first bytes of every input what the run compares: profiles when any
/// input is a profile, snapshots otherwise; a snapshot among profiles is an error.
pub fn classify(inputs: &[Opened]) -> anyhow::Result<Inputs> {
    let mut snapshot = None;
    let mut profile = None;
    for input in inputs {
        let path = input.path.as_path();
        match sniff(input.prefix()) {
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
