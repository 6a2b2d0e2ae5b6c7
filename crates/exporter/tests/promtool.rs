//! (a) The served `/metrics` passes `promtool check metrics`, except for the mandated
//! `_ms` abbreviated-unit complaint about `memwatchdog_heap_slope_bytes_per_ms`.

mod common;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::Arc;

use memwatchdog_exporter::{Metrics, MetricsOptions, MetricsServer};

#[test]
fn served_metrics_pass_promtool() {
    let promtool = common::require_binary("/usr/bin/promtool");
    // Fresh (every gauge NaN, no container limit) and populated (finite, +Inf, a limit).
    for populated in [false, true] {
        check_with_promtool(&promtool, populated);
    }
}

fn check_with_promtool(promtool: &std::path::Path, populated: bool) {
    let options = MetricsOptions {
        const_labels: BTreeMap::from([("service".to_owned(), "shop \"eu\"\\1".to_owned())]),
        ..MetricsOptions::default()
    };
    let metrics = Arc::new(Metrics::new(options).unwrap());
    if populated {
        common::populate(&metrics);
    }
    let server = MetricsServer::start("127.0.0.1", 0, Arc::clone(&metrics)).unwrap();
    let (status, body) = common::http_get(server.local_port(), "/metrics").unwrap();
    assert_eq!(status, 200);

    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let problems: Vec<&str> = report.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        problems,
        ["memwatchdog_heap_slope_bytes_per_ms metric names should not contain abbreviated units"],
        "promtool output:\n{report}\nmetrics:\n{body}"
    );
}
