//! [`rotate`]: keeps at most `max_files` of the watchdog's profiles in a directory.
//!
//! The oldest go first; the profile named `keep` (this process's baseline, which later
//! profiles are diffed against) is never deleted, and a deleted profile takes its
//! allocation report with it. Files that are not the watchdog's are never touched.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::ProfileFile;

/// Which of `files` (name and modification time) to delete so that, with one more file
/// about to be written, at most `max_files` profiles remain. Pure: decides, deletes nothing.
#[must_use]
pub fn to_delete(
    files: &[(String, SystemTime)],
    keep: Option<&str>,
    max_files: usize,
) -> Vec<ProfileFile> {
    let mut ours: Vec<(SystemTime, ProfileFile)> = files
        .iter()
        .filter_map(|(name, mtime)| ProfileFile::parse(name).map(|f| (*mtime, f)))
        .collect();
    let excess = (ours.len() + 1).saturating_sub(max_files);
    ours.retain(|(_, f)| keep != Some(f.name().as_str()));
    ours.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.stem.cmp(&b.1.stem)));
    ours.into_iter().take(excess).map(|(_, f)| f).collect()
}

/// Deletes the oldest of the watchdog's profiles in `dir` (and their reports) before one
/// more is written. Returns the profiles deleted; a directory that cannot be listed, or a
/// file already gone, is not an error (rotation must never stop the watchdog).
pub fn rotate(dir: &Path, keep: Option<&str>, max_files: usize) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let files: Vec<(String, SystemTime)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let mtime = e.metadata().ok()?.modified().ok()?;
            Some((name, mtime))
        })
        .collect();
    let mut deleted = Vec::new();
    for f in to_delete(&files, keep, max_files) {
        let path = dir.join(f.name());
        if std::fs::remove_file(&path).is_ok() {
            deleted.push(path);
        }
        let _ = std::fs::remove_file(dir.join(f.report_name()));
    }
    deleted
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(s)
    }

    fn names(v: &[ProfileFile]) -> Vec<String> {
        v.iter().map(ProfileFile::name).collect()
    }

    #[test]
    fn deletes_the_oldest_but_keeps_the_baseline_and_foreign_files() {
        let files = vec![
            ("a-1-t1-baseline.heapprofile".to_owned(), at(1)),
            ("a-1-t2-suspect.heapprofile".to_owned(), at(2)),
            ("a-1-t2-suspect.allocation-report.json".to_owned(), at(2)),
            ("a-1-t3-leak.heapprofile".to_owned(), at(3)),
            ("notes.txt".to_owned(), at(0)),
            ("a-1-t0-leak.heapsnapshot".to_owned(), at(0)),
        ];
        // 3 profiles + the next = 4 > 2: two must go, never the baseline.
        let gone = to_delete(&files, Some("a-1-t1-baseline.heapprofile"), 2);
        assert_eq!(
            names(&gone),
            ["a-1-t2-suspect.heapprofile", "a-1-t3-leak.heapprofile"]
        );
        // Without a baseline to keep, the oldest goes first.
        let gone = to_delete(&files, None, 3);
        assert_eq!(names(&gone), ["a-1-t1-baseline.heapprofile"]);
        // Room left: nothing goes.
        assert!(to_delete(&files, None, 4).is_empty());
    }

    #[test]
    fn rotate_deletes_profiles_with_their_reports() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        for (i, name) in [
            "s-9-t1-baseline.heapprofile",
            "s-9-t2-leak.heapprofile",
            "s-9-t2-leak.allocation-report.json",
            "s-9-t3-leak.heapprofile",
            "s-9-t3-leak.allocation-report.json",
            "other.json",
        ]
        .iter()
        .enumerate()
        {
            let p = dir.join(name);
            std::fs::write(&p, b"{}").unwrap();
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(at(1000 + i as u64)).unwrap();
        }
        let deleted = rotate(dir, Some("s-9-t1-baseline.heapprofile"), 3);
        assert_eq!(deleted, [dir.join("s-9-t2-leak.heapprofile")]);
        let mut left: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "other.json",
                "s-9-t1-baseline.heapprofile",
                "s-9-t3-leak.allocation-report.json",
                "s-9-t3-leak.heapprofile"
            ]
        );
        assert!(rotate(&dir.join("missing"), None, 2).is_empty());
    }
}
