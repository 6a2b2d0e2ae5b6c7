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
    let Some(prometheus) = common::prometheus(server.local_port()) else {
        return;
    };

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
