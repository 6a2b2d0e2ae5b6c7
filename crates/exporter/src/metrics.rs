//! [`Metrics`]: the typed registry the addon updates and the `/metrics` thread reads.
//!
//! Every metric is a fixed field: gauges and counters are atomics, GC durations are
//! lock-free histograms indexed by [`GcKind`], detector states an array indexed by
//! [`Signal`]. Updating costs a few relaxed atomic operations and never takes a lock
//! (the JS thread does it ~40×/s, once per GC event), so a scrape can never wait on
//! the caller and the caller never waits on a scrape. Only the rare snapshot
//! failure/refusal counters, labelled by a free-form reason, sit behind a short
//! mutex. Their known reasons ([`Metrics::SNAPSHOT_REFUSAL_REASONS`],
//! [`Metrics::SNAPSHOT_FAILURE_REASONS`]) are exported at 0 from the start, so that
//! `increase()` and `rate()` see the first event too (a series that first appears at 1
//! has no earlier sample to increase from).
//!
//! Share it as `Arc<Metrics>` between the caller, [`MetricsServer`](crate::MetricsServer)
//! and [`Alerter`](crate::Alerter).
//!
//! ```
//! use memwatchdog_exporter::{GcKind, Metrics};
//! use std::time::Duration;
//!
//! let metrics = Metrics::default();
//! metrics.set_heap_slope_bytes_per_ms(256.0);
//! metrics.observe_gc(GcKind::Minor, Duration::from_micros(800));
//! assert!(metrics.render().contains("memwatchdog_heap_growth_bytes_per_second 256000\n"));
//! ```

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use crate::atomic::AtomicF64;
use crate::error::{ExporterError, check_label_names};
use crate::histogram::{GC_DURATION_BOUNDS, Histogram, HistogramSnapshot};
use crate::labels::{DetectorState, GcKind, Signal};

/// Distinct `reason` label values kept per counter; later new reasons count as `other`.
pub(crate) const MAX_REASONS: usize = 16;

/// Label names the exporter's own metrics use, which constant labels must not reuse.
pub const RESERVED_LABELS: [&str; 5] = ["kind", "signal", "reason", "le", "version"];

/// Sentinel in a detector-state cell: no state reported yet.
const STATE_UNSET: u8 = u8::MAX;

/// Options fixed when the registry is made.
#[derive(Debug, Clone)]
pub struct MetricsOptions {
    /// Value of the `version` label of `memwatchdog_info` (default: this crate's version;
    /// the addon passes the npm package's).
    pub version: String,
    /// Labels added to every sample, e.g. `service`. Prefer Prometheus target labels for
    /// `instance`: a scraped `instance` label clashes with the target's own and is
    /// renamed `exported_instance` unless the scrape job sets `honor_labels`.
    pub const_labels: BTreeMap<String, String>,
    /// Whether to export the series prom-client's default metrics also export: heap used
    /// and total, external, RSS, GC counts and pauses (default `true`). A service that
    /// serves `collectDefaultMetrics()` and the watchdog's families on one `/metrics` sets
    /// it to `false`, so nothing is exported twice.
    pub process_metrics: bool,
}

impl Default for MetricsOptions {
    fn default() -> Self {
        MetricsOptions {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            const_labels: BTreeMap::new(),
            process_metrics: true,
        }
    }
}

/// The exporter's metrics. See the crate docs for the list of names.
#[derive(Debug)]
pub struct Metrics {
    pub(crate) version: String,
    pub(crate) const_labels: Vec<(String, String)>,
    pub(crate) process_series: bool,
    pub(crate) heap_slope_bytes_per_ms: AtomicF64,
    pub(crate) heap_used_bytes: AtomicF64,
    pub(crate) heap_total_bytes: AtomicF64,
    pub(crate) external_bytes: AtomicF64,
    pub(crate) array_buffers_bytes: AtomicF64,
    pub(crate) rss_bytes: AtomicF64,
    pub(crate) heap_floor_bytes: AtomicF64,
    pub(crate) heap_limit_bytes: AtomicF64,
    pub(crate) memory_limit_bytes: AtomicF64,
    pub(crate) heap_exhaustion_seconds: AtomicF64,
    pub(crate) memory_exhaustion_seconds: AtomicF64,
    pub(crate) leak_alerts: AtomicU64,
    gc_durations: [Histogram; 4],
    detector_states: [AtomicU8; 3],
    pub(crate) snapshots: AtomicU64,
    pub(crate) snapshot_duration_seconds: AtomicF64,
    pub(crate) snapshot_failures: ReasonCounter,
    pub(crate) snapshot_refusals: ReasonCounter,
    pub(crate) heap_profiles: AtomicU64,
    pub(crate) heap_profile_failures: ReasonCounter,
    pub(crate) alerts_sent: AtomicU64,
    pub(crate) alert_send_failures: AtomicU64,
    pub(crate) alert_queue_dropped: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::build(MetricsOptions::default())
    }
}

impl Metrics {
    /// The `reason` values of `memwatchdog_snapshot_refused_total` that the addon produces,
    /// exported at 0 from the start: the safety checks' refusals
    /// (`memwatchdog_snapguard::Refusal::reason`).
    pub const SNAPSHOT_REFUSAL_REASONS: &'static [&'static str] =
        &["cooldown", "disk", "memory_headroom", "memory_unknown"];

    /// The `reason` values of `memwatchdog_snapshot_failures_total` that the addon
    /// produces, exported at 0 from the start: `io`, a snapshot that could not be written
    /// (`snapshot.dir` unusable, or `v8.writeHeapSnapshot` failed).
    pub const SNAPSHOT_FAILURE_REASONS: &'static [&'static str] = &["io"];

    /// The `reason` values of `memwatchdog_heap_profile_failures_total`, exported at 0
    /// from the start: `inspector` (the sampling heap profiler could not be started or
    /// read, e.g. another inspector session stopped it), `io` and `disk_full` (a profile or
    /// report could not be written), `diff` (a profile could not be parsed or diffed).
    pub const HEAP_PROFILE_FAILURE_REASONS: &'static [&'static str] =
        &["diff", "disk_full", "inspector", "io"];

    /// Makes a registry; fails on an invalid or reserved constant label name.
    pub fn new(options: MetricsOptions) -> Result<Metrics, ExporterError> {
        check_label_names(options.const_labels.keys())?;
        if options
            .const_labels
            .keys()
            .any(|k| RESERVED_LABELS.contains(&k.as_str()))
        {
            return Err(ExporterError::BadSetting {
                setting: "MetricsOptions::labels",
                problem: "must not use the label names kind, signal, reason, le or version \
                          (the exporter's metrics use them)",
            });
        }
        Ok(Metrics::build(options))
    }

    fn build(options: MetricsOptions) -> Metrics {
        Metrics {
            version: options.version,
            const_labels: options.const_labels.into_iter().collect(),
            process_series: options.process_metrics,
            heap_slope_bytes_per_ms: AtomicF64::unset(),
            heap_used_bytes: AtomicF64::unset(),
            heap_total_bytes: AtomicF64::unset(),
            external_bytes: AtomicF64::unset(),
            array_buffers_bytes: AtomicF64::unset(),
            rss_bytes: AtomicF64::unset(),
            heap_floor_bytes: AtomicF64::unset(),
            heap_limit_bytes: AtomicF64::unset(),
            memory_limit_bytes: AtomicF64::unset(),
            heap_exhaustion_seconds: AtomicF64::unset(),
            memory_exhaustion_seconds: AtomicF64::unset(),
            leak_alerts: AtomicU64::new(0),
            gc_durations: GcKind::ALL.map(|_| Histogram::new(GC_DURATION_BOUNDS)),
            detector_states: Signal::ALL.map(|_| AtomicU8::new(STATE_UNSET)),
            snapshots: AtomicU64::new(0),
            snapshot_duration_seconds: AtomicF64::unset(),
            snapshot_failures: ReasonCounter::with_reasons(Metrics::SNAPSHOT_FAILURE_REASONS),
            snapshot_refusals: ReasonCounter::with_reasons(Metrics::SNAPSHOT_REFUSAL_REASONS),
            heap_profiles: AtomicU64::new(0),
            heap_profile_failures: ReasonCounter::with_reasons(
                Metrics::HEAP_PROFILE_FAILURE_REASONS,
            ),
            alerts_sent: AtomicU64::new(0),
            alert_send_failures: AtomicU64::new(0),
            alert_queue_dropped: AtomicU64::new(0),
        }
    }

    /// Sets the heap floor's growth rate in bytes per millisecond, and its base-unit twin
    /// `memwatchdog_heap_growth_bytes_per_second` (× 1000). `NaN` means unknown (the
    /// samples say `NaN`).
    pub fn set_heap_slope_bytes_per_ms(&self, slope: f64) {
        self.heap_slope_bytes_per_ms.store(slope);
    }

    /// Sets `memwatchdog_heap_used_bytes` (V8 `used_heap_size`).
    pub fn set_heap_used_bytes(&self, bytes: u64) {
        self.heap_used_bytes.store(bytes as f64);
    }

    /// Sets `memwatchdog_heap_total_bytes` (V8 `total_heap_size`).
    pub fn set_heap_total_bytes(&self, bytes: u64) {
        self.heap_total_bytes.store(bytes as f64);
    }

    /// Sets `memwatchdog_external_bytes` (`process.memoryUsage().external`).
    pub fn set_external_bytes(&self, bytes: u64) {
        self.external_bytes.store(bytes as f64);
    }

    /// Sets `memwatchdog_array_buffers_bytes` (`process.memoryUsage().arrayBuffers`).
    pub fn set_array_buffers_bytes(&self, bytes: u64) {
        self.array_buffers_bytes.store(bytes as f64);
    }

    /// Sets `memwatchdog_rss_bytes`.
    pub fn set_rss_bytes(&self, bytes: u64) {
        self.rss_bytes.store(bytes as f64);
    }

    /// Sets `memwatchdog_heap_limit_bytes` (V8 `heap_size_limit`).
    pub fn set_heap_limit_bytes(&self, bytes: u64) {
        self.heap_limit_bytes.store(bytes as f64);
    }

    /// Sets `memwatchdog_memory_limit_bytes`, the container's memory limit; `None` (no
    /// limit) leaves the sample out.
    pub fn set_memory_limit_bytes(&self, bytes: Option<u64>) {
        self.memory_limit_bytes
            .store(bytes.map_or(f64::NAN, |b| b as f64));
    }

    /// Sets `memwatchdog_heap_exhaustion_seconds` (projected seconds until the heap floor
    /// reaches its limit; `None`: not growing, `+Inf`) and `memwatchdog_memory_exhaustion_seconds`
    /// (the same for off-heap memory or RSS against the container limit).
    pub fn set_exhaustion_seconds(&self, heap: Option<f64>, memory: Option<f64>) {
        self.heap_exhaustion_seconds
            .store(heap.unwrap_or(f64::INFINITY));
        self.memory_exhaustion_seconds
            .store(memory.unwrap_or(f64::INFINITY));
    }

    /// Sets `memwatchdog_heap_floor_bytes`: heap used right after the last major GC.
    pub fn set_heap_floor_bytes(&self, bytes: u64) {
        self.heap_floor_bytes.store(bytes as f64);
    }

    /// Counts one GC of `kind` (`memwatchdog_gc_total`) and records its pause
    /// (`memwatchdog_gc_duration_seconds`).
    pub fn observe_gc(&self, kind: GcKind, duration: Duration) {
        self.observe_gc_seconds(kind, duration.as_secs_f64());
    }

    /// Like [`observe_gc`](Self::observe_gc) with the pause in seconds (Node reports
    /// milliseconds as a float: pass `ms / 1000`). A negative or `NaN` pause counts the
    /// GC with a zero duration.
    pub fn observe_gc_seconds(&self, kind: GcKind, seconds: f64) {
        let seconds = if seconds.is_nan() {
            0.0
        } else {
            seconds.max(0.0)
        };
        self.gc_durations[kind.index()].observe(seconds);
    }

    /// Sets `memwatchdog_detector_state{signal}`.
    pub fn set_detector_state(&self, signal: Signal, state: DetectorState) {
        self.detector_states[signal.index()].store(state.value(), Ordering::Relaxed);
    }

    /// Counts one declared leak (`memwatchdog_leak_alert_total`).
    pub fn inc_leak_alert(&self) {
        self.leak_alerts.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a heap snapshot written and records how long writing it took.
    pub fn record_snapshot_written(&self, duration: Duration) {
        self.snapshots.fetch_add(1, Ordering::Relaxed);
        self.snapshot_duration_seconds.store(duration.as_secs_f64());
    }

    /// Counts a snapshot attempt that failed (`memwatchdog_snapshot_failures_total{reason}`),
    /// e.g. `io`. Keep reasons to a small fixed vocabulary, and add new ones to
    /// [`SNAPSHOT_FAILURE_REASONS`](Self::SNAPSHOT_FAILURE_REASONS) so that they are
    /// exported at 0 before their first count.
    pub fn record_snapshot_failure(&self, reason: &str) {
        self.snapshot_failures.inc(reason);
    }

    /// Counts a snapshot the safety checks refused (`memwatchdog_snapshot_refused_total{reason}`):
    /// `cooldown`, `disk`, `memory_headroom` (see
    /// [`SNAPSHOT_REFUSAL_REASONS`](Self::SNAPSHOT_REFUSAL_REASONS)).
    pub fn record_snapshot_refused(&self, reason: &str) {
        self.snapshot_refusals.inc(reason);
    }

    /// Counts a sampling heap profile taken (`memwatchdog_heap_profile_total`).
    pub fn inc_heap_profile(&self) {
        self.heap_profiles.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an allocation-profiling failure (`memwatchdog_heap_profile_failures_total{reason}`),
    /// one of [`HEAP_PROFILE_FAILURE_REASONS`](Self::HEAP_PROFILE_FAILURE_REASONS).
    pub fn record_heap_profile_failure(&self, reason: &str) {
        self.heap_profile_failures.inc(reason);
    }

    /// Counts alerts delivered to Alertmanager (each alert in each accepted POST).
    pub fn add_alerts_sent(&self, n: u64) {
        self.alerts_sent.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts one failed POST to Alertmanager.
    pub fn inc_alert_send_failures(&self) {
        self.alert_send_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one alert dropped because the alert queue was full.
    pub fn inc_alert_queue_dropped(&self) {
        self.alert_queue_dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// `memwatchdog_alerts_sent_total` so far.
    #[must_use]
    pub fn alerts_sent(&self) -> u64 {
        self.alerts_sent.load(Ordering::Relaxed)
    }

    /// `memwatchdog_alert_send_failures_total` so far.
    #[must_use]
    pub fn alert_send_failures(&self) -> u64 {
        self.alert_send_failures.load(Ordering::Relaxed)
    }

    /// `memwatchdog_alert_queue_dropped_total` so far.
    #[must_use]
    pub fn alert_queue_dropped(&self) -> u64 {
        self.alert_queue_dropped.load(Ordering::Relaxed)
    }

    /// The text exposition (format 0.0.4) of every metric, as `/metrics` serves it.
    #[must_use]
    pub fn render(&self) -> String {
        crate::encode::encode(self)
    }

    /// The same families as [`render`](Self::render), as data, for a registry that renders
    /// them itself (prom-client's, through the addon).
    #[must_use]
    pub fn families(&self) -> Vec<crate::Family> {
        crate::families::families(self)
    }

    pub(crate) fn gc_duration(&self, kind: GcKind) -> HistogramSnapshot {
        self.gc_durations[kind.index()].snapshot()
    }

    pub(crate) fn detector_state(&self, signal: Signal) -> Option<u8> {
        let v = self.detector_states[signal.index()].load(Ordering::Relaxed);
        (v != STATE_UNSET).then_some(v)
    }
}

/// A counter labelled by a free-form `reason`, bounded to [`MAX_REASONS`] values.
#[derive(Debug, Default)]
pub(crate) struct ReasonCounter(Mutex<BTreeMap<String, u64>>);

impl ReasonCounter {
    /// A counter with `reasons` already present at 0.
    fn with_reasons(reasons: &[&str]) -> Self {
        ReasonCounter(Mutex::new(
            reasons.iter().map(|r| ((*r).to_owned(), 0)).collect(),
        ))
    }

    fn inc(&self, reason: &str) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = map.get_mut(reason) {
            *n += 1;
        } else if map.len() < MAX_REASONS {
            map.insert(reason.to_owned(), 1);
        } else {
            *map.entry("other".to_owned()).or_insert(0) += 1;
        }
    }

    /// `(reason, count)` sorted by reason.
    pub(crate) fn values(&self) -> Vec<(String, u64)> {
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_bounded() {
        let c = ReasonCounter::default();
        for i in 0..(MAX_REASONS + 5) {
            c.inc(&format!("r{i:02}"));
        }
        c.inc("r00");
        let values = c.values();
        assert_eq!(values.len(), MAX_REASONS + 1);
        assert!(values.contains(&("other".to_owned(), 5)));
        assert!(values.contains(&("r00".to_owned(), 2)));
    }

    #[test]
    fn known_reasons_start_at_zero() {
        let m = Metrics::default();
        let zeros = |reasons: &[&str]| -> Vec<(String, u64)> {
            reasons.iter().map(|r| ((*r).to_owned(), 0)).collect()
        };
        assert_eq!(
            m.snapshot_refusals.values(),
            zeros(Metrics::SNAPSHOT_REFUSAL_REASONS)
        );
        assert_eq!(
            m.snapshot_failures.values(),
            zeros(Metrics::SNAPSHOT_FAILURE_REASONS)
        );

        m.record_snapshot_refused("disk");
        m.record_snapshot_failure("io");
        m.record_snapshot_failure("unforeseen");
        assert_eq!(
            m.snapshot_refusals.values(),
            [
                ("cooldown".to_owned(), 0),
                ("disk".to_owned(), 1),
                ("memory_headroom".to_owned(), 0),
                ("memory_unknown".to_owned(), 0)
            ]
        );
        assert_eq!(
            m.snapshot_failures.values(),
            [("io".to_owned(), 1), ("unforeseen".to_owned(), 1)]
        );
    }

    #[test]
    fn known_reasons_leave_room_for_others() {
        let c = ReasonCounter::with_reasons(Metrics::SNAPSHOT_REFUSAL_REASONS);
        for i in 0..MAX_REASONS {
            c.inc(&format!("r{i:02}"));
        }
        let values = c.values();
        // The known reasons and the first new ones fill the slots; as many new ones as
        // there are known reasons are left over and count as `other`.
        let known = Metrics::SNAPSHOT_REFUSAL_REASONS.len() as u64;
        assert_eq!(values.len(), MAX_REASONS + 1);
        assert!(values.contains(&("other".to_owned(), known)));
        assert!(values.contains(&("cooldown".to_owned(), 0)));
    }

    #[test]
    fn const_labels_are_checked() {
        let mut options = MetricsOptions::default();
        options.const_labels.insert("bad-name".into(), "x".into());
        assert!(matches!(
            Metrics::new(options),
            Err(ExporterError::BadLabelName { .. })
        ));
        let mut options = MetricsOptions::default();
        options.const_labels.insert("kind".into(), "x".into());
        assert!(matches!(
            Metrics::new(options),
            Err(ExporterError::BadSetting { .. })
        ));
    }

    #[test]
    fn gc_counts_follow_observations() {
        let m = Metrics::default();
        m.observe_gc(GcKind::Major, Duration::from_millis(12));
        m.observe_gc_seconds(GcKind::Major, f64::NAN);
        m.observe_gc_seconds(GcKind::Major, -1.0);
        let s = m.gc_duration(GcKind::Major);
        assert_eq!(s.count, 3);
        assert!((s.sum - 0.012).abs() < 1e-12);
        assert_eq!(m.gc_duration(GcKind::Minor).count, 0);
    }
}
