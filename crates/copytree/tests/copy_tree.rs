//! `copy_tree` and the `copytree` binary on real directory trees in temporary directories.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;

use memwatchdog_copytree::{CopyError, copy_tree};

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

/// A tree shaped like `npm install`'s: nested packages, an executable, a relative link.
fn source_tree(root: &Path) {
    let pkg = root.join("node_modules/@memwatchdog/core/dist/cjs");
    fs::create_dir_all(&pkg).unwrap();
    fs::write(pkg.join("register.js"), "require('./index.js');\n").unwrap();
    fs::write(pkg.join("index.js"), "module.exports = 1;\n").unwrap();
    let addon = root.join("node_modules/@memwatchdog/core-linux-x64-gnu");
    fs::create_dir_all(&addon).unwrap();
    fs::write(
        addon.join("memwatchdog.linux-x64-gnu.node"),
        vec![0x7f; 70_000],
    )
    .unwrap();
    fs::set_permissions(
        addon.join("memwatchdog.linux-x64-gnu.node"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    fs::create_dir_all(root.join("node_modules/.bin")).unwrap();
    symlink(
        "../@memwatchdog/core/dist/cjs/index.js",
        root.join("node_modules/.bin/tool"),
    )
    .unwrap();
    fs::write(root.join("package.json"), "{}\n").unwrap();
}

#[test]
fn copies_files_directories_links_and_modes() {
    let src = tempfile::tempdir().unwrap();
    let dest = tempfile::tempdir().unwrap();
    source_tree(src.path());
    let copied = copy_tree(src.path(), dest.path()).unwrap();
    assert_eq!((copied.files, copied.symlinks), (4, 1));
    // node_modules, @memwatchdog, core, dist, cjs, core-linux-x64-gnu, .bin
    assert_eq!(copied.dirs, 7);
    assert_eq!(copied.bytes, 70_000 + 23 + 20 + 3);
    let d = dest.path();
    assert_eq!(
        fs::read_to_string(d.join("node_modules/@memwatchdog/core/dist/cjs/register.js")).unwrap(),
        "require('./index.js');\n"
    );
    let addon =
        d.join("node_modules/@memwatchdog/core-linux-x64-gnu/memwatchdog.linux-x64-gnu.node");
    assert_eq!(fs::read(&addon).unwrap(), vec![0x7f; 70_000]);
    assert_eq!(mode(&addon), 0o755);
    assert_eq!(
        mode(&d.join("package.json")),
        0o644 & mode(&src.path().join("package.json"))
    );
    let link = d.join("node_modules/.bin/tool");
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs::read_link(&link).unwrap(),
        Path::new("../@memwatchdog/core/dist/cjs/index.js")
    );
    assert_eq!(fs::read_to_string(&link).unwrap(), "module.exports = 1;\n");
    // No temporary file is left anywhere.
    let mut stack = vec![d.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            assert!(
                !e.file_name().to_string_lossy().starts_with(".copytree-"),
                "{:?} left",
                e.path()
            );
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
}

#[test]
fn running_again_replaces_what_is_there() {
    let src = tempfile::tempdir().unwrap();
    let dest = tempfile::tempdir().unwrap();
    source_tree(src.path());
    copy_tree(src.path(), dest.path()).unwrap();
    // A restarted init container finds the volume as the last run left it, or changed.
    let register = dest
        .path()
        .join("node_modules/@memwatchdog/core/dist/cjs/register.js");
    fs::write(&register, "stale").unwrap();
    fs::remove_file(dest.path().join("node_modules/.bin/tool")).unwrap();
    fs::write(
        dest.path().join("node_modules/.bin/tool"),
        "a file where a link was",
    )
    .unwrap();
    let again = copy_tree(src.path(), dest.path()).unwrap();
    assert_eq!((again.files, again.dirs, again.symlinks), (4, 7, 1));
    assert_eq!(
        fs::read_to_string(&register).unwrap(),
        "require('./index.js');\n"
    );
    assert!(
        fs::symlink_metadata(dest.path().join("node_modules/.bin/tool"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn set_id_bits_are_dropped_and_read_only_directories_copied_read_only() {
    let src = tempfile::tempdir().unwrap();
    let dest = tempfile::tempdir().unwrap();
    let ro = src.path().join("ro");
    fs::create_dir(&ro).unwrap();
    fs::write(ro.join("f"), "x").unwrap();
    fs::set_permissions(ro.join("f"), fs::Permissions::from_mode(0o4755)).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    copy_tree(src.path(), dest.path()).unwrap();
    assert_eq!(mode(&dest.path().join("ro/f")), 0o755);
    assert_eq!(mode(&dest.path().join("ro")), 0o555);
    // And a second run can still write into the read-only directory it made.
    copy_tree(src.path(), dest.path()).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(dest.path().join("ro"), fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_missing_destination_says_to_mount_the_volume() {
    let src = tempfile::tempdir().unwrap();
    let dest = tempfile::tempdir().unwrap();
    let missing = dest.path().join("memwatchdog");
    let err = copy_tree(src.path(), &missing).unwrap_err();
    assert!(matches!(err, CopyError::Destination { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains(&missing.display().to_string()) && msg.contains("emptyDir"),
        "{msg}"
    );
    let file = dest.path().join("file");
    fs::write(&file, "").unwrap();
    assert!(
        copy_tree(src.path(), &file)
            .unwrap_err()
            .to_string()
            .contains("not a directory")
    );
}

#[test]
fn a_missing_or_non_directory_source_is_named() {
    let dest = tempfile::tempdir().unwrap();
    let err = copy_tree(&dest.path().join("nope"), dest.path()).unwrap_err();
    assert!(matches!(err, CopyError::Source { .. }), "{err:?}");
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn a_fifo_is_refused_by_name() {
    let src = tempfile::tempdir().unwrap();
    let dest = tempfile::tempdir().unwrap();
    let fifo = src.path().join("pipe");
    let status = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo (coreutils) must be installed");
    assert!(status.success());
    let err = copy_tree(src.path(), dest.path()).unwrap_err();
    assert!(
        matches!(err, CopyError::Unsupported { kind: "FIFO", .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("pipe"), "{err}");
}

#[test]
fn a_directory_in_the_way_of_a_file_is_a_write_error_naming_it() {
    let src = tempfile::tempdir().unwrap();
    let dest = tempfile::tempdir().unwrap();
    fs::create_dir_all(src.path().join("a/b")).unwrap();
    fs::write(src.path().join("a/b/c"), "x").unwrap();
    fs::create_dir(dest.path().join("a")).unwrap();
    fs::create_dir_all(dest.path().join("a/b/c/d")).unwrap();
    let err = copy_tree(src.path(), dest.path()).unwrap_err();
    assert!(matches!(err, CopyError::Write { .. }), "{err:?}");
    assert!(err.to_string().contains("a/b/c"), "{err}");
}

#[test]
fn the_binary_prints_what_it_copied_and_uses_exit_codes() {
    let bin = env!("CARGO_BIN_EXE_copytree");
    let src = tempfile::tempdir().unwrap();
    let dest = tempfile::tempdir().unwrap();
    source_tree(src.path());
    let out = Command::new(bin)
        .arg(src.path())
        .arg(dest.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(
        line.starts_with("copytree: copied 4 files (70 kB), 7 directories and 1 symbolic links"),
        "{line}"
    );
    let out = Command::new(bin).arg(src.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: copytree SRC DEST"));
    let out = Command::new(bin)
        .arg(src.path())
        .arg(dest.path().join("missing"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("emptyDir"));
}
