//! The `/metrics` server against real sockets: (c) scrapes while the registry is
//! updated continuously from another thread, (d) port in use gives the clear error,
//! and stop frees the port for a restart; idle, stalled and trickling clients hold no
//! scrape up (issue #17, item 2), the connection cap and the read and write deadlines.
//!
//! No test here times anything: where a deadline matters, it is set far longer than the
//! test needs (so a client still open proves nothing waited for it), or the test waits,
//! with a generous bound, for what only that deadline can cause.
//!
//! The registry never locks on the update path, so the server cannot wait on the
//! caller. That it answers while the JS event loop itself is blocked is tested at
//! the napi level, with a real Node process busy in a loop.

mod common;

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use memwatchdog_exporter::{
    ExporterError, GcKind, Metrics, MetricsOptions, MetricsServer, ServerLimits,
};

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
        format!("port {port} on 127.0.0.1 is already in use")
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
    assert_eq!(err.to_string(), "cannot listen on 192.0.2.1:0");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the OS error is the source"
    );
}

/// Longer than any test here runs: a connection closed before this was not timed out.
const LONG: Duration = Duration::from_secs(600);
/// How long a test waits for something that must happen, before it fails.
const BOUND: Duration = Duration::from_secs(30);

fn start(metrics: Arc<Metrics>, limits: ServerLimits) -> MetricsServer {
    MetricsServer::start_with_limits("127.0.0.1", 0, metrics, None, limits).unwrap()
}

fn connect(port: u16) -> TcpStream {
    TcpStream::connect(("127.0.0.1", port)).unwrap()
}

/// Whether the server still holds `s` open: nothing to read yet, not even an EOF.
fn is_open(s: &TcpStream) -> bool {
    s.set_nonblocking(true).unwrap();
    let r = s.peek(&mut [0u8; 1]);
    s.set_nonblocking(false).unwrap();
    matches!(r, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// Reads `s` until the server closes it (EOF or reset) and returns what came; fails the
/// test if that takes longer than [`BOUND`].
fn until_closed(s: &mut TcpStream) -> Vec<u8> {
    let deadline = Instant::now() + BOUND;
    let mut got = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "still open after {BOUND:?}");
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut chunk) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("still open after {BOUND:?}: {e}"),
        }
    }
}

/// Sends a GET for `/metrics` and reads the answer to the end: `""` when the server
/// closed the connection without one (the write may then fail too).
fn scrape(port: u16) -> String {
    let mut s = connect(port);
    let _ = s.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    String::from_utf8(until_closed(&mut s)).unwrap()
}

/// The regression test for the defect: the server answered one connection at a time
/// and waited for each request, so one idle connection made every scrape wait for it
/// and ten made scrapes fail. Here 200 connections that send nothing are held open for
/// the whole test, with a read deadline far longer than the test: the scrapes are
/// answered, and afterwards every idle connection is still open, so no scrape waited
/// for one of them to time out.
#[test]
fn idle_connections_do_not_hold_up_scrapes() {
    let metrics = Arc::new(Metrics::default());
    metrics.set_heap_used_bytes(4242);
    let limits = ServerLimits {
        read_timeout: LONG,
        ..ServerLimits::default()
    };
    assert!(limits.max_connections > 200);
    let server = start(Arc::clone(&metrics), limits);
    let port = server.local_port();
    let idle: Vec<TcpStream> = (0..200).map(|_| connect(port)).collect();

    for i in 0..20u64 {
        metrics.set_heap_floor_bytes(i);
        let (status, body) = common::http_get(port, "/metrics").expect("scrape answered");
        assert_eq!(status, 200);
        assert!(
            body.contains("\nmemwatchdog_heap_used_bytes 4242\n"),
            "{body}"
        );
        assert!(body.contains(&format!("\nmemwatchdog_heap_floor_bytes {i}\n")));
    }
    let closed = idle.iter().filter(|s| !is_open(s)).count();
    assert_eq!(
        closed, 0,
        "the server closed idle connections it had room for"
    );
}

/// At the cap, each new connection closes the oldest one that has not sent its request,
/// so scrapes still get in; the newer idle connections stay open.
#[test]
fn at_the_cap_a_new_connection_closes_the_oldest_idle_one() {
    let limits = ServerLimits {
        max_connections: 8,
        read_timeout: LONG,
        ..ServerLimits::default()
    };
    let server = start(Arc::default(), limits);
    let port = server.local_port();
    let mut old: Vec<TcpStream> = (0..8).map(|_| connect(port)).collect();
    let new: Vec<TcpStream> = (0..3).map(|_| connect(port)).collect();

    // The three newcomers closed the three oldest, without an answer.
    for s in &mut old[..3] {
        assert_eq!(until_closed(s), b"");
    }
    assert!(old[3..].iter().chain(&new).all(is_open));

    // A scrape at the cap closes the next oldest and is answered.
    let r = scrape(port);
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    assert_eq!(until_closed(&mut old[3]), b"");
    assert!(old[4..].iter().chain(&new).all(is_open));
}

/// A registry whose exposition is far larger than the socket buffers on both sides, so
/// a client that does not read keeps its connection in the middle of the answer.
fn huge_metrics() -> Arc<Metrics> {
    Arc::new(
        Metrics::new(MetricsOptions {
            version: "v".repeat(48 << 20),
            ..MetricsOptions::default()
        })
        .unwrap(),
    )
}

/// Sends a GET for `/metrics` and waits until the answer starts arriving, without
/// reading it: the server is then in the middle of writing it.
fn stall_mid_answer(port: u16) -> TcpStream {
    let mut s = connect(port);
    s.write_all(b"GET /metrics HTTP/1.1\r\n\r\n").unwrap();
    s.set_read_timeout(Some(BOUND)).unwrap();
    assert_eq!(s.peek(&mut [0u8; 1]).unwrap(), 1);
    s
}

/// When every held connection is being answered there is no idle one to close, so a
/// new connection is closed at once; a slot frees when its client goes away; and stop
/// frees the port even in the middle of an answer.
#[test]
fn when_every_held_connection_is_being_answered_a_new_one_is_turned_away() {
    let limits = ServerLimits {
        max_connections: 1,
        read_timeout: LONG,
        write_timeout: LONG,
    };
    let mut server = start(huge_metrics(), limits);
    let port = server.local_port();

    let reader = stall_mid_answer(port);
    assert_eq!(scrape(port), "", "answered beyond the cap");
    drop(reader);
    let deadline = Instant::now() + BOUND;
    loop {
        let r = scrape(port);
        if r.starts_with("HTTP/1.1 200 OK\r\n") {
            break;
        }
        assert!(Instant::now() < deadline, "the slot never freed: {r:?}");
        thread::sleep(Duration::from_millis(20));
    }

    let _reader = stall_mid_answer(port);
    server.stop();
    TcpListener::bind(("127.0.0.1", port)).expect("port still taken after stop");
}

/// A client that asks and then does not read is cut off at its write deadline: only
/// that frees the single slot for the next scrape, and the first client then gets less
/// than the answer's `Content-Length`.
#[test]
fn a_client_that_does_not_read_is_cut_off_at_its_write_deadline() {
    let limits = ServerLimits {
        max_connections: 1,
        read_timeout: LONG,
        write_timeout: Duration::from_millis(300),
    };
    let server = start(huge_metrics(), limits);
    let port = server.local_port();

    let mut reader = stall_mid_answer(port);
    let deadline = Instant::now() + BOUND;
    while !scrape(port).starts_with("HTTP/1.1 200 OK\r\n") {
        assert!(
            Instant::now() < deadline,
            "the stalled answer was never given up"
        );
        thread::sleep(Duration::from_millis(20));
    }
    let got = until_closed(&mut reader);
    let text = String::from_utf8_lossy(&got[..got.len().min(4096)]);
    let (head, _) = text.split_once("\r\n\r\n").unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    let body = got.len() - head.len() - 4;
    assert!(body < length, "got all {length} bytes");
}

/// A client that sends part of a request head and stalls holds no one up, and is closed
/// without an answer at its read deadline.
#[test]
fn a_stalled_partial_head_is_closed_at_its_deadline_while_others_are_served() {
    let limits = ServerLimits {
        read_timeout: Duration::from_secs(3),
        ..ServerLimits::default()
    };
    let server = start(Arc::default(), limits);
    let port = server.local_port();
    let mut stalled = connect(port);
    stalled
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();

    for _ in 0..5 {
        let r = scrape(port);
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    }
    assert!(is_open(&stalled));
    assert_eq!(until_closed(&mut stalled), b"");
}

/// A client that sends its head a byte at a time (slowloris) does not extend its read
/// deadline: it is closed without an answer long before its head reaches the size limit
/// (8 KiB, answered with a 431) and long before [`BOUND`].
#[test]
fn trickling_a_head_does_not_extend_its_deadline() {
    let limits = ServerLimits {
        read_timeout: Duration::from_millis(500),
        ..ServerLimits::default()
    };
    let server = start(Arc::default(), limits);
    let mut s = connect(server.local_port());
    s.write_all(b"GET /metrics HTTP/1.1\r\nX-Slow: ").unwrap();
    let deadline = Instant::now() + BOUND;
    let mut sent = 0;
    loop {
        assert!(Instant::now() < deadline, "still open after {sent} bytes");
        if s.write_all(b"a").is_err() || !is_open(&s) {
            break;
        }
        sent += 1;
        thread::sleep(Duration::from_millis(10));
    }
    assert!(sent < 8 * 1024);
    assert_eq!(until_closed(&mut s), b"", "answered instead of timed out");
}

/// `stop` closes every connection it holds, idle or half-way through a head, and frees
/// the port for a restart on it.
#[test]
fn stop_with_many_open_connections_frees_the_port() {
    let metrics = Arc::new(Metrics::default());
    let limits = ServerLimits {
        read_timeout: LONG,
        ..ServerLimits::default()
    };
    let mut first = start(Arc::clone(&metrics), limits);
    let port = first.local_port();
    let mut held: Vec<TcpStream> = (0..100)
        .map(|i| {
            let mut s = connect(port);
            if i % 2 == 0 {
                s.write_all(b"GET /metrics HTTP/1.1\r\n").unwrap();
            }
            s
        })
        .collect();
    // Answered after all of them were accepted (in connection order), so all are held.
    assert!(scrape(port).starts_with("HTTP/1.1 200 OK\r\n"));
    assert!(held.iter().all(is_open));

    first.stop();
    for s in &mut held {
        assert_eq!(until_closed(s), b"");
    }
    let second = MetricsServer::start("127.0.0.1", port, metrics).unwrap();
    assert_eq!(common::http_get(port, "/metrics").unwrap().0, 200);
    drop(second);
    TcpListener::bind(("127.0.0.1", port)).expect("port still taken after drop");
}
