//! [`Config`]: everything `mw agent` is told, already checked by the command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use memwatchdog_offload::StoreConfig;

/// How the agent runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The artifact directory the watchdog writes to (`MEMWATCHDOG_SNAPSHOT_DIR`), watched
    /// with its subdirectories. It may not exist yet: the watchdog creates it at start.
    pub dir: PathBuf,
    /// Where finished files go; `None`: nothing is uploaded (analysis and the receiver only).
    pub store: Option<StoreConfig>,
    /// The pod's namespace: the first segment of every object key.
    pub namespace: String,
    /// The pod's name: the second segment of every object key.
    pub pod: String,
    /// Delete each local file once its upload is confirmed (the newest baseline of each
    /// process stays: the next leak snapshot is diffed against it).
    pub delete_after_upload: bool,
    /// Upload heap snapshots scrubbed (`mw scrub`: string contents replaced), and analyze
    /// the scrubbed copies, so nothing that leaves the pod holds the heap's strings.
    pub scrub: bool,
    /// Analyze each leak snapshot against its baseline (and near-heap-limit snapshots alone).
    pub analyze: bool,
    /// Largest snapshot analyzed: the analysis needs about 1.2 times its size in memory.
    pub analyze_max_bytes: u64,
    /// The `mw` binary that analyzes and scrubs, as a child process: a failure or an
    /// out-of-memory kill of one analysis does not take the agent down.
    pub mw: PathBuf,
    /// Where `/metrics`, `/healthz` and `/alertmanager` are served.
    pub listen: SocketAddr,
    /// Where each new MemWatchdog alert is forwarded with its analysis (a JSON body with a
    /// `text` field, which Slack-compatible incoming webhooks accept).
    pub notify_url: Option<String>,
    /// How long a firing alert waits for an analysis written after it started before it is
    /// forwarded with what there is.
    pub notify_wait: Duration,
    /// How long a file must stay unchanged to be taken as finished.
    pub settle: Duration,
    /// Time between scans of the directory.
    pub poll: Duration,
    /// Where scrubbed copies are made (default `<dir>/.mw-agent`, on the same volume).
    pub work_dir: PathBuf,
    /// Longest wait between two attempts to upload a file.
    pub max_backoff: Duration,
}
