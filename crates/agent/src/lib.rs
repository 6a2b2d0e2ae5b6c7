//! `mw agent`: the Kubernetes sidecar beside a watched Node.js container.
//!
//! It watches the artifact directory the in-process watchdog writes to (a volume shared by
//! the two containers) and, for each finished file:
//!
//! 1. analyzes leak snapshots against their process's baseline, and near-heap-limit
//!    snapshots alone, with `mw analyze` in a child process (off the app's CPU and memory
//!    budget), writing `….analysis.json` and `….analysis.html` beside them;
//! 2. uploads snapshots, heap profiles and reports to S3-compatible storage
//!    ([`memwatchdog_offload`]) under `<namespace>/<pod>/<date>/<file>` — scrubbed first
//!    with `--scrub` — and deletes the local copy when told to;
//! 3. serves `/metrics`, `/healthz`, and `/alertmanager`: each new MemWatchdog alert
//!    Alertmanager sends there is forwarded to a webhook with the pod's newest analysis
//!    (top suspect, top allocation site, report location), once per fingerprint and status.
//!
//! Layout: pure decisions in [`artifact`] (what a file is), [`settle`] (when it is
//! finished), [`plan`] (pairs, what stays), [`webhook`] (alerts, deduplication) and
//! [`notify::body`]; IO in [`scan`], [`analyze`], [`findings`], [`pipeline`] and
//! [`server`]. It runs on tokio because `object_store` is async; nothing of it is linked
//! into the Node addon.

pub mod analyze;
pub mod artifact;
pub mod config;
pub mod findings;
pub mod log;
pub mod metrics;
pub mod notify;
pub mod pipeline;
pub mod plan;
pub mod scan;
pub mod server;
pub mod settle;
pub mod shared;
pub mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;

use memwatchdog_offload::{OffloadError, Store};
use serde_json::json;
use thiserror::Error;

pub use config::Config;

/// Why the agent could not start or had to stop.
#[derive(Debug, Error)]
pub enum AgentError {
    /// The object store configuration is wrong.
    #[error(transparent)]
    Store(#[from] OffloadError),
    /// The HTTP port cannot be bound.
    #[error(
        "cannot listen on {addr}: {source} (another process has the port? choose one with --listen)"
    )]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The async runtime or the server failed.
    #[error("the agent's runtime failed: {0}")]
    Runtime(std::io::Error),
}

/// Runs the agent until SIGTERM or SIGINT: starts its runtime, binds `--listen`, then scans
/// and serves. Returns after the file in hand is finished.
pub fn run(config: Config) -> Result<(), AgentError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("mw-agent")
        .enable_all()
        .build()
        .map_err(AgentError::Runtime)?
        .block_on(serve(config))
}

async fn serve(config: Config) -> Result<(), AgentError> {
    let store = config.store.as_ref().map(Store::open).transpose()?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| AgentError::Listen {
            addr: config.listen,
            source,
        })?;
    let listen = listener.local_addr().unwrap_or(config.listen);
    log::info(
        "mw agent started",
        json!({
            "dir": config.dir,
            "store": store.as_ref().map(Store::describe),
            "namespace": config.namespace,
            "pod": config.pod,
            "listen": listen.to_string(),
            "analyze": config.analyze,
            "scrub": config.scrub,
            "delete_after_upload": config.delete_after_upload,
            "notify": config.notify_url.as_deref().map(memwatchdog_exporter::redact_url),
            "version": env!("CARGO_PKG_VERSION"),
        }),
    );
    let shared = Arc::new(shared::Shared::new(config, store));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let pipeline = tokio::spawn(pipeline::Pipeline::new(Arc::clone(&shared)).run(stop_rx));
    let served = axum::serve(listener, server::router(Arc::clone(&shared)))
        .with_graceful_shutdown(stop_signal())
        .await;
    log::info("stopping: finishing the file in hand", json!({}));
    let _ = stop_tx.send(true);
    let _ = pipeline.await;
    served.map_err(AgentError::Runtime)
}

/// Resolves on SIGTERM (Kubernetes stopping the pod) or SIGINT.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
