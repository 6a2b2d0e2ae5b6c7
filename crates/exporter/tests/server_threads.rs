//! The metrics server's threads under many connections, in a test binary of its own so
//! no other test's threads interfere: however many connections it holds, the server is
//! the one `memwd-metrics` thread, and after `stop` the process has the threads it had
//! before.

mod common;

use std::fs;
use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use memwatchdog_exporter::{Metrics, MetricsServer};

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
fn many_connections_are_served_by_one_named_thread() {
    let before = thread_names();
    let mut server = MetricsServer::start("127.0.0.1", 0, Arc::new(Metrics::default())).unwrap();
    let port = server.local_port();
    let held: Vec<TcpStream> = (0..200)
        .map(|i| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            if i % 2 == 0 {
                s.write_all(b"GET /metrics HTTP/1.1\r\n").unwrap();
            }
            s
        })
        .collect();
    // Answered after every held connection was accepted (in connection order).
    assert_eq!(common::http_get(port, "/metrics").unwrap().0, 200);

    // A Rust thread names itself once it runs, so look until the name shows.
    let mut want = before.clone();
    want.push("memwd-metrics".to_owned());
    want.sort();
    common::wait_for("the server thread", Duration::from_secs(2), || {
        (thread_names() == want).then_some(())
    });

    server.stop();
    drop(held);
    common::wait_for("the server thread to go", Duration::from_secs(2), || {
        (thread_names() == before).then_some(())
    });
}
