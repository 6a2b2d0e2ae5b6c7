//! [`copy_tree`]: the walk, and one function per kind of entry.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use crate::CopyError;

/// What [`copy_tree`] copied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Copied {
    /// Regular files.
    pub files: u64,
    /// Directories below the destination (not counting the destination itself).
    pub dirs: u64,
    /// Symbolic links (copied as links, never followed).
    pub symlinks: u64,
    /// Bytes of the regular files.
    pub bytes: u64,
}

/// Permission bits kept from the source: read, write and execute for user, group and others;
/// never set-user-id, set-group-id or sticky.
const MODE_BITS: u32 = 0o777;

/// Copies the contents of the directory `src` into the existing directory `dest`.
///
/// Each file is written to a temporary name in its destination directory and renamed over the
/// final name, so an entry already there is replaced and an interrupted copy leaves no partial
/// file under a final name. Directories already there are reused; their permission bits are
/// set once their contents are in place (a read-only source directory is copied as read-only).
/// Symbolic links are recreated as they are (their target text), never followed.
pub fn copy_tree(src: &Path, dest: &Path) -> Result<Copied, CopyError> {
    match fs::metadata(src) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(CopyError::Source {
                path: src.into(),
                reason: "not a directory".into(),
            });
        }
        Err(e) => {
            return Err(CopyError::Source {
                path: src.into(),
                reason: e.to_string(),
            });
        }
    }
    match fs::metadata(dest) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(CopyError::Destination {
                path: dest.into(),
                reason: "not a directory".into(),
            });
        }
        Err(e) => {
            return Err(CopyError::Destination {
                path: dest.into(),
                reason: e.to_string(),
            });
        }
    }
    let mut copied = Copied::default();
    let mut names = TempNames::default();
    // Depth-first with an explicit stack (no recursion limit); directories get their mode last.
    let mut pending = vec![(src.to_path_buf(), dest.to_path_buf())];
    let mut modes: Vec<(PathBuf, u32)> = Vec::new();
    while let Some((from_dir, to_dir)) = pending.pop() {
        let mut entries = read_dir_sorted(&from_dir)?;
        for entry in entries.drain(..) {
            let from = from_dir.join(&entry);
            let to = to_dir.join(&entry);
            let meta = fs::symlink_metadata(&from).map_err(|source| CopyError::Read {
                path: from.clone(),
                source,
            })?;
            let kind = meta.file_type();
            let mode = meta.permissions().mode() & MODE_BITS;
            if kind.is_dir() {
                make_dir(&to)?;
                modes.push((to.clone(), mode));
                pending.push((from, to));
                copied.dirs += 1;
            } else if kind.is_file() {
                copied.bytes += copy_file(&from, &to, mode, &mut names)?;
                copied.files += 1;
            } else if kind.is_symlink() {
                copy_symlink(&from, &to, &mut names)?;
                copied.symlinks += 1;
            } else {
                let kind = if kind.is_fifo() {
                    "FIFO"
                } else if kind.is_socket() {
                    "socket"
                } else {
                    "device"
                };
                return Err(CopyError::Unsupported { path: from, kind });
            }
        }
    }
    for (dir, mode) in modes.into_iter().rev() {
        fs::set_permissions(&dir, Permissions::from_mode(mode))
            .map_err(|source| CopyError::Write { path: dir, source })?;
    }
    Ok(copied)
}

/// The names in DIR, sorted (a stable order makes errors and runs reproducible).
fn read_dir_sorted(dir: &Path) -> Result<Vec<std::ffi::OsString>, CopyError> {
    let read = |source| CopyError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut names = fs::read_dir(dir)
        .map_err(read)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<Vec<_>>>()
        .map_err(read)?;
    names.sort();
    Ok(names)
}

/// Creates the directory TO (owner-writable while its contents are copied), or reuses it.
fn make_dir(to: &Path) -> Result<(), CopyError> {
    let write = |source| CopyError::Write {
        path: to.to_path_buf(),
        source,
    };
    match fs::symlink_metadata(to) {
        Ok(m) if m.is_dir() => {
            fs::set_permissions(to, Permissions::from_mode(0o700)).map_err(write)
        }
        Ok(_) => {
            fs::remove_file(to).map_err(write)?;
            fs::create_dir(to).map_err(write)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir(to).map_err(write),
        Err(e) => Err(write(e)),
    }
}

/// Copies the file FROM to TO with MODE through a temporary name; returns its size.
fn copy_file(from: &Path, to: &Path, mode: u32, names: &mut TempNames) -> Result<u64, CopyError> {
    let mut input = File::open(from).map_err(|source| CopyError::Read {
        path: from.to_path_buf(),
        source,
    })?;
    let tmp = names.beside(to);
    let result = write_copy(&mut input, from, &tmp, mode).and_then(|n| {
        fs::rename(&tmp, to)
            .map(|()| n)
            .map_err(|source| CopyError::Write {
                path: to.to_path_buf(),
                source,
            })
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes INPUT (read from FROM) into the new file TMP with MODE; returns the bytes copied.
/// A plain read/write loop rather than `io::copy`, so each error names the side it came from.
fn write_copy(input: &mut File, from: &Path, tmp: &Path, mode: u32) -> Result<u64, CopyError> {
    let write = |source| CopyError::Write {
        path: tmp.to_path_buf(),
        source,
    };
    let mut output = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)
        .map_err(write)?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(CopyError::Read {
                    path: from.to_path_buf(),
                    source,
                });
            }
        };
        output.write_all(&buf[..n]).map_err(write)?;
        total += n as u64;
    }
    output
        .set_permissions(Permissions::from_mode(mode))
        .map_err(write)?;
    Ok(total)
}

/// Recreates the symbolic link FROM at TO (same target text) through a temporary name.
fn copy_symlink(from: &Path, to: &Path, names: &mut TempNames) -> Result<(), CopyError> {
    let target = fs::read_link(from).map_err(|source| CopyError::Read {
        path: from.to_path_buf(),
        source,
    })?;
    let tmp = names.beside(to);
    let result = symlink(&target, &tmp).and_then(|()| fs::rename(&tmp, to));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|source| CopyError::Write {
        path: to.to_path_buf(),
        source,
    })
}

/// Temporary names, unique within this run (pid and counter), in the destination's directory.
#[derive(Default)]
struct TempNames {
    next: u64,
}

impl TempNames {
    fn beside(&mut self, to: &Path) -> PathBuf {
        self.next += 1;
        let name = format!(".copytree-{}-{}.tmp", std::process::id(), self.next);
        to.parent()
            .map_or_else(|| PathBuf::from(&name), |dir| dir.join(&name))
    }
}
