//! The Prometheus text exposition format 0.0.4, written by hand from a [`Metrics`].
//!
//! Why not the `prometheus-client` crate: it only writes `OpenMetrics` text, where a
//! counter family is named without `_total` (`# TYPE memwatchdog_leak_alert counter`)
//! and its sample with it, plus `# UNIT` and `# EOF` lines. `promtool check metrics`
//! (Prometheus 2.42) reads that as the classic format and fails it
//! (`memwatchdog_leak_alert_total no help text`). The classic format is a few lines
//! per family, our metric set is fixed, and writing it ourselves gives byte-exact,
//! lint-clean output (only the mandated `_ms` name is flagged) with no dependency.
//!
//! Rules followed: one `# HELP` and `# TYPE` per family, then its samples; HELP text
//! escapes `\` and newline; label values escape `\`, `"` and newline; floats are
//! `NaN`, `+Inf`, `-Inf` or a decimal Go's `ParseFloat` reads; no timestamps.
//! Every gauge has a sample from the first scrape, `NaN` until its value is known (Prometheus'
//! "avoid missing metrics"); the one exception is `memwatchdog_memory_limit_bytes`, absent
//! while the process has no container memory limit.

use std::fmt::Write as _;

use crate::histogram::HistogramSnapshot;
use crate::labels::{GcKind, Signal};
use crate::metrics::Metrics;

/// The `Content-Type` of the text exposition format 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders every metric of `m` in the text exposition format.
pub(crate) fn encode(m: &Metrics) -> String {
    let mut w = Writer::new(&m.const_labels);

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

    memory(&mut w, m);
    gc(&mut w, m);
    snapshots(&mut w, m);
    alerts(&mut w, m);
    w.out
}

/// Heap, external and RSS gauges, the leak counter and detector states.
fn memory(w: &mut Writer, m: &Metrics) {
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
    w.gauge(
        "memwatchdog_array_buffers_bytes",
        "Memory of ArrayBuffers and SharedArrayBuffers, Node Buffers included.",
        m.array_buffers_bytes.load(),
    );
    w.gauge(
        "memwatchdog_rss_bytes",
        "Resident set size of the process.",
        m.rss_bytes.load(),
    );
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

/// GC counts and pause histograms by kind.
fn gc(w: &mut Writer, m: &Metrics) {
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
fn snapshots(w: &mut Writer, m: &Metrics) {
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
fn alerts(w: &mut Writer, m: &Metrics) {
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
enum Value {
    Int(u64),
    Float(f64),
}

/// Appends families and samples to a string; prefixes every sample's labels with the
/// registry's constant labels.
struct Writer {
    out: String,
    /// Pre-rendered `name="value"` pairs of the constant labels, comma separated.
    const_labels: String,
}

impl Writer {
    fn new(const_labels: &[(String, String)]) -> Self {
        let mut rendered = String::new();
        for (name, value) in const_labels {
            push_label(&mut rendered, name, value);
        }
        rendered.pop(); // the last separator
        Writer {
            out: String::with_capacity(8 * 1024),
            const_labels: rendered,
        }
    }

    fn family(&mut self, name: &str, kind: &str, help: &str) {
        self.out.push_str("# HELP ");
        self.out.push_str(name);
        self.out.push(' ');
        for c in help.chars() {
            match c {
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                c => self.out.push(c),
            }
        }
        self.out.push_str("\n# TYPE ");
        self.out.push_str(name);
        self.out.push(' ');
        self.out.push_str(kind);
        self.out.push('\n');
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: Value) {
        self.out.push_str(name);
        if !self.const_labels.is_empty() || !labels.is_empty() {
            self.out.push('{');
            self.out.push_str(&self.const_labels);
            if !self.const_labels.is_empty() && !labels.is_empty() {
                self.out.push(',');
            }
            for (k, v) in labels {
                push_label(&mut self.out, k, v);
            }
            if !labels.is_empty() {
                self.out.pop(); // the last separator
            }
            self.out.push('}');
        }
        self.out.push(' ');
        match value {
            Value::Int(v) => {
                let _ = write!(self.out, "{v}");
            }
            Value::Float(v) => push_float(&mut self.out, v),
        }
        self.out.push('\n');
    }

    fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, "gauge", help);
        self.sample(name, &[], Value::Float(value));
    }

    fn counter(&mut self, name: &str, help: &str, value: u64) {
        self.family(name, "counter", help);
        self.sample(name, &[], Value::Int(value));
    }

    fn reasons(&mut self, name: &str, help: &str, values: &[(String, u64)]) {
        self.family(name, "counter", help);
        for (reason, n) in values {
            self.sample(name, &[("reason", reason)], Value::Int(*n));
        }
    }

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

/// Appends `name="escaped value",`; callers drop the last comma.
fn push_label(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str("=\"");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push_str("\",");
}

/// Appends a float as the exposition format spells it.
fn push_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else if v == 0.0 || (1e-6..1e21).contains(&v.abs()) {
        let _ = write!(out, "{v}");
    } else {
        let _ = write!(out, "{v:e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats() {
        let cases = [
            (0.0, "0"),
            (1.0, "1"),
            (256_000.0, "256000"),
            (0.00025, "0.00025"),
            (-3.5, "-3.5"),
            (1e-9, "1e-9"),
            (1e22, "1e22"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ];
        for (v, want) in cases {
            let mut s = String::new();
            push_float(&mut s, v);
            assert_eq!(s, want, "{v}");
        }
    }

    #[test]
    fn escaping() {
        let mut w = Writer::new(&[("service".into(), "a\"b\\c\nd".into())]);
        w.family("x_total", "counter", "Back\\slash and\nnewline \"quoted\".");
        w.sample("x_total", &[("reason", "r")], Value::Int(2));
        assert_eq!(
            w.out,
            "# HELP x_total Back\\\\slash and\\nnewline \"quoted\".\n\
             # TYPE x_total counter\n\
             x_total{service=\"a\\\"b\\\\c\\nd\",reason=\"r\"} 2\n"
        );
    }

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
