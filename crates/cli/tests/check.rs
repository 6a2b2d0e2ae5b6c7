//! `mw check`, the CI memory gate, on real fixture snapshots and profiles made by Node and on
//! recorded traces: budgets passed and exceeded (total, per class, per retainer path, from a
//! budgets file), the Markdown summary and `$GITHUB_OUTPUT` contents, the JSON report, and
//! the usage errors.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::{repo_root, require_node, snapshots};
use memwatchdog_units::HumanBytes;

/// A size as the summary prints it (`3.4 MB`).
fn size(bytes: u64) -> String {
    format!("{:.1}", HumanBytes(bytes))
}

/// The growth of the suspects whose path contains `text`, from `mw analyze --json`.
fn path_growth(text: &str) -> u64 {
    analysis()["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["path_text"].as_str().unwrap().contains(text))
        .map(|s| s["delta_bytes"].as_u64().unwrap())
        .sum()
}

/// The map-cache scenario (a session cache that only grows), made once for every test.
fn leaky() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        require_node();
        common::generate("map-cache")
    })
    .path()
}

fn pair() -> [PathBuf; 2] {
    let [base, target, _] = snapshots(leaky(), "map-cache");
    [base, target]
}

/// Runs `mw check` with `env` set (and the runner variables removed unless given).
fn check(args: &[&OsStr], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mw"));
    cmd.arg("check")
        .args(args)
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_STEP_SUMMARY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run mw check")
}

fn os<'a>(items: &'a [&'a str]) -> Vec<&'a OsStr> {
    items.iter().map(OsStr::new).collect()
}

fn with_pair<'a>(pair: &'a [PathBuf; 2], extra: &'a [&'a str]) -> Vec<&'a OsStr> {
    let mut args: Vec<&OsStr> = pair.iter().map(|p| p.as_os_str()).collect();
    args.extend(os(extra));
    args
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The report `mw analyze --json --top 100000` gives for the pair: the figures budgets judge.
fn analysis() -> &'static serde_json::Value {
    static REPORT: OnceLock<serde_json::Value> = OnceLock::new();
    REPORT.get_or_init(|| {
        let [base, target] = pair();
        common::analyze_json(&[&base, &target], &["--top", "100000"])
    })
}

#[test]
fn growth_over_the_total_budget_fails_with_summary_outputs_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, outputs, report) = (
        dir.path().join("summary.md"),
        dir.path().join("output"),
        dir.path().join("report.json"),
    );
    std::fs::write(&summary, "# earlier step\n").unwrap();
    std::fs::write(&outputs, "earlier=1\n").unwrap();
    let pair = pair();
    let mut args = with_pair(&pair, &["--budget", "1MB", "--report"]);
    args.push(report.as_os_str());
    let out = check(
        &args,
        &[
            ("GITHUB_STEP_SUMMARY", &summary),
            ("GITHUB_OUTPUT", &outputs),
        ],
    );
    assert_eq!(out.status.code(), Some(9), "{}", common::stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("### MemWatchdog memory check: ❌ failed\n"),
        "{text}"
    );
    let new_bytes = analysis()["new_bytes"].as_u64().unwrap();
    assert!(
        new_bytes > 1_000_000,
        "the fixture leaks more than 1 MB: {new_bytes}"
    );
    assert!(
        text.contains(&format!(
            "| total | {} | 1.0 MB | ❌ exceeded |",
            size(new_bytes)
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "| 1 | +{} | 1,500 | `Session` |",
            size(analysis()["suspects"][0]["delta_bytes"].as_u64().unwrap())
        )),
        "{text}"
    );
    let appended = std::fs::read_to_string(&summary).unwrap();
    assert_eq!(appended, format!("# earlier step\n{text}\n"));
    let outputs = std::fs::read_to_string(&outputs).unwrap();
    let lines: Vec<&str> = outputs.lines().collect();
    assert_eq!(lines[0], "earlier=1");
    assert_eq!(lines[1], "passed=false");
    assert_eq!(lines[2], format!("growth_bytes={new_bytes}"));
    assert!(
        lines[3].starts_with(&format!(
            "top_suspect=Session ×1,500 (+{}) held by ",
            HumanBytes(analysis()["suspects"][0]["delta_bytes"].as_u64().unwrap())
        )),
        "{}",
        lines[3]
    );
    assert!(
        lines[3].ends_with("sessionCache > table > [] > Session"),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4], format!("report={}", report.display()));
    assert_eq!(lines.len(), 5);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["kind"], "check");
    assert_eq!(json["input"], "snapshots");
    assert_eq!(json["passed"], false);
    assert_eq!(json["budgets"][0]["scope"]["kind"], "total");
    assert_eq!(json["budgets"][0]["growth_bytes"], new_bytes);
    assert_eq!(json["report"]["new_bytes"], new_bytes);
    assert_eq!(json["report"]["suspects"].as_array().unwrap().len(), 10);
}

#[test]
fn growth_within_the_budget_passes_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("output");
    let pair = pair();
    let html = dir.path().join("report.html");
    let mut args = with_pair(&pair, &["--budget", "100MB", "--github-output"]);
    args.push(outputs.as_os_str());
    args.push(OsStr::new("--html"));
    args.push(html.as_os_str());
    let out = check(&args, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(stdout(&out).contains("✅ passed"));
    let outputs = std::fs::read_to_string(&outputs).unwrap();
    assert!(outputs.starts_with("passed=true\n"), "{outputs}");
    assert!(
        !outputs.contains("report="),
        "no --report, no report output"
    );
    assert!(
        outputs.ends_with(&format!("html={}\n", html.display())),
        "{outputs}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "an HTML page");
    assert!(
        page.contains("Session"),
        "the page names the top suspect's class"
    );
}

#[test]
fn a_class_budget_holds_at_its_growth_and_fails_one_byte_below() {
    let row = analysis()["constructors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["class_name"] == "Session")
        .expect("a Session row");
    let grew = row["delta_bytes"].as_i64().unwrap();
    assert!(grew > 0);
    let pair = pair();
    for (budget, code) in [(grew, 0), (grew - 1, 9)] {
        let flag = format!("Session={budget}");
        let out = check(&with_pair(&pair, &["--budget-class", &flag]), &[]);
        assert_eq!(out.status.code(), Some(code), "budget {budget} for {grew}");
        assert!(stdout(&out).contains("| class `Session` |"));
    }
}

#[test]
fn a_path_budget_sums_the_suspects_whose_path_contains_the_text() {
    let grew = path_growth("sessionCache");
    assert!(grew > 3_000_000, "{grew}");
    let pair = pair();
    for (budget, code) in [(grew, 0), (grew - 1, 9)] {
        let flag = format!("sessionCache={budget}");
        let out = check(&with_pair(&pair, &["--budget-path", &flag]), &[]);
        assert_eq!(out.status.code(), Some(code), "budget {budget} for {grew}");
        assert!(stdout(&out).contains("| path containing `sessionCache` |"));
    }
}

#[test]
fn a_budgets_file_is_read_and_the_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("budgets.json");
    std::fs::write(
        &file,
        r#"{"total": "100MB", "classes": {"Session": "1Gi"}, "paths": {"sessionCache": 1}}"#,
    )
    .unwrap();
    let pair = pair();
    let mut args = with_pair(&pair, &["--budgets"]);
    args.push(file.as_os_str());
    let total = size(analysis()["new_bytes"].as_u64().unwrap());
    let cache = size(path_growth("sessionCache"));
    let out = check(&args, &[]);
    assert_eq!(
        out.status.code(),
        Some(9),
        "the 1-byte path budget is exceeded"
    );
    let text = stdout(&out);
    assert!(
        text.contains(&format!("| total | {total} | 100.0 MB | ✅ within |")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "| path containing `sessionCache` | {cache} | 1 B | ❌ exceeded |"
        )),
        "{text}"
    );
    args.extend(os(&["--budget-path", "sessionCache=1Gi", "--budget", "1k"]));
    let out = check(&args, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(9), "{text}");
    assert!(
        text.contains(&format!("| total | {total} | 1.0 kB | ❌ exceeded |")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "| path containing `sessionCache` | {cache} | 1.1 GB | ✅ within |"
        )),
        "{text}"
    );
}

#[test]
fn a_budget_that_matches_nothing_is_flagged_not_passed_silently() {
    let pair = pair();
    let out = check(&with_pair(&pair, &["--budget-class", "Sesion=1MB"]), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out)
            .contains("| class `Sesion` | 0 B | 1.0 MB | ⚠️ matched nothing: check the name |")
    );
    assert!(common::stderr(&out).contains("--budget-class \"Sesion\": no class of that name"));
}

#[test]
fn bad_budgets_are_usage_errors_that_say_what_to_write() {
    let dir = tempfile::tempdir().unwrap();
    let bad_file = dir.path().join("budgets.json");
    std::fs::write(&bad_file, r#"{"total": "5MB", "class": {}}"#).unwrap();
    let bad_size = dir.path().join("size.json");
    std::fs::write(&bad_size, r#"{"paths": {"x": "512m"}}"#).unwrap();
    let pair = pair();
    let cases: Vec<(Vec<&OsStr>, &str)> = vec![
        (
            with_pair(&pair, &["--budget-class", "Session"]),
            "has no `=`: write NAME=SIZE",
        ),
        (
            with_pair(&pair, &["--budget-path", "=1MB"]),
            "has no name before `=`",
        ),
        (
            with_pair(&pair, &["--budget", "lots"]),
            "a size is a number of bytes",
        ),
        (with_pair(&pair, &["--budget-class", "A=512m"]), "512Mi"),
        (
            with_pair(&pair, &[]),
            "no budget given: mw check needs --budget SIZE",
        ),
        (
            [with_pair(&pair, &["--budgets"]), vec![bad_file.as_os_str()]].concat(),
            "unknown field `class`",
        ),
        (
            [with_pair(&pair, &["--budgets"]), vec![bad_size.as_os_str()]].concat(),
            "size.json: paths.\"x\": ",
        ),
        (
            with_pair(&pair, &["--budgets", "/no/such/budgets.json"]),
            "cannot read the budgets file /no/such/budgets.json",
        ),
        (
            vec![
                pair[0].as_os_str(),
                OsStr::new("--budget"),
                OsStr::new("1MB"),
            ],
            "is a heap snapshot: mw check needs BASE TARGET [FINAL]",
        ),
    ];
    for (args, message) in cases {
        let out = check(&args, &[]);
        let err = common::stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(message),
            "{args:?}: expected {message:?} in {err}"
        );
        assert!(out.stdout.is_empty(), "no summary for a usage error");
    }
}

#[test]
fn heap_profiles_are_gated_on_live_sampled_bytes() {
    require_node();
    let dir = common::generate_profiles_with("node", "leaky");
    let [base, leak, _] = common::profiles(dir.path(), "leaky");
    let args = [base.as_os_str(), leak.as_os_str()];
    let out = check(&[&args[..], &os(&["--budget", "1k"])].concat(), &[]);
    assert_eq!(out.status.code(), Some(9), "{}", common::stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("sampling heap profiles: live sampled bytes grew by"),
        "{text}"
    );
    assert!(text.contains("**Allocation sites**"), "{text}");
    let out = check(&[&args[..], &os(&["--budget", "10Gi"])].concat(), &[]);
    assert_eq!(out.status.code(), Some(0));
    // A path budget sums the sites with a frame naming the function; 10Gi holds, 1 byte does not.
    for (budget, code) in [("recordAudit=10Gi", 0), ("recordAudit=1", 9)] {
        let out = check(&[&args[..], &os(&["--budget-path", budget])].concat(), &[]);
        assert_eq!(out.status.code(), Some(code), "{budget}");
        let text = stdout(&out);
        assert!(text.contains("| path containing `recordAudit` |"), "{text}");
        assert!(!text.contains("matched nothing"), "{text}");
    }
    let out = check(
        &[&args[..], &os(&["--budget-class", "Session=1k"])].concat(),
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("sampling heap profiles have allocation sites"));
}

#[test]
fn a_trace_is_gated_on_the_detectors_verdict() {
    let traces = repo_root().join("fixtures/traces");
    let leak = traces.join("fast_leak_http.csv");
    let steady = traces.join("steady_http.csv");
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("output");
    let out = check(&[leak.as_os_str()], &[("GITHUB_OUTPUT", &outputs)]);
    assert_eq!(out.status.code(), Some(9), "{}", common::stderr(&out));
    assert!(stdout(&out).contains("replayed through the leak detector: it declared `oom_risk`"));
    let outputs = std::fs::read_to_string(&outputs).unwrap();
    assert_eq!(
        outputs,
        "passed=false\ntop_suspect=the leak detector declared oom_risk\n"
    );
    let out = check(&[steady.as_os_str()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("no leak declared"));
    let out = check(
        &[
            steady.as_os_str(),
            OsStr::new("--budget"),
            OsStr::new("1MB"),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("a trace is judged by the leak detector's verdict"));
    let out = check(
        &[
            steady.as_os_str(),
            OsStr::new("--html"),
            OsStr::new("t.html"),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("--html draws snapshots or profiles"));
}
