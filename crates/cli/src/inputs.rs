//! What `mw analyze` was given: heap snapshots or sampling heap profiles, told apart by
//! content (the top-level keys each file starts with), never by file name.
//!
//! Each path is opened once ([`Opened`]) and read until its format is known: a snapshot by
//! its first key, a profile by its `head`, which comes first from V8 but may follow a long
//! `samples` array in a profile another tool re-serialized. That read is bounded
//! ([`SNIFF_LIMIT`], the largest profile `mw` reads) and streams through a
//! [`Sniffer`] of constant size. A regular file is then read again from its start; the bytes
//! read from a pipe, a FIFO, process substitution (`<(zcat a.heapsnapshot.gz)`) or `-`
//! (standard input) are handed on to the parser before the rest, so they read like a file.
//! Opening a path twice would wait for a second writer that never comes (a FIFO) or find the
//! pipe's first bytes gone.

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use memwatchdog_heapprofile::{FileKind, ProfileError, SNIFF_LIMIT, Sniffer};
use thiserror::Error;

use crate::cli::UsageError;
use crate::load::LoadError;

/// How many bytes are read at a time until an input's format is known.
const CHUNK: usize = 64 << 10;

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

/// One input, opened once, read until its format was known.
#[derive(Debug)]
pub struct Opened {
    /// The path given (`-` for standard input).
    pub path: PathBuf,
    file: File,
    /// What its first bytes say it is.
    kind: FileKind,
    /// The bytes a stream gave while its format was told, from its start (empty for a
    /// regular file, which is read again from its start).
    read: Vec<u8>,
    /// A regular file: it can be mapped, and read again from its start.
    regular: bool,
}

/// What to parse an input from.
pub enum Source {
    /// A regular file, read from its start (mapped, or read when it cannot be mapped).
    File(File),
    /// A pipe or another special file: the bytes already read, then the rest.
    Stream(std::io::Chain<std::io::Cursor<Vec<u8>>, File>),
}

impl Opened {
    /// Opens `path` (`-`: a duplicate of standard input) and reads it until its format is
    /// known.
    pub fn open(path: &Path) -> Result<Self, LoadError> {
        let open_error = |source| LoadError::Open {
            path: path.to_owned(),
            source,
        };
        let file = open_file(path).map_err(open_error)?;
        let regular = file.metadata().map_err(open_error)?.is_file();
        let mut read = Vec::new();
        let kind = tell_kind(&file, (!regular).then_some(&mut read)).map_err(open_error)?;
        Ok(Self {
            path: path.to_owned(),
            file,
            kind,
            read,
            regular,
        })
    }

    /// What the input's first bytes say it is.
    pub fn kind(&self) -> FileKind {
        self.kind
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
                kind: self.kind,
                read: Vec::new(),
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
                std::io::Cursor::new(self.read).chain(self.file),
            ))
        }
    }
}

/// Reads `file` from its start until its bytes tell its format, or it ends, or
/// [`SNIFF_LIMIT`] bytes did not tell ([`FileKind::Unknown`]). With `keep` (a stream, which
/// cannot be read again), the bytes read are appended to it for the parser.
fn tell_kind(mut file: &File, mut keep: Option<&mut Vec<u8>>) -> std::io::Result<FileKind> {
    let mut sniffer = Sniffer::new();
    let mut buf = vec![0; CHUNK];
    let mut left = SNIFF_LIMIT;
    while left > 0 {
        let want = usize::try_from(left).map_or(CHUNK, |left| left.min(CHUNK));
        let n = match file.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        left -= n as u64;
        if let Some(kept) = keep.as_deref_mut() {
            kept.extend_from_slice(&buf[..n]);
        }
        if let Some(kind) = sniffer.feed(&buf[..n]) {
            return Ok(kind);
        }
    }
    Ok(sniffer.verdict())
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

/// Decides from the kind of every input what the run compares: profiles when any input is
/// a profile, snapshots otherwise; a snapshot among profiles is an error.
pub fn classify(inputs: &[Opened]) -> anyhow::Result<Inputs> {
    let mut snapshot = None;
    let mut profile = None;
    for input in inputs {
        let path = input.path.as_path();
        match input.kind() {
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
