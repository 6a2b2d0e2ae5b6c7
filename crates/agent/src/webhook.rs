//! The Alertmanager webhook (`POST /alertmanager`): which alerts are MemWatchdog's, which pod
//! each is about, and which were already forwarded. Pure: [`Deduplicator`] is the only state.
//!
//! Alertmanager sends a group's alerts again on every `group_interval` change and every
//! `repeat_interval`; a receiver that forwarded each would repeat the same message. Each
//! alert carries a `fingerprint` (a hash of its labels): the agent forwards a fingerprint once
//! while it fires and once when it resolves.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::Deserialize;

/// The body Alertmanager posts to a webhook receiver (`version: "4"`); fields the agent
/// does not use are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct Payload {
    /// The alerts of the notification.
    pub alerts: Vec<Alert>,
}

/// One alert of a webhook notification.
#[derive(Debug, Clone, Deserialize)]
pub struct Alert {
    /// `firing` or `resolved`.
    pub status: String,
    /// The alert's labels (`alertname`, `service`, `instance`, `namespace`, `pod`, ...).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Its annotations (`summary`, `description`, `snapshot`, `top_suspect`, ...).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Alertmanager's hash of the labels: the alert's identity.
    #[serde(default)]
    pub fingerprint: String,
    /// When it started firing (RFC 3339).
    #[serde(default, rename = "startsAt")]
    pub starts_at: String,
}

impl Alert {
    /// The alert's name.
    #[must_use]
    pub fn name(&self) -> &str {
        self.labels.get("alertname").map_or("", String::as_str)
    }

    /// True for MemWatchdog's alerts: the watchdog's own `MemoryLeak` and the rules'
    /// `MemWatchdog*` (deploy/prometheus/memwatchdog-rules.yml).
    #[must_use]
    pub fn is_memwatchdog(&self) -> bool {
        let name = self.name();
        name == "MemoryLeak" || name.starts_with("MemWatchdog")
    }

    /// The pod the alert is about, as (namespace, pod): the `pod` label (set by the
    /// `PodMonitor` on rule alerts, and by `MEMWATCHDOG_LABELS` on the watchdog's), else the
    /// watchdog's `instance` (the pod name in the reference Deployment) when it is not a
    /// scrape address. The namespace is the `namespace` label, else `default_namespace`.
    #[must_use]
    pub fn pod(&self, default_namespace: &str) -> Option<(String, String)> {
        let pod = self.labels.get("pod").cloned().or_else(|| {
            self.labels
                .get("instance")
                .filter(|i| !i.contains(':'))
                .cloned()
        })?;
        let namespace = self
            .labels
            .get("namespace")
            .map_or_else(|| default_namespace.to_owned(), Clone::clone);
        Some((namespace, pod))
    }
}

impl Alert {
    /// True when a report written at `modified` is about this alert's episode: written after
    /// the alert started firing. The watchdog fires when it declares a leak and writes the
    /// leak snapshot after that, so its analysis comes a little later than the alert. Times
    /// are compared to the second; an unreadable `startsAt` accepts any report.
    #[must_use]
    pub fn is_after_start(&self, modified: std::time::SystemTime) -> bool {
        // RFC 3339 in UTC (`2026-12-05T10:00:00.123456Z`): `YYYY-MM-DDTHH:MM:SS` sorts as text.
        let start = self.starts_at.get(..19);
        let written = memwatchdog_exporter::format_rfc3339(modified);
        start.is_none_or(|s| {
            !self.starts_at.ends_with('Z') || written.get(..19).is_some_and(|w| w >= s)
        })
    }
}

/// Remembers the last status forwarded for each fingerprint (the newest `capacity` ones).
#[derive(Debug)]
pub struct Deduplicator {
    capacity: usize,
    status: HashMap<String, String>,
    order: VecDeque<String>,
}

impl Deduplicator {
    /// A deduplicator that remembers up to `capacity` alerts.
    #[must_use]
    pub fn new(capacity: usize) -> Deduplicator {
        Deduplicator {
            capacity: capacity.max(1),
            status: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// True when `alert` is news: its fingerprint was not seen with this status. A resolved
    /// alert that was never seen firing is news too (the agent may have restarted).
    pub fn admit(&mut self, alert: &Alert) -> bool {
        let key = Deduplicator::key(alert);
        if self.status.get(&key) == Some(&alert.status) {
            return false;
        }
        if self
            .status
            .insert(key.clone(), alert.status.clone())
            .is_none()
        {
            self.order.push_back(key);
            while self.order.len() > self.capacity {
                if let Some(old) = self.order.pop_front() {
                    self.status.remove(&old);
                }
            }
        }
        true
    }

    /// Forgets `alert`'s last status, so that Alertmanager's next repeat of it is news (its
    /// forwarding failed).
    pub fn forget(&mut self, alert: &Alert) {
        let key = Deduplicator::key(alert);
        if self.status.get(&key) == Some(&alert.status) {
            self.status.remove(&key);
            self.order.retain(|k| *k != key);
        }
    }

    fn key(alert: &Alert) -> String {
        if alert.fingerprint.is_empty() {
            // Alertmanager always sends one; without it, the labels are the identity.
            format!("{:?}", alert.labels)
        } else {
            alert.fingerprint.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(name: &str, status: &str, fp: &str, labels: &[(&str, &str)]) -> Alert {
        let mut l: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        l.insert("alertname".into(), name.into());
        Alert {
            status: status.into(),
            labels: l,
            annotations: BTreeMap::new(),
            fingerprint: fp.into(),
            starts_at: String::new(),
        }
    }

    #[test]
    fn alertmanagers_body_is_read() {
        let body = r#"{"version":"4","groupKey":"{}:{}","status":"firing","receiver":"mw",
            "groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am",
            "truncatedAlerts":0,"alerts":[{"status":"firing","labels":{"alertname":"MemoryLeak",
            "instance":"shop-7d9","namespace":"shop"},"annotations":{"summary":"s"},
            "startsAt":"2026-12-05T10:00:00Z","endsAt":"0001-01-01T00:00:00Z",
            "generatorURL":"","fingerprint":"a1b2"}]}"#;
        let p: Payload = serde_json::from_str(body).unwrap();
        assert_eq!(p.alerts.len(), 1);
        assert!(p.alerts[0].is_memwatchdog());
        assert_eq!(
            p.alerts[0].pod("x"),
            Some(("shop".into(), "shop-7d9".into()))
        );
    }

    #[test]
    fn only_memwatchdog_alerts_are_ours() {
        assert!(alert("MemWatchdogOomRisk", "firing", "1", &[]).is_memwatchdog());
        assert!(!alert("KubePodCrashLooping", "firing", "1", &[]).is_memwatchdog());
    }

    #[test]
    fn the_pod_comes_from_the_pod_label_then_a_non_address_instance() {
        let rule = alert(
            "MemWatchdogLeaking",
            "firing",
            "1",
            &[
                ("instance", "10.0.0.7:9469"),
                ("pod", "shop-7d9"),
                ("namespace", "shop"),
            ],
        );
        assert_eq!(rule.pod("x"), Some(("shop".into(), "shop-7d9".into())));
        let own = alert("MemoryLeak", "firing", "1", &[("instance", "shop-7d9")]);
        assert_eq!(
            own.pod("default"),
            Some(("default".into(), "shop-7d9".into()))
        );
        let address_only = alert(
            "MemWatchdogDown",
            "firing",
            "1",
            &[("instance", "10.0.0.7:9469")],
        );
        assert_eq!(address_only.pod("default"), None);
    }

    #[test]
    fn a_report_counts_for_an_alert_when_written_after_it_started() {
        let mut a = alert("MemoryLeak", "firing", "1", &[]);
        a.starts_at = "2026-12-05T10:00:00.5Z".into();
        let at = |s: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(s);
        // 2026-12-05T10:00:00Z is 1_796_464_800.
        assert!(a.is_after_start(at(1_796_464_800)));
        assert!(a.is_after_start(at(1_796_464_830)));
        assert!(!a.is_after_start(at(1_796_464_799)));
        a.starts_at = "garbage".into();
        assert!(a.is_after_start(at(0)));
    }

    #[test]
    fn a_fingerprint_is_forwarded_once_per_status() {
        let mut d = Deduplicator::new(2);
        let firing = alert("MemoryLeak", "firing", "f1", &[]);
        let resolved = alert("MemoryLeak", "resolved", "f1", &[]);
        assert!(d.admit(&firing));
        assert!(!d.admit(&firing), "a repeat of a firing alert is dropped");
        assert!(d.admit(&resolved));
        assert!(!d.admit(&resolved));
        assert!(d.admit(&firing), "firing again after resolving is news");
        // The oldest fingerprints are forgotten beyond the capacity.
        assert!(d.admit(&alert("MemoryLeak", "firing", "f2", &[])));
        assert!(d.admit(&alert("MemoryLeak", "firing", "f3", &[])));
        assert!(d.admit(&firing), "f1 was forgotten");
        // A failed forwarding is forgotten: the repeat is tried again.
        d.forget(&firing);
        assert!(d.admit(&firing));
    }
}
