//! [`NativeFamily`]: the exporter's metric families as JS objects, which the TypeScript side
//! wraps into prom-client metric objects (`prometheus.registry`).

use memwatchdog_exporter::{Family, Sample};
use napi_derive::napi;

/// One metric family: what prom-client's `metric.get()` returns, minus the aggregator.
#[napi(object)]
pub struct NativeFamily {
    /// The family's name, e.g. `memwatchdog_gc_duration_seconds`.
    pub name: String,
    /// `gauge`, `counter` or `histogram`.
    #[napi(js_name = "type")]
    pub kind: String,
    /// The help text, unescaped.
    pub help: String,
    /// Its samples, in exposition order.
    pub values: Vec<NativeSample>,
}

/// One sample: prom-client's `{ metricName, labels, value }`, with the labels as a list
/// (in exposition order: constant labels first) that JS turns into an object.
#[napi(object)]
pub struct NativeSample {
    /// The series name (a histogram's `_bucket`, `_sum`, `_count`, or the family's).
    pub metric_name: String,
    /// Constant labels and the sample's own, as `[name, value]` pairs.
    pub labels: Vec<Vec<String>>,
    /// The value (`NaN` and infinities included).
    pub value: f64,
}

impl From<Family> for NativeFamily {
    fn from(f: Family) -> Self {
        NativeFamily {
            name: f.name,
            kind: f.kind.to_owned(),
            help: f.help,
            values: f.samples.into_iter().map(NativeSample::from).collect(),
        }
    }
}

impl From<Sample> for NativeSample {
    fn from(s: Sample) -> Self {
        NativeSample {
            metric_name: s.name,
            labels: s.labels.into_iter().map(|(k, v)| vec![k, v]).collect(),
            value: s.value,
        }
    }
}
