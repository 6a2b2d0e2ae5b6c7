//! The outputs of `mw analyze` (text and `--json`: a diff of heap snapshots, one snapshot alone,
//! sampling heap profiles)
//! and of `mw detect` (text and `--json`) pinned with insta: a change to a formatter, a column,
//! a field or a ranking shows up as a snapshot diff (`crates/cli/tests/snapshots/`).
//!
//! The fixtures are made by the real Node programs under V8's `--predictable` with fixed hash
//! and random seeds (`fixtures/generate.mjs --predictable`), which makes one Node version write
//! the same reports every time (without it, dictionary property order, and so the retainer paths
//! through the global object, changes from run to run), run from a copy in a directory of the
//! same depth and length on every machine (`/tmp/mw-pinned-XXXXXX`: a program's path is in its
//! heap, so the checkout's location would show in the reports). Each Node major version has its own
//! built-ins and so its own heap, so the analyze reports are pinned per major version
//! (`…@node20.snap`) for every Node of the matrix (`MW_TEST_NODES`, see `common::nodes`).
//! A Node major version with nothing pinned fails under CI, like any missing snapshot; pin it with
//! `INSTA_UPDATE=always` and review the new files. The repository's and the fixtures' directories
//! are redacted (`[REPO]`, `[FIXTURES]`), and so are the ids V8 gives Node's native objects
//! (their addresses) and the ids of duplicated strings' example copies; nothing else in these
//! outputs depends on the run.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Runs `mw ARGS`, asserts the exit code, and returns standard output with the directories
/// that differ between checkouts and runs redacted.
fn run(args: &[&OsStr], code: i32, fixtures: Option<&Path>) -> String {
    let out: Output = common::mw(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "mw {args:?}: {}",
        common::stderr(&out)
    );
    let mut text = String::from_utf8(out.stdout).expect("UTF-8 output");
    if let Some(dir) = fixtures {
        text = text.replace(&dir.display().to_string(), "[FIXTURES]");
    }
    text.replace(&common::repo_root().display().to_string(), "[REPO]")
}

/// `mw analyze` on `files`, as text and as JSON (which must parse).
fn analyze(files: &[PathBuf], fixtures: &Path, options: &[&str]) -> (String, String) {
    let paths: Vec<&OsStr> = files.iter().map(|p| p.as_os_str()).collect();
    let options = options.iter().map(OsStr::new);
    let mut text_args = vec![OsStr::new("analyze")];
    text_args.extend(options.clone());
    text_args.extend(&paths);
    let mut json_args = vec![OsStr::new("analyze"), OsStr::new("--json")];
    json_args.extend(options);
    json_args.extend(&paths);
    let text = run(&text_args, 0, Some(fixtures));
    let json = run(&json_args, 0, Some(fixtures));
    (text, redact_native_ids(&json))
}

/// V8 numbers the nodes of the embedder graph (Node's native objects, `node_type` `native` or
/// `synthetic`) from their addresses, which change from run to run; every other id is stable,
/// but for one: which copy of a duplicated string V8 numbered first (the fixture directory's
/// random name is in the heap, and the string table's layout follows its hash). Replaces those
/// ids (`id` of a path step, `example_id` of a suspect, of a heap summary's native class or
/// duplicated string) with `"[native id]"` or `"[copy id]"`.
fn redact_native_ids(json: &str) -> String {
    fn collect(value: &serde_json::Value, ids: &mut Vec<u64>) {
        match value {
            serde_json::Value::Object(map) => {
                let native = map
                    .get("node_type")
                    .is_some_and(|t| t == "native" || t == "synthetic");
                if native {
                    ids.extend(
                        ["id", "example_id"]
                            .iter()
                            .filter_map(|k| map.get(*k)?.as_u64()),
                    );
                }
                map.values().for_each(|v| collect(v, ids));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, ids)),
            _ => {}
        }
    }
    let examples = |rows: &serde_json::Value| -> Vec<u64> {
        rows.as_array()
            .into_iter()
            .flatten()
            .filter_map(|row| row["example_id"].as_u64())
            .collect()
    };
    let value: serde_json::Value =
        serde_json::from_str(json).expect("mw analyze --json prints JSON");
    let mut native = examples(&value["native"]["classes"]);
    collect(&value, &mut native);
    let copies = examples(&value["duplicated_strings"]["top"]);
    let mut redacted = json.to_owned();
    for (ids, label) in [(native, "[native id]"), (copies, "[copy id]")] {
        for id in ids {
            for key in ["id", "example_id"] {
                redacted = redacted.replace(
                    &format!("\"{key}\": {id}\n"),
                    &format!("\"{key}\": \"{label}\"\n"),
                );
                redacted = redacted.replace(
                    &format!("\"{key}\": {id},"),
                    &format!("\"{key}\": \"{label}\","),
                );
            }
        }
    }
    redacted
}

/// Pins the text and JSON reports of `mw analyze` under `name` for every Node of the matrix; `make`
/// generates the scenario's files under one Node and returns their directory and paths.
fn pin_per_node(name: &str, make: impl Fn(&str) -> (tempfile::TempDir, Vec<PathBuf>)) {
    pin_per_node_redacted(name, make, &[], |json| json);
}

/// [`pin_per_node`], with `options` given to `mw analyze` and `redact` applied to the JSON
/// report before it is compared.
fn pin_per_node_redacted(
    name: &str,
    make: impl Fn(&str) -> (tempfile::TempDir, Vec<PathBuf>),
    options: &[&str],
    redact: impl Fn(String) -> String,
) {
    common::require_node();
    for node in common::nodes() {
        let (dir, files) = make(&node);
        let (text, json) = analyze(&files, dir.path(), options);
        let json = redact(json);
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_suffix(format!("node{}", common::node_major(&node)));
        settings.set_omit_expression(true);
        let args = match files.len() {
            1 => String::from("FILE"),
            n => ["BASE", "TARGET", "FINAL"][..n].join(" "),
        };
        settings.set_description(format!(
            "mw analyze {args} ({name}, fixtures/generate.mjs --predictable)"
        ));
        settings.bind(|| {
            insta::assert_snapshot!(format!("{name}_text"), text);
            insta::assert_snapshot!(format!("{name}_json"), json);
        });
    }
}

#[test]
fn map_cache_three_snapshots() {
    pin_per_node("map_cache", |node| {
        let dir = common::generate_predictable_with(node, "map-cache");
        let files = common::snapshots(dir.path(), "map-cache").to_vec();
        (dir, files)
    });
}

/// Two snapshots (no FINAL). Not closure-buffers: its Buffers' backing stores are native
/// objects, whose ids come from their addresses, so under Node 20 one of them is now and then
/// counted as freed and allocated again.
#[test]
fn growing_array_two_snapshots() {
    pin_per_node("growing_array", |node| {
        let dir = common::generate_predictable_with(node, "growing-array");
        let [base, target, _] = common::snapshots(dir.path(), "growing-array");
        (dir, vec![base, target])
    });
}

/// One snapshot alone (`mw analyze FILE`): the final snapshot of map-cache.
#[test]
fn map_cache_one_snapshot() {
    pin_per_node("map_cache_one", |node| {
        let dir = common::generate_predictable_with(node, "map-cache");
        let [_, _, last] = common::snapshots(dir.path(), "map-cache");
        (dir, vec![last])
    });
}

/// Sampling heap profiles under `--predictable` sample the same allocations every run, but a
/// sampled object's size can differ by a word between runs (seen: 16 bytes of 8 MB, on Node 22
/// and 24), so the JSON's exact byte figures are redacted: it pins the sites, their frames and
/// ranks, and the sample counts; the text report pins the sizes as people read them. Only the
/// top three rows are pinned: below them come a few samples of the test harness's own
/// promises, whose stacks vary with timing on a loaded machine (seen on Node 22 in CI).
#[test]
fn leaky_sampling_heap_profiles() {
    pin_per_node_redacted(
        "leaky_profiles",
        |node| {
            let dir = common::generate_profiles_predictable_with(node, "leaky");
            let files = common::profiles(dir.path(), "leaky").to_vec();
            (dir, files)
        },
        &["--top", "3"],
        |json| redact_byte_figures(&json),
    );
}

/// Replaces every number under a `…bytes` key (alone or in a list) with `"[bytes]"`, line by
/// line, so the report's own field order stays pinned.
fn redact_byte_figures(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut in_list = false;
    for line in json.lines() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let redacted = if in_list && number(trimmed.trim_end_matches(',')) {
            let comma = if trimmed.ends_with(',') { "," } else { "" };
            format!("{indent}\"[bytes]\"{comma}")
        } else if let Some((key, value)) = trimmed.split_once(": ")
            && key.ends_with("bytes\"")
            && number(value.trim_end_matches(','))
        {
            let comma = if value.ends_with(',') { "," } else { "" };
            format!("{indent}{key}: \"[bytes]\"{comma}")
        } else {
            line.to_owned()
        };
        if trimmed.ends_with("bytes\": [") {
            in_list = true;
        } else if trimmed.starts_with(']') {
            in_list = false;
        }
        out.push_str(&redacted);
        out.push('\n');
    }
    out
}

/// `mw detect` on committed real traces: one that ends in `oom_risk` (exit 7) against the heap
/// limit in its rows, one whose off-heap leak has no limit to run into (exit 6).
#[test]
fn detect_on_committed_traces() {
    for (trace, code) in [("fast_leak_http", 7), ("external_leak_http", 6)] {
        let path = common::repo_root().join(format!("fixtures/traces/{trace}.csv"));
        let text = run(&[OsStr::new("detect"), path.as_os_str()], code, None);
        let json = run(
            &[OsStr::new("detect"), OsStr::new("--json"), path.as_os_str()],
            code,
            None,
        );
        for line in json.lines() {
            serde_json::from_str::<serde_json::Value>(line).expect("one JSON object per line");
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_omit_expression(true);
        settings.set_description(format!("mw detect fixtures/traces/{trace}.csv"));
        settings.bind(|| {
            insta::assert_snapshot!(format!("detect_{trace}_text"), text);
            insta::assert_snapshot!(format!("detect_{trace}_json"), json);
        });
    }
}
