//! Lists the artifacts in the watched directory and its subdirectories (one per pod or
//! process in some set-ups): regular files only, symbolic links and hidden entries skipped.

use std::io;
use std::path::{Path, PathBuf};

use crate::artifact::Artifact;
use crate::settle::Stat;

/// How deep below the watched directory the scan goes.
const MAX_DEPTH: usize = 3;

/// One artifact file as a scan found it.
#[derive(Debug, Clone)]
pub struct Found {
    /// Its path.
    pub path: PathBuf,
    /// What it is.
    pub artifact: Artifact,
    /// Its size and modification time.
    pub stat: Stat,
}

/// Every artifact under `dir`; `Ok(None)` when `dir` does not exist (yet).
pub fn scan(dir: &Path) -> io::Result<Option<Vec<Found>>> {
    let mut found = Vec::new();
    match walk(dir, 0, &mut found) {
        Ok(()) => Ok(Some(found)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<Found>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') {
            continue;
        }
        // A file deleted between the listing and the stat is simply not there.
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() && depth < MAX_DEPTH {
            // An unreadable subdirectory (another user's) is skipped, not fatal.
            let _ = walk(&entry.path(), depth + 1, found);
        } else if let (true, Some(artifact), Ok(modified)) =
            (meta.is_file(), Artifact::parse(name), meta.modified())
        {
            found.push(Found {
                path: entry.path(),
                artifact,
                stat: Stat {
                    size: meta.len(),
                    modified,
                },
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_are_found_in_subdirectories_and_the_rest_is_skipped() {
        let t = tempfile::tempdir().unwrap();
        let pod = t.path().join("shop-7d9");
        std::fs::create_dir_all(pod.join(".mw-agent")).unwrap();
        let leak = "api-1-2026-12-05T10-05-00.000Z-leak.heapsnapshot";
        std::fs::write(pod.join(leak), "{}").unwrap();
        std::fs::write(pod.join(format!("{leak}.partial")), "{").unwrap();
        std::fs::write(pod.join(".mw-agent").join(leak), "{}").unwrap();
        std::fs::write(t.path().join("README"), "x").unwrap();
        let found = scan(t.path()).unwrap().unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path, pod.join(leak));
        assert_eq!(found[0].stat.size, 2);
        assert!(scan(&t.path().join("missing")).unwrap().is_none());
    }
}
