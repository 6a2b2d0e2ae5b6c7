//! The agent's own `/metrics` (Prometheus text format, via `prometheus-client`).
//!
//! | name | type | labels |
//! | --- | --- | --- |
//! | `memwatchdog_agent_uploads_total` | counter | `kind` (snapshot, profile, report) |
//! | `memwatchdog_agent_upload_bytes_total` | counter | — |
//! | `memwatchdog_agent_upload_failures_total` | counter | `reason` (network, rejected, verify, changed, io, ...) |
//! | `memwatchdog_agent_upload_duration_seconds` | histogram | — |
//! | `memwatchdog_agent_queue_files` / `memwatchdog_agent_queue_bytes` | gauge | — |
//! | `memwatchdog_agent_deleted_total` | counter | — |
//! | `memwatchdog_agent_analyses_total` | counter | `outcome` (found, nothing, failed, skipped) |
//! | `memwatchdog_agent_analysis_duration_seconds` | histogram | — |
//! | `memwatchdog_agent_scrubs_total` | counter | `outcome` (ok, failed) |
//! | `memwatchdog_agent_alerts_total` | counter | `outcome` (forwarded, duplicate, ignored, failed) |
//! | `memwatchdog_agent_last_scan_timestamp_seconds` | gauge | — |

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// A label set of one label, `kind`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    kind: String,
}

/// A label set of one label, `reason`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    reason: String,
}

/// A label set of one label, `outcome`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    outcome: String,
}

/// Every metric of the agent; cheap to update from any task.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    uploads: Family<KindLabel, Counter>,
    upload_bytes: Counter,
    upload_failures: Family<ReasonLabel, Counter>,
    upload_seconds: Histogram,
    queue_files: Gauge,
    queue_bytes: Gauge,
    deleted: Counter,
    analyses: Family<OutcomeLabel, Counter>,
    analysis_seconds: Histogram,
    scrubs: Family<OutcomeLabel, Counter>,
    alerts: Family<OutcomeLabel, Counter>,
    last_scan: Gauge,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("memwatchdog_agent");
        let m = Metrics {
            registry: Registry::default(),
            uploads: Family::default(),
            upload_bytes: Counter::default(),
            upload_failures: Family::default(),
            upload_seconds: Histogram::new(exponential_buckets(0.1, 2.0, 14)),
            queue_files: Gauge::default(),
            queue_bytes: Gauge::default(),
            deleted: Counter::default(),
            analyses: Family::default(),
            analysis_seconds: Histogram::new(exponential_buckets(0.25, 2.0, 12)),
            scrubs: Family::default(),
            alerts: Family::default(),
            last_scan: Gauge::default(),
        };
        let r = &mut registry;
        r.register(
            "uploads",
            "Files uploaded to the object store, by kind",
            m.uploads.clone(),
        );
        r.register(
            "upload_bytes",
            "Bytes uploaded to the object store",
            m.upload_bytes.clone(),
        );
        r.register(
            "upload_failures",
            "Failed uploads (retried with backoff), by reason",
            m.upload_failures.clone(),
        );
        r.register_with_unit(
            "upload_duration",
            "Time to upload one file",
            Unit::Seconds,
            m.upload_seconds.clone(),
        );
        r.register(
            "queue_files",
            "Finished files waiting to be uploaded",
            m.queue_files.clone(),
        );
        r.register(
            "queue_bytes",
            "Bytes of the files waiting to be uploaded",
            m.queue_bytes.clone(),
        );
        r.register(
            "deleted",
            "Local files deleted after a confirmed upload",
            m.deleted.clone(),
        );
        r.register(
            "analyses",
            "Snapshot analyses, by outcome",
            m.analyses.clone(),
        );
        r.register_with_unit(
            "analysis_duration",
            "Time of one snapshot analysis (mw analyze)",
            Unit::Seconds,
            m.analysis_seconds.clone(),
        );
        r.register(
            "scrubs",
            "Snapshots scrubbed before upload, by outcome",
            m.scrubs.clone(),
        );
        r.register(
            "alerts",
            "Alertmanager webhook alerts, by outcome",
            m.alerts.clone(),
        );
        r.register(
            "last_scan_timestamp_seconds",
            "Unix time of the last scan of the artifact directory",
            m.last_scan.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// The text exposition of every metric.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// A confirmed upload of `bytes` of a `kind` file in `seconds`.
    pub fn uploaded(&self, kind: &str, bytes: u64, seconds: f64) {
        self.uploads
            .get_or_create(&KindLabel { kind: kind.into() })
            .inc();
        self.upload_bytes.inc_by(bytes);
        self.upload_seconds.observe(seconds);
    }

    /// A failed upload.
    pub fn upload_failed(&self, reason: &str) {
        self.upload_failures
            .get_or_create(&ReasonLabel {
                reason: reason.into(),
            })
            .inc();
    }

    /// The files waiting for an upload after a scan.
    pub fn queue(&self, files: usize, bytes: u64) {
        self.queue_files
            .set(i64::try_from(files).unwrap_or(i64::MAX));
        self.queue_bytes
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    /// A local file deleted after its upload.
    pub fn deleted(&self) {
        self.deleted.inc();
    }

    /// An analysis that ended with `outcome`, after `seconds` (none when it did not run).
    pub fn analyzed(&self, outcome: &str, seconds: Option<f64>) {
        self.analyses
            .get_or_create(&OutcomeLabel {
                outcome: outcome.into(),
            })
            .inc();
        if let Some(s) = seconds {
            self.analysis_seconds.observe(s);
        }
    }

    /// A scrub before upload.
    pub fn scrubbed(&self, ok: bool) {
        let outcome = if ok { "ok" } else { "failed" };
        self.scrubs
            .get_or_create(&OutcomeLabel {
                outcome: outcome.into(),
            })
            .inc();
    }

    /// One alert of a webhook, and what became of it.
    pub fn alert(&self, outcome: &str) {
        self.alerts
            .get_or_create(&OutcomeLabel {
                outcome: outcome.into(),
            })
            .inc();
    }

    /// A finished scan at `unix_seconds`.
    pub fn scanned(&self, unix_seconds: u64) {
        self.last_scan
            .set(i64::try_from(unix_seconds).unwrap_or(i64::MAX));
    }
}
