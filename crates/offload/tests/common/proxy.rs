//! A TCP proxy on a loopback port in front of a real server, which fails on purpose: it can
//! cut the connection that carries the Nth megabyte (once), hold the traffic after N bytes
//! until the test releases it, or be stopped (port closed: connection refused) and started
//! again on the same port. It can also note the `x-amz-checksum-sha256` headers of the
//! requests it forwards.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// What the proxy does to the bytes going to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward everything.
    None,
    /// The connection whose bytes cross this total (over all connections) is dropped
    /// without forwarding them; once.
    CutOnceAfter(u64),
    /// When the total crosses this, hold that connection until [`Proxy::release`]; once.
    PauseAfter(u64),
}

struct State {
    upstream: SocketAddr,
    forwarded: AtomicU64,
    fault: Mutex<Fault>,
    cuts: AtomicUsize,
    paused: Notify,
    release: Notify,
    sniff: std::sync::atomic::AtomicBool,
    checksums: Mutex<Vec<String>>,
}

/// The proxy; its accept loop and connections run on the test's tokio runtime.
pub struct Proxy {
    pub port: u16,
    state: Arc<State>,
    accept: Option<JoinHandle<()>>,
}

enum Step {
    Forward,
    Cut,
    Pause,
}

impl Proxy {
    /// A proxy to `127.0.0.1:upstream_port` on a free port.
    pub async fn start(upstream_port: u16, fault: Fault) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State {
            upstream: SocketAddr::from(([127, 0, 0, 1], upstream_port)),
            forwarded: AtomicU64::new(0),
            fault: Mutex::new(fault),
            cuts: AtomicUsize::new(0),
            paused: Notify::new(),
            release: Notify::new(),
            sniff: std::sync::atomic::AtomicBool::new(false),
            checksums: Mutex::new(Vec::new()),
        });
        let accept = Some(tokio::spawn(accept_loop(listener, Arc::clone(&state))));
        Proxy {
            port,
            state,
            accept,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Closes the port and every connection: the server is "down".
    pub async fn stop(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
            let _ = accept.await;
        }
    }

    /// Listens on the same port again.
    pub async fn restart(&mut self) {
        assert!(self.accept.is_none(), "the proxy is running");
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.accept = Some(tokio::spawn(accept_loop(listener, Arc::clone(&self.state))));
    }

    /// Waits until a [`Fault::PauseAfter`] holds a connection.
    pub async fn wait_paused(&self) {
        self.state.paused.notified().await;
    }

    /// Lets a held connection go on.
    pub fn release(&self) {
        self.state.release.notify_one();
    }

    /// Connections cut so far.
    pub fn cuts(&self) -> usize {
        self.state.cuts.load(Ordering::SeqCst)
    }

    /// From now on, note the values of `x-amz-checksum-sha256` request headers.
    pub fn note_checksums(&self) {
        self.state.sniff.store(true, Ordering::SeqCst);
    }

    /// The `x-amz-checksum-sha256` values noted so far, in order.
    pub fn checksums(&self) -> Vec<String> {
        self.state.checksums.lock().unwrap().clone()
    }

    /// Bytes sent to the server so far.
    pub fn forwarded(&self) -> u64 {
        self.state.forwarded.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
    }
}

/// Accepts until aborted; aborting drops the connections' `JoinSet`, which ends them.
async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        connections.spawn(pipe(client, Arc::clone(&state)));
        while connections.try_join_next().is_some() {}
    }
}

async fn pipe(client: TcpStream, state: Arc<State>) {
    let Ok(server) = TcpStream::connect(state.upstream).await else {
        return;
    };
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let up = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from_client.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    let _ = to_server.shutdown().await;
                    return true;
                }
                Ok(n) => n,
            };
            if state.sniff.load(Ordering::SeqCst) {
                note_checksums(&state, &buf[..n]);
            }
            let total = state.forwarded.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
            match step(&state, total) {
                Step::Cut => return false,
                Step::Pause => {
                    state.paused.notify_one();
                    state.release.notified().await;
                }
                Step::Forward => {}
            }
            if to_server.write_all(&buf[..n]).await.is_err() {
                return false;
            }
        }
    };
    let down = async {
        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
        let _ = to_client.shutdown().await;
    };
    tokio::pin!(up, down);
    tokio::select! {
        keep = &mut up => if keep { down.await },
        () = &mut down => {}
    }
    // Dropping both sockets here closes them (a cut: with unread data, the client gets a reset).
}

fn step(state: &State, total: u64) -> Step {
    let mut fault = state.fault.lock().unwrap();
    match *fault {
        Fault::CutOnceAfter(at) if total >= at => {
            *fault = Fault::None;
            state.cuts.fetch_add(1, Ordering::SeqCst);
            Step::Cut
        }
        Fault::PauseAfter(at) if total >= at => {
            *fault = Fault::None;
            Step::Pause
        }
        _ => Step::Forward,
    }
}

/// Notes every `x-amz-checksum-sha256: VALUE` header line in `chunk` (hyper writes header
/// names in lowercase, and a request head in one write).
fn note_checksums(state: &State, chunk: &[u8]) {
    const NAME: &[u8] = b"\r\nx-amz-checksum-sha256: ";
    let mut at = 0;
    while let Some(i) = chunk[at..].windows(NAME.len()).position(|w| w == NAME) {
        let start = at + i + NAME.len();
        let end = chunk[start..]
            .iter()
            .position(|&b| b == b'\r')
            .map_or(chunk.len(), |e| start + e);
        let value = String::from_utf8_lossy(&chunk[start..end]).into_owned();
        state.checksums.lock().unwrap().push(value);
        at = end;
    }
}
