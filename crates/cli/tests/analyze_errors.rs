//! Bad input and bad output paths of `mw analyze`: one clear line, a documented exit code,
//! never a panic, nothing half-written.

mod common;

use common::{analyze, stderr};

use std::ffi::OsStr;
use std::process::Output;

fn assert_no_panic(out: &Output) {
    assert!(
        !stderr(out).contains("panicked"),
        "mw panicked: {}",
        stderr(out)
    );
}

#[test]
fn missing_file_is_exit_3_and_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.heapsnapshot");
    let out = analyze(&[&missing, &missing], &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nope.heapsnapshot"),
        "{}",
        stderr(&out)
    );
    assert_no_panic(&out);
}

#[test]
fn wrong_file_kinds_are_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8]); 4] = [
        ("empty.heapsnapshot", b""),
        ("text.heapsnapshot", b"hello, I am a log file\n"),
        ("other.json", br#"{"name": "package", "version": "1.0.0"}"#),
        ("gzip.heapsnapshot", &[0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0]),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = analyze(&[&path, &path], &[]);
        assert_eq!(out.status.code(), Some(3), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains(name), "{name}: {}", stderr(&out));
        assert_eq!(
            stderr(&out)
                .lines()
                .filter(|l| l.starts_with("mw: error"))
                .count(),
            1
        );
        assert_no_panic(&out);
    }
}

#[test]
fn truncated_snapshot_reports_the_byte_offset() {
    common::require_node();
    let dir = common::generate("global");
    let [base, target, _] = common::snapshots(dir.path(), "global");
    let bytes = std::fs::read(&target).unwrap();
    for cut in [bytes.len() / 10, bytes.len() / 2, bytes.len() - 3] {
        let truncated = dir.path().join("truncated.heapsnapshot");
        std::fs::write(&truncated, &bytes[..cut]).unwrap();
        let out = analyze(&[&base, &truncated], &[]);
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("truncated") && err.contains("byte"),
            "cut at {cut}: {err}"
        );
        assert_no_panic(&out);
    }
}

#[test]
fn out_file_and_plain_text_on_pipes() {
    common::require_node();
    let dir = common::generate("global");
    let [base, target, last] = common::snapshots(dir.path(), "global");

    // Text on a pipe: no ANSI colour codes, the suspect is named.
    let out = analyze(&[&base, &target, &last], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\u{1b}'), "colour codes on a pipe");
    assert!(text.contains("leakedThings > [] > LeakedThing"), "{text}");

    // --out writes the file and nothing to stdout.
    let report = dir.path().join("report.json");
    let out = analyze(
        &[&base, &target, &last],
        &["--json", "--out", report.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["schema_version"], 1);

    // --out into a missing directory: exit 5, nothing left behind.
    let bad = dir.path().join("missing-dir").join("report.txt");
    let out = analyze(&[&base, &target], &["--out", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("missing-dir"), "{}", stderr(&out));
    assert!(!dir.path().join("missing-dir").exists());
}

#[test]
fn usage_errors_are_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.heapsnapshot");
    std::fs::write(&file, "{}").unwrap();
    let f = file.as_os_str();
    for args in [
        vec![OsStr::new("analyze")],
        vec![OsStr::new("analyze"), f, f, f, f],
        vec![
            OsStr::new("analyze"),
            OsStr::new("--top"),
            OsStr::new("x"),
            f,
        ],
    ] {
        let out = common::mw(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    // An option of the single-snapshot analysis with files to diff: the message says why.
    let out = analyze(&[&file, &file], &["--show-strings"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--show-strings applies to one heap snapshot"),
        "{}",
        stderr(&out)
    );
    // One sampling heap profile has nothing to compare with.
    let profile = dir.path().join("one.heapprofile");
    std::fs::write(&profile, r#"{"head":{"callFrame":{}},"samples":[]}"#).unwrap();
    let out = analyze(&[&profile], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("one alone has nothing to compare with"),
        "{}",
        stderr(&out)
    );
}

/// `mw` maps snapshot files; a mapped file truncated by another process while it is read
/// raises SIGBUS. That is an input error with a message, not a crash. (The signal is
/// sent by hand here: `mw` waits on a FIFO that nobody writes, so it is surely running.)
#[test]
fn sigbus_is_exit_3_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.heapsnapshot");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_mw"))
        .arg("analyze")
        .args([&fifo, &fifo])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let catches_sigbus = || {
        let text = std::fs::read_to_string(&status).unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .is_some_and(|mask| mask & (1 << (7 - 1)) != 0) // SIGBUS is signal 7
    };
    let started = std::time::Instant::now();
    while !catches_sigbus() {
        assert!(
            started.elapsed().as_secs() < 30,
            "mw never installed its SIGBUS handler"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let sent = std::process::Command::new("kill")
        .args(["-BUS", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "mw: error: a snapshot file could not be read while mapped into memory (SIGBUS)"
        ),
        "{err}"
    );
    assert!(
        err.contains("hint: run mw again once the file is complete"),
        "{err}"
    );
}
