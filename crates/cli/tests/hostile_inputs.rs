//! Special and hostile inputs (issue #17, item 3): `/dev/zero`, huge sparse files and endless
//! lines are refused after a bounded read, with a short message and exit code 3 — never
//! read whole. Each run is watched: more than [`RSS_LIMIT`] of resident memory or
//! [`DEADLINE`] of time kills it and fails the test (what `mw` did before: 4 GB in 3 s).

mod common;

use std::ffi::OsStr;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// More resident memory than this is a failure.
const RSS_LIMIT: u64 = 512 << 20;
/// More time than this is a failure.
const DEADLINE: Duration = Duration::from_secs(30);

/// Runs `mw` with `args`, killed (and the test failed) past [`RSS_LIMIT`] or [`DEADLINE`].
fn mw_bounded(args: &[&OsStr]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mw"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mw");
    let status_file = format!("/proc/{}/status", child.id());
    let start = Instant::now();
    let mut peak = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for mw") {
            break status;
        }
        peak = peak.max(rss(&status_file));
        if peak > RSS_LIMIT || start.elapsed() > DEADLINE {
            child.kill().ok();
            child.wait().ok();
            panic!(
                "mw {args:?} read without bound: {} MiB resident after {:.1?}",
                peak >> 20,
                start.elapsed()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut stderr)
        .unwrap();
    Output {
        status,
        stdout,
        stderr,
    }
}

/// `VmRSS` of a `/proc/PID/status` in bytes (0 once the process is gone).
fn rss(status_file: &str) -> u64 {
    std::fs::read_to_string(status_file)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb << 10)
}

/// A small valid sampling heap profile.
fn write_profile(path: &Path) {
    let frame =
        r#"{"functionName":"(root)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1}"#;
    std::fs::write(
        path,
        format!(
            r#"{{"head":{{"callFrame":{frame},"selfSize":0,"id":1,"children":[]}},"samples":[]}}"#
        ),
    )
    .unwrap();
}

/// Exit code 3 and a one-line message (plus hint) of reasonable length.
fn assert_refused(out: &Output, wants: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(wants), "{stderr}");
    assert!(
        stderr.len() < 1000,
        "{} bytes of error message",
        stderr.len()
    );
}

#[test]
fn dev_zero_as_a_profile_is_refused_at_byte_zero() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.heapprofile");
    write_profile(&base);
    let zero = OsStr::new("/dev/zero");
    for args in [[base.as_os_str(), zero], [zero, base.as_os_str()]] {
        let mut all = vec![OsStr::new("analyze")];
        all.extend(args);
        let out = mw_bounded(&all);
        assert_refused(
            &out,
            "/dev/zero: not a sampling heap profile: expected a JSON object at byte 0",
        );
    }
}

#[test]
fn dev_zero_as_a_snapshot_is_refused_at_byte_zero() {
    let out = mw_bounded(&[OsStr::new("analyze"), OsStr::new("/dev/zero")]);
    assert_refused(&out, "/dev/zero");
}

#[test]
fn a_huge_sparse_file_is_not_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.heapprofile");
    write_profile(&base);
    // 2 GB of zeros (sparse: no disk used) as the second profile.
    let sparse = dir.path().join("sparse.heapprofile");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    let out = mw_bounded(&[OsStr::new("analyze"), base.as_os_str(), sparse.as_os_str()]);
    assert_refused(&out, "expected a JSON object at byte 0");
    // One that starts like a profile and goes on: refused after 256 MiB, not 2 GB.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&sparse)
        .unwrap();
    std::io::Write::write_all(&mut file, b"{\"head\":").unwrap();
    drop(file);
    let out = mw_bounded(&[OsStr::new("analyze"), base.as_os_str(), sparse.as_os_str()]);
    assert_refused(&out, "file is larger than 256 MiB");
}

#[test]
fn dev_zero_as_a_trace_is_refused_after_one_bounded_line() {
    let out = mw_bounded(&[OsStr::new("detect"), OsStr::new("/dev/zero")]);
    assert_refused(
        &out,
        "/dev/zero: line 1: longer than 64 KiB without a line break",
    );
}

#[test]
fn a_50_mb_row_gives_a_short_message() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("long.csv");
    let mut text = String::from("t_ms,gc_kind,heap_used\n1,4,");
    text.push_str(&"x".repeat(50 << 20));
    text.push('\n');
    std::fs::write(&trace, text).unwrap();
    let out = mw_bounded(&[OsStr::new("detect"), trace.as_os_str()]);
    assert_refused(&out, "line 2: longer than 64 KiB");
    // A bad cell within the line limit is quoted in part.
    let mut text = String::from("t_ms,gc_kind,heap_used\n1,4,");
    text.push_str(&"x".repeat(60_000));
    text.push('\n');
    std::fs::write(&trace, text).unwrap();
    let out = mw_bounded(&[OsStr::new("detect"), trace.as_os_str()]);
    assert_refused(
        &out,
        "line 2: column heap_used: expected an integer number of bytes, found \"xxx",
    );
}
