//! Scrape latency of the `/metrics` server while idle TCP connections are held open
//! (issue #17, item 2): `make bench-metrics`, results in `docs/benchmarks-metrics-server.md`.
//!
//! The server runs in a child process (this binary with `--serve`), as it runs in a
//! user's Node process while Prometheus scrapes from another. For each `--idle` count the
//! load generator:
//!
//! - opens that many TCP connections that send nothing and keeps them open: one the
//!   server closes is opened again at once, so the server always has that many idle
//!   clients (a neighbour doing this on purpose would do the same). A connection the
//!   server's backlog has no room for (its connect takes more than 20 ms) is tried
//!   again in the next round, 10 ms later; `held` is how many were open when the
//!   scrapes ended;
//! - scrapes `/metrics` `--rate` times a second for `--seconds`, open-loop: scrape `i` is
//!   due at `start + i / rate`, and its latency runs from when it was due to the last
//!   byte of a complete `200` response, so a slow server is not hidden by a client that
//!   waits for it (up to `--workers` scrapes are in flight at once);
//! - counts a scrape as an error when it is not answered in full within `--timeout-ms`
//!   of being due (Prometheus' default scrape timeout is 10 s), when the connection is
//!   refused or reset, or when the answer is not a `200` with the exposition;
//! - reports p50, p90, p99 and max latency of the answered scrapes, the errors, how
//!   often the idle connections were closed by the server, and the server process's CPU
//!   time over the run.
//!
//! Only loopback addresses are used, and every loop is bounded in count and time.
//!
//! ```text
//! scrape_load [--idle 0,200] [--rate 100] [--seconds 20] [--timeout-ms 10000] [--workers 256]
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use memwatchdog_exporter::{GcKind, Metrics, MetricsServer};

/// How the load generator runs; see the module docs.
#[derive(Debug, Clone)]
struct Config {
    idle: Vec<usize>,
    rate: u32,
    seconds: u32,
    timeout: Duration,
    workers: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--serve") {
        serve();
        return;
    }
    let config = match parse(&args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("scrape_load: {message}");
            eprintln!(
                "usage: scrape_load [--idle 0,200] [--rate 100] [--seconds 20] \
                 [--timeout-ms 10000] [--workers 256]"
            );
            std::process::exit(2);
        }
    };
    println!(
        "scrape_load: {} scrapes/s for {} s per run, timeout {} ms, up to {} in flight; \
         {} core(s)",
        config.rate,
        config.seconds,
        config.timeout.as_millis(),
        config.workers,
        thread::available_parallelism().map_or(0, std::num::NonZero::get),
    );
    println!(
        "{:>5} {:>5} {:>7} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "idle",
        "held",
        "scrapes",
        "errors",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "reopened",
        "server cpu"
    );
    for &idle in &config.idle {
        let report = run(&config, idle);
        println!("{report}");
    }
}

fn parse(args: &[String]) -> Result<Config, String> {
    let mut config = Config {
        idle: vec![0, 200],
        rate: 100,
        seconds: 20,
        timeout: Duration::from_secs(10),
        workers: 256,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| -> Result<u64, String> {
            v.parse::<u64>()
                .map_err(|_| format!("{flag} {v:?} is not a whole number"))
        };
        match flag.as_str() {
            "--idle" => {
                config.idle = value
                    .split(',')
                    .map(|v| number(v).map(|n| n as usize))
                    .collect::<Result<_, _>>()?;
            }
            "--rate" => config.rate = number(value)?.clamp(1, 10_000) as u32,
            "--seconds" => config.seconds = number(value)?.clamp(1, 3_600) as u32,
            "--timeout-ms" => config.timeout = Duration::from_millis(number(value)?.max(1)),
            "--workers" => config.workers = number(value)?.clamp(1, 4_096) as usize,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(config)
}

/// The child process: a server on a free loopback port with realistic metrics. Prints
/// the port, serves until its standard input closes, then stops.
fn serve() {
    let metrics = Arc::new(Metrics::default());
    metrics.set_heap_used_bytes(52_000_000);
    metrics.set_heap_total_bytes(64_000_000);
    metrics.set_heap_floor_bytes(48_000_000);
    metrics.set_heap_slope_bytes_per_ms(12.5);
    metrics.set_rss_bytes(120_000_000);
    for i in 0..500u64 {
        metrics.observe_gc(GcKind::Minor, Duration::from_micros(100 + i * 7));
        metrics.observe_gc(GcKind::Major, Duration::from_micros(2_000 + i * 31));
    }
    let mut server = MetricsServer::start("127.0.0.1", 0, metrics).expect("start the server");
    println!("{}", server.local_port());
    io::stdout().flush().expect("stdout");
    let mut sink = Vec::new();
    let _ = io::stdin().read_to_end(&mut sink);
    server.stop();
}

/// The server process of one run.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start() -> Server {
        let exe = std::env::current_exe().expect("own path");
        let mut child = Command::new(exe)
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the server process");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("read the port");
        let port: u16 = line.trim().parse().expect("a port");
        Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    /// User plus system CPU time of the server process so far.
    fn cpu(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name, which is in parentheses: utime and stime are the
        // 14th and 15th fields of the line, the 12th and 13th after ") ".
        let ticks: u64 = stat.rsplit_once(") ").map_or(0, |(_, rest)| {
            rest.split(' ')
                .skip(11)
                .take(2)
                .filter_map(|v| v.parse::<u64>().ok())
                .sum()
        });
        Duration::from_millis(ticks * 1000 / clock_ticks())
    }

    fn stop(mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// `sysconf(_SC_CLK_TCK)`, through `getconf` (100 on Linux).
fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// What one run measured.
struct Report {
    idle: usize,
    held: usize,
    scrapes: usize,
    errors: usize,
    latencies: Vec<Duration>,
    reopened: u64,
    server_cpu: Duration,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |q: f64| -> String {
            if self.latencies.is_empty() {
                return "-".to_owned();
            }
            let i = ((self.latencies.len() as f64 * q).ceil() as usize)
                .clamp(1, self.latencies.len())
                - 1;
            format!("{:.2}", self.latencies[i].as_secs_f64() * 1e3)
        };
        write!(
            f,
            "{:>5} {:>5} {:>7} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9.2}s",
            self.idle,
            self.held,
            self.scrapes,
            self.errors,
            ms(0.50),
            ms(0.90),
            ms(0.99),
            ms(1.0),
            self.reopened,
            self.server_cpu.as_secs_f64(),
        )
    }
}

/// One run against a fresh server: `idle` idle connections, then the scrapes.
fn run(config: &Config, idle: usize) -> Report {
    let server = Server::start();
    let addr = server.addr;
    let done = Arc::new(AtomicBool::new(false));
    let reopened = Arc::new(AtomicU64::new(0));
    let held = Arc::new(AtomicUsize::new(0));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let idler = {
        let (done, reopened, held) = (Arc::clone(&done), Arc::clone(&reopened), Arc::clone(&held));
        thread::spawn(move || hold_idle(addr, idle, &done, &reopened, &held, &ready_tx))
    };
    ready_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("idle connections opened");

    let cpu_before = server.cpu();
    let total = config.rate as usize * config.seconds as usize;
    let period = Duration::from_secs(1) / config.rate;
    let start = Instant::now() + Duration::from_millis(100);
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let errors = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..config.workers.min(total))
        .map(|_| {
            let (next, latencies, errors) = (
                Arc::clone(&next),
                Arc::clone(&latencies),
                Arc::clone(&errors),
            );
            let timeout = config.timeout;
            thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        return;
                    }
                    let due = start + period * i as u32;
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        thread::sleep(wait);
                    }
                    match scrape(addr, due + timeout) {
                        Ok(()) => latencies.lock().unwrap().push(due.elapsed()),
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("scrape worker");
    }
    let server_cpu = server.cpu().saturating_sub(cpu_before);
    let held = held.load(Ordering::Relaxed);
    done.store(true, Ordering::Relaxed);
    idler.join().expect("idle holder");
    server.stop();

    let mut latencies = std::mem::take(&mut *latencies.lock().unwrap());
    latencies.sort_unstable();
    Report {
        idle,
        held,
        scrapes: total,
        errors: errors.load(Ordering::Relaxed),
        latencies,
        reopened: reopened.load(Ordering::Relaxed),
        server_cpu,
    }
}

/// Keeps `count` connections to `addr` open and silent until `done`, opening again each
/// one the server closes, and counts the open ones in `held`. Says `ready` once it tried
/// to open all.
fn hold_idle(
    addr: SocketAddr,
    count: usize,
    done: &AtomicBool,
    reopened: &AtomicU64,
    held: &AtomicUsize,
    ready: &std::sync::mpsc::Sender<()>,
) {
    let connect = || {
        let s = TcpStream::connect_timeout(&addr, Duration::from_millis(20)).ok()?;
        s.set_nonblocking(true).ok()?;
        Some(s)
    };
    let mut slots: Vec<Option<TcpStream>> = (0..count).map(|_| connect()).collect();
    let _ = ready.send(());
    let mut byte = [0u8; 1];
    while !done.load(Ordering::Relaxed) {
        for slot in &mut slots {
            let closed = match slot {
                None => true,
                Some(s) => match s.read(&mut byte) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
                    // EOF, data (there should be none) or a reset: the server let go.
                    _ => true,
                },
            };
            if closed {
                if slot.is_some() {
                    reopened.fetch_add(1, Ordering::Relaxed);
                }
                *slot = connect();
            }
        }
        held.store(slots.iter().flatten().count(), Ordering::Relaxed);
        thread::sleep(Duration::from_millis(10));
    }
}

/// One scrape, complete by `deadline`: a `200` with the exposition, read to the end.
fn scrape(addr: SocketAddr, deadline: Instant) -> io::Result<()> {
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| io::Error::from(io::ErrorKind::TimedOut))
    };
    let mut s = TcpStream::connect_timeout(&addr, left()?)?;
    s.set_nodelay(true)?;
    s.set_write_timeout(Some(left()?))?;
    s.write_all(
        b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: scrape_load\r\n\
          Accept: text/plain;version=0.0.4\r\n\r\n",
    )?;
    let mut response = Vec::with_capacity(16 * 1024);
    let mut chunk = [0u8; 16 * 1024];
    loop {
        s.set_read_timeout(Some(left()?))?;
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let text = String::from_utf8_lossy(&response);
    let complete = text.starts_with("HTTP/1.1 200 OK\r\n")
        && text.contains("\nmemwatchdog_heap_used_bytes 52000000\n");
    if complete {
        Ok(())
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidData, "not a full 200"))
    }
}
