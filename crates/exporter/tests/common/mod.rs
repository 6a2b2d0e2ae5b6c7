//! Helpers for the integration tests: find the real Prometheus/Alertmanager binaries,
//! start private instances on free loopback ports with temporary storage, wait until
//! they are ready, and kill them on drop.
//!
//! A missing binary fails the test, locally as in CI, with the command that installs it.

#![allow(dead_code)] // each test binary uses a different part

use std::fs;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Debian packages that provide the binaries.
const INSTALL_HINT: &str = "install it with: apt-get install -y prometheus prometheus-alertmanager";

/// The binary's path; panics with what to install when it is missing.
pub fn require_binary(path: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(
        p.is_file(),
        "{path} not found: this test runs against the real thing; {INSTALL_HINT}"
    );
    p
}

/// A loopback port that was free a moment ago (another process may take it before it is
/// bound: [`Service`]s started on a port of their choosing retry with another).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// Polls `f` every 50 ms until it returns `Some`, or panics after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A plain HTTP/1.0 GET over a socket: `(status, body)`, or `None` if unreachable.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// A service process started by a test; killed (and its temp dir removed) on drop.
pub struct Service {
    name: &'static str,
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

/// How often a service is started again on another port when its port was taken between
/// [`free_port`] and its bind.
const PORT_ATTEMPTS: usize = 5;

impl Service {
    /// Starts `binary` with `args(port)` (where `{dir}` is replaced by the temp dir, which
    /// holds `config`: a file name and its text), logging to `{dir}/log`, and waits until
    /// `GET /-/ready` on `port` answers 200. With `port` `None` it picks a free one, and picks
    /// again if another process took it first.
    fn start(
        name: &'static str,
        binary: &Path,
        args: impl Fn(u16) -> Vec<String>,
        port: Option<u16>,
        config: (&str, &str),
    ) -> Service {
        for _ in 0..PORT_ATTEMPTS {
            let attempt = port.unwrap_or_else(free_port);
            match Service::try_start(name, binary, &args, attempt, config) {
                Ok(service) => return service,
                Err(log) if port.is_none() && log.contains("address already in use") => {}
                Err(log) => panic!("{name} did not start:\n{log}"),
            }
        }
        panic!("{name}: {PORT_ATTEMPTS} free ports were taken before it could bind them");
    }

    /// `Err(log)` when the process exited before it was ready.
    fn try_start(
        name: &'static str,
        binary: &Path,
        args: &impl Fn(u16) -> Vec<String>,
        port: u16,
        (file, text): (&str, &str),
    ) -> Result<Service, String> {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(file), text).unwrap();
        let log = fs::File::create(dir.path().join("log")).unwrap();
        let args: Vec<String> = args(port)
            .iter()
            .map(|a| a.replace("{dir}", &dir.path().display().to_string()))
            .collect();
        let child = Command::new(binary)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .current_dir(dir.path())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut service = Service {
            name,
            child,
            port,
            dir,
        };
        let ready = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some((200, _)) = http_get(port, "/-/ready") {
                return Ok(service);
            }
            if let Ok(Some(_)) = service.child.try_wait() {
                return Err(service.log());
            }
            assert!(
                Instant::now() < ready,
                "{name} not ready after 30 s:\n{}",
                service.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The service's combined stdout/stderr so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        http_get(self.port, path)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- {} log ---\n{}", self.name, self.log());
        }
    }
}

/// Starts Prometheus scraping `127.0.0.1:{target_port}` every second.
pub fn prometheus(target_port: u16) -> Service {
    let binary = require_binary("/usr/bin/prometheus");
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         scrape_configs:\n  - job_name: memwatchdog\n    static_configs:\n\
         \x20     - targets: ['127.0.0.1:{target_port}']\n"
    );
    let args = move |port: u16| {
        vec![
            "--config.file={dir}/prometheus.yml".to_owned(),
            "--storage.tsdb.path={dir}/data".to_owned(),
            format!("--web.listen-address=127.0.0.1:{port}"),
        ]
    };
    Service::start(
        "prometheus",
        &binary,
        args,
        None,
        ("prometheus.yml", &config),
    )
}

/// Starts Alertmanager (clustering off) on a free port.
pub fn alertmanager() -> Service {
    alertmanager_at(None)
}

/// Starts Alertmanager (clustering off) on `port`, which a client already sends to; `None`:
/// on a free port.
pub fn alertmanager_at(port: Option<u16>) -> Service {
    let binary = require_binary("/usr/bin/prometheus-alertmanager");
    let args = |port: u16| {
        vec![
            "--config.file={dir}/alertmanager.yml".to_owned(),
            "--storage.path={dir}/data".to_owned(),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--cluster.listen-address=".to_owned(),
        ]
    };
    Service::start(
        "alertmanager",
        &binary,
        args,
        port,
        (
            "alertmanager.yml",
            "route:\n  receiver: \"null\"\nreceivers:\n  - name: \"null\"\n",
        ),
    )
}

/// Sets every metric of `m`, so each family has samples.
pub fn populate(m: &memwatchdog_exporter::Metrics) {
    use memwatchdog_exporter::{DetectorState, GcKind, Signal};
    m.set_heap_slope_bytes_per_ms(312.5);
    m.set_heap_floor_bytes(52_428_800);
    m.set_heap_used_bytes(61_000_000);
    m.set_heap_total_bytes(80_000_000);
    m.set_external_bytes(2_000_000);
    m.set_array_buffers_bytes(1_000_000);
    m.set_rss_bytes(150_000_000);
    m.set_heap_limit_bytes(4_345_298_944);
    m.set_memory_limit_bytes(Some(536_870_912));
    m.set_exhaustion_seconds(Some(1_534.2), None);
    m.inc_leak_alert();
    for signal in Signal::ALL {
        m.set_detector_state(signal, DetectorState::Suspect);
    }
    for kind in GcKind::ALL {
        m.observe_gc(kind, Duration::from_micros(1500));
    }
    m.record_snapshot_written(Duration::from_millis(2500));
    m.record_snapshot_failure("io");
    m.record_snapshot_refused("memory_headroom");
    m.add_alerts_sent(1);
    m.inc_alert_send_failures();
    m.inc_alert_queue_dropped();
}
