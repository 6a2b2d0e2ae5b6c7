//! moto's S3 server (`moto_server`, from the `moto[server]` package), started on a free
//! loopback port for one test and killed on drop; raw HTTP for what `object_store` cannot do
//! (create a bucket, list unfinished multipart uploads). moto checks no signature, so these
//! go unsigned.
//!
//! A missing `moto_server` fails the test when `CI` is set; elsewhere the test is skipped
//! with the reason printed.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to get `moto_server`.
const INSTALL_HINT: &str =
    "install it with: python3 -m pip install 'moto[server]==5.2.1' (.ci/run does)";

/// A running moto S3 server.
pub struct Moto {
    child: Child,
    pub port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Moto {
    /// Starts moto, or returns `None` (after printing why) when `moto_server` is not
    /// installed outside CI. Panics in CI without it, or if it does not start.
    pub fn start() -> Option<Moto> {
        let Some(binary) = find_in_path("moto_server") else {
            let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
            assert!(
                !ci,
                "moto_server is not on PATH and CI is set: {INSTALL_HINT}"
            );
            eprintln!("SKIPPED: moto_server is not on PATH ({INSTALL_HINT})");
            return None;
        };
        for _ in 0..5 {
            let port = free_port();
            let dir = tempfile::tempdir().unwrap();
            let log = dir.path().join("moto.log");
            let out = std::fs::File::create(&log).unwrap();
            let child = Command::new(&binary)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            let mut moto = Moto {
                child,
                port,
                log,
                _dir: dir,
            };
            if moto.wait_ready(Duration::from_secs(60)) {
                return Some(moto);
            }
            // The port was taken between free_port and moto's bind: try another.
        }
        panic!("moto_server did not start on any of 5 ports");
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates `bucket`.
    pub fn create_bucket(&self, bucket: &str) {
        let (status, body) = http(self.port, "PUT", &format!("/{bucket}"));
        assert_eq!(status, 200, "creating bucket {bucket}: {body}");
    }

    /// Multipart uploads started and neither completed nor aborted, in `bucket`.
    pub fn unfinished_uploads(&self, bucket: &str) -> usize {
        let (status, body) = http(self.port, "GET", &format!("/{bucket}?uploads"));
        assert_eq!(status, 200, "listing multipart uploads: {body}");
        body.matches("<UploadId>").count()
    }

    fn wait_ready(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                if log.contains("Address already in use") {
                    return false;
                }
                panic!("moto_server exited ({status}) before listening:\n{log}");
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on {} within {timeout:?}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// One unsigned HTTP/1.1 request without a body: `(status, body)`.
fn http(port: u16, method: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("moto is not listening");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_owned())
}
