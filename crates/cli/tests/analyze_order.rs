//! `mw analyze` orders snapshots by their contents (V8 object ids only grow over a
//! process's life), not by the order of the arguments: snapshots of real Node programs
//! given in every order make the same report as oldest first, with a note on standard
//! error and `reordered` in the JSON; snapshots of different processes stay an error in
//! either order.

mod common;

use std::path::Path;

use common::{analyze, stderr};
use serde_json::Value;

/// `mw analyze --json` on `files`: the report and standard error.
fn report(files: &[&Path]) -> (Value, String) {
    let out = analyze(files, &["--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json = serde_json::from_slice(&out.stdout).expect("a JSON report");
    (json, stderr(&out))
}

/// The report without what says where each snapshot was given.
fn content(mut report: Value) -> Value {
    let map = report.as_object_mut().unwrap();
    map.remove("reordered");
    for snapshot in map["snapshots"].as_array_mut().unwrap() {
        snapshot.as_object_mut().unwrap().remove("given");
    }
    report
}

fn given(report: &Value) -> Vec<u64> {
    report["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["given"].as_u64().unwrap())
        .collect()
}

#[test]
fn snapshots_in_any_order_make_the_oldest_first_report() {
    common::require_node();
    for node in common::nodes() {
        let dir = common::generate_with(&node, "growing-array");
        let [base, target, last] = common::snapshots(dir.path(), "growing-array");

        let (forward, err) = report(&[&base, &target]);
        assert_eq!(forward["reordered"], false, "under {node}");
        assert_eq!(given(&forward), [1, 2]);
        assert!(!err.contains("note"), "under {node}: {err}");
        let (reversed, err) = report(&[&target, &base]);
        assert_eq!(reversed["reordered"], true, "under {node}");
        assert_eq!(given(&reversed), [2, 1], "under {node}");
        assert!(
            err.contains("mw: note: the snapshots were not given oldest first"),
            "under {node}: {err}"
        );
        assert_eq!(content(reversed), content(forward.clone()), "under {node}");
        assert_eq!(
            forward["suspects"][0]["class_name"], "AuditEntry",
            "under {node}"
        );

        let (oldest_first, _) = report(&[&base, &target, &last]);
        for (files, want) in [
            ([&last, &target, &base], [3, 2, 1]),
            ([&target, &last, &base], [3, 1, 2]),
            ([&base, &last, &target], [1, 3, 2]),
        ] {
            let (shuffled, err) = report(&files.map(std::path::PathBuf::as_path));
            assert_eq!(given(&shuffled), want, "under {node}");
            assert!(err.contains("note"), "under {node}: {err}");
            assert_eq!(
                content(shuffled),
                content(oldest_first.clone()),
                "under {node}: {files:?}"
            );
        }
    }
}

#[test]
fn snapshots_of_different_processes_are_refused_in_either_order() {
    common::require_node();
    let a = common::generate("global");
    let b = common::generate("growing-array");
    let [base, _, last] = common::snapshots(a.path(), "global");
    let [_, target, _] = common::snapshots(b.path(), "growing-array");
    for files in [
        vec![&base, &target],
        vec![&target, &base],
        vec![&base, &target, &last],
    ] {
        let files: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
        let out = analyze(&files, &[]);
        assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("different processes"), "{err}");
        assert!(
            !err.contains("note"),
            "no reordering note before the error: {err}"
        );
    }
}
