//! The `MemWatchdog` exporter: Prometheus `/metrics` served from a Rust thread, and an
//! Alertmanager v2 client with a retry queue on its own thread.
//!
//! Built to live inside a user's Node process (through the napi addon), so:
//! no async runtime; every thread is named (`memwd-metrics`, `memwd-alerts`: short,
//! as Linux keeps 15 bytes of a thread name) and stoppable (`stop()`/`Drop` joins it
//! and frees the port); nothing the caller invokes does I/O, blocks on the network or
//! panics. Updates to [`Metrics`] are relaxed atomic operations; [`Alerter::fire`]
//! only enqueues.
//!
//! ```no_run
//! use memwatchdog_exporter::{Alerter, AlerterConfig, GcKind, Metrics, MetricsServer};
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! let metrics = Arc::new(Metrics::default());
//! let server = MetricsServer::start("127.0.0.1", 9469, Arc::clone(&metrics))?;
//! let mut config = AlerterConfig::new("http://alertmanager:9093");
//! config.metrics = Some(Arc::clone(&metrics));
//! let alerter = Alerter::start(config)?;
//!
//! // On each GC event (the JS thread):
//! metrics.observe_gc(GcKind::Major, Duration::from_millis(12));
//! metrics.set_heap_floor_bytes(52_000_000);
//! metrics.set_heap_slope_bytes_per_ms(300.0);
//! # Ok::<(), memwatchdog_exporter::ExporterError>(())
//! ```
//!
//! # Metrics
//!
//! | name | type | labels |
//! | --- | --- | --- |
//! | `memwatchdog_info` | gauge (1) | `version` |
//! | `memwatchdog_heap_slope_bytes_per_ms` | gauge | — |
//! | `memwatchdog_heap_growth_bytes_per_second` | gauge | — |
//! | `memwatchdog_heap_floor_bytes` | gauge | — |
//! | `memwatchdog_heap_used_bytes` | gauge | — |
//! | `memwatchdog_heap_total_bytes` | gauge | — |
//! | `memwatchdog_external_bytes` | gauge | — |
//! | `memwatchdog_array_buffers_bytes` | gauge | — |
//! | `memwatchdog_rss_bytes` | gauge | — |
//! | `memwatchdog_heap_limit_bytes` | gauge | — |
//! | `memwatchdog_memory_limit_bytes` | gauge (absent without a container limit) | — |
//! | `memwatchdog_heap_exhaustion_seconds` | gauge (`+Inf` when not growing) | — |
//! | `memwatchdog_memory_exhaustion_seconds` | gauge (`+Inf` when not growing) | — |
//! | `memwatchdog_leak_alert_total` | counter | — |
//! | `memwatchdog_detector_state` | gauge: 0 normal, 1 suspect, 2 leaking, 3 resolved, 4 `oom_risk` | `signal` = heap, external, rss |
//! | `memwatchdog_gc_total` | counter | `kind` = minor, major, incremental, weakcb |
//! | `memwatchdog_gc_duration_seconds` | histogram | `kind` |
//! | `memwatchdog_snapshot_total` | counter | — |
//! | `memwatchdog_snapshot_duration_seconds` | gauge (last snapshot) | — |
//! | `memwatchdog_snapshot_failures_total` | counter | `reason` |
//! | `memwatchdog_snapshot_refused_total` | counter | `reason` |
//! | `memwatchdog_heap_profile_total` | counter | — |
//! | `memwatchdog_heap_profile_failures_total` | counter | `reason` |
//! | `memwatchdog_alerts_sent_total` | counter | — |
//! | `memwatchdog_alert_send_failures_total` | counter | — |
//! | `memwatchdog_alert_queue_dropped_total` | counter | — |
//!
//! Optional constant labels ([`MetricsOptions::const_labels`]) go on every sample.
//! [`MetricsOptions::process_metrics`] `false` leaves out the series prom-client's default
//! metrics also export (heap used/total, external, RSS, GC); [`Metrics::families`] gives
//! the families as data, for prom-client's registry.
//! Gauges not yet set read `NaN` (every gauge is there from the first scrape), except
//! `memwatchdog_memory_limit_bytes`, absent without a limit. `promtool check metrics` passes
//! except for the mandated `_ms` in `memwatchdog_heap_slope_bytes_per_ms`; dashboards
//! should use its twin `memwatchdog_heap_growth_bytes_per_second`.

mod alert;
mod atomic;
mod backoff;
mod encode;
mod error;
mod families;
mod histogram;
mod labels;
mod log;
mod metrics;
mod payload;
mod queue;
mod redact;
// `fuzzing`: the request-head parser is public to the fuzz targets (fuzz/); private otherwise.
#[cfg(feature = "fuzzing")]
pub mod request;
#[cfg(not(feature = "fuzzing"))]
mod request;
mod rfc3339;
mod sender;
mod server;
mod text;

pub use alert::{Alerter, AlerterConfig, STOP_GRACE, check_alertmanager_url};
pub use backoff::BackoffConfig;
pub use error::{ExporterError, check_label_name};
pub use families::{Family, Sample};
pub use labels::{DetectorState, GcKind, Signal};
pub use log::LogFn;
pub use metrics::{Metrics, MetricsOptions, RESERVED_LABELS};
pub use redact::redact_url;
pub use rfc3339::format as format_rfc3339;
pub use server::{MetricsServer, READ_TIMEOUT, ServerLimits};
pub use text::CONTENT_TYPE;

#[cfg(test)]
mod tests {
    /// The napi addon may share these across threads.
    #[test]
    fn public_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<super::Metrics>();
        check::<super::MetricsServer>();
        check::<super::Alerter>();
        check::<super::AlerterConfig>();
        check::<super::ExporterError>();
    }
}
