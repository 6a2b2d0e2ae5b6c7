//! The runtime around the machine, against real files, sockets and threads: the trace file
//! and its cap, start-up failures, the `/metrics` thread, the profile and analysis threads.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use memwatchdog_detect::trace::read_trace;
use memwatchdog_detect::{GcKind, Sample};
use memwatchdog_exporter::LogFn;
use memwatchdog_watchdog::analysis::Outcome;
use memwatchdog_watchdog::profiles::{ProfileKind, ProfileTaken};
use memwatchdog_watchdog::snapshots::{SnapshotKind, SnapshotWritten};
use memwatchdog_watchdog::{Event, Settings, StartError, Watchdog};

fn logger() -> (LogFn, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    let log: LogFn = Arc::new(move |line: &str| sink.lock().unwrap().push(line.to_owned()));
    (log, lines)
}

fn sample(t_ms: f64, kind: u32) -> Sample {
    Sample {
        t_ms,
        gc_kind: GcKind::from(kind),
        heap_used: 20_000_000,
        heap_total: 25_000_000,
        external: 1_000_000,
        array_buffers: 10_000,
        rss: Some(60_000_000),
        heap_limit: Some(4_345_298_944),
        memory_limit: None,
    }
}

/// Feeds a minor GC every 50 ms until `found` returns something (or 30 s pass).
fn wait_for<T>(w: &mut Watchdog, t_ms: &mut f64, mut found: impl FnMut(Event) -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        *t_ms += 50.0;
        if w.sample(sample(*t_ms, 1), 1, 0.5) > 0 {
            if let Some(t) = w.take_events().into_iter().find_map(&mut found) {
                return t;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the event did not arrive within 30 s");
}

#[test]
fn the_trace_replays_and_its_cap_ends_it_with_one_log_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.csv");
    let (log, lines) = logger();
    let settings = Settings {
        trace: Some((path.clone(), 2_000)),
        ..Settings::default()
    };
    let mut w = Watchdog::start(settings, log).unwrap();
    for i in 0..100 {
        w.sample(
            sample(f64::from(i) * 100.0, if i % 10 == 9 { 4 } else { 1 }),
            1,
            0.5,
        );
    }
    w.stop();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read(&path).unwrap();
    assert!(text.len() <= 2_000);
    let rows = read_trace(text.as_slice()).unwrap();
    assert!(rows.len() > 10 && rows.len() < 100, "{}", rows.len());
    assert_eq!(rows[3].heap_used, 20_000_000);
    assert_eq!(rows[3].heap_limit, Some(4_345_298_944));
    let lines = lines.lock().unwrap();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].ends_with("reached trace.maxBytes (2.0 kB); recording stopped"),
        "{lines:?}"
    );
}

#[test]
fn a_trace_in_a_missing_directory_fails_the_start_and_names_its_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing/trace.csv");
    let settings = Settings {
        trace: Some((path.clone(), 1 << 20)),
        ..Settings::default()
    };
    let Err(e) = Watchdog::start(settings, logger().0) else {
        panic!("started with a trace in a missing directory");
    };
    assert!(matches!(e, StartError::Trace { .. }));
    assert_eq!(
        e.to_string(),
        format!("cannot create the trace file {}", path.display())
    );
    let cause = std::error::Error::source(&e).unwrap().to_string();
    assert!(cause.contains("No such file or directory"), "{cause}");
}

#[test]
fn a_port_in_use_fails_the_start() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let settings = Settings {
        prometheus: Some(("127.0.0.1".to_owned(), port)),
        ..Settings::default()
    };
    let Err(e) = Watchdog::start(settings, logger().0) else {
        panic!("started on a port in use");
    };
    assert!(matches!(e, StartError::Server(_)), "{e:?}");
    let cause = std::error::Error::source(&e).unwrap().to_string();
    assert!(cause.contains(&port.to_string()), "{cause}");
}

#[test]
fn metrics_are_served_from_their_own_thread_until_stop() {
    let settings = Settings {
        service: "checkout".to_owned(),
        prometheus: Some(("127.0.0.1".to_owned(), 0)),
        ..Settings::default()
    };
    let mut w = Watchdog::start(settings, logger().0).unwrap();
    w.sample(sample(0.0, 4), 4, 3.0);
    let addr = w.metrics_addr().unwrap();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut body = String::new();
    stream.read_to_string(&mut body).unwrap();
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(
        body.contains("memwatchdog_heap_used_bytes{service=\"checkout\"} 20000000"),
        "{body}"
    );
    w.stop();
    assert!(w.metrics_addr().is_none());
    assert!(
        TcpStream::connect(addr).is_err(),
        "the port is free after stop"
    );
}

/// A sampling heap profile whose one application function holds `bytes`.
fn profile(bytes: u64) -> String {
    profile_of(bytes, "file:///srv/app/cache.js")
}

/// A profile whose one allocating frame, `pushEntry`, is at line 41 column 18 of `script`.
fn profile_of(bytes: u64, script: &str) -> String {
    let frame = |name: &str, url: &str| {
        format!(
            r#"{{"functionName":"{name}","scriptId":"3","url":"{url}","lineNumber":40,"columnNumber":17}}"#
        )
    };
    format!(
        r#"{{"head":{{"callFrame":{},"selfSize":0,"id":1,"children":[{{"callFrame":{},"selfSize":{bytes},"id":2,"children":[]}}]}},"samples":[]}}"#,
        frame("(root)", ""),
        frame("pushEntry", script),
    )
}

fn taken(kind: ProfileKind, path: &Path, bytes: u64) -> ProfileTaken {
    ProfileTaken {
        kind,
        json: profile(bytes),
        ..taken_of(kind, path, String::new())
    }
}

fn taken_of(kind: ProfileKind, path: &Path, json: String) -> ProfileTaken {
    ProfileTaken {
        kind,
        json,
        path: Some(path.to_owned()),
        max_files: 5,
        sampling_interval: 32_768,
    }
}

#[test]
fn profiles_are_written_and_diffed_on_their_thread() {
    let dir = tempfile::tempdir().unwrap();
    let (log, lines) = logger();
    let mut w = Watchdog::start(Settings::default(), log).unwrap();
    let mut t = 0.0;
    let base = dir
        .path()
        .join("svc-1-2026-12-04T10-00-00Z-baseline.heapprofile");
    let leak = dir
        .path()
        .join("svc-1-2026-12-04T10-05-00Z-leak.heapprofile");
    w.profile_taken(taken(ProfileKind::Baseline, &base, 1_000_000));
    w.profile_taken(taken(ProfileKind::Leak, &leak, 40_000_000));
    let done = wait_for(&mut w, &mut t, |e| match e {
        Event::Profile { done, .. } if done.kind == ProfileKind::Leak => Some(done),
        _ => None,
    });
    assert_eq!(done.error, None);
    assert_eq!(done.sites[0].delta_bytes, 39_000_000);
    assert!(
        done.sites[0].site.starts_with("pushEntry"),
        "{}",
        done.sites[0].site
    );
    let report = done.report_path.unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(json.is_object());
    for file in [&base, &leak] {
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    }
    let lines = lines.lock().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("allocation profile (leak): top allocation site")),
        "{lines:?}"
    );
}

/// Compiled code with a source map: the site the alert and the event carry names the original
/// source; the report keeps the compiled position and adds `original`.
#[test]
fn allocation_sites_in_compiled_code_name_the_original_source() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    let script = dist.join("cache.js");
    let mut js = "\n".repeat(45);
    js.push_str("//# sourceMappingURL=cache.js.map\n");
    std::fs::write(&script, js).unwrap();
    // Generated line 41 column 18 (0-based 40:17) comes from ../src/cache.ts line 30 column 5.
    let mappings = format!("{}iBA6BI", ";".repeat(40));
    std::fs::write(
        dist.join("cache.js.map"),
        format!(
            r#"{{"version":3,"sources":["../src/cache.ts"],"names":[],"mappings":"{mappings}"}}"#
        ),
    )
    .unwrap();
    let url = format!("file://{}", script.display());

    let (log, _) = logger();
    let mut w = Watchdog::start(Settings::default(), log).unwrap();
    let mut t = 0.0;
    let path = |name: &str| dir.path().join(name);
    w.profile_taken(taken_of(
        ProfileKind::Baseline,
        &path("base.heapprofile"),
        profile_of(1_000_000, &url),
    ));
    w.profile_taken(taken_of(
        ProfileKind::Leak,
        &path("leak.heapprofile"),
        profile_of(40_000_000, &url),
    ));
    let done = wait_for(&mut w, &mut t, |e| match e {
        Event::Profile { done, .. } if done.kind == ProfileKind::Leak => Some(done),
        _ => None,
    });
    assert_eq!(done.error, None);
    let site = &done.sites[0];
    assert_eq!(site.site, "pushEntry (cache.ts:30:5)");
    assert!(
        site.summary.ends_with("in pushEntry (cache.ts:30:5)"),
        "{}",
        site.summary
    );
    let original = site.frames[0].original.as_ref().expect("mapped");
    assert_eq!(
        original.url,
        dir.path().join("src/cache.ts").display().to_string()
    );
    assert_eq!(
        (site.frames[0].line, site.frames[0].column),
        (Some(41), Some(18))
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(done.report_path.unwrap()).unwrap()).unwrap();
    assert!(report.to_string().contains("cache.ts"), "{report:#}");
    assert_eq!(report["sites"][0]["summary"], site.summary, "{report:#}");
}

#[test]
fn an_unreadable_leak_snapshot_comes_back_as_a_skipped_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let (log, lines) = logger();
    let mut w = Watchdog::start(Settings::default(), log).unwrap();
    let written = |kind, name: &str| SnapshotWritten {
        kind,
        path: dir.path().join(name).display().to_string(),
        now_ms: 1_800_000_000_000,
        duration_ms: 100.0,
        heap_used_bytes: 20_000_000,
    };
    assert_eq!(
        w.snapshot_written(&written(SnapshotKind::Baseline, "base.heapsnapshot")),
        None
    );
    w.snapshot_written(&written(SnapshotKind::Leak, "gone.heapsnapshot"));
    let mut t = 0.0;
    let outcome = wait_for(&mut w, &mut t, |e| match e {
        Event::Analysis { outcome, .. } => Some(outcome),
        _ => None,
    });
    let Outcome::Skipped(reason) = outcome else {
        panic!("{outcome:?}");
    };
    assert!(reason.starts_with("cannot read "), "{reason}");
    assert!(reason.contains("gone.heapsnapshot"), "{reason}");
    let lines = lines.lock().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("snapshot pair not analyzed: cannot read")),
        "{lines:?}"
    );
}

/// Where the system tells no memory figure (no `/proc`: macOS, Windows, a sandbox), a
/// snapshot is refused as `memory_unknown` unless allowed or bounded by a user-set limit;
/// with `/proc/meminfo` there, the same check allows it.
#[test]
fn a_system_without_proc_refuses_snapshots_unless_allowed() {
    use memwatchdog_watchdog::snapshots::SnapshotCheck;

    let check = SnapshotCheck {
        kind: SnapshotKind::Leak,
        now_ms: 1_800_000_000_000,
        heap_used_bytes: 20_000_000,
        large_object_bytes: 0,
        rss_bytes: 60_000_000,
        disk_free_bytes: Some(100_000_000_000),
    };
    let verdict = |root: &Path, allow: bool, limit: Option<u64>| {
        let settings = Settings {
            system_root: root.to_owned(),
            snapshot_allow_unknown_memory: allow,
            snapshot_memory_limit_bytes: limit,
            ..Settings::default()
        };
        let (log, _) = logger();
        let mut w = Watchdog::start(settings, log).unwrap();
        let verdict = w.check_snapshot(&check);
        let metrics = w.render_metrics();
        w.stop();
        (verdict.refusal.map(|r| r.reason()), metrics)
    };

    let empty = tempfile::tempdir().unwrap();
    let (refusal, metrics) = verdict(empty.path(), false, None);
    assert_eq!(refusal, Some("memory_unknown"));
    assert!(
        metrics.contains("memwatchdog_snapshot_refused_total{reason=\"memory_unknown\"} 1"),
        "{metrics}"
    );
    assert_eq!(verdict(empty.path(), true, None).0, None);
    assert_eq!(verdict(empty.path(), false, Some(4 << 30)).0, None);

    let with_proc = tempfile::tempdir().unwrap();
    std::fs::create_dir(with_proc.path().join("proc")).unwrap();
    std::fs::write(
        with_proc.path().join("proc/meminfo"),
        "MemTotal: 16000000 kB\nMemAvailable: 8000000 kB\n",
    )
    .unwrap();
    assert_eq!(verdict(with_proc.path(), false, None).0, None);
}
