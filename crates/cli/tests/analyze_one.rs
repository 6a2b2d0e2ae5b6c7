//! `mw analyze FILE`: one snapshot alone, as production leaves it. The planted leak of a real
//! Node program that ran out of memory (a 64 MB heap, `--heapsnapshot-near-heap-limit=1`) is
//! named in the top 3; collections are counted exactly; closures carry their definition
//! site; string values stay out of the report unless asked for. Under every Node version of
//! the matrix (`common::nodes`).

mod common;

use std::ffi::OsStr;
use std::path::Path;

use serde_json::Value;

fn summary(file: &Path, extra: &[&str]) -> Value {
    common::analyze_json(&[file], extra)
}

fn expect(dir: &Path, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(name).join("expect.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_near_heap_limit_snapshot_names_the_leak_holder_in_its_top_3() {
    common::require_node();
    for node in common::nodes() {
        let dir = common::generate_oom_with(&node, "session-cache");
        let expect = expect(dir.path(), "session-cache");
        let holder = expect["holder"].as_str().unwrap();
        let file = common::near_heap_limit(dir.path(), "session-cache");
        let report = summary(&file, &["--top", "3"]);
        assert_eq!(report["kind"], "heap_summary");
        assert_eq!(report["schema_version"], 1);
        let holders = report["holders"].as_array().unwrap();
        assert!(
            holders
                .iter()
                .any(|h| common::edge_names(h).contains(&holder)),
            "under {node}: no holder of the top 3 is held by {holder}: {holders:#?}"
        );
        // The leaked objects hold most of the 64 MB heap.
        let total = report["snapshot"]["reachable_bytes"].as_u64().unwrap();
        let leak = holders
            .iter()
            .find(|h| common::edge_names(h).contains(&holder))
            .unwrap();
        assert!(
            leak["retained_bytes"].as_u64().unwrap() > total / 2,
            "under {node}: {leak:#}"
        );
        let collections = report["collections"].as_array().unwrap();
        let map = collections
            .iter()
            .find(|c| c["variable"] == holder)
            .unwrap_or_else(|| panic!("under {node}: {holder} not among {collections:#?}"));
        assert_eq!(map["kind"], "map");
        assert!(
            map["entries"].as_u64().unwrap() > 50_000,
            "under {node}: {map:#}"
        );

        let out = common::analyze(&[&file], &["--top", "3"]);
        let text = String::from_utf8(out.stdout).unwrap();
        let holders_table = text.split("Largest collections").next().unwrap();
        assert!(holders_table.contains(holder), "under {node}:\n{text}");
    }
}

/// The caches of map-cache and the log of growing-array hold one entry per request: 300 of
/// warm-up and two phases of 1,500 in the final snapshot.
#[test]
fn collections_are_counted_exactly() {
    common::require_node();
    for node in common::nodes() {
        for (name, variable, kind) in [
            ("map-cache", "sessionCache", "map"),
            ("growing-array", "auditLog", "array"),
        ] {
            let dir = common::generate_with(&node, name);
            let expect = expect(dir.path(), name);
            let requests = &expect["requests"];
            let want =
                requests["warmup"].as_u64().unwrap() + 2 * requests["per_phase"].as_u64().unwrap();
            let [_, _, last] = common::snapshots(dir.path(), name);
            let report = summary(&last, &[]);
            let collections = report["collections"].as_array().unwrap();
            let found = collections
                .iter()
                .find(|c| c["variable"] == variable)
                .unwrap_or_else(|| panic!("{name} under {node}: {collections:#?}"));
            assert_eq!(found["kind"], kind, "{name} under {node}");
            assert_eq!(found["entries"], want, "{name} under {node}: {found:#}");
            assert_eq!(found["rank"], 1, "{name} under {node}: {collections:#?}");
            assert!(
                found["path_text"].as_str().unwrap().ends_with(variable)
                    || found["path_text"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("{variable} >")),
                "{name} under {node}: {found:#}"
            );
        }
    }
}

#[test]
fn closures_carry_their_definition_site_and_buffers_show_as_native_memory() {
    common::require_node();
    let dir = common::generate("closure-buffers");
    let [_, _, last] = common::snapshots(dir.path(), "closure-buffers");
    let report = summary(&last, &[]);
    let top = &report["closures"][0];
    assert_eq!(top["function"]["name"], "flushChunk", "{top:#}");
    assert!(
        top["function"]["file"]
            .as_str()
            .unwrap()
            .ends_with("closure-buffers.mjs"),
        "{top:#}"
    );
    assert_eq!(top["function"]["line"], 13, "{top:#}");
    // 16 requests of warm-up and two phases of 48, each leaving one closure and its 64 KiB.
    assert_eq!(top["count"], 112, "{top:#}");
    assert!(top["retained_bytes"].as_u64().unwrap() >= 112 * 65_536);
    let native = &report["native"];
    let buffers = &native["classes"][0];
    assert_eq!(buffers["class_name"], "system / JSArrayBufferData");
    assert!(
        buffers["bytes"].as_u64().unwrap() >= 112 * 65_536,
        "{native:#}"
    );
    assert!(
        buffers["path_text"]
            .as_str()
            .unwrap()
            .contains("pendingFlushes"),
        "{native:#}"
    );
}

/// Copies of a secret token, made at run time (so not one interned string).
const SECRETS: &str = r"
const token = ['hunter2', 'secret', 'token'].join('-');
globalThis.sessions = Array.from({ length: 500 }, (_, i) => ({ i, token: token.split('').join('') }));
require('v8').writeHeapSnapshot(process.argv[1]);
";

#[test]
fn string_values_stay_out_of_the_report_unless_asked_for() {
    common::require_node();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets.heapsnapshot");
    let status = std::process::Command::new("node")
        .arg("-e")
        .arg(SECRETS)
        .arg(&file)
        .status()
        .expect("run node");
    assert!(status.success());
    for json in [false, true] {
        let mut args = vec![OsStr::new("analyze"), file.as_os_str()];
        if json {
            args.push(OsStr::new("--json"));
        }
        let hidden = common::mw(&args);
        assert!(hidden.status.success(), "{}", common::stderr(&hidden));
        let hidden = String::from_utf8(hidden.stdout).unwrap();
        assert!(
            !hidden.contains("hunter2"),
            "a string value leaked:\n{hidden}"
        );
        args.push(OsStr::new("--show-strings"));
        let shown = String::from_utf8(common::mw(&args).stdout).unwrap();
        assert!(shown.contains("hunter2-secret-token"), "{shown}");
    }
    let report = summary(&file, &[]);
    let top = &report["duplicated_strings"]["top"][0];
    // The 500 sessions' copies and the script's `token` itself.
    assert_eq!(top["copies"], 501, "{top:#}");
    assert_eq!(top["value"], Value::Null);
    assert_eq!(top["length"], 20);
    assert!(
        top["path_text"]
            .as_str()
            .unwrap()
            .ends_with("token > (string)"),
        "{top:#}"
    );
}
