//! What the exporter exports, in order: every family of a [`Metrics`], walked into a
//! [`Sink`]. Two sinks exist: [`text`](crate::text) writes the Prometheus text exposition
//! format that `/metrics` serves, [`families`](crate::families) hands the same families to
//! another registry (prom-client's, through the addon). One walk keeps both identical.
//!
//! Every gauge has a sample from the first scrape, `NaN` until its value is known (Prometheus'
//! "avoid missing metrics"); the one exception is `memwatchdog_memory_limit_bytes`, absent
//! while the process has no container memory limit. Without
//! [`MetricsOptions::process_metrics`](crate::MetricsOptions::process_metrics) the series
//! prom-client's default metrics also export (heap used/total, external, RSS, GC counts and
//! pauses) are left out.

use crate::histogram::HistogramSnapshot;
use crate::labels::{GcKind, Signal};
use crate::metrics::Metrics;
use crate::text::{TextWriter, push_float};

/// Renders every metric of `m` in the text exposition format.
pub(crate) fn encode(m: &Metrics) -> String {
    let mut w = TextWriter::new(&m.const_labels);
    walk(&mut w, m);
    w.finish()
}

/// Feeds every family of `m`, with its samples, to `w`.
pub(crate) fn walk(w: &mut impl Sink, m: &Metrics) {
    w.family(
        "memwatchdog_info",
        "gauge",
        "MemWatchdog build information; always 1, the version label carries the version.",
    );
    w.sample(
        "memwatchdog_info",
        &[("version", &m.version)],
        Value::Int(1),
    );

    memory(w, m);
    if m.process_series {
        gc(w, m);
    }
    snapshots(w, m);
    alerts(w, m);
}

/// Heap, external and RSS gauges, the leak counter and detector states.
fn memory(w: &mut impl Sink, m: &Metrics) {
    let slope = m.heap_slope_bytes_per_ms.load();
    w.gauge(
        "memwatchdog_heap_slope_bytes_per_ms",
        "Growth rate of the post-major-GC heap floor in bytes per millisecond \
         (kept for existing dashboards; prefer memwatchdog_heap_growth_bytes_per_second).",
        slope,
    );
    w.gauge(
        "memwatchdog_heap_growth_bytes_per_second",
        "Growth rate of the post-major-GC heap floor in bytes per second.",
        slope * 1000.0,
    );
    w.gauge(
        "memwatchdog_heap_floor_bytes",
        "JS heap used right after the last major GC (the floor the detector trends).",
        m.heap_floor_bytes.load(),
    );
    // prom-client's default metrics export these (`nodejs_heap_size_used_bytes`,
    // `nodejs_heap_size_total_bytes`, `nodejs_external_memory_bytes`,
    // `process_resident_memory_bytes`): see `MetricsOptions::process_metrics`.
    if m.process_series {
        w.gauge(
            "memwatchdog_heap_used_bytes",
            "JS heap used at the last GC event (V8 used_heap_size).",
            m.heap_used_bytes.load(),
        );
        w.gauge(
            "memwatchdog_heap_total_bytes",
            "JS heap reserved by V8 (total_heap_size).",
            m.heap_total_bytes.load(),
        );
        w.gauge(
            "memwatchdog_external_bytes",
            "Memory of C++ objects bound to JS objects, ArrayBuffers included \
             (process.memoryUsage().external).",
            m.external_bytes.load(),
        );
    }
    w.gauge(
        "memwatchdog_array_buffers_bytes",
        "Memory of ArrayBuffers and SharedArrayBuffers, Node Buffers included.",
        m.array_buffers_bytes.load(),
    );
    if m.process_series {
        w.gauge(
            "memwatchdog_rss_bytes",
            "Resident set size of the process.",
            m.rss_bytes.load(),
        );
    }
    w.gauge(
        "memwatchdog_heap_limit_bytes",
        "V8 heap size limit (heap_size_limit): the heap floor cannot grow past it.",
        m.heap_limit_bytes.load(),
    );
    w.family(
        "memwatchdog_memory_limit_bytes",
        "gauge",
        "Container memory limit (cgroup memory.max or memory.limit_in_bytes); \
         absent when the process has none.",
    );
    let limit = m.memory_limit_bytes.load();
    if !limit.is_nan() {
        w.sample("memwatchdog_memory_limit_bytes", &[], Value::Float(limit));
    }
    w.gauge(
        "memwatchdog_heap_exhaustion_seconds",
        "Projected seconds until the heap reaches its limit (V8 heap limit, or the container \
         limit when that is closer) at the current growth; +Inf when the heap is not growing.",
        m.heap_exhaustion_seconds.load(),
    );
    w.gauge(
        "memwatchdog_memory_exhaustion_seconds",
        "Projected seconds until off-heap memory or RSS reaches the container memory limit at \
         the current growth; +Inf when neither grows or there is no limit.",
        m.memory_exhaustion_seconds.load(),
    );

    w.counter(
        "memwatchdog_leak_alert_total",
        "Leaks declared by the detector.",
        m.leak_alerts.load(std::sync::atomic::Ordering::Relaxed),
    );
    w.family(
        "memwatchdog_detector_state",
        "gauge",
        "Leak detector state per signal: 0 normal, 1 suspect, 2 leaking, 3 resolved, \
         4 oom_risk.",
    );
    for signal in Signal::ALL {
        if let Some(state) = m.detector_state(signal) {
            w.sample(
                "memwatchdog_detector_state",
                &[("signal", signal.label())],
                Value::Int(u64::from(state)),
            );
        }
    }
}

/// GC counts and pause histograms by kind (prom-client: `nodejs_gc_duration_seconds`).
fn gc(w: &mut impl Sink, m: &Metrics) {
    let gc: Vec<(GcKind, HistogramSnapshot)> = GcKind::ALL.map(|k| (k, m.gc_duration(k))).into();
    w.family(
        "memwatchdog_gc_total",
        "counter",
        "Garbage collections by kind.",
    );
    for (kind, h) in &gc {
        w.sample(
            "memwatchdog_gc_total",
            &[("kind", kind.label())],
            Value::Int(h.count),
        );
    }
    w.family(
        "memwatchdog_gc_duration_seconds",
        "histogram",
        "Garbage collection pause duration by kind.",
    );
    for (kind, h) in &gc {
        w.histogram("memwatchdog_gc_duration_seconds", ("kind", kind.label()), h);
    }
}

/// Heap snapshot outcomes.
fn snapshots(w: &mut impl Sink, m: &Metrics) {
    w.counter(
        "memwatchdog_snapshot_total",
        "Heap snapshots written.",
        m.snapshots.load(std::sync::atomic::Ordering::Relaxed),
    );
    w.gauge(
        "memwatchdog_snapshot_duration_seconds",
        "Time taken to write the last heap snapshot (the event loop is stopped meanwhile).",
        m.snapshot_duration_seconds.load(),
    );
    w.reasons(
        "memwatchdog_snapshot_failures_total",
        "Heap snapshots that failed, by reason.",
        &m.snapshot_failures.values(),
    );
    w.reasons(
        "memwatchdog_snapshot_refused_total",
        "Heap snapshots refused by the safety checks (cooldown, disk, memory headroom...), by reason.",
        &m.snapshot_refusals.values(),
    );
    w.counter(
        "memwatchdog_heap_profile_total",
        "Sampling heap profiles taken (baseline, suspect and leak allocation profiles).",
        m.heap_profiles.load(std::sync::atomic::Ordering::Relaxed),
    );
    w.reasons(
        "memwatchdog_heap_profile_failures_total",
        "Allocation profiling failures (inspector, io, disk_full, diff), by reason.",
        &m.heap_profile_failures.values(),
    );
}

/// The alert sender's counters.
fn alerts(w: &mut impl Sink, m: &Metrics) {
    w.counter(
        "memwatchdog_alerts_sent_total",
        "Alerts accepted by Alertmanager (each alert of each POST, re-sends included).",
        m.alerts_sent(),
    );
    w.counter(
        "memwatchdog_alert_send_failures_total",
        "POSTs to Alertmanager that failed (unreachable, timeout or error status).",
        m.alert_send_failures(),
    );
    w.counter(
        "memwatchdog_alert_queue_dropped_total",
        "Alerts dropped unsent because the alert queue was full.",
        m.alert_queue_dropped(),
    );
}

/// A sample value: integers print exactly, floats per the exposition rules.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value {
    Int(u64),
    Float(f64),
}

impl Value {
    /// The value as a float (counters are far below 2^53).
    #[allow(clippy::cast_precision_loss)]
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Value::Int(v) => v as f64,
            Value::Float(v) => v,
        }
    }
}

/// Where [`walk`] puts families and samples. A family's samples follow it; a sample's
/// `name` is the family's, or a histogram's `_bucket`/`_sum`/`_count` series.
pub(crate) trait Sink {
    /// Starts a family (`kind`: `gauge`, `counter` or `histogram`).
    fn family(&mut self, name: &str, kind: &'static str, help: &str);

    /// One sample of the current family, with its own labels (not the constant ones).
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: Value);

    /// A gauge family with its one sample.
    fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, "gauge", help);
        self.sample(name, &[], Value::Float(value));
    }

    /// A counter family with its one sample.
    fn counter(&mut self, name: &str, help: &str, value: u64) {
        self.family(name, "counter", help);
        self.sample(name, &[], Value::Int(value));
    }

    /// A counter family with a sample per `reason`.
    fn reasons(&mut self, name: &str, help: &str, values: &[(String, u64)]) {
        self.family(name, "counter", help);
        for (reason, n) in values {
            self.sample(name, &[("reason", reason)], Value::Int(*n));
        }
    }

    /// The samples of one labelled histogram: cumulative buckets, `+Inf`, sum and count.
    fn histogram(&mut self, name: &str, label: (&str, &str), h: &HistogramSnapshot) {
        let bucket = format!("{name}_bucket");
        let mut le = String::new();
        for (bound, count) in &h.buckets {
            le.clear();
            push_float(&mut le, *bound);
            self.sample(&bucket, &[label, ("le", &le)], Value::Int(*count));
        }
        self.sample(&bucket, &[label, ("le", "+Inf")], Value::Int(h.count));
        self.sample(&format!("{name}_sum"), &[label], Value::Float(h.sum));
        self.sample(&format!("{name}_count"), &[label], Value::Int(h.count));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_registry() -> Metrics {
        let mut options = crate::MetricsOptions {
            version: "1.2.3".into(),
            ..Default::default()
        };
        options
            .const_labels
            .insert("service".into(), "checkout".into());
        let m = Metrics::new(options).unwrap();
        m.set_heap_slope_bytes_per_ms(312.5);
        m.set_heap_floor_bytes(52_428_800);
        m.set_heap_used_bytes(61_000_000);
        m.set_heap_total_bytes(80_000_000);
        m.set_external_bytes(2_000_000);
        m.set_array_buffers_bytes(1_000_000);
        m.set_rss_bytes(150_000_000);
        m.set_heap_limit_bytes(4_345_298_944);
        m.set_memory_limit_bytes(Some(536_870_912));
        m.set_exhaustion_seconds(Some(13_536.4), None);
        m.inc_leak_alert();
        m.set_detector_state(Signal::Heap, crate::DetectorState::Leaking);
        m.set_detector_state(Signal::External, crate::DetectorState::Normal);
        m.observe_gc_seconds(GcKind::Minor, 0.0008);
        m.observe_gc_seconds(GcKind::Minor, 0.003);
        m.observe_gc_seconds(GcKind::Major, 0.04);
        m.record_snapshot_written(std::time::Duration::from_millis(2500));
        m.record_snapshot_refused("memory_headroom");
        m.record_snapshot_failure("io");
        m.add_alerts_sent(3);
        m.inc_alert_send_failures();
        m
    }

    #[test]
    fn full_exposition() {
        insta::assert_snapshot!(encode(&sample_registry()));
    }

    #[test]
    fn fresh_registry_has_every_gauge_at_nan() {
        insta::assert_snapshot!(
            encode(&Metrics::default()).replace(env!("CARGO_PKG_VERSION"), "VERSION")
        );
    }
}
