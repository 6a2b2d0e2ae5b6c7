//! `mw scrub` on snapshots of a real Node program (fixtures/programs/map-cache.cjs, whose
//! leaked Map is keyed by `req-N` strings): the scrubbed snapshots give the same reports as
//! the raw ones, hold none of the program's string values but all of its names, are valid
//! JSON; broken input, OUT = IN and an unwritable OUT fail with the documented exit codes
//! and leave no file behind.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn scrub(input: &Path, output: &Path) -> std::process::Output {
    common::mw(&[
        "scrub".as_ref(),
        input.as_os_str(),
        output.as_os_str(),
        "--no-progress".as_ref(),
    ])
}

fn scrubbed(input: &Path, dir: &Path) -> PathBuf {
    let output = dir.join(input.file_name().unwrap());
    let out = scrub(input, &output);
    assert!(out.status.success(), "mw scrub: {}", common::stderr(&out));
    output
}

/// The report with the names of string objects on paths blanked: a diff report shows the
/// value of a string its path ends at, and that is what scrubbing replaces.
fn without_string_values(mut report: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                let stringy = map
                    .get("node_type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.contains("string"));
                if stringy && map.contains_key("name") {
                    map.insert("name".to_owned(), Value::Null);
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut report);
    report
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn scrubbed_snapshots_give_the_same_reports_without_the_values() {
    common::require_node();
    for node in common::nodes() {
        let dir = common::generate_with(&node, "map-cache");
        let raw = common::snapshots(dir.path(), "map-cache");
        let out = tempfile::tempdir().unwrap();
        let clean: Vec<PathBuf> = raw.iter().map(|p| scrubbed(p, out.path())).collect();
        let raw: Vec<&Path> = raw.iter().map(PathBuf::as_path).collect();
        let clean: Vec<&Path> = clean.iter().map(PathBuf::as_path).collect();

        // The diff: same suspects (class, path, counts, sizes) in the same order.
        for n in [3, 2] {
            let want = common::analyze_json(&raw[..n], &[]);
            let got = common::analyze_json(&clean[..n], &[]);
            let first = &want["suspects"][0];
            assert_eq!(first["class_name"], "Session", "under {node}: {want:#}");
            assert_eq!(
                without_string_values(got),
                without_string_values(want),
                "under {node}, {n} snapshots"
            );
        }
        // One snapshot: what holds the memory, collections, duplicated strings (counts,
        // lengths, sizes), closures with their files and lines: all the same.
        for (raw, clean) in raw.iter().zip(&clean) {
            assert_eq!(
                common::analyze_json(&[clean], &[]),
                common::analyze_json(&[raw], &[]),
                "under {node}: {}",
                raw.display()
            );
        }

        let before = std::fs::read(raw[2]).unwrap();
        let after = std::fs::read(clean[2]).unwrap();
        // A replacement has one byte per character: only escapes (\n, \uXXXX) and
        // UTF-8 of scrubbed values shrink.
        assert!(after.len() <= before.len() && after.len() > before.len() * 9 / 10);
        serde_json::from_slice::<Value>(&after).expect("the scrubbed snapshot is JSON");
        let count = |bytes: &[u8], needle: &str| {
            bytes
                .windows(needle.len())
                .filter(|w| *w == needle.as_bytes())
                .count()
        };
        // The leaked Map's keys and the requests' ids are gone...
        assert!(count(&before, "\"req-") > 3000, "under {node}");
        assert_eq!(count(&after, "\"req-"), 0, "under {node}");
        // ...its class, variable, property and function names and file name are not.
        for name in [
            "\"Session\"",
            "\"sessionCache\"",
            "\"requestId\"",
            "\"handleRequest\"",
            "map-cache.cjs\"",
        ] {
            assert!(count(&after, name) > 0, "under {node}: {name} was scrubbed");
        }
        assert_eq!(files_in(out.path()).len(), 3, "no temporary files left");
    }
}

#[test]
fn broken_input_fails_cleanly_and_leaves_no_output() {
    common::require_node();
    let dir = common::generate("map-cache");
    let [base, ..] = common::snapshots(dir.path(), "map-cache");
    let bytes = std::fs::read(&base).unwrap();
    let work = tempfile::tempdir().unwrap();
    let output = work.path().join("out.heapsnapshot");
    // Cut in the edges, and in the string table (the last pass's part).
    for (cut, name) in [(bytes.len() / 2, "half"), (bytes.len() - 50, "tail")] {
        let input = work.path().join(format!("{name}.heapsnapshot"));
        std::fs::write(&input, &bytes[..cut]).unwrap();
        let out = scrub(&input, &output);
        assert_eq!(out.status.code(), Some(3), "{}", common::stderr(&out));
        let err = common::stderr(&out);
        assert!(err.contains("truncated"), "{err}");
        assert!(err.contains(&format!("{name}.heapsnapshot")), "{err}");
        std::fs::remove_file(&input).unwrap();
        assert!(
            files_in(work.path()).is_empty(),
            "{:?}",
            files_in(work.path())
        );
    }
    // Not a snapshot, and not a regular file.
    let text = work.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    for input in [text.as_path(), Path::new("/dev/null")] {
        let out = scrub(input, &output);
        assert_eq!(out.status.code(), Some(3), "{}", common::stderr(&out));
        assert!(!output.exists());
    }
    let missing = scrub(&work.path().join("missing.heapsnapshot"), &output);
    assert_eq!(missing.status.code(), Some(3));
}

#[test]
fn out_must_not_be_in_and_must_be_writable() {
    common::require_node();
    let dir = common::generate("map-cache");
    let [base, ..] = common::snapshots(dir.path(), "map-cache");
    let bytes = std::fs::read(&base).unwrap();
    let link = dir.path().join("link.heapsnapshot");
    std::os::unix::fs::symlink(&base, &link).unwrap();
    for output in [&base, &link] {
        let out = scrub(&base, output);
        assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
        assert!(common::stderr(&out).contains("OUT is IN"));
    }
    assert_eq!(std::fs::read(&base).unwrap(), bytes, "IN untouched");

    let out = scrub(&base, Path::new("/nonexistent-dir/out.heapsnapshot"));
    assert_eq!(out.status.code(), Some(5), "{}", common::stderr(&out));

    // An existing OUT is replaced whole.
    let work = tempfile::tempdir().unwrap();
    let output = work.path().join("out.heapsnapshot");
    std::fs::write(&output, "x".repeat(bytes.len() * 2)).unwrap();
    let out = scrub(&base, &output);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(std::fs::metadata(&output).unwrap().len() <= bytes.len() as u64);
    assert_eq!(files_in(work.path()), ["out.heapsnapshot"]);
}
