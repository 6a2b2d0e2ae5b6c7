//! The JSON body of `POST /api/v2/alerts` (Alertmanager's `postableAlerts`).
//!
//! ```json
//! [{"labels": {"alertname": "MemoryLeak", "severity": "warning", "signal": "heap"},
//!   "annotations": {"summary": "..."},
//!   "startsAt": "2024-05-01T12:00:00.000Z", "endsAt": "2024-05-01T12:03:00.000Z"}]
//! ```
//!
//! A firing alert carries an `endsAt` in the future ([`FIRING_HORIZON`] resend
//! intervals ahead): Alertmanager keeps it active while re-sends keep pushing that
//! time forward, and resolves it by itself if the process dies and re-sends stop.
//! A resolution carries the time it was resolved.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use crate::queue::Outgoing;
use crate::rfc3339;

/// How many resend intervals ahead a firing alert's `endsAt` lies.
pub(crate) const FIRING_HORIZON: u32 = 3;

/// What every alert of one sender shares.
#[derive(Debug, Clone)]
pub(crate) struct AlertTemplate {
    /// Common labels (alertname, severity, service, ...).
    pub(crate) labels: BTreeMap<String, String>,
    /// Label that carries the alert key.
    pub(crate) key_label: String,
    pub(crate) generator_url: Option<String>,
    pub(crate) resend_interval: Duration,
}

impl AlertTemplate {
    /// The request body for `alerts`, as of `now`.
    pub(crate) fn body(&self, alerts: &[Outgoing], now: SystemTime) -> String {
        let items: Vec<Value> = alerts.iter().map(|a| self.alert(a, now)).collect();
        Value::Array(items).to_string()
    }

    fn alert(&self, a: &Outgoing, now: SystemTime) -> Value {
        let mut labels: Map<String, Value> = self
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        labels.insert(self.key_label.clone(), Value::String(a.key.clone()));
        for (k, v) in &a.labels {
            labels.insert(k.clone(), Value::String(v.clone()));
        }
        let annotations: Map<String, Value> = a
            .annotations
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        // `max`: a clock stepped back must not put endsAt before startsAt (a 400).
        let ends_at = a.ends_at.unwrap_or_else(|| {
            now.max(a.starts_at) + self.resend_interval.saturating_mul(FIRING_HORIZON)
        });
        let mut alert = Map::new();
        alert.insert("labels".into(), Value::Object(labels));
        alert.insert("annotations".into(), Value::Object(annotations));
        alert.insert("startsAt".into(), rfc3339::format(a.starts_at).into());
        alert.insert("endsAt".into(), rfc3339::format(ends_at).into());
        if let Some(url) = &self.generator_url {
            alert.insert("generatorURL".into(), url.clone().into());
        }
        Value::Object(alert)
    }
}

/// Makes `name` a valid Prometheus label name (Alertmanager rejects the whole POST
/// otherwise): invalid characters become `_`, a leading digit gets a `_` prefix.
pub(crate) fn sanitize_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if out.starts_with("__") {
        out.replace_range(..2, "x_");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    /// The labels every leak alert shares, keyed by `signal`, no generator URL.
    fn leak_template() -> AlertTemplate {
        AlertTemplate {
            labels: BTreeMap::from([
                ("alertname".into(), "MemoryLeak".into()),
                ("severity".into(), "warning".into()),
            ]),
            key_label: "signal".into(),
            generator_url: None,
            resend_interval: Duration::from_secs(60),
        }
    }

    #[test]
    fn firing_and_resolved_bodies() {
        let template = AlertTemplate {
            generator_url: Some("http://host:9469/".into()),
            ..leak_template()
        };
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let now = start + Duration::from_secs(10);
        let firing = Outgoing {
            key: "heap".into(),
            generation: 1,
            labels: BTreeMap::new(),
            annotations: BTreeMap::from([("summary".into(), "Heap grows \"fast\"".into())]),
            starts_at: start,
            ends_at: None,
        };
        let resolved = Outgoing {
            ends_at: Some(now),
            ..firing.clone()
        };
        let body: Value = serde_json::from_str(&template.body(&[firing, resolved], now)).unwrap();
        insta::assert_json_snapshot!(body);
    }

    #[test]
    fn firing_ends_after_it_starts_even_if_the_clock_stepped_back() {
        let template = AlertTemplate {
            labels: BTreeMap::new(),
            key_label: "signal".into(),
            generator_url: None,
            resend_interval: Duration::from_secs(60),
        };
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let firing = Outgoing {
            key: "heap".into(),
            generation: 1,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            starts_at: start,
            ends_at: None,
        };
        let body: Value =
            serde_json::from_str(&template.body(&[firing], start - Duration::from_secs(3600)))
                .unwrap();
        assert_eq!(body[0]["endsAt"], "2023-11-14T22:16:20.000Z");
    }

    #[test]
    fn an_alerts_own_labels_override_the_common_ones() {
        let template = leak_template();
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let critical = Outgoing {
            key: "heap/oom_risk".into(),
            generation: 1,
            labels: BTreeMap::from([
                ("severity".into(), "critical".into()),
                ("signal".into(), "heap".into()),
            ]),
            annotations: BTreeMap::new(),
            starts_at: start,
            ends_at: None,
        };
        let body: Value = serde_json::from_str(&template.body(&[critical], start)).unwrap();
        assert_eq!(
            body[0]["labels"],
            serde_json::json!({"alertname": "MemoryLeak", "severity": "critical", "signal": "heap"})
        );
    }

    #[test]
    fn names_are_sanitized() {
        assert_eq!(sanitize_name("top suspect"), "top_suspect");
        assert_eq!(sanitize_name("1st"), "_1st");
        assert_eq!(sanitize_name(""), "_");
        assert_eq!(sanitize_name("__x"), "x_x");
        assert_eq!(sanitize_name("snapshot_path"), "snapshot_path");
    }
}
