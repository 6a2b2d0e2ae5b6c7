//! The rest of issue #17's item 9, on real fixture snapshots edited the way a corrupt or
//! hostile file is: a profile `selfSize` of 1e30 (it wrapped the total), a snapshot
//! `self_size` above 2^32 (clamped silently), `--top 0` (headings over empty lists under a
//! summary that counted thousands), and corrupt snapshots given as a diff pair (blamed on
//! "different processes", exit 4).

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// A real snapshot with `edit` applied to its `nodes` array (and the node fields of its
/// `meta`), written to `dir/name`; the rest of the file is kept byte for byte.
fn edited(src: &Path, dir: &Path, name: &str, edit: impl FnOnce(&mut [u64], &[String])) -> PathBuf {
    let text = std::fs::read_to_string(src).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let fields: Vec<String> = json["snapshot"]["meta"]["node_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect();
    let start = text.find("\"nodes\":[").unwrap() + "\"nodes\":[".len();
    let end = start + text[start..].find(']').unwrap();
    let mut nodes: Vec<u64> = text[start..end]
        .split(',')
        .map(|n| n.trim().parse().unwrap())
        .collect();
    edit(&mut nodes, &fields);
    let nodes: Vec<String> = nodes.iter().map(u64::to_string).collect();
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("{}{}{}", &text[..start], nodes.join(","), &text[end..]),
    )
    .unwrap();
    path
}

/// Where `field` is in a node row, and the row width.
fn node_field(fields: &[String], field: &str) -> (usize, usize) {
    (
        fields.iter().position(|f| f == field).unwrap(),
        fields.len(),
    )
}

/// The ids of a run of a quarter of the nodes overwritten with those of an earlier run, as
/// when a block of the file was written twice: every number still parses.
fn ids_written_twice(nodes: &mut [u64], fields: &[String]) {
    let (id, width) = node_field(fields, "id");
    let n = nodes.len() / width;
    for r in 0..n / 4 {
        nodes[(n / 2 + r) * width + id] = nodes[(n / 8 + r) * width + id];
    }
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn corrupt_snapshots_are_exit_3_naming_the_file_not_different_processes() {
    common::require_node();
    let generated = common::generate("growing-array");
    let [base, target, _] = common::snapshots(generated.path(), "growing-array");
    let dir = tempfile::tempdir().unwrap();
    let bad_target = edited(
        &target,
        dir.path(),
        "target.heapsnapshot",
        ids_written_twice,
    );
    let bad_base = edited(&base, dir.path(), "base.heapsnapshot", ids_written_twice);
    for (files, named) in [
        ([base.as_path(), bad_target.as_path()], &bad_target),
        ([bad_base.as_path(), bad_target.as_path()], &bad_base),
        ([bad_target.as_path(), bad_base.as_path()], &bad_base),
    ] {
        let out = common::mw(&[
            OsStr::new("analyze"),
            OsStr::new("--no-progress"),
            files[0].as_os_str(),
            files[1].as_os_str(),
        ]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(
            err.starts_with(&format!("mw: error: {}: snapshot ", named.display())),
            "{err}"
        );
        assert!(err.contains("is corrupt: object id"), "{err}");
        assert!(!err.contains("different processes"), "{err}");
    }
    // The pair as written still diffs.
    let out = common::mw(&[
        OsStr::new("analyze"),
        OsStr::new("--no-progress"),
        base.as_os_str(),
        target.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_self_size_above_4_gib_is_carried_not_clamped() {
    common::require_node();
    let generated = common::generate("growing-array");
    let [_, target, _] = common::snapshots(generated.path(), "growing-array");
    let summary = |path: &Path| -> serde_json::Value {
        let out = common::mw(&[
            OsStr::new("analyze"),
            OsStr::new("--json"),
            OsStr::new("--no-progress"),
            path.as_os_str(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let before = summary(&target)["snapshot"]["total_bytes"]
        .as_u64()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut old_size = 0;
    let big = edited(&target, dir.path(), "big.heapsnapshot", |nodes, fields| {
        let (size, width) = node_field(fields, "self_size");
        let row = nodes.len() / width / 2;
        old_size = nodes[row * width + size];
        nodes[row * width + size] = 5_000_000_000;
    });
    let after = summary(&big)["snapshot"]["total_bytes"].as_u64().unwrap();
    assert_eq!(after, before - old_size + 5_000_000_000);
}

#[test]
fn a_profile_self_size_of_1e30_is_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let profile = |size: &str| {
        let frame = |name: &str| {
            format!(
                r#"{{"functionName":"{name}","scriptId":"1","url":"/app.js","lineNumber":3,"columnNumber":4}}"#
            )
        };
        format!(
            r#"{{"head":{{"callFrame":{},"selfSize":0,"id":1,"children":[{{"callFrame":{},"selfSize":{size},"id":2,"children":[]}}]}},"samples":[]}}"#,
            frame("(root)"),
            frame("leak")
        )
    };
    let base = dir.path().join("base.heapprofile");
    std::fs::write(&base, profile("1000")).unwrap();
    let leak = dir.path().join("leak.heapprofile");
    std::fs::write(&leak, profile("1e30")).unwrap();
    let out = common::mw(&[OsStr::new("analyze"), base.as_os_str(), leak.as_os_str()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains(
            "leak.heapprofile: node 2 has an invalid selfSize 1000000000000000000000000000000"
        ),
        "{err}"
    );
}

#[test]
fn zero_rows_objects_or_paths_is_a_usage_error() {
    for args in [
        &["--top", "0", "a", "b"][..],
        &["a", "--class", "Map", "--sample", "0"],
        &["a", "--node", "1", "--paths", "0"],
    ] {
        let mut all = vec![OsStr::new("analyze")];
        all.extend(args.iter().map(OsStr::new));
        let out = common::mw(&all);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("must be at least 1"), "{err}");
    }
}
