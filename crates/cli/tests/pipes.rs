//! Pipes, FIFOs and standard input (issue #17, item 6): `mw analyze` and `mw detect` read each
//! path once, so a real FIFO (`mkfifo`), what process substitution gives (`<(cat a)`) and `-`
//! give the same report as the files. `mw` used to open a file twice (a format sniff, then the
//! parse): on a FIFO it hung, and on `<(cat a)` the parse started after the bytes the sniff took.

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

fn json_of(out: &Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

fn analyze_json(files: &[&OsStr], stdin: Option<Vec<u8>>) -> serde_json::Value {
    let mut args = vec![
        OsStr::new("analyze"),
        OsStr::new("--json"),
        OsStr::new("--no-progress"),
    ];
    args.extend_from_slice(files);
    json_of(&common::mw_with_deadline(&args, stdin))
}

#[test]
fn snapshots_through_fifos_and_stdin_give_the_files_report() {
    common::require_node();
    let generated = common::generate("growing-array");
    let [base, target, _] = common::snapshots(generated.path(), "growing-array");
    let want = analyze_json(&[base.as_os_str(), target.as_os_str()], None);
    assert!(!want["suspects"].as_array().unwrap().is_empty());
    let dir = tempfile::tempdir().unwrap();
    let read = |p: &Path| std::fs::read(p).unwrap();

    // The newest through a FIFO: it hung (a second open waited for a writer that was gone).
    let (fifo, writer) = common::fifo_of(dir.path(), "target.fifo", read(&target));
    let got = analyze_json(&[base.as_os_str(), fifo.as_os_str()], None);
    writer.join().unwrap();
    assert_eq!(got["suspects"], want["suspects"]);

    // Both through FIFOs, as `mw analyze <(cat base) <(cat target)` gives them, and given
    // newest first: the pipe cannot be read twice, so it was read with its edges.
    let (a, wa) = common::fifo_of(dir.path(), "a.fifo", read(&target));
    let (b, wb) = common::fifo_of(dir.path(), "b.fifo", read(&base));
    let got = analyze_json(&[a.as_os_str(), b.as_os_str()], None);
    wa.join().unwrap();
    wb.join().unwrap();
    assert_eq!(got["suspects"], want["suspects"]);
    assert_eq!(got["reordered"], true);

    // Standard input.
    let got = analyze_json(&[base.as_os_str(), OsStr::new("-")], Some(read(&target)));
    assert_eq!(got["suspects"], want["suspects"]);
    // One snapshot alone, from standard input.
    let alone = analyze_json(&[OsStr::new("-")], Some(read(&target)));
    assert_eq!(
        alone["holders"],
        analyze_json(&[target.as_os_str()], None)["holders"]
    );
}

#[test]
fn profiles_through_fifos_give_the_files_report() {
    let dir = tempfile::tempdir().unwrap();
    let profile = |leaked: u64| {
        let frame = |name: &str| {
            format!(
                r#"{{"functionName":"{name}","scriptId":"1","url":"/app.js","lineNumber":3,"columnNumber":4}}"#
            )
        };
        format!(
            r#"{{"head":{{"callFrame":{},"selfSize":0,"id":1,"children":[{{"callFrame":{},"selfSize":{leaked},"id":2,"children":[]}}]}},"samples":[]}}"#,
            frame("(root)"),
            frame("leak")
        )
        .into_bytes()
    };
    let base = dir.path().join("base.heapprofile");
    std::fs::write(&base, profile(1000)).unwrap();
    let leak = dir.path().join("leak.heapprofile");
    std::fs::write(&leak, profile(9000)).unwrap();
    let want = analyze_json(&[base.as_os_str(), leak.as_os_str()], None);
    assert_eq!(want["growth_bytes"], 8000);
    let (a, wa) = common::fifo_of(dir.path(), "a.fifo", profile(1000));
    let (b, wb) = common::fifo_of(dir.path(), "b.fifo", profile(9000));
    let got = analyze_json(&[a.as_os_str(), b.as_os_str()], None);
    wa.join().unwrap();
    wb.join().unwrap();
    assert_eq!(got["sites"], want["sites"]);
    let got = analyze_json(&[base.as_os_str(), OsStr::new("-")], Some(profile(9000)));
    assert_eq!(got["sites"], want["sites"]);
}

#[test]
fn a_trace_through_a_fifo_or_stdin_gives_the_files_verdict() {
    let real = common::repo_root().join("fixtures/traces/fast_leak_http.csv");
    let want = common::mw_with_deadline(&[OsStr::new("detect"), real.as_os_str()], None);
    assert_eq!(want.status.code(), Some(7));
    let dir = tempfile::tempdir().unwrap();
    let (fifo, writer) = common::fifo_of(dir.path(), "trace.fifo", std::fs::read(&real).unwrap());
    let got = common::mw_with_deadline(&[OsStr::new("detect"), fifo.as_os_str()], None);
    writer.join().unwrap();
    assert_eq!(got.status.code(), Some(7));
    assert_eq!(got.stdout, want.stdout);
    let got = common::mw_with_deadline(
        &[OsStr::new("detect"), OsStr::new("-")],
        Some(std::fs::read(&real).unwrap()),
    );
    assert_eq!(got.status.code(), Some(7));
    assert_eq!(got.stdout, want.stdout);
}

#[test]
fn stdin_twice_is_a_usage_error() {
    let out = common::mw_with_deadline(
        &[OsStr::new("analyze"), OsStr::new("-"), OsStr::new("-")],
        Some(Vec::new()),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("standard input (-) can be given once"));
}
