//! [`Shared`]: the state the scan loop and the HTTP endpoints share.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64};

use memwatchdog_offload::Store;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::webhook::Deduplicator;

/// Alerts remembered for deduplication.
const DEDUP_CAPACITY: usize = 10_000;

/// What every task of the agent reads.
pub struct Shared {
    /// The configuration.
    pub config: Config,
    /// The object store, when one is configured.
    pub store: Option<Store>,
    /// The agent's metrics.
    pub metrics: Metrics,
    /// Forwarded alerts, by fingerprint.
    pub dedup: Mutex<Deduplicator>,
    /// The client that forwards alerts.
    pub http: reqwest::Client,
    /// True while the scan loop runs.
    pub running: AtomicBool,
    /// Unix time of the last finished scan.
    pub last_scan: AtomicU64,
}

impl Shared {
    /// The state of an agent about to start.
    #[must_use]
    pub fn new(config: Config, store: Option<Store>) -> Shared {
        memwatchdog_offload::install_crypto();
        Shared {
            config,
            store,
            metrics: Metrics::default(),
            dedup: Mutex::new(Deduplicator::new(DEDUP_CAPACITY)),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            running: AtomicBool::new(true),
            last_scan: AtomicU64::new(0),
        }
    }
}
