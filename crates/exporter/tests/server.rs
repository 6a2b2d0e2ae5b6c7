//! The `/metrics` server against real sockets: (c) scrapes while the registry is
//! updated continuously from another thread, (d) port in use gives the clear error,
//! and stop frees the port for a restart.
//!
//! The registry never locks on the update path, so the server cannot wait on the
//! caller. That it answers while the JS event loop itself is blocked is tested at
//! the napi level, with a real Node process busy in a loop.

mod common;

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use memwatchdog_exporter::{ExporterError, GcKind, Metrics, MetricsServer};

#[test]
fn scrapes_answer_during_continuous_updates() {
    let metrics = Arc::new(Metrics::default());
    let server = MetricsServer::start("127.0.0.1", 0, Arc::clone(&metrics)).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let updater = {
        let (metrics, done) = (Arc::clone(&metrics), Arc::clone(&done));
        thread::spawn(move || {
            let mut i = 0u64;
            while !done.load(Ordering::Relaxed) {
                i += 1;
                metrics.set_heap_used_bytes(i);
                metrics.set_heap_slope_bytes_per_ms(i as f64);
                metrics.observe_gc(GcKind::Minor, Duration::from_micros(i % 5000));
            }
            i
        })
    };

    let mut last_count = 0u64;
    let mut scrapes = 0;
    let started = Instant::now();
    while scrapes < 50 || started.elapsed() < Duration::from_millis(500) {
        scrapes += 1;
        let (status, body) = common::http_get(server.local_port(), "/metrics").unwrap();
        assert_eq!(status, 200);
        // Each scrape is self-consistent: the histogram count equals its +Inf bucket
        // and the GC counter, and counts never go backwards between scrapes.
        let value = |prefix: &str| -> u64 {
            body.lines()
                .find(|l| l.starts_with(prefix))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{prefix} missing in\n{body}"))
        };
        let count = value("memwatchdog_gc_duration_seconds_count{kind=\"minor\"}");
        let inf = value("memwatchdog_gc_duration_seconds_bucket{kind=\"minor\",le=\"+Inf\"}");
        assert_eq!(count, inf);
        assert!(count >= last_count);
        last_count = count;
    }
    done.store(true, Ordering::Relaxed);
    let update_count = updater.join().unwrap();
    assert!(update_count > 100, "the updater hardly ran: {update_count}");
    assert!(last_count > 0);
}

#[test]
fn port_in_use_gives_the_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = MetricsServer::start("127.0.0.1", port, Arc::default()).unwrap_err();
    assert!(matches!(err, ExporterError::PortInUse { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "port {port} on 127.0.0.1 is already in use: set prometheus.port / \
             MEMWATCHDOG_PROMETHEUS_PORT to a free port, or 0 for any"
        )
    );
}

#[test]
fn stop_frees_the_port_for_a_restart() {
    let metrics = Arc::new(Metrics::default());
    let mut first = MetricsServer::start("127.0.0.1", 0, Arc::clone(&metrics)).unwrap();
    let port = first.local_port();
    // A client that connected (like Prometheus with keep-alive) does not hold the port.
    let _idle = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let t = Instant::now();
    first.stop();
    // Not held by the idle connection (which would keep it until the client hangs up).
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "stop took {:?}",
        t.elapsed()
    );
    let second = MetricsServer::start("127.0.0.1", port, metrics).unwrap();
    assert_eq!(
        common::http_get(second.local_port(), "/metrics").unwrap().0,
        200
    );
    drop(second);
    TcpListener::bind(("127.0.0.1", port)).expect("port still taken after drop");
}

#[test]
fn bad_host_is_a_bind_error() {
    let err = MetricsServer::start("192.0.2.1", 0, Arc::default()).unwrap_err();
    assert!(matches!(err, ExporterError::Bind { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("prometheus.host must be a local address")
    );
}
