//! [`MetricsServer`]: serves `/metrics` from its own thread, independent of the caller.
//!
//! The server is one named thread (`memwd-metrics`) on a blocking
//! [`TcpListener`]. Each connection gets one response and is closed; the exposition is
//! rendered on that thread from the shared [`Metrics`] atomics, so a scrape never
//! needs the thread that updates them (in the addon: the JS event loop, which may be
//! blocked for seconds, e.g. while V8 writes a heap snapshot).
//!
//! Why not `tiny_http`: it starts an unnamed accept thread plus a pool of at least four
//! unnamed worker threads that are never joined, and a keep-alive client (Prometheus
//! keeps its scrape connection open) pins a worker after the server is dropped. In a
//! user's Node process every thread must be named and stoppable, and `stop()` must free
//! the port before it returns so the watchdog can be restarted on the same port. The
//! server only ever answers three routes, so a request-line parser
//! ([`crate::request`]) is all the HTTP it needs.
//!
//! Connections are served one at a time with short socket timeouts: a client that
//! connects and sends nothing delays other scrapes by at most [`READ_TIMEOUT`]. It
//! never serves files: only `/metrics` and `/` exist, anything else is 404.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::encode::CONTENT_TYPE;
use crate::error::ExporterError;
use crate::log::{LogFn, emit};
use crate::metrics::Metrics;
use crate::request::{MAX_HEAD, Route, head_end, route};

/// Longest wait for a client to send its request head.
pub const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Reads wait in slices this long, checking between them whether the server stops.
const READ_SLICE: Duration = Duration::from_millis(50);
/// Longest wait for a client to take the response.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Name of the server thread.
const THREAD_NAME: &str = "memwd-metrics";

const INDEX_HTML: &str = "<!doctype html>\n<html><head><title>MemWatchdog</title></head>\
<body><h1>MemWatchdog</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

/// A running `/metrics` server. Dropping it stops it.
#[derive(Debug)]
pub struct MetricsServer {
    local_addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Listens on `host:port` (port 0: any free port, see [`local_port`](Self::local_port))
    /// and serves `metrics` until stopped.
    pub fn start(host: &str, port: u16, metrics: Arc<Metrics>) -> Result<Self, ExporterError> {
        Self::start_with_log(host, port, metrics, None)
    }

    /// Like [`start`](Self::start), reporting accept errors to `log`.
    pub fn start_with_log(
        host: &str,
        port: u16,
        metrics: Arc<Metrics>,
        log: Option<LogFn>,
    ) -> Result<Self, ExporterError> {
        let listener = bind(host, port)?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ExporterError::Bind {
                host: host.to_owned(),
                port,
                source,
            })?;
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let stopping = Arc::clone(&stopping);
            thread::Builder::new()
                .name(THREAD_NAME.to_owned())
                .spawn(move || serve(&listener, &metrics, &stopping, log.as_ref()))
                .map_err(|source| ExporterError::Thread {
                    name: THREAD_NAME,
                    source,
                })?
        };
        Ok(MetricsServer {
            local_addr,
            stopping,
            thread: Some(thread),
        })
    }

    /// The address the server listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The port the server listens on (the chosen one when started with port 0).
    #[must_use]
    pub fn local_port(&self) -> u16 {
        self.local_addr.port()
    }

    /// Stops serving, joins the thread and closes the listening socket, so the port is
    /// free when this returns. Idempotent; also done on drop.
    pub fn stop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept() with a connection of our own.
        let wake = SocketAddr::new(connectable(self.local_addr.ip()), self.local_addr.port());
        if TcpStream::connect_timeout(&wake, Duration::from_secs(1)).is_ok() {
            let _ = thread.join();
        }
        // Otherwise the listener is unreachable even from here; leave the thread (it
        // exits at its next connection) rather than block the caller forever.
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Binds `host:port`, turning "address in use" into the actionable error.
fn bind(host: &str, port: u16) -> Result<TcpListener, ExporterError> {
    let host_only = host.trim_start_matches('[').trim_end_matches(']');
    let result = match host_only.parse::<IpAddr>() {
        Ok(ip) => TcpListener::bind(SocketAddr::new(ip, port)),
        Err(_) => TcpListener::bind((host_only, port)),
    };
    result.map_err(|source| {
        if source.kind() == io::ErrorKind::AddrInUse {
            ExporterError::PortInUse {
                host: host.to_owned(),
                port,
            }
        } else {
            ExporterError::Bind {
                host: host.to_owned(),
                port,
                source,
            }
        }
    })
}

/// An address a local client can connect to for a listener bound to `ip`.
fn connectable(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    }
}

/// The server thread: accept, answer, close, until `stopping`.
fn serve(listener: &TcpListener, metrics: &Metrics, stopping: &AtomicBool, log: Option<&LogFn>) {
    let mut accept_failures = 0u32;
    loop {
        let accepted = listener.accept();
        if stopping.load(Ordering::SeqCst) {
            return;
        }
        match accepted {
            Ok((stream, _)) => {
                accept_failures = 0;
                // A client that misbehaves only loses its own connection.
                let _ = answer(stream, metrics, stopping);
            }
            Err(e) => {
                // E.g. out of file descriptors: say so once, then back off.
                if accept_failures == 0 {
                    emit(
                        log,
                        &format!("memwatchdog: /metrics server cannot accept: {e}"),
                    );
                }
                accept_failures = accept_failures.saturating_add(1);
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Reads one request head from `stream` and writes the response. Gives up after
/// [`READ_TIMEOUT`] without a full head, or as soon as the server stops.
fn answer(mut stream: TcpStream, metrics: &Metrics, stopping: &AtomicBool) -> io::Result<()> {
    stream.set_read_timeout(Some(READ_SLICE))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let _ = stream.set_nodelay(true);

    let started = std::time::Instant::now();
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    let routed = loop {
        if let Some(end) = head_end(&buf) {
            break route(&buf[..end]);
        }
        if buf.len() > MAX_HEAD {
            break Route::HeadTooLarge;
        }
        let n = match stream.read(&mut chunk) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if stopping.load(Ordering::SeqCst) || started.elapsed() >= READ_TIMEOUT {
                    return Err(e);
                }
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            // Closed before a full head: answer what we have, if anything.
            if buf.is_empty() {
                return Ok(());
            }
            break route(&buf);
        }
        buf.extend_from_slice(&chunk[..n]);
    };

    let (status, content_type, body, head_only): (&str, &str, std::borrow::Cow<str>, bool) =
        match routed {
            Route::Metrics { head_only } => {
                ("200 OK", CONTENT_TYPE, metrics.render().into(), head_only)
            }
            Route::Index { head_only } => (
                "200 OK",
                "text/html; charset=utf-8",
                INDEX_HTML.into(),
                head_only,
            ),
            Route::MethodNotAllowed => (
                "405 Method Not Allowed",
                "text/plain; charset=utf-8",
                "405 method not allowed: use GET\n".into(),
                false,
            ),
            Route::NotFound => (
                "404 Not Found",
                "text/plain; charset=utf-8",
                "404 not found: metrics are at /metrics\n".into(),
                false,
            ),
            Route::BadRequest => (
                "400 Bad Request",
                "text/plain; charset=utf-8",
                "400 bad request\n".into(),
                false,
            ),
            Route::HeadTooLarge => (
                "431 Request Header Fields Too Large",
                "text/plain; charset=utf-8",
                "431 request head too large\n".into(),
                false,
            ),
        };
    let allow = if routed == Route::MethodNotAllowed {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\n{allow}Connection: close\r\n\r\n",
        body.len()
    );
    let mut response = Vec::with_capacity(head.len() + body.len());
    response.extend_from_slice(head.as_bytes());
    if !head_only {
        response.extend_from_slice(body.as_bytes());
    }
    stream.write_all(&response)?;
    stream.flush()?;
    let _ = stream.shutdown(Shutdown::Write);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(addr: SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn serves_metrics_index_and_404() {
        let metrics = Arc::new(Metrics::default());
        metrics.set_heap_slope_bytes_per_ms(12.5);
        let mut server = MetricsServer::start("127.0.0.1", 0, Arc::clone(&metrics)).unwrap();
        let addr = server.local_addr();
        assert_ne!(server.local_port(), 0);

        let r = get(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(r.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
        assert!(
            r.contains("\nmemwatchdog_heap_slope_bytes_per_ms 12.5\n"),
            "{r}"
        );

        let r = get(addr, "HEAD /metrics HTTP/1.1\r\n\r\n");
        assert!(
            r.starts_with("HTTP/1.1 200 OK\r\n") && r.ends_with("\r\n\r\n"),
            "{r}"
        );

        let r = get(addr, "GET / HTTP/1.1\r\n\r\n");
        assert!(r.contains("href=\"/metrics\""), "{r}");

        let r = get(addr, "GET /Cargo.toml HTTP/1.1\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 404 Not Found\r\n"), "{r}");

        let r = get(addr, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
        assert!(
            r.starts_with("HTTP/1.1 405 ") && r.contains("Allow: GET, HEAD"),
            "{r}"
        );

        let r = get(addr, "garbage\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 400 "), "{r}");

        let r = get(
            addr,
            &format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_HEAD + 10)),
        );
        assert!(r.starts_with("HTTP/1.1 431 "), "{r}");

        server.stop();
        assert!(
            TcpStream::connect(addr).is_err(),
            "port still open after stop"
        );
        server.stop(); // idempotent
    }

    #[test]
    fn port_in_use_is_a_clear_error() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = MetricsServer::start("127.0.0.1", port, Arc::default()).unwrap_err();
        assert!(matches!(err, ExporterError::PortInUse { .. }), "{err:?}");
        assert!(err.to_string().starts_with(&format!(
            "port {port} on 127.0.0.1 is already in use: set prometheus.port"
        )));
    }

    #[test]
    fn unspecified_hosts_are_woken_through_loopback() {
        assert_eq!(
            connectable("0.0.0.0".parse().unwrap()),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            connectable("::".parse().unwrap()),
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        );
        let mut server = MetricsServer::start("0.0.0.0", 0, Arc::default()).unwrap();
        server.stop();
    }
}
