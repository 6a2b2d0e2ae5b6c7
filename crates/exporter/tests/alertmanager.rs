//! The Alertmanager client against a real Alertmanager 0.25: (e) fire, read back,
//! re-send, resolve; (f) Alertmanager down at fire time and started later; (g) the
//! bounded queue drops the oldest and counts; (h) stop is prompt against a server
//! that never answers.

mod common;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use memwatchdog_exporter::{Alerter, AlerterConfig, BackoffConfig, LogFn, Metrics};
use serde_json::Value;

/// The active alerts Alertmanager reports, or `None` if it does not answer.
fn active_alerts(am: &common::Service) -> Option<Vec<Value>> {
    let (status, body) = am.get("/api/v2/alerts")?;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body)
        .ok()?
        .as_array()
        .cloned()
}

/// The alert whose `signal` label is `key`.
fn find(alerts: &[Value], key: &str) -> Option<Value> {
    alerts
        .iter()
        .find(|a| a["labels"]["signal"] == key)
        .cloned()
}

/// A config for `port` with fast retries, its metrics, and a log collector.
fn config(port: u16) -> (AlerterConfig, Arc<Metrics>, Arc<Mutex<Vec<String>>>) {
    let metrics = Arc::new(Metrics::default());
    let lines = Arc::new(Mutex::new(Vec::new()));
    let mut config = AlerterConfig::new(format!("http://127.0.0.1:{port}"));
    config.timeout = Duration::from_secs(2);
    config.backoff = BackoffConfig {
        initial: Duration::from_millis(200),
        max: Duration::from_secs(1),
        jitter: 0.1,
    };
    config.metrics = Some(Arc::clone(&metrics));
    let sink = Arc::clone(&lines);
    let log: LogFn = Arc::new(move |line: &str| sink.lock().unwrap().push(line.to_owned()));
    config.on_log = Some(log);
    (config, metrics, lines)
}

/// Waits for the sender's "answers again" line: the first delivery after failures.
fn wait_for_recovery_line(lines: &Mutex<Vec<String>>) {
    common::wait_for("the recovery log line", Duration::from_secs(15), || {
        lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("answers again"))
            .then_some(())
    });
}

fn notes(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Seconds from now until an RFC 3339 UTC time as Alertmanager returns it
/// (`2026-11-25T10:55:05.000Z`; fractions ignored).
fn secs_from_now(rfc3339: &str) -> f64 {
    let num = |r: std::ops::Range<usize>| rfc3339[r].parse::<i64>().unwrap();
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    // Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + num(11..13) * 3600 + num(14..16) * 60 + num(17..19);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    secs as f64 - now
}

#[test]
fn fire_read_back_and_resolve() {
    let am = common::alertmanager();
    let (mut config, metrics, _) = config(am.port);
    config.labels.insert("service".into(), "checkout".into());
    config.labels.insert("instance".into(), "web-1:9469".into());
    config.generator_url = Some("http://web-1:9469/".into());
    let mut alerter = Alerter::start(config).unwrap();

    alerter.fire(
        "heap",
        notes(&[
            ("summary", "JS heap leaking 2.5 MB/s"),
            (
                "description",
                "heap floor grew from 50 MB to 300 MB in 100 s",
            ),
            ("slope", "2500 bytes/ms"),
            ("heap_used", "300 MB"),
            ("snapshot_path", "/var/snap/leak-1.heapsnapshot"),
            ("top suspect", "Array @ server.js > auditLog"),
        ]),
    );
    let alert = common::wait_for("the alert in Alertmanager", Duration::from_secs(15), || {
        find(&active_alerts(&am)?, "heap")
    });
    let labels = &alert["labels"];
    assert_eq!(labels["alertname"], "MemoryLeak");
    assert_eq!(labels["severity"], "warning");
    assert_eq!(labels["service"], "checkout");
    assert_eq!(labels["instance"], "web-1:9469");
    let annotations = &alert["annotations"];
    assert_eq!(annotations["summary"], "JS heap leaking 2.5 MB/s");
    assert_eq!(
        annotations["snapshot_path"],
        "/var/snap/leak-1.heapsnapshot"
    );
    assert_eq!(annotations["top_suspect"], "Array @ server.js > auditLog");
    assert_eq!(alert["status"]["state"], "active");
    assert_eq!(alert["generatorURL"], "http://web-1:9469/");
    let ends_in = secs_from_now(alert["endsAt"].as_str().unwrap());
    assert!(
        (170.0..=190.0).contains(&ends_in),
        "endsAt {ends_in}s ahead"
    );
    assert_eq!(alerter.pending(), 0);

    alerter.resolve("heap");
    // Alertmanager leaves resolved alerts out of /api/v2/alerts.
    common::wait_for("the alert to resolve", Duration::from_secs(15), || {
        find(&active_alerts(&am)?, "heap").is_none().then_some(())
    });
    assert_eq!(metrics.alerts_sent(), 2);
    assert_eq!(metrics.alert_send_failures(), 0);
    assert_eq!(alerter.pending(), 0);
    alerter.stop();
}

#[test]
fn firing_alerts_are_re_sent_and_stay_active() {
    let am = common::alertmanager();
    let (mut config, metrics, _) = config(am.port);
    config.resend_interval = Duration::from_secs(1); // endsAt 3 s ahead
    let alerter = Alerter::start(config).unwrap();
    alerter.fire("rss", notes(&[("summary", "RSS grows")]));
    let first = common::wait_for("the alert", Duration::from_secs(15), || {
        find(&active_alerts(&am)?, "rss")
    });
    let first_end = first["endsAt"].as_str().unwrap().to_owned();
    // Once the first endsAt has passed by a second, re-sends have kept it active.
    common::wait_for("the first endsAt to pass", Duration::from_secs(15), || {
        (secs_from_now(&first_end) < -1.0).then_some(())
    });
    let alert = find(&active_alerts(&am).unwrap(), "rss").expect("alert expired");
    assert_eq!(alert["status"]["state"], "active");
    assert!(secs_from_now(alert["endsAt"].as_str().unwrap()) > 0.0);
    assert!(metrics.alerts_sent() >= 2, "sent {}", metrics.alerts_sent());
}

#[test]
fn alert_fired_while_alertmanager_is_down_arrives_when_it_starts() {
    // The client must know the port before Alertmanager binds it.
    let port = common::free_port();
    common::require_binary("/usr/bin/prometheus-alertmanager");
    let (config, metrics, lines) = config(port);
    let alerter = Alerter::start(config).unwrap();

    // Updates of one alert while every attempt fails: they coalesce into one pending alert
    // and none of them waits for the network (how long `fire` takes is benchmarked, not
    // asserted).
    for i in 0..100 {
        alerter.fire("heap", notes(&[("summary", &format!("update {i}"))]));
    }
    common::wait_for("two failed attempts", Duration::from_secs(15), || {
        (metrics.alert_send_failures() >= 2).then_some(())
    });
    for i in 0..100 {
        alerter.fire("heap", notes(&[("summary", &format!("late update {i}"))]));
    }
    assert_eq!(alerter.pending(), 1);
    let failures = metrics.alert_send_failures();
    let logged = lines.lock().unwrap().clone();
    assert!(
        logged.iter().all(|l| l.contains("cannot send")) && logged.len() <= failures as usize,
        "{logged:#?}"
    );
    assert!(!logged.is_empty());

    let am = common::alertmanager_at(Some(port));
    let alert = common::wait_for("the retried alert", Duration::from_secs(15), || {
        find(&active_alerts(&am)?, "heap")
    });
    assert_eq!(alert["annotations"]["summary"], "late update 99");
    wait_for_recovery_line(&lines);
    assert_eq!(alerter.pending(), 0);
}

#[test]
fn full_queue_drops_the_oldest_and_counts() {
    // The client must know the port before Alertmanager binds it.
    let port = common::free_port();
    common::require_binary("/usr/bin/prometheus-alertmanager");
    let (mut config, metrics, _) = config(port);
    config.max_queue = 3;
    let alerter = Alerter::start(config).unwrap();
    for i in 0..10 {
        alerter.fire(&format!("k{i}"), notes(&[("summary", "x")]));
    }
    assert_eq!(metrics.alert_queue_dropped(), 7);
    assert_eq!(alerter.pending(), 3);
    let text = metrics.render();
    assert!(text.contains("\nmemwatchdog_alert_queue_dropped_total 7\n"));

    let am = common::alertmanager_at(Some(port));
    let keys = common::wait_for("the queued alerts", Duration::from_secs(15), || {
        let alerts = active_alerts(&am)?;
        let mut keys: Vec<String> = alerts
            .iter()
            .filter_map(|a| a["labels"]["signal"].as_str().map(str::to_owned))
            .collect();
        keys.sort();
        (keys.len() >= 3).then_some(keys)
    });
    assert_eq!(keys, ["k7", "k8", "k9"]);
}

#[test]
fn stop_is_prompt_while_a_request_hangs() {
    // A server that accepts connections and never answers.
    let black_hole = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = black_hole.local_addr().unwrap().port();
    let (mut config, metrics, _) = config(port);
    config.timeout = Duration::from_secs(30);
    let mut alerter = Alerter::start(config).unwrap();
    alerter.fire("heap", notes(&[("summary", "x")]));

    // Wait until the POST's headers have arrived: the request is in flight.
    let (mut conn, _) = black_hole.accept().unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    while !received.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut buf).unwrap();
        assert!(n > 0, "the connection closed before the request arrived");
        received.extend_from_slice(&buf[..n]);
    }
    let t = Instant::now();
    alerter.stop();
    // Cut off, not waited out: far below the request's 30 s timeout.
    let took = t.elapsed();
    assert!(took < Duration::from_secs(10), "stop took {took:?}");
    assert_eq!(metrics.alerts_sent(), 0);
    drop(conn);
}

#[test]
fn stop_is_prompt_during_backoff() {
    let port = common::free_port(); // nothing listens: connection refused
    let (mut config, metrics, _) = config(port);
    config.backoff.initial = Duration::from_secs(30);
    config.backoff.max = Duration::from_secs(60);
    let mut alerter = Alerter::start(config).unwrap();
    alerter.fire("heap", notes(&[("summary", "x")]));
    common::wait_for("the first failure", Duration::from_secs(5), || {
        (metrics.alert_send_failures() > 0).then_some(())
    });
    let t = Instant::now();
    alerter.stop();
    // Woken, not waited out: far below the 30 s backoff.
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "stop took {:?}",
        t.elapsed()
    );
}

#[test]
fn credentials_in_the_url_never_reach_the_log() {
    let port = common::free_port();
    common::require_binary("/usr/bin/prometheus-alertmanager");
    let (mut config, metrics, lines) = config(port);
    config.url = format!("http://user:s3cret@127.0.0.1:{port}");
    let alerter = Alerter::start(config).unwrap();
    assert!(!format!("{alerter:?}").contains("s3cret"), "{alerter:?}");
    alerter.fire("heap", notes(&[("summary", "down")]));
    common::wait_for("a failed attempt", Duration::from_secs(15), || {
        (metrics.alert_send_failures() >= 1).then_some(())
    });
    let _am = common::alertmanager_at(Some(port));
    wait_for_recovery_line(&lines);
    let logged = lines.lock().unwrap().clone();
    assert!(
        logged
            .iter()
            .all(|l| l.contains(&format!("http://user:***@127.0.0.1:{port}/api/v2/alerts"))),
        "{logged:#?}"
    );
    assert!(logged.iter().all(|l| !l.contains("s3cret")), "{logged:#?}");
}
