//! `mw analyze ... --html FILE` on real fixtures (snapshots and sampling heap profiles of the
//! leaky programs in fixtures/, a trace recorded live in fixtures/traces): the page is written
//! whole, carries the same report as `--json` in its data element, names the planted leak in
//! its verdict, and leaves no file behind when it fails. Drawing it in a real browser is
//! tests/report (headless Chromium).

mod common;

use common::{analyze, repo_root, stderr};

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The page's embedded document (the JSON in `<script type="application/json" id="mw-data">`).
fn data_of(html: &str) -> Value {
    let open = "<script type=\"application/json\" id=\"mw-data\">";
    let start = html.find(open).expect("the data element") + open.len();
    let len = html[start..].find("</script>").expect("its end");
    serde_json::from_str(&html[start..start + len]).expect("valid JSON in the data element")
}

fn page(path: &Path) -> (String, Value) {
    let html = std::fs::read_to_string(path).expect("the HTML report was written");
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "{}",
        &html[..html.len().min(200)]
    );
    assert!(html.trim_end().ends_with("</html>"));
    let data = data_of(&html);
    (html, data)
}

/// The `<p id="verdict">` text.
fn verdict(html: &str) -> &str {
    let start = html
        .find("<p id=\"verdict\" class=\"verdict\">")
        .expect("a verdict");
    let rest = &html[start..];
    &rest[rest.find('>').unwrap() + 1..rest.find("</p>").unwrap()]
}

#[test]
fn a_snapshot_trio_page_carries_the_json_report_and_names_the_leak() {
    common::require_node();
    let dir = common::generate("map-cache");
    let set = dir.path().join("map-cache");
    let files = ["base", "target", "final"].map(|n| set.join(format!("{n}.heapsnapshot")));
    let files: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out_dir = tempfile::tempdir().unwrap();
    let html_path = out_dir.path().join("report.html");
    let out = analyze(&files, &["--json", "--html", html_path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("--json still goes to stdout");
    let (html, data) = page(&html_path);
    assert_eq!(data["kind"], "leak");
    assert_eq!(data["report"], json, "the page carries the --json report");
    assert_eq!(json["suspects"][0]["class_name"], "Session");
    let verdict = verdict(&html);
    assert!(
        verdict.starts_with("Top leak suspect: Session +"),
        "{verdict}"
    );
    assert!(
        verdict.contains("1,500 new objects") && verdict.contains("sessionCache"),
        "{verdict}"
    );
    let inputs = data["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 3);
    for (input, file) in inputs.iter().zip(&files) {
        assert_eq!(input["name"], file.display().to_string());
        assert_eq!(input["bytes"], std::fs::metadata(file).unwrap().len());
        assert!(input["modified_ms"].as_u64().unwrap() > 1_600_000_000_000);
    }
    assert!(!out_dir.path().join("report.html.mw-tmp").exists());
}

#[test]
fn one_snapshot_and_a_profile_diff_have_pages_too() {
    common::require_node();
    let dir = common::generate("map-cache");
    let out_dir = tempfile::tempdir().unwrap();
    let one = out_dir.path().join("one.html");
    let snapshot = dir.path().join("map-cache/final.heapsnapshot");
    let out = analyze(&[&snapshot], &["--html", one.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("sessionCache"),
        "the table still prints"
    );
    let (html, data) = page(&one);
    assert_eq!(data["kind"], "summary");
    assert!(
        verdict(&html).starts_with("Largest holder: "),
        "{}",
        verdict(&html)
    );

    let profiles = common::generate_profiles_with("node", "leaky");
    let set = profiles.path().join("leaky");
    let files = ["base", "leak", "final"].map(|n| set.join(format!("{n}.heapprofile")));
    let files: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let prof = out_dir.path().join("profile.html");
    let out = analyze(&files, &["--html", prof.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (html, data) = page(&prof);
    assert_eq!(data["kind"], "profile");
    let top = &data["report"]["sites"][0];
    let frame = &top["frames"][top["user_frame"].as_u64().unwrap() as usize];
    assert_eq!(
        (
            frame["function"].as_str(),
            frame["line"].as_u64(),
            frame["column"].as_u64()
        ),
        (Some("recordAudit"), Some(15), Some(21))
    );
    assert!(
        verdict(&html).contains("recordAudit (leaky.cjs:15:21)"),
        "{}",
        verdict(&html)
    );
}

#[test]
fn a_trace_adds_the_heap_floor_and_the_detectors_state_changes() {
    common::require_node();
    let dir = common::generate("map-cache");
    let set = dir.path().join("map-cache");
    let (base, last) = (
        set.join("base.heapsnapshot"),
        set.join("final.heapsnapshot"),
    );
    let trace = repo_root().join("fixtures/traces/fast_leak_http.csv");
    let out_dir = tempfile::tempdir().unwrap();
    let html_path = out_dir.path().join("trace.html");
    let out = analyze(
        &[&base, &last],
        &[
            "--html",
            html_path.to_str().unwrap(),
            "--trace",
            trace.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, data) = page(&html_path);
    let chart = &data["trace"];
    assert_eq!(chart["major_gcs"], 6, "{chart}");
    assert_eq!(chart["points"].as_array().unwrap().len(), 6);
    assert!(!chart["points"].as_array().unwrap().is_empty());
    // mw detect declares this trace a leak (exit 7, oom_risk): the chart marks the same changes.
    let detect = common::mw(&[
        std::ffi::OsStr::new("detect"),
        std::ffi::OsStr::new("--json"),
        trace.as_os_str(),
    ]);
    let expected: Vec<Value> = String::from_utf8_lossy(&detect.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .collect();
    let events = chart["events"].as_array().unwrap();
    assert_eq!(events.len(), expected.len());
    for (got, want) in events.iter().zip(&expected) {
        assert_eq!(
            (&got["signal"], &got["from"], &got["state"]),
            (&want["signal"], &want["from"], &want["state"])
        );
    }
    assert!(events.iter().any(|e| e["state"] == "leaking"), "{events:?}");
}

#[test]
fn a_failed_page_leaves_no_file_and_says_why() {
    let out_dir = tempfile::tempdir().unwrap();
    let html_path = out_dir.path().join("x.html");
    let snapshot = repo_root().join("crates/cli/tests/snapshots/does-not-exist.heapsnapshot");
    // --trace needs --html.
    let out = analyze(&[&snapshot], &["--trace", "t.csv"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // --html is not for --node.
    let out = analyze(
        &[&snapshot],
        &["--node", "1", "--html", html_path.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--html"), "{}", stderr(&out));
    // A bad trace is a bad input (exit 3) and no page is written.
    common::require_node();
    let dir = common::generate("map-cache");
    let set = dir.path().join("map-cache");
    let (base, last) = (
        set.join("base.heapsnapshot"),
        set.join("final.heapsnapshot"),
    );
    let bad = out_dir.path().join("bad.csv");
    std::fs::write(&bad, "t_ms,gc_kind,heap_used\n2,4,100\n1,4,100\n").unwrap();
    let out = analyze(
        &[&base, &last],
        &[
            "--html",
            html_path.to_str().unwrap(),
            "--trace",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("bad.csv"), "{}", stderr(&out));
    assert!(!html_path.exists());
    // An unwritable place is exit 5, naming the file.
    let nowhere = out_dir.path().join("no/such/dir/report.html");
    let out = analyze(&[&base, &last], &["--html", nowhere.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("report.html"), "{}", stderr(&out));
}
