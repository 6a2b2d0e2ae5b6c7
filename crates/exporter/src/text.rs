//! The Prometheus text exposition format 0.0.4, written by hand: the [`Sink`] behind
//! `/metrics`.
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

use std::fmt::Write as _;

use crate::encode::{Sink, Value};

/// The `Content-Type` of the text exposition format 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Appends families and samples to a string; prefixes every sample's labels with the
/// registry's constant labels.
pub(crate) struct TextWriter {
    out: String,
    /// Pre-rendered `name="value"` pairs of the constant labels, comma separated.
    const_labels: String,
}

impl TextWriter {
    pub(crate) fn new(const_labels: &[(String, String)]) -> Self {
        let mut rendered = String::new();
        for (name, value) in const_labels {
            push_label(&mut rendered, name, value);
        }
        rendered.pop(); // the last separator
        TextWriter {
            out: String::with_capacity(8 * 1024),
            const_labels: rendered,
        }
    }

    /// The exposition text.
    pub(crate) fn finish(self) -> String {
        self.out
    }
}

impl Sink for TextWriter {
    fn family(&mut self, name: &str, kind: &'static str, help: &str) {
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
pub(crate) fn push_float(out: &mut String, v: f64) {
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
        let mut w = TextWriter::new(&[("service".into(), "a\"b\\c\nd".into())]);
        w.family("x_total", "counter", "Back\\slash and\nnewline \"quoted\".");
        w.sample("x_total", &[("reason", "r")], Value::Int(2));
        assert_eq!(
            w.out,
            "# HELP x_total Back\\\\slash and\\nnewline \"quoted\".\n\
             # TYPE x_total counter\n\
             x_total{service=\"a\\\"b\\\\c\\nd\",reason=\"r\"} 2\n"
        );
    }
}
