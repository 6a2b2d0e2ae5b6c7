//! [`write_private`]: a file only its owner can read, complete or not there at all.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::StoreError;

/// Writes `bytes` to `path` through `<path>.partial` (mode 0600, renamed when complete),
/// creating the parent directory with mode 0700 if needed. On failure nothing is left
/// behind under either name. Modes are Unix's; on Windows the files get the directory's
/// inherited access list, so keep the directory private.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        builder.mode(0o700);
        builder.create(dir).map_err(|source| StoreError::Dir {
            path: dir.to_owned(),
            source,
        })?;
    }
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = Path::new(&partial);
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options.open(partial)?;
        // A stale `.partial` keeps its old mode: tighten it before writing.
        #[cfg(unix)]
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(partial, path)
    })();
    result.map_err(|source| {
        let _ = std::fs::remove_file(partial);
        StoreError::Write {
            path: path.to_owned(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_0600_in_a_0700_directory_without_leftovers() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        let path = dir.join("x-leak.heapprofile");
        write_private(&path, b"{\"head\":{}}").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"head\":{}}");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir), 0o700);
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["x-leak.heapprofile"]);
        // Overwriting keeps the mode and replaces the content.
        write_private(&path, b"2").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"2");
    }

    #[test]
    fn a_failed_write_leaves_nothing_and_names_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        // The target is a directory: the rename fails after the partial file was written.
        let path = tmp.path().join("taken");
        std::fs::create_dir_all(path.join("sub")).unwrap();
        let err = write_private(&path, b"data").unwrap_err();
        assert_eq!(err.reason(), "io");
        assert_eq!(err.to_string(), format!("cannot write {}", path.display()));
        assert!(std::error::Error::source(&err).is_some(), "{err:?}");
        assert!(!tmp.path().join("taken.partial").exists());
    }

    /// Set in the child process that runs inside its own mount namespace.
    const FULL_DISK_DIR: &str = "MW_TEST_FULL_DISK_DIR";

    #[test]
    fn a_full_disk_is_its_own_reason_and_leaves_nothing() {
        if let Some(dir) = std::env::var_os(FULL_DISK_DIR) {
            // The child: `dir` is a 64 kB tmpfs.
            let path = Path::new(&dir).join("x-leak.heapprofile");
            let err = write_private(&path, &vec![b'x'; 1 << 20]).unwrap_err();
            assert_eq!(err.reason(), "disk_full", "{err}");
            assert!(err.to_string().contains("the disk is full"), "{err}");
            assert_eq!(
                std::fs::read_dir(&dir).unwrap().count(),
                0,
                "a file was left"
            );
            return;
        }
        // A real full filesystem: this test again, in a user and mount namespace of its own
        // (no root needed) with a 64 kB tmpfs mounted on a temporary directory.
        let tmp = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
            .arg(r#"mount -t tmpfs -o size=64k none "$0" && exec "$1" --exact "$2" --nocapture"#)
            .arg(tmp.path())
            .arg(std::env::current_exe().unwrap())
            .arg("write::tests::a_full_disk_is_its_own_reason_and_leaves_nothing")
            .env(FULL_DISK_DIR, tmp.path())
            .status()
            .expect("`unshare` (util-linux) runs this test on a small tmpfs: install util-linux");
        assert!(
            status.success(),
            "the write on a full tmpfs did not fail as it should"
        );
    }
}
