//! [`Family`]: the exporter's metrics as data, for a registry that renders them itself.
//!
//! A Node service that already serves prom-client's registry on its own `/metrics` adds the
//! watchdog's families to it (the addon turns each [`Family`] into a prom-client metric
//! object), so one scrape target carries both. The families are those `/metrics` serves,
//! walked by the same [`walk`]: same names, help, samples and constant labels.
//!
//! ```
//! use memwatchdog_exporter::Metrics;
//!
//! let families = Metrics::default().families();
//! let info = &families[0];
//! assert_eq!((info.name.as_str(), info.kind), ("memwatchdog_info", "gauge"));
//! assert_eq!(info.samples[0].labels[0].0, "version");
//! ```

use crate::encode::{Sink, Value, walk};
use crate::metrics::Metrics;

/// One metric family: `# HELP`, `# TYPE` and its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The family's name, e.g. `memwatchdog_gc_duration_seconds`.
    pub name: String,
    /// `gauge`, `counter` or `histogram`.
    pub kind: &'static str,
    /// The help text, unescaped.
    pub help: String,
    /// Its samples, in exposition order.
    pub samples: Vec<Sample>,
}

/// One sample of a [`Family`].
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series name: the family's, or a histogram's `_bucket`, `_sum` or `_count`.
    pub name: String,
    /// The constant labels first, then the sample's own (`kind`, `le`, ...), unescaped.
    pub labels: Vec<(String, String)>,
    /// The value (`NaN` and infinities included).
    pub value: f64,
}

/// The [`Sink`] that collects families.
struct Collector<'a> {
    const_labels: &'a [(String, String)],
    families: Vec<Family>,
}

impl Sink for Collector<'_> {
    fn family(&mut self, name: &str, kind: &'static str, help: &str) {
        self.families.push(Family {
            name: name.to_owned(),
            kind,
            help: help.to_owned(),
            samples: Vec::new(),
        });
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: Value) {
        let labels = self
            .const_labels
            .iter()
            .cloned()
            .chain(labels.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        if let Some(family) = self.families.last_mut() {
            family.samples.push(Sample {
                name: name.to_owned(),
                labels,
                value: value.as_f64(),
            });
        }
    }
}

/// Every family of `m`, as `/metrics` would serve them now.
pub(crate) fn families(m: &Metrics) -> Vec<Family> {
    let mut c = Collector {
        const_labels: &m.const_labels,
        families: Vec::new(),
    };
    walk(&mut c, m);
    c.families
}

#[cfg(test)]
mod tests {
    use crate::{GcKind, Metrics, MetricsOptions};
    use std::fmt::Write as _;

    /// Written back as text, the families are `/metrics`, line for line.
    #[test]
    fn families_are_the_exposition() {
        let mut options = MetricsOptions::default();
        options
            .const_labels
            .insert("service".into(), "checkout".into());
        let m = Metrics::new(options).unwrap();
        m.observe_gc_seconds(GcKind::Major, 0.04);
        m.set_heap_floor_bytes(52_428_800);
        m.record_snapshot_refused("memory_headroom");

        let mut text = String::new();
        for f in m.families() {
            let help = f.help.replace('\\', "\\\\").replace('\n', "\\n");
            let _ = writeln!(
                text,
                "# HELP {} {help}\n# TYPE {} {}",
                f.name, f.name, f.kind
            );
            for s in f.samples {
                let labels: Vec<String> = s
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{v}\""))
                    .collect();
                let mut value = String::new();
                crate::text::push_float(&mut value, s.value);
                let _ = writeln!(text, "{}{{{}}} {value}", s.name, labels.join(","));
            }
        }
        assert_eq!(text, m.render());
    }

    #[test]
    fn without_process_metrics_the_prom_client_defaults_are_left_out() {
        let m = Metrics::new(MetricsOptions {
            process_metrics: false,
            ..MetricsOptions::default()
        })
        .unwrap();
        let names: Vec<String> = m.families().into_iter().map(|f| f.name).collect();
        for gone in [
            "memwatchdog_heap_used_bytes",
            "memwatchdog_heap_total_bytes",
            "memwatchdog_external_bytes",
            "memwatchdog_rss_bytes",
            "memwatchdog_gc_total",
            "memwatchdog_gc_duration_seconds",
        ] {
            assert!(!names.iter().any(|n| n == gone), "{gone} in {names:?}");
            assert!(!m.render().contains(gone), "{gone} in /metrics");
        }
        for kept in [
            "memwatchdog_heap_floor_bytes",
            "memwatchdog_array_buffers_bytes",
            "memwatchdog_heap_limit_bytes",
            "memwatchdog_detector_state",
        ] {
            assert!(names.iter().any(|n| n == kept), "{kept} missing");
        }
        assert_eq!(Metrics::default().families().len(), names.len() + 6);
    }
}
