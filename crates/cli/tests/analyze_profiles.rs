//! `mw analyze` on V8 sampling heap profiles of real Node programs (fixtures/profiles, taken
//! in-process through `node:inspector` like DevTools' Allocation sampling): the planted leak's
//! allocating function, with its file, line and column, must be the top allocation site and
//! the top function; the healthy program must show nothing large. Runs under every Node of
//! the version matrix (`MW_TEST_NODES`). Bad and mixed inputs: exit 3, one clear line.

mod common;

use common::{analyze, stderr};

use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn analyze_json(files: &[&Path]) -> Value {
    let out = analyze(files, &["--json", "--top", "5"]);
    assert!(out.status.success(), "mw failed: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("valid JSON report")
}

fn expect(dir: &Path, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(name).join("expect.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The frame the site or function names: the site's user frame, or the function itself.
fn named_frame(row: &Value) -> &Value {
    match row["user_frame"].as_u64() {
        Some(k) => &row["frames"][k as usize],
        None if row.get("function").is_some() => &row["function"],
        None => panic!("no user frame: {row:#}"),
    }
}

fn is_planted(frame: &Value, leak: &Value) -> bool {
    let file = frame["url"].as_str().unwrap_or_default();
    frame["function"] == leak["function"]
        && Path::new(file).file_name() == Some(OsStr::new(leak["file"].as_str().unwrap()))
        && frame["line"] == leak["line"]
        && frame["column"] == leak["column"]
}

/// One exit-3 error line that names `names`, no panic.
fn assert_bad_input(out: &Output, names: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("mw: error")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    for name in names {
        assert!(lines[0].contains(name), "{name} not in {err}");
    }
}

#[test]
fn planted_leak_is_the_top_site_and_function() {
    common::require_node();
    for node in common::nodes() {
        let dir = common::generate_profiles_with(&node, "leaky");
        let want = &expect(dir.path(), "leaky")["leaks"][0];
        let min_bytes = want["min_bytes"].as_u64().unwrap();
        let [base, leak, last] = common::profiles(dir.path(), "leaky");
        for files in [vec![&*base, &*leak, &*last], vec![&*base, &*leak]] {
            let report = analyze_json(&files);
            let what = format!("leaky under {node} ({} profiles)", files.len());
            assert_eq!(report["kind"], "heapprofile", "{what}");
            assert_eq!(report["schema_version"], 1, "{what}");
            assert_eq!(report["profiles"].as_array().unwrap().len(), files.len());
            let site = &report["sites"][0];
            assert!(
                is_planted(named_frame(site), want),
                "{what}: top site is not {want}: {site:#}"
            );
            assert_eq!(
                site["user_frame"], 0,
                "{what}: the leak allocates in user code"
            );
            assert!(
                site["delta_bytes"].as_u64().unwrap() >= min_bytes / 2,
                "{what}: {site:#}"
            );
            let function = &report["functions"][0];
            assert!(
                is_planted(named_frame(function), want),
                "{what}: top function is not {want}: {function:#}"
            );
            // Summed over the stacks it heads, the function carries at least the planted bytes.
            assert!(
                function["delta_bytes"].as_u64().unwrap() >= min_bytes,
                "{what}: {function:#}"
            );
            assert!(
                site["delta_samples"].as_i64().unwrap() > 100,
                "{what}: {site:#}"
            );
        }
        // The text table names it on the first row, as file:line:col, without colour on a pipe.
        let out = analyze(&[&base, &leak, &last], &["--top", "3"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        let at = format!(
            "{} ({}:{}:{})",
            want["function"].as_str().unwrap(),
            want["file"].as_str().unwrap(),
            want["line"],
            want["column"]
        );
        let first_row = text
            .lines()
            .find(|l| l.trim_start().starts_with("1 "))
            .unwrap();
        assert!(first_row.contains(&at), "{at} not in {first_row}\n{text}");
        assert!(!text.contains('\u{1b}'), "colour on a pipe:\n{text}");
    }
}

#[test]
fn healthy_program_shows_nothing_large() {
    common::require_node();
    for node in common::nodes() {
        let dir = common::generate_profiles_with(&node, "healthy");
        let max = expect(dir.path(), "healthy")["max_site_bytes"]
            .as_u64()
            .unwrap();
        let [base, leak, last] = common::profiles(dir.path(), "healthy");
        let report = analyze_json(&[&base, &leak, &last]);
        // The cache it fills before base is in every profile: a large profile, no growth.
        let live = report["profiles"][0]["live_bytes"].as_u64().unwrap();
        assert!(
            live > 2_000_000,
            "under {node}: the cache is missing: {report:#}"
        );
        for row in report["sites"]
            .as_array()
            .unwrap()
            .iter()
            .chain(report["functions"].as_array().unwrap())
        {
            assert!(
                row["delta_bytes"].as_u64().unwrap() <= max,
                "healthy program under {node} reported {row:#}"
            );
        }
    }
}

#[test]
fn json_and_out_file_agree() {
    common::require_node();
    let dir = common::generate_profiles_with("node", "leaky");
    let [base, leak, _] = common::profiles(dir.path(), "leaky");
    let out_file = dir.path().join("report.json");
    let out = analyze(
        &[&base, &leak],
        &["--json", "--top", "2", "--out", out_file.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    let printed = analyze(&[&base, &leak], &["--json", "--top", "2"]);
    assert_eq!(
        written,
        serde_json::from_slice::<Value>(&printed.stdout).unwrap()
    );
    assert_eq!(written["sites"].as_array().unwrap().len(), 2);
    assert_eq!(written["functions"].as_array().unwrap().len(), 2);
}

#[test]
fn a_snapshot_mixed_with_profiles_is_exit_3_naming_both() {
    common::require_node();
    let snaps = common::generate("healthy");
    let [snapshot, ..] = common::snapshots(snaps.path(), "healthy");
    let profs = common::generate_profiles_with("node", "leaky");
    let [base, leak, _] = common::profiles(profs.path(), "leaky");
    for files in [
        vec![&*snapshot, &*leak],
        vec![&*base, &*snapshot],
        vec![&*base, &*leak, &*snapshot],
    ] {
        let out = analyze(&files, &[]);
        assert_bad_input(&out, &["base.heapsnapshot", ".heapprofile"]);
        assert!(
            stderr(&out).contains("hint: pass only heap snapshots or only sampling heap profiles")
        );
    }
}

#[test]
fn truncated_and_garbage_profiles_are_exit_3() {
    common::require_node();
    let dir = common::generate_profiles_with("node", "leaky");
    let [base, leak, _] = common::profiles(dir.path(), "leaky");
    let bytes = std::fs::read(&leak).unwrap();
    for cut in [20, bytes.len() / 2, bytes.len() - 1] {
        let truncated = dir.path().join("cut.heapprofile");
        std::fs::write(&truncated, &bytes[..cut]).unwrap();
        let out = analyze(&[&base, &truncated], &[]);
        assert_bad_input(
            &out,
            &["cut.heapprofile", &format!("truncated at byte {cut}")],
        );
    }
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "garbage.heapprofile",
            b"{\"head\": {\"callFrame\": nope",
            "not valid JSON at byte",
        ),
        (
            "wrong-type.heapprofile",
            br#"{"head": {"callFrame": 5}}"#,
            "invalid type",
        ),
        (
            "log.txt",
            b"hello, I am a log file\n",
            "not a sampling heap profile",
        ),
        ("empty.heapprofile", b"", "empty"),
    ];
    for (name, content, says) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let out = analyze(&[&base, &path], &[]);
        assert_bad_input(&out, &[name, says]);
    }
}

/// Compiled TypeScript with a source map (fixtures/profiles/leaky-ts.cts, compiled to
/// leaky-ts.cjs + leaky-ts.cjs.map): the leak is named where it is in the TypeScript source;
/// the JSON keeps the compiled position and adds `original`.
#[test]
fn compiled_typescript_is_named_in_its_original_source() {
    common::require_node();
    let dir = common::generate_profiles_with("node", "leaky-ts");
    let compiled = &expect(dir.path(), "leaky-ts")["leaks"][0];
    let source = common::repo_root().join("fixtures/profiles/leaky-ts.cts");
    let text = std::fs::read_to_string(&source).unwrap();
    let needle = "function recordAudit(";
    let (line, column) = text
        .lines()
        .enumerate()
        .find_map(|(i, l)| l.find(needle).map(|c| (i + 1, c + needle.len())))
        .expect("recordAudit in leaky-ts.cts");

    let [base, leak, last] = common::profiles(dir.path(), "leaky-ts");
    let report = analyze_json(&[&base, &leak, &last]);
    for row in [&report["sites"][0], &report["functions"][0]] {
        let frame = named_frame(row);
        assert!(
            is_planted(frame, compiled),
            "the compiled position stays: {frame:#}"
        );
        let original = &frame["original"];
        assert_eq!(
            original["url"].as_str(),
            Some(source.to_str().unwrap()),
            "{frame:#}"
        );
        assert_eq!(
            (original["line"].as_u64(), original["column"].as_u64()),
            (Some(line as u64), Some(column as u64)),
            "{frame:#}"
        );
    }

    let out = analyze(&[&base, &leak, &last], &["--top", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8(out.stdout).unwrap();
    let first_row = table
        .lines()
        .find(|l| l.trim_start().starts_with("1 "))
        .unwrap();
    let at = format!("recordAudit (leaky-ts.cts:{line}:{column})");
    assert!(first_row.contains(&at), "{at} not in {first_row}\n{table}");
    assert!(
        table.contains(&format!(
            "at {}:{line}:{column} (compiled: ",
            source.display()
        )),
        "{table}"
    );
}
