//! `mw detect` on CSV traces: state changes printed, exit code 7 when a leak is an `oom_risk`,
//! 6 when it is only `leaking`, 0 when not declared, 3 with the line number for a bad row. Traces come from the detect crate's
//! seeded synthetic corpus, written in the recorder's CSV format.

mod common;

use std::ffi::OsStr;
use std::path::Path;

use memwatchdog_detect::synth;
use memwatchdog_detect::trace::TraceWriter;

fn write_trace(dir: &Path, name: &str, hours: f64) -> std::path::PathBuf {
    let scenario = synth::healthy_corpus(synth::hours(hours))
        .into_iter()
        .chain(synth::leak_corpus().into_iter().map(|c| c.scenario))
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no synthetic scenario {name}"));
    let path = dir.join(format!("{name}.csv"));
    let mut writer = TraceWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    for sample in scenario.samples(7) {
        writer.write(&sample).unwrap();
    }
    writer.into_inner().unwrap();
    path
}

fn detect(args: &[&OsStr]) -> std::process::Output {
    let mut all = vec![OsStr::new("detect")];
    all.extend_from_slice(args);
    common::mw(&all)
}

#[test]
fn fast_leak_is_an_oom_risk_with_exit_7_and_only_a_leak_against_a_larger_limit() {
    let dir = tempfile::tempdir().unwrap();
    let trace = write_trace(dir.path(), "fast_leak", 1.0);
    let out = detect(&[
        trace.as_os_str(),
        OsStr::new("--threshold"),
        OsStr::new("256"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("suspect → leaking"), "{text}");
    assert!(text.contains("leaking → oom_risk"), "{text}");
    // The synthetic trace has Node's default 4,144 MiB heap limit in every row.
    assert!(text.contains("left of 4.3 GB"), "{text}");

    let out = detect(&[trace.as_os_str(), OsStr::new("--json")]);
    assert_eq!(out.status.code(), Some(7));
    let events: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let leaking = events
        .iter()
        .find(|e| e["state"] == "leaking")
        .expect("a leaking event");
    assert_eq!(leaking["signal"], "heap");
    assert!(leaking["slope"].as_f64().unwrap() > 256.0);
    assert!(leaking["evidence"]["p_value"].as_f64().unwrap() < 0.05);
    assert!(leaking["t_ms"].as_f64().unwrap() < 90_000.0, "{leaking:#}");
    let risk = events
        .iter()
        .find(|e| e["state"] == "oom_risk")
        .expect("an oom_risk event");
    assert_eq!(risk["version"], 2);
    assert_eq!(risk["limit_bytes"].as_f64(), Some(4_345_298_944.0));
    let left = risk["exhaustion_ms"].as_f64().unwrap();
    assert!(left > 60_000.0 && left <= 3_600_000.0, "{risk:#}");

    // The flag wins over the column: against a 16 GiB heap the same growth is a leak (an
    // allowance of ~655 MiB, reached in minutes) but ~2 hours from exhaustion, not a page.
    let out = detect(&[
        trace.as_os_str(),
        OsStr::new("--heap-limit"),
        OsStr::new("17179869184"),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(6), "{text}");
    assert!(!text.contains("oom_risk"), "{text}");
}

#[test]
fn healthy_sawtooth_is_not_declared() {
    let dir = tempfile::tempdir().unwrap();
    let trace = write_trace(dir.path(), "sawtooth", 1.0);
    let out = detect(&[trace.as_os_str()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("no leak declared")
    );
}

#[test]
fn bad_rows_name_the_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("bad.csv");
    std::fs::write(&trace, "t_ms,gc_kind,heap_used\n0,4,1000\n10,4,abc\n").unwrap();
    let out = detect(&[trace.as_os_str()]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("line 3") && err.contains("heap_used"), "{err}");

    std::fs::write(&trace, "time,kind\n1,2\n").unwrap();
    let out = detect(&[trace.as_os_str()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8(out.stderr).unwrap().contains("t_ms"));

    let out = detect(&[dir.path().join("missing.csv").as_os_str()]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn config_file_changes_the_settings_and_bad_ones_are_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    // A real recorded healthy service: its floor drifts up ~8 MiB after warm-up.
    let trace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/traces/steady_http.csv");
    let out = detect(&[trace.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "defaults: no leak");

    // An allowance of 4 MiB (whatever the headroom) and a threshold of 8 B/ms are too tight;
    // with a 1 ms horizon nothing is an oom_risk, so the exit code is 6.
    let tight = dir.path().join("tight.json");
    std::fs::write(
        &tight,
        r#"{"threshold": 8, "growth_allowance": {"bytes": 4194304, "fraction": 0.05, "headroom_fraction": 0}, "oom": {"horizon_ms": 1}}"#,
    )
    .unwrap();
    let out = detect(&[trace.as_os_str(), OsStr::new("--config"), tight.as_os_str()]);
    assert_eq!(out.status.code(), Some(6), "tight settings declare it");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("threshold 8 B/ms"), "{text}");

    // --threshold overrides the file's threshold.
    let out = detect(&[
        trace.as_os_str(),
        OsStr::new("--config"),
        tight.as_os_str(),
        OsStr::new("--threshold"),
        OsStr::new("100000"),
    ]);
    assert_eq!(out.status.code(), Some(0));

    for (name, json, expected) in [
        ("typo.json", r#"{"growth_alowance": {}}"#, "growth_alowance"),
        ("syntax.json", "{", "line 1"),
        ("invalid.json", r#"{"alpha": 2}"#, "alpha"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, json).unwrap();
        let out = detect(&[trace.as_os_str(), OsStr::new("--config"), path.as_os_str()]);
        assert_eq!(out.status.code(), Some(3), "{name}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains(expected) && !err.contains("panicked"),
            "{name}: {err}"
        );
    }
    let out = detect(&[
        trace.as_os_str(),
        OsStr::new("--config"),
        dir.path().join("missing.json").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn limits_take_kubernetes_sizes_and_a_bad_one_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let trace = write_trace(dir.path(), "fast_leak", 1.0);
    // A 512Mi container, closer than the 4,144 MiB heap limit, is the limit the heap runs into.
    let out = detect(&[
        trace.as_os_str(),
        OsStr::new("--memory-limit"),
        OsStr::new("512Mi"),
        OsStr::new("--json"),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(7),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let limits: Vec<Option<f64>> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("one JSON object per line"))
        .map(|e| e["limit_bytes"].as_f64())
        .collect();
    assert!(limits.contains(&Some(536_870_912.0)), "{text}");

    // The same 16 GiB heap limit as 17179869184 in the test above: a leak, not an oom_risk.
    let out = detect(&[
        trace.as_os_str(),
        OsStr::new("--heap-limit"),
        OsStr::new("16Gi"),
    ]);
    assert_eq!(out.status.code(), Some(6));

    // Docker's `512m` is Kubernetes' 512 millibytes: refused, naming both spellings.
    let out = detect(&[
        trace.as_os_str(),
        OsStr::new("--memory-limit"),
        OsStr::new("512m"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("'512m' for '--memory-limit <BYTES>'")
            && err.contains("write 512Mi (536870912 bytes) or 512M (512000000 bytes)"),
        "{err}"
    );
    let out = detect(&[trace.as_os_str(), OsStr::new("--heap-limit=-1")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("cannot be negative")
    );
}

/// Issue #17, item 5: a real leak trace whose rows are reversed or shuffled, or that has one
/// absurd time in the middle, was replayed as given and passed (exit 0); a header alone too.
/// Time going backwards is now exit 3 naming the line, and so is a trace without samples.
#[test]
fn time_going_backwards_or_no_samples_is_exit_3_with_the_line() {
    let real = common::repo_root().join("fixtures/traces/fast_leak_http.csv");
    let text = std::fs::read_to_string(&real).unwrap();
    let (header, rows) = text.split_once('\n').unwrap();
    let rows: Vec<&str> = rows.lines().filter(|l| !l.trim().is_empty()).collect();
    let out = detect(&[real.as_os_str()]);
    assert_eq!(out.status.code(), Some(7), "the real trace is an oom_risk");

    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, rows: &[&str]| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
        path
    };
    let reversed: Vec<&str> = rows.iter().rev().copied().collect();
    let mut shuffled = rows.clone();
    let mut state = 17u64;
    for i in (1..shuffled.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        shuffled.swap(i, (state >> 33) as usize % (i + 1));
    }
    let absurd_row = rows[10].replacen(rows[10].split(',').next().unwrap(), "1e15", 1);
    let mut absurd = rows.clone();
    absurd[10] = &absurd_row;
    for (name, rows, line) in [
        ("reversed.csv", &reversed, Some(3)),
        ("shuffled.csv", &shuffled, None),
        ("absurd.csv", &absurd, Some(13)),
    ] {
        let path = write(name, rows);
        let out = detect(&[path.as_os_str()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{name}: {stderr}");
        assert!(
            stderr.contains("column t_ms: time goes backwards"),
            "{stderr}"
        );
        if let Some(line) = line {
            assert!(stderr.contains(&format!(": line {line}: ")), "{stderr}");
        }
        assert!(out.stdout.is_empty(), "no verdict for a broken trace");
    }

    let empty = write("header-only.csv", &[]);
    let out = detect(&[empty.as_os_str()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("the trace has a header but no samples"),
        "{stderr}"
    );
}
