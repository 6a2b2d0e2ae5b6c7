//! `mw analyze FILE --node ID` and `--class NAME`: one object's story on snapshots of real Node
//! programs — every retainer path (bounded, the global object's first), the objects that point
//! at it, its dominators and retained size — and clear errors: an unknown id or class (exit 8,
//! with the nearest class names), options that do not apply (exit 2).

mod common;

use std::path::Path;

use common::{analyze, stderr};
use serde_json::Value;

fn json(file: &Path, extra: &[&str]) -> Value {
    common::analyze_json(&[file], extra)
}

#[test]
fn the_story_of_the_cache_a_summary_names() {
    common::require_node();
    for node in common::nodes() {
        let dir = common::generate_with(&node, "map-cache");
        let [_, _, last] = common::snapshots(dir.path(), "map-cache");
        let summary = json(&last, &[]);
        let cache = summary["collections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["variable"] == "sessionCache")
            .expect("the cache is among the collections")
            .clone();
        let id = format!("@{}", cache["id"]);
        let report = json(&last, &["--node", &id, "--paths", "4"]);
        assert_eq!(report["kind"], "retainers");
        assert_eq!(report["schema_version"], 1);
        assert_eq!(report["class"], Value::Null);
        let story = &report["objects"][0];
        assert_eq!(story["id"], cache["id"], "under {node}");
        assert_eq!(story["class_name"], "Map");
        assert_eq!(
            story["retained_bytes"], cache["retained_bytes"],
            "under {node}"
        );
        assert_eq!(story["reachable"], true);
        let paths = story["paths"].as_array().unwrap();
        assert!(
            !paths.is_empty() && paths.len() <= 4,
            "under {node}: {paths:#?}"
        );
        assert_eq!(paths[0]["via"], "user", "under {node}");
        let lengths: Vec<u64> = paths
            .iter()
            .map(|p| p["length"].as_u64().unwrap())
            .collect();
        assert!(
            lengths.is_sorted(),
            "shortest first under {node}: {lengths:?}"
        );
        for path in paths {
            assert_eq!(
                common::edge_names(path).last(),
                Some(&"sessionCache"),
                "under {node}: {path:#}"
            );
            assert_eq!(path["length"], path["path"].as_array().unwrap().len());
        }
        assert!(
            story["retainers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["edge"] == "sessionCache" && r["edge_type"] == "context"),
            "under {node}: {story:#}"
        );
        assert!(!story["dominators"].as_array().unwrap().is_empty());

        let out = analyze(&[&last], &["--node", &id]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains(&format!("Map {id} (object)")) && text.contains("sessionCache > Map"),
            "under {node}:\n{text}"
        );
    }
}

#[test]
fn a_class_sample_is_bounded_and_largest_first() {
    common::require_node();
    let dir = common::generate("map-cache");
    let [_, _, last] = common::snapshots(dir.path(), "map-cache");
    let report = json(
        &last,
        &["--class", "Session", "--sample", "2", "--paths", "3"],
    );
    let class = &report["class"];
    assert_eq!(class["class_name"], "Session");
    assert_eq!(class["count"], 3300);
    assert_eq!(class["sampled"], 2);
    let objects = report["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 2);
    assert!(objects[0]["retained_bytes"].as_u64() >= objects[1]["retained_bytes"].as_u64());
    for story in objects {
        let paths = story["paths"].as_array().unwrap();
        assert!(!paths.is_empty() && paths.len() <= 3, "{story:#}");
        assert!(
            common::edge_names(&paths[0]).contains(&"sessionCache"),
            "{story:#}"
        );
    }
}

#[test]
fn unknown_ids_and_classes_are_exit_8_and_misplaced_options_exit_2() {
    common::require_node();
    let dir = common::generate("map-cache");
    let [base, _, last] = common::snapshots(dir.path(), "map-cache");
    let out = analyze(&[&last], &["--node", "@4000000000"]);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no object has id @4000000000 in this snapshot"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("hint: ids are"), "{}", stderr(&out));
    let out = analyze(&[&last], &["--class", "sesion"]);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("no object of class \"sesion\" in this snapshot; did you mean Session"),
        "{}",
        stderr(&out)
    );
    for (files, args, message) in [
        (
            vec![&base, &last],
            vec!["--node", "1"],
            "--node applies to one heap snapshot",
        ),
        (
            vec![&base, &last],
            vec!["--class", "Session"],
            "--class applies to one heap snapshot",
        ),
        (
            vec![&last],
            vec!["--sample", "2"],
            "--sample needs --class NAME",
        ),
        (
            vec![&last],
            vec!["--node", "1", "--sample", "2"],
            "--sample needs --class NAME",
        ),
        (
            vec![&last],
            vec!["--paths", "2"],
            "--paths needs --node ID or --class NAME",
        ),
        (vec![&last], vec!["--node", "x"], "is not a V8 object id"),
        (
            vec![&last],
            vec!["--node", "1", "--class", "Map"],
            "cannot be used with",
        ),
    ] {
        let files: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
        let out = analyze(&files, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
}
