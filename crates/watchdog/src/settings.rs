//! [`Settings`]: one watchdog's resolved configuration, as plain Rust values (the addon
//! translates the options JS resolved into these).

use std::path::PathBuf;

use memwatchdog_detect::Config;
use memwatchdog_exporter::AlerterConfig;
use memwatchdog_snapguard::Policy;

use crate::analysis::DEFAULT_ANALYZE_MAX_BYTES;

/// Everything [`crate::Watchdog::start`] needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The detector's configuration (validated when the watchdog starts).
    pub detector: Config,
    /// The `service` label (metrics and alerts); empty: none.
    pub service: String,
    /// The name the service label has on metrics (`service` by default; `None`: metrics carry
    /// no service label, e.g. behind a Kubernetes `ServiceMonitor` whose target has its own).
    pub service_label: Option<String>,
    /// Constant labels added to every metric sample.
    pub metric_labels: std::collections::BTreeMap<String, String>,
    /// Version of `@memwatchdog/core` (`memwatchdog_info{version}`).
    pub version: String,
    /// Where `/metrics` listens (`port` 0: any free port); `None`: no server.
    pub prometheus: Option<(String, u16)>,
    /// Whether the metrics include what prom-client's default metrics also export
    /// ([`memwatchdog_exporter::MetricsOptions::process_metrics`]).
    pub process_metrics: bool,
    /// The Alertmanager client's configuration; `None`: no alerts.
    pub alerter: Option<AlerterConfig>,
    /// The CSV trace of the samples: path and size cap; `None`: no trace.
    pub trace: Option<(PathBuf, u64)>,
    /// When a snapshot is safe to write.
    pub snapshot_policy: Policy,
    /// Minimum time between leak snapshots (ms).
    pub snapshot_cooldown_ms: u64,
    /// User-set memory limit that replaces the cgroup limit in the snapshot headroom check.
    pub snapshot_memory_limit_bytes: Option<u64>,
    /// Write snapshots even where no memory figure can be read (no `/proc`, no cgroup, no
    /// `snapshot_memory_limit_bytes`); otherwise they are refused as `memory_unknown`.
    pub snapshot_allow_unknown_memory: bool,
    /// Largest leak snapshot analyzed in the background for the alert (0: never).
    pub analyze_max_bytes: u64,
    /// Root of `/proc` and `/sys` (tests point it at a temporary tree).
    pub system_root: PathBuf,
}

impl Default for Settings {
    /// No server, no alerts, no trace; the detector's and the snapshot guard's defaults.
    fn default() -> Self {
        Settings {
            detector: Config::default(),
            service: String::new(),
            service_label: Some("service".to_owned()),
            metric_labels: std::collections::BTreeMap::new(),
            version: String::new(),
            prometheus: None,
            process_metrics: true,
            alerter: None,
            trace: None,
            snapshot_policy: Policy::default(),
            snapshot_cooldown_ms: 0,
            snapshot_memory_limit_bytes: None,
            snapshot_allow_unknown_memory: false,
            analyze_max_bytes: DEFAULT_ANALYZE_MAX_BYTES,
            system_root: PathBuf::from("/"),
        }
    }
}
