//! `mw analyze` on snapshots of real Node programs with planted leaks (fixtures/programs):
//! each planted leak must be among the top 3 suspects with the right retainer path, and the
//! healthy program must show nothing big. Expectations come from each scenario's
//! `expect.json`, written by the program that planted the leak.

mod common;

use std::path::Path;

use serde_json::Value;

fn analyze_json(files: &[&Path]) -> Value {
    common::analyze_json(files, &["--top", "3"])
}

/// The suspect explains the leak when its objects are, or hold, the leaked class.
fn names_class(suspect: &Value, class: &str) -> bool {
    suspect["class_name"] == class
        || suspect["holds"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["class_name"] == class)
}

/// Runs the scenario under every Node version of the matrix (see `common::nodes`).
fn check_scenario(name: &str) {
    common::require_node();
    for node in common::nodes() {
        check_scenario_with(&node, name);
    }
}

fn check_scenario_with(node: &str, name: &str) {
    let dir = common::generate_with(node, name);
    let expect: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(name).join("expect.json")).unwrap(),
    )
    .unwrap();
    let [base, target, last] = common::snapshots(dir.path(), name);
    for files in [vec![&*base, &*target, &*last], vec![&*base, &*target]] {
        let report = analyze_json(&files);
        let suspects = report["suspects"].as_array().unwrap();
        for leak in expect["leaks"].as_array().unwrap() {
            let class = leak["constructor"].as_str().unwrap();
            let want: Vec<&str> = leak["path_contains"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            let found = suspects.iter().find(|s| names_class(s, class));
            let Some(found) = found else {
                panic!(
                    "{name} under {node} ({} snapshots): {class} not in the top 3: {suspects:#?}",
                    files.len()
                );
            };
            let edges = common::edge_names(found);
            for edge in &want {
                assert!(
                    edges.contains(edge),
                    "{name} under {node}: path {edges:?} lacks {edge}"
                );
            }
            let min_bytes = leak["min_bytes"].as_u64().unwrap();
            assert!(
                found["delta_bytes"].as_u64().unwrap() >= min_bytes,
                "{name}: {found:#}"
            );
            if files.len() == 3 {
                assert_eq!(
                    found["rank"], 1,
                    "{name} under {node}: the planted leak must rank first: {suspects:#?}"
                );
            }
        }
        if expect["healthy"] == true && files.len() == 3 {
            let max = expect["max_suspect_bytes"].as_u64().unwrap();
            for s in suspects {
                assert!(
                    s["delta_bytes"].as_u64().unwrap() <= max,
                    "healthy program under {node} reported {s:#}"
                );
            }
        }
    }
}

#[test]
fn growing_array() {
    check_scenario("growing-array");
}

#[test]
fn map_cache() {
    check_scenario("map-cache");
}

#[test]
fn event_listeners() {
    check_scenario("event-listeners");
}

#[test]
fn closure_buffers() {
    check_scenario("closure-buffers");
}

#[test]
fn forgotten_interval() {
    check_scenario("forgotten-interval");
}

#[test]
fn global() {
    check_scenario("global");
}

#[test]
fn healthy() {
    check_scenario("healthy");
}

#[test]
fn closure_suspect_names_function_and_file() {
    common::require_node();
    let dir = common::generate("closure-buffers");
    let [base, target, last] = common::snapshots(dir.path(), "closure-buffers");
    let report = analyze_json(&[&base, &target, &last]);
    let top = &report["suspects"][0];
    assert_eq!(top["function"]["name"], "flushChunk");
    assert!(
        top["function"]["file"]
            .as_str()
            .unwrap()
            .ends_with("closure-buffers.mjs"),
        "{top:#}"
    );
    assert!(top["function"]["line"].as_u64().unwrap() > 0);
    // The Buffers' backing stores live outside the JS heap: native memory must show the growth.
    let native = report["native"]["delta_bytes"].as_i64().unwrap();
    assert!(native >= 3 * 1024 * 1024 - 65536, "native growth {native}");
}

/// Snapshots saved the way Chrome DevTools saves them (inspector protocol chunks), under
/// every Node version of the matrix.
#[test]
fn devtools_protocol_snapshots() {
    common::require_node();
    for node in common::nodes() {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new(&node)
            .arg(common::repo_root().join("fixtures/devtools-protocol.mjs"))
            .arg(dir.path())
            .status()
            .expect("run fixtures/devtools-protocol.mjs");
        assert!(
            status.success(),
            "devtools-protocol.mjs failed under {node}"
        );
        let report = analyze_json(&[
            &dir.path().join("base.heapsnapshot"),
            &dir.path().join("target.heapsnapshot"),
        ]);
        let top = &report["suspects"][0];
        assert_eq!(top["class_name"], "DevtoolsLeak", "under {node}: {top:#}");
        assert_eq!(top["delta_count"], 5000, "under {node}");
        assert!(
            common::edge_names(top).contains(&"devtoolsRetained"),
            "under {node}: {top:#}"
        );
    }
}
