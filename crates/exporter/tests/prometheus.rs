//! (b) A real Prometheus scrapes the server; the value set here comes back through
//! Prometheus's query API.

mod common;

use std::sync::Arc;
use std::time::Duration;

use memwatchdog_exporter::{Metrics, MetricsServer};

/// The single value of an instant-query result, if any.
fn query_value(prometheus: &common::Service, query: &str) -> Option<f64> {
    let (status, body) = prometheus.get(&format!("/api/v1/query?query={query}"))?;
    if status != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    let result = v["data"]["result"].as_array()?;
    result.first()?["value"][1].as_str()?.parse().ok()
}

#[test]
fn prometheus_scrapes_the_server() {
    let metrics = Arc::new(Metrics::default());
    common::populate(&metrics);
    metrics.set_heap_slope_bytes_per_ms(1234.5);
    let server = MetricsServer::start("127.0.0.1", 0, Arc::clone(&metrics)).unwrap();
    let prometheus = common::prometheus(server.local_port());

    let got = common::wait_for("the slope in Prometheus", Duration::from_secs(30), || {
        query_value(&prometheus, "memwatchdog_heap_slope_bytes_per_ms")
    });
    assert!((got - 1234.5).abs() < 1e-9, "{got}");
    let twin = query_value(&prometheus, "memwatchdog_heap_growth_bytes_per_second").unwrap();
    assert!((twin - 1_234_500.0).abs() < 1e-6, "{twin}");

    // A new value shows up at a later scrape.
    metrics.set_heap_slope_bytes_per_ms(-7.25);
    common::wait_for("the updated slope", Duration::from_secs(30), || {
        query_value(&prometheus, "memwatchdog_heap_slope_bytes_per_ms")
            .filter(|v| (v + 7.25).abs() < 1e-9)
    });

    // The scrape itself is healthy, and the histogram is usable in queries.
    let up = query_value(&prometheus, "up").unwrap();
    assert!((up - 1.0).abs() < f64::EPSILON);
    let minor = query_value(
        &prometheus,
        "memwatchdog_gc_duration_seconds_count%7Bkind%3D%22minor%22%7D",
    )
    .unwrap();
    assert!((minor - 1.0).abs() < f64::EPSILON);
}

/// `s` percent-encoded for a URL query value.
fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The known snapshot reasons are exported at 0 before their first count, so
/// `increase()` over a window that holds the first refusal is above 0. (A series that
/// first appears at 1 has no earlier sample: its increase stays 0.)
#[test]
fn the_first_snapshot_refusal_shows_in_increase() {
    let metrics = Arc::new(Metrics::default());
    let server = MetricsServer::start("127.0.0.1", 0, Arc::clone(&metrics)).unwrap();
    let prometheus = common::prometheus(server.local_port());
    let q = |expr: &str| query_value(&prometheus, &query_escape(expr));

    // Every known reason is scraped at 0, several times, before anything happened.
    common::wait_for(
        "3 scrapes of the zero counters",
        Duration::from_secs(30),
        || {
            q(r#"count_over_time(memwatchdog_snapshot_refused_total{reason="disk"}[1m])"#)
                .filter(|n| *n >= 3.0)
        },
    );
    for reason in Metrics::SNAPSHOT_REFUSAL_REASONS {
        let v = q(&format!(
            r#"memwatchdog_snapshot_refused_total{{reason="{reason}"}}"#
        ));
        assert_eq!(v, Some(0.0), "refused reason {reason}");
    }
    for reason in Metrics::SNAPSHOT_FAILURE_REASONS {
        let v = q(&format!(
            r#"memwatchdog_snapshot_failures_total{{reason="{reason}"}}"#
        ));
        assert_eq!(v, Some(0.0), "failure reason {reason}");
    }

    metrics.record_snapshot_refused("disk");
    metrics.record_snapshot_failure("io");
    let refused = common::wait_for(
        "the first refusal in increase()",
        Duration::from_secs(30),
        || {
            q(r#"increase(memwatchdog_snapshot_refused_total{reason="disk"}[1m])"#)
                .filter(|v| *v > 0.0)
        },
    );
    assert!(refused >= 1.0, "{refused}");
    let failed = common::wait_for(
        "the first failure in increase()",
        Duration::from_secs(30),
        || {
            q(r#"increase(memwatchdog_snapshot_failures_total{reason="io"}[1m])"#)
                .filter(|v| *v > 0.0)
        },
    );
    assert!(failed >= 1.0, "{failed}");
    let others = q(r#"sum(increase(memwatchdog_snapshot_refused_total{reason!="disk"}[1m]))"#);
    assert_eq!(others, Some(0.0));
}
