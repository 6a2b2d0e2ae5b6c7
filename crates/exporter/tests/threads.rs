//! Thread hygiene, in a test binary of its own so no other test's threads interfere:
//! the exporter's threads carry their names while running and are gone after `stop`,
//! leaving the process with the threads it had before.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::sync::Arc;
use std::time::Duration;

use memwatchdog_exporter::{Alerter, AlerterConfig, Metrics, MetricsServer};

/// Names of this process's threads (Linux `/proc/self/task/*/comm`).
fn thread_names() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .map(|s| s.trim().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn threads_are_named_and_gone_after_stop() {
    let before = thread_names();
    let metrics = Arc::new(Metrics::default());
    let mut server = MetricsServer::start("127.0.0.1", 0, Arc::clone(&metrics)).unwrap();
    let mut config = AlerterConfig::new(format!("http://127.0.0.1:{}", common::free_port()));
    config.metrics = Some(Arc::clone(&metrics));
    let mut alerter = Alerter::start(config).unwrap();
    alerter.fire("heap", BTreeMap::new()); // the sender starts retrying
    assert_eq!(
        common::http_get(server.local_port(), "/metrics").unwrap().0,
        200
    );

    // A Rust thread names itself once it runs, so look until both names show.
    let running = common::wait_for("named threads", Duration::from_secs(2), || {
        let names = thread_names();
        (names.contains(&"memwd-metrics".to_owned()) && names.contains(&"memwd-alerts".to_owned()))
            .then_some(names)
    });
    // Only ours were added. (ureq may run a DNS lookup on a short-lived helper thread of
    // the sender, which Linux shows under the sender's name, so count names, not threads.)
    let mut added = running.clone();
    for name in &before {
        if let Some(i) = added.iter().position(|n| n == name) {
            added.remove(i);
        }
    }
    assert!(
        added.iter().all(|n| n.starts_with("memwd-")),
        "{before:?} -> {running:?}"
    );

    server.stop();
    alerter.stop();
    common::wait_for("threads to go", Duration::from_secs(2), || {
        (thread_names() == before).then_some(())
    });
}
