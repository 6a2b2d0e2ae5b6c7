//! [`MetricsServer`]: serves `/metrics` from its own thread, independent of the caller.
//!
//! The server is one named thread (`memwd-metrics`) running a readiness loop over
//! non-blocking sockets ([`mio`]: epoll on Linux, kqueue on macOS). The thread accepts,
//! reads each request head as its bytes arrive, renders the exposition and writes it,
//! for all its connections at once, so a client that connects and sends nothing (or
//! trickles its head byte by byte) delays no one: it only holds one of
//! [`ServerLimits::max_connections`] slots until its deadline. Each connection gets one
//! response and is closed (`Connection: close`; Prometheus opens a new connection for
//! its next scrape). The exposition is rendered on that thread from the shared
//! [`Metrics`] atomics, so a scrape never needs the thread that updates them (in the
//! addon: the JS event loop, which may be blocked for seconds, e.g. while V8 writes a
//! heap snapshot).
//!
//! Every connection has its own deadlines, which nothing extends: the whole request head
//! within [`ServerLimits::read_timeout`] of the accept, the whole response within
//! [`ServerLimits::write_timeout`] of its rendering. A connection past either is closed
//! without an answer. At the cap, each new connection closes the oldest one still
//! waiting for its request head: that one is the nearest to its deadline anyway, and
//! under a flood of idle connections the likeliest to be one of them, so a scraper that
//! sends its request as soon as it connects (Prometheus does) gets in however many idle
//! connections are opened. Only when every held connection is being answered is the new
//! one closed at once. So a neighbour on the network can cost the process at most that
//! many file descriptors, and cannot hold scrapes up.
//!
//! Why not `tiny_http`: it starts an unnamed accept thread plus a pool of at least four
//! unnamed worker threads that are never joined, and a keep-alive client (Prometheus
//! keeps its scrape connection open) pins a worker after the server is dropped. In a
//! user's Node process every thread must be named and stoppable, and `stop()` must free
//! the port before it returns so the watchdog can be restarted on the same port. The
//! server only ever answers three routes, so a request-line parser
//! ([`crate::request`]) is all the HTTP it needs. Why `mio` rather than a thread per
//! connection or an async runtime: one thread serves any number of connections, a
//! [`Waker`] interrupts it for `stop()`, and it adds only `libc` to the user's process.
//!
//! It never serves files: only `/metrics` and `/` exist, anything else is 404.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use crate::error::ExporterError;
use crate::log::{LogFn, emit};
use crate::metrics::Metrics;
use crate::request::{MAX_HEAD, Route, head_end, route};
use crate::text::CONTENT_TYPE;

/// Longest wait for a client to send its request head, from the accept.
pub const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest wait for a client to take the whole response.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Most connections held at once.
const MAX_CONNECTIONS: usize = 256;
/// Most connections accepted in a row before the ones already held are served again.
const ACCEPT_BATCH: usize = 64;
/// Wait before accepting again after the OS refused (e.g. out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Longest poll, so the thread sees `stopping` even if its [`Waker`] failed.
const STOP_CHECK: Duration = Duration::from_secs(1);
/// Least time between two "at the connection limit" log lines.
const CAP_LOG_INTERVAL: Duration = Duration::from_secs(60);
/// Name of the server thread.
const THREAD_NAME: &str = "memwd-metrics";

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);
/// Connections get tokens from here up, in accept order.
const FIRST_CONNECTION: usize = 2;

const INDEX_HTML: &str = "<!doctype html>\n<html><head><title>MemWatchdog</title></head>\
<body><h1>MemWatchdog</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

/// How many connections the server holds and how long it gives each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Most connections held open at once (at least 1; default 256). At the cap, a new
    /// connection closes the oldest one still waiting for its request head, or is
    /// closed at once if every held connection is being answered.
    pub max_connections: usize,
    /// Longest wait for a connection's whole request head, counted from its accept
    /// (default [`READ_TIMEOUT`], 2 s).
    pub read_timeout: Duration,
    /// Longest wait for a client to take the whole response, counted from when it is
    /// rendered (default 5 s).
    pub write_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: MAX_CONNECTIONS,
            read_timeout: READ_TIMEOUT,
            write_timeout: WRITE_TIMEOUT,
        }
    }
}

/// A running `/metrics` server. Dropping it stops it.
#[derive(Debug)]
pub struct MetricsServer {
    local_addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    waker: Waker,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Listens on `host:port` (port 0: any free port, see [`local_port`](Self::local_port))
    /// and serves `metrics` until stopped.
    pub fn start(host: &str, port: u16, metrics: Arc<Metrics>) -> Result<Self, ExporterError> {
        Self::start_with_log(host, port, metrics, None)
    }

    /// Like [`start`](Self::start), reporting trouble (accept errors, the connection
    /// limit reached) to `log`.
    pub fn start_with_log(
        host: &str,
        port: u16,
        metrics: Arc<Metrics>,
        log: Option<LogFn>,
    ) -> Result<Self, ExporterError> {
        Self::start_with_limits(host, port, metrics, log, ServerLimits::default())
    }

    /// Like [`start_with_log`](Self::start_with_log), with other connection limits.
    pub fn start_with_limits(
        host: &str,
        port: u16,
        metrics: Arc<Metrics>,
        log: Option<LogFn>,
        limits: ServerLimits,
    ) -> Result<Self, ExporterError> {
        let bind_error = |source| ExporterError::Bind {
            host: host.to_owned(),
            port,
            source,
        };
        let listener = bind(host, port)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        let mut listener = TcpListener::from_std(listener);

        let thread_error = |source| ExporterError::Thread {
            name: THREAD_NAME,
            source,
        };
        let poll = Poll::new().map_err(thread_error)?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)
            .map_err(thread_error)?;
        let waker = Waker::new(poll.registry(), WAKER).map_err(thread_error)?;
        let stopping = Arc::new(AtomicBool::new(false));
        let server = EventLoop {
            poll,
            listener,
            conns: BTreeMap::new(),
            next_token: FIRST_CONNECTION,
            limits: ServerLimits {
                max_connections: limits.max_connections.max(1),
                ..limits
            },
            metrics,
            stopping: Arc::clone(&stopping),
            log,
            accept_pending: true,
            accept_retry: None,
            accept_failing: false,
            poll_failing: false,
            cap_logged: None,
        };
        let thread = thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || server.run())
            .map_err(thread_error)?;
        Ok(MetricsServer {
            local_addr,
            stopping,
            waker,
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

    /// Stops serving, closes every connection and the listening socket and joins the
    /// thread, so the port is free when this returns. Idempotent; also done on drop.
    pub fn stop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.stopping.store(true, Ordering::SeqCst);
        // Should waking fail, the thread still sees `stopping` within [`STOP_CHECK`].
        let _ = self.waker.wake();
        let _ = thread.join();
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Binds `host:port`, turning "address in use" into the actionable error.
fn bind(host: &str, port: u16) -> Result<std::net::TcpListener, ExporterError> {
    let host_only = host.trim_start_matches('[').trim_end_matches(']');
    let result = match host_only.parse::<IpAddr>() {
        Ok(ip) => std::net::TcpListener::bind(SocketAddr::new(ip, port)),
        Err(_) => std::net::TcpListener::bind((host_only, port)),
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

/// The server thread's state: the listener and every connection it holds.
struct EventLoop {
    poll: Poll,
    listener: TcpListener,
    /// By token, which grows with each accept: the first is the oldest.
    conns: BTreeMap<usize, Conn>,
    next_token: usize,
    limits: ServerLimits,
    metrics: Arc<Metrics>,
    stopping: Arc<AtomicBool>,
    log: Option<LogFn>,
    /// The listener may have connections waiting.
    accept_pending: bool,
    /// When to try accepting again after the OS refused.
    accept_retry: Option<Instant>,
    /// Accepting fails (said once, until it works again).
    accept_failing: bool,
    /// Polling fails (said once, until it works again).
    poll_failing: bool,
    /// When the connection limit was last logged.
    cap_logged: Option<Instant>,
}

/// One client connection.
struct Conn {
    stream: TcpStream,
    /// When it is closed if not done: the head's deadline, then the response's.
    deadline: Instant,
    state: State,
}

enum State {
    /// Reading the request head; what arrived so far.
    Head(Vec<u8>),
    /// Writing the response; `sent` bytes of it are out.
    Answer { response: Vec<u8>, sent: usize },
}

impl EventLoop {
    /// Serves until `stopping`; dropping `self` then closes every socket.
    fn run(mut self) {
        let mut events = Events::with_capacity(256);
        while !self.stopping.load(Ordering::SeqCst) {
            let now = Instant::now();
            if self.accept_retry.is_some_and(|at| at <= now) {
                self.accept_retry = None;
                self.accept_pending = true;
            }
            let wait = self.next_wait(now);
            if let Err(e) = self.poll.poll(&mut events, Some(wait)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    if !self.poll_failing {
                        emit(
                            self.log.as_ref(),
                            &format!("memwatchdog: /metrics server cannot poll its sockets: {e}"),
                        );
                    }
                    self.poll_failing = true;
                    thread::sleep(ACCEPT_BACKOFF);
                }
                continue;
            }
            self.poll_failing = false;
            for event in &events {
                match event.token() {
                    LISTENER => self.accept_pending = true,
                    WAKER => {}
                    Token(token) => self.advance(token),
                }
            }
            if self.accept_pending {
                self.accept_batch();
            }
            self.expire(Instant::now());
        }
    }

    /// How long the next poll may wait: until the nearest deadline, at most [`STOP_CHECK`].
    fn next_wait(&self, now: Instant) -> Duration {
        if self.accept_pending {
            return Duration::ZERO;
        }
        let until = self
            .conns
            .values()
            .map(|c| c.deadline)
            .chain(self.accept_retry)
            .fold(now + STOP_CHECK, Instant::min);
        until.saturating_duration_since(now)
    }

    /// Accepts up to [`ACCEPT_BATCH`] connections; `accept_pending` stays set if there may
    /// be more, so the next poll does not wait.
    fn accept_batch(&mut self) {
        for _ in 0..ACCEPT_BATCH {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    self.accept_failing = false;
                    self.admit(stream);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.accept_pending = false;
                    return;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted
                            | io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::ConnectionReset
                    ) => {}
                Err(e) => {
                    // E.g. out of file descriptors: say so once, then back off.
                    if !self.accept_failing {
                        emit(
                            self.log.as_ref(),
                            &format!("memwatchdog: /metrics server cannot accept: {e}"),
                        );
                    }
                    self.accept_failing = true;
                    self.accept_pending = false;
                    self.accept_retry = Some(Instant::now() + ACCEPT_BACKOFF);
                    return;
                }
            }
        }
    }

    /// Takes a new connection on, making room at the cap, and reads what it sent.
    fn admit(&mut self, mut stream: TcpStream) {
        let now = Instant::now();
        if self.conns.len() >= self.limits.max_connections {
            self.log_cap(now);
            let oldest_waiting = self
                .conns
                .iter()
                .find(|(_, c)| matches!(c.state, State::Head(_)))
                .map(|(&token, _)| token);
            match oldest_waiting {
                Some(token) => self.close(token),
                // Every held connection is being answered: this one waits for nothing.
                None => return,
            }
        }
        let token = self.take_token();
        let registered = self.poll.registry().register(
            &mut stream,
            Token(token),
            Interest::READABLE | Interest::WRITABLE,
        );
        if registered.is_err() {
            return;
        }
        let _ = stream.set_nodelay(true);
        self.conns.insert(
            token,
            Conn {
                stream,
                deadline: now + self.limits.read_timeout,
                state: State::Head(Vec::new()),
            },
        );
        // Its request may be there already: read it before a later accept in this
        // batch could take its slot.
        self.advance(token);
    }

    /// The next free connection token (they grow; after `usize::MAX` they start over).
    fn take_token(&mut self) -> usize {
        loop {
            let token = self.next_token;
            self.next_token = token.checked_add(1).unwrap_or(FIRST_CONNECTION);
            if !self.conns.contains_key(&token) {
                return token;
            }
        }
    }

    fn log_cap(&mut self, now: Instant) {
        if self
            .cap_logged
            .is_none_or(|at| now.duration_since(at) >= CAP_LOG_INTERVAL)
        {
            self.cap_logged = Some(now);
            emit(
                self.log.as_ref(),
                &format!(
                    "memwatchdog: /metrics server holds {} connections, its limit: each new \
                     one closes the oldest that has not sent its request yet",
                    self.conns.len()
                ),
            );
        }
    }

    /// Lets connection `token` make what progress its socket allows; closes it when
    /// it is done or broken.
    fn advance(&mut self, token: usize) {
        let Some(conn) = self.conns.get_mut(&token) else {
            return; // closed earlier in this round of events
        };
        if !conn.advance(&self.metrics, self.limits.write_timeout) {
            self.close(token);
        }
    }

    fn close(&mut self, token: usize) {
        if let Some(mut conn) = self.conns.remove(&token) {
            let _ = self.poll.registry().deregister(&mut conn.stream);
        }
    }

    /// Closes every connection past its deadline.
    fn expire(&mut self, now: Instant) {
        let registry = self.poll.registry();
        self.conns.retain(|_, conn| {
            let keep = conn.deadline > now;
            if !keep {
                let _ = registry.deregister(&mut conn.stream);
            }
            keep
        });
    }
}

impl Conn {
    /// Reads the head, once it is complete renders the answer, and writes what the
    /// socket takes. `false`: the connection is done with (answered, abandoned or
    /// broken).
    fn advance(&mut self, metrics: &Metrics, write_timeout: Duration) -> bool {
        if let State::Head(buf) = &mut self.state {
            match read_head(&mut self.stream, buf) {
                Head::Pending => return true,
                Head::Abandoned => return false,
                Head::Complete(routed) => {
                    self.state = State::Answer {
                        response: respond(routed, metrics),
                        sent: 0,
                    };
                    self.deadline = Instant::now() + write_timeout;
                }
            }
        }
        if let State::Answer { response, sent } = &mut self.state {
            match write_out(&mut self.stream, response, sent) {
                Ok(false) => return true,
                Ok(true) => {
                    let _ = self.stream.shutdown(Shutdown::Write);
                }
                Err(_) => {}
            }
        }
        false
    }
}

/// Where reading a request head got to.
#[derive(Debug, PartialEq, Eq)]
enum Head {
    /// Not all there yet; wait for more.
    Pending,
    /// Complete (or cut short by the client after some bytes): answer this.
    Complete(Route),
    /// Closed or reset before sending anything: nothing to answer.
    Abandoned,
}

/// Reads from a non-blocking `stream` into `buf` until the head is complete or the
/// socket has nothing more for now.
fn read_head(stream: &mut impl Read, buf: &mut Vec<u8>) -> Head {
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = head_end(buf) {
            return Head::Complete(route(&buf[..end]));
        }
        if buf.len() > MAX_HEAD {
            return Head::Complete(Route::HeadTooLarge);
        }
        match stream.read(&mut chunk) {
            Ok(0) if buf.is_empty() => return Head::Abandoned,
            // Closed before a full head: answer what we have.
            Ok(0) => return Head::Complete(route(buf)),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Head::Pending,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Head::Abandoned,
        }
    }
}

/// Writes `response[*sent..]` to a non-blocking `stream`: `Ok(true)` when all of it
/// is out, `Ok(false)` when the socket takes no more for now.
fn write_out(stream: &mut impl Write, response: &[u8], sent: &mut usize) -> io::Result<bool> {
    while *sent < response.len() {
        match stream.write(&response[*sent..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => *sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// The whole HTTP response to `routed`, rendering the exposition for `/metrics`.
fn respond(routed: Route, metrics: &Metrics) -> Vec<u8> {
    let (status, content_type, body, head_only): (&str, &str, Cow<str>, bool) = match routed {
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
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::net::{TcpListener as StdListener, TcpStream as StdStream};

    fn get(addr: SocketAddr, request: &str) -> String {
        let mut s = StdStream::connect(addr).unwrap();
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
            StdStream::connect(addr).is_err(),
            "port still open after stop"
        );
        server.stop(); // idempotent
    }

    #[test]
    fn port_in_use_is_a_clear_error() {
        let taken = StdListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = MetricsServer::start("127.0.0.1", port, Arc::default()).unwrap_err();
        assert!(matches!(err, ExporterError::PortInUse { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("port {port} on 127.0.0.1 is already in use")
        );
    }

    #[test]
    fn serves_and_stops_on_an_unspecified_host() {
        let mut server = MetricsServer::start("0.0.0.0", 0, Arc::default()).unwrap();
        let port = server.local_port();
        let r = get(
            SocketAddr::from(([127, 0, 0, 1], port)),
            "GET /metrics HTTP/1.0\r\n\r\n",
        );
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        server.stop();
        StdListener::bind(("0.0.0.0", port)).expect("port still taken after stop");
    }

    #[test]
    fn a_zero_connection_limit_still_serves_one_at_a_time() {
        let limits = ServerLimits {
            max_connections: 0,
            ..ServerLimits::default()
        };
        let server =
            MetricsServer::start_with_limits("127.0.0.1", 0, Arc::default(), None, limits).unwrap();
        let r = get(server.local_addr(), "GET / HTTP/1.1\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    }

    /// A non-blocking socket's side of a conversation: each step is what one call gets.
    struct Script(VecDeque<io::Result<Vec<u8>>>);

    impl Script {
        fn new(steps: Vec<io::Result<&[u8]>>) -> Script {
            Script(steps.into_iter().map(|s| s.map(<[u8]>::to_vec)).collect())
        }
    }

    fn would_block<T>() -> io::Result<T> {
        Err(io::ErrorKind::WouldBlock.into())
    }

    impl Read for Script {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            match self.0.pop_front() {
                None => would_block(),
                Some(Err(e)) => Err(e),
                Some(Ok(bytes)) => {
                    assert!(bytes.len() <= out.len());
                    out[..bytes.len()].copy_from_slice(&bytes);
                    Ok(bytes.len())
                }
            }
        }
    }

    #[test]
    fn a_head_is_read_across_readiness_events() {
        let mut buf = Vec::new();
        let mut socket = Script::new(vec![Ok(b"GET /met"), would_block()]);
        assert_eq!(read_head(&mut socket, &mut buf), Head::Pending);
        let mut socket = Script::new(vec![
            Err(io::ErrorKind::Interrupted.into()),
            Ok(b"rics HTTP/1.1\r\nHost: x\r\n"),
            Ok(b"\r\n"),
        ]);
        assert_eq!(
            read_head(&mut socket, &mut buf),
            Head::Complete(Route::Metrics { head_only: false })
        );
        assert!(socket.0.is_empty());
    }

    #[test]
    fn a_head_cut_short_is_answered_and_nothing_is_abandoned() {
        let mut buf = Vec::new();
        let mut socket = Script::new(vec![Ok(b"GET / HTTP/1.1\r\n"), Ok(b"")]);
        assert_eq!(
            read_head(&mut socket, &mut buf),
            Head::Complete(Route::Index { head_only: false })
        );
        let mut buf = Vec::new();
        assert_eq!(
            read_head(&mut Script::new(vec![Ok(b"")]), &mut buf),
            Head::Abandoned
        );
        let reset = Script::new(vec![Err(io::ErrorKind::ConnectionReset.into())]);
        assert_eq!(read_head(&mut { reset }, &mut buf), Head::Abandoned);
    }

    #[test]
    fn an_endless_head_is_too_large() {
        let line = [b'a'; 1024];
        let mut socket = Script::new((0..=MAX_HEAD / 1024).map(|_| Ok(&line[..])).collect());
        let mut buf = Vec::new();
        assert_eq!(
            read_head(&mut socket, &mut buf),
            Head::Complete(Route::HeadTooLarge)
        );
        assert!(buf.len() <= MAX_HEAD + 1024);
    }

    /// A socket that takes at most `room` bytes, then would block.
    struct Tight {
        taken: Vec<u8>,
        room: usize,
    }

    impl Write for Tight {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return would_block();
            }
            let n = bytes.len().min(self.room).min(7);
            self.room -= n;
            self.taken.extend_from_slice(&bytes[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_response_is_written_as_the_socket_takes_it() {
        let response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        let mut socket = Tight {
            taken: Vec::new(),
            room: 20,
        };
        let mut sent = 0;
        assert!(!write_out(&mut socket, response, &mut sent).unwrap());
        assert_eq!(sent, 20);
        socket.room = 1000;
        assert!(write_out(&mut socket, response, &mut sent).unwrap());
        assert_eq!(socket.taken, response);
    }

    #[test]
    fn responses_say_close_and_head_omits_the_body() {
        let metrics = Metrics::default();
        let get =
            String::from_utf8(respond(Route::Metrics { head_only: false }, &metrics)).unwrap();
        let head =
            String::from_utf8(respond(Route::Metrics { head_only: true }, &metrics)).unwrap();
        let (get_head, body) = get.split_once("\r\n\r\n").unwrap();
        assert_eq!(format!("{get_head}\r\n\r\n"), head);
        assert!(get_head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())));
        assert!(get_head.contains("\r\nConnection: close"));
        assert!(body.starts_with("# HELP "), "{body}");
    }
}
