//! [`Alerts`]: the firing alert of each signal and its annotations.
//!
//! On "leaking" the alert fires at once with the slope and heap figures; snapshot news
//! (path written, or why it was refused) is added later by re-firing the same alert
//! with more annotations. Leaving "leaking" resolves it.

use std::collections::BTreeMap;

use memwatchdog_detect::{Event, Signal};
use memwatchdog_exporter::Alerter;
use memwatchdog_snapguard::HumanBytes;

/// Alert state per signal (index = position in [`Signal::ALL`]).
pub(crate) struct Alerts {
    alerter: Option<Alerter>,
    service: String,
    firing: [Option<BTreeMap<String, String>>; 3],
    /// Annotations that also go on alerts fired later (the allocation profile's findings,
    /// which may come from the `suspect` state before the alert fires).
    sticky: BTreeMap<String, String>,
}

fn index(signal: Signal) -> usize {
    match signal {
        Signal::Heap => 0,
        Signal::External => 1,
        Signal::Rss => 2,
    }
}

/// `1.2 MB/s` from bytes/ms.
fn rate(bytes_per_ms: f64) -> String {
    let per_second = (bytes_per_ms * 1000.0).max(0.0);
    format!("{}/s", HumanBytes(per_second as u64))
}

impl Alerts {
    pub(crate) fn new(alerter: Option<Alerter>, service: String) -> Alerts {
        Alerts {
            alerter,
            service,
            firing: [None, None, None],
            sticky: BTreeMap::new(),
        }
    }

    /// Fires the alert of `event.signal` (which just became "leaking").
    pub(crate) fn fire(&mut self, event: &Event, heap_used: u64, value: u64) {
        let signal = event.signal.as_str();
        let trend = &event.evidence.trend;
        let mut a = BTreeMap::new();
        a.insert(
            "summary".to_owned(),
            format!(
                "{} is leaking memory: {signal} grows {} (threshold {})",
                self.service,
                rate(event.slope),
                rate(trend.threshold)
            ),
        );
        a.insert(
            "description".to_owned(),
            format!(
                "MemWatchdog declared a leak of {signal} memory in {}: the post-GC floor grows \
                 {:.1} bytes/ms (p = {:.2e}); {signal} is now {}, JS heap used {}.",
                self.service,
                event.slope,
                trend.p_value,
                HumanBytes(value),
                HumanBytes(heap_used)
            ),
        );
        a.insert(
            "slope_bytes_per_ms".to_owned(),
            format!("{:.3}", event.slope),
        );
        a.insert(
            "growth_bytes_per_second".to_owned(),
            format!("{:.0}", event.slope * 1000.0),
        );
        a.insert(
            "threshold_bytes_per_ms".to_owned(),
            format!("{:.3}", trend.threshold),
        );
        a.insert("heap_used_bytes".to_owned(), heap_used.to_string());
        a.insert(format!("{signal}_bytes"), value.to_string());
        a.extend(self.sticky.clone());
        if let Some(alerter) = &self.alerter {
            alerter.fire(signal, a.clone());
        }
        self.firing[index(event.signal)] = Some(a);
    }

    /// Adds an annotation to every firing alert and re-sends them.
    pub(crate) fn annotate(&mut self, name: &str, value: &str, remove: &str) {
        for (i, slot) in self.firing.iter_mut().enumerate() {
            if let Some(a) = slot {
                a.insert(name.to_owned(), value.to_owned());
                a.remove(remove);
                if let Some(alerter) = &self.alerter {
                    alerter.fire(Signal::ALL[i].as_str(), a.clone());
                }
            }
        }
    }

    /// Adds an annotation to every firing alert (re-sending them) and to the alerts that
    /// fire later, until every alert has resolved.
    pub(crate) fn annotate_sticky(&mut self, name: &str, value: &str) {
        self.sticky.insert(name.to_owned(), value.to_owned());
        self.annotate(name, value, "");
    }

    /// Resolves the alert of `signal`, if it fires.
    pub(crate) fn resolve(&mut self, signal: Signal) {
        if self.firing[index(signal)].take().is_some() {
            if !self.any_firing() {
                self.sticky.clear();
            }
            if let Some(alerter) = &self.alerter {
                alerter.resolve(signal.as_str());
            }
        }
    }

    /// Whether any signal's alert fires.
    pub(crate) fn any_firing(&self) -> bool {
        self.firing.iter().any(Option::is_some)
    }

    /// Stops the sender thread (firing alerts expire in Alertmanager at their `endsAt`).
    pub(crate) fn stop(&mut self) {
        if let Some(alerter) = &mut self.alerter {
            alerter.stop();
        }
        self.alerter = None;
    }
}
