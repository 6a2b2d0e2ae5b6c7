//! [`Alerts`]: the firing alerts of each signal and their annotations.
//!
//! Two alerts per signal, told apart in Alertmanager by their `severity` label:
//! - `warning` fires on `leaking` and stays while the signal is `leaking` or `oom_risk`
//!   ("you have a leak");
//! - `critical` fires on `oom_risk` and ends when the signal goes back to `leaking`
//!   ("this process runs out of memory in ~N minutes"). An inhibit rule on
//!   `severity` (deploy/alertmanager) silences the warning while the critical one fires.
//!
//! Both fire at once with the slope, heap and projection figures; snapshot news (path
//! written, or why it was refused) is added later by re-firing the same alerts with more
//! annotations. Leaving the leak states resolves both.
//!
//! Pure: every send is an [`AlertRequest`] pushed to the caller's effects; the runtime hands
//! them to the exporter's Alertmanager client (or drops them when no URL is configured).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use memwatchdog_detect::{Event, Signal, SignalStatus, State};
use memwatchdog_exporter::format_rfc3339;
use memwatchdog_units::HumanBytes;

use crate::effect::Effect;

/// One message for Alertmanager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertRequest {
    /// Fire (or update) the alert `key`: `labels` on top of the common ones (empty when
    /// re-sent: a key keeps the labels of its first fire), and its annotations.
    Fire {
        /// One per signal and severity (`heap`, `heap/oom_risk`).
        key: String,
        /// The alert's own labels (`signal`, `severity`).
        labels: BTreeMap<String, String>,
        /// Summary, description and figures.
        annotations: BTreeMap<String, String>,
    },
    /// The alert `key` ended.
    Resolve {
        /// As fired.
        key: String,
    },
}

/// The two alerts of a signal.
#[derive(Clone, Copy)]
enum Severity {
    Warning,
    Critical,
}

impl Severity {
    const ALL: [Severity; 2] = [Severity::Warning, Severity::Critical];

    const fn label(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }

    /// The alert's key in the sender's queue: one per signal and severity.
    fn key(self, signal: Signal) -> String {
        match self {
            Severity::Warning => signal.as_str().to_owned(),
            Severity::Critical => format!("{}/oom_risk", signal.as_str()),
        }
    }
}

/// Alert state per severity and signal (index = position in [`Signal::ALL`]).
pub(crate) struct Alerts {
    service: String,
    firing: [[Option<BTreeMap<String, String>>; 3]; 2],
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

/// A firing alert is re-sent when its projected time to exhaustion moves by more than this
/// share (the first projection of a leak that started with the process includes its start-up
/// ramp; later ones converge, see docs/detection.md).
const PROJECTION_UPDATE: f64 = 0.2;

/// What an alert's projection is made of: the time left, the limit it runs into, and the
/// growth rate, from the event that fired it or from the detector's newer status.
#[derive(Clone, Copy)]
pub(crate) struct Projection {
    pub(crate) exhaustion_ms: Option<f64>,
    pub(crate) limit_bytes: Option<f64>,
    pub(crate) slope: f64,
}

impl Projection {
    pub(crate) fn of_status(status: &SignalStatus) -> Projection {
        Projection {
            exhaustion_ms: status.exhaustion_ms,
            limit_bytes: status.room.map(|r| r.limit_bytes),
            slope: status.slope,
        }
    }
}

/// `1.2 MB/s` from bytes/ms.
fn rate(bytes_per_ms: f64) -> String {
    let per_second = (bytes_per_ms * 1000.0).max(0.0);
    format!("{}/s", HumanBytes(per_second as u64))
}

/// `~42 min` / `~3.5 h` / `~50 s`.
fn duration(ms: f64) -> String {
    let s = ms / 1000.0;
    if s < 120.0 {
        format!("~{s:.0} s")
    } else if s < 2.0 * 3600.0 {
        format!("~{:.0} min", s / 60.0)
    } else {
        format!("~{:.1} h", s / 3600.0)
    }
}

impl AlertRequest {
    /// Re-sends a firing alert with its current annotations (its labels stay as first fired).
    fn refire(key: String, annotations: &BTreeMap<String, String>) -> AlertRequest {
        AlertRequest::Fire {
            key,
            labels: BTreeMap::new(),
            annotations: annotations.clone(),
        }
    }
}

impl Alerts {
    pub(crate) fn new(service: String) -> Alerts {
        Alerts {
            service,
            firing: Default::default(),
            sticky: BTreeMap::new(),
        }
    }

    /// Fires the alert `event` calls for: the warning when the signal became `leaking`, the
    /// critical one when it became `oom_risk`. `now` dates the projected exhaustion.
    pub(crate) fn fire(
        &mut self,
        event: &Event,
        heap_used: u64,
        value: u64,
        now: SystemTime,
        out: &mut Vec<Effect>,
    ) {
        let severity = if event.state == State::OomRisk {
            Severity::Critical
        } else {
            Severity::Warning
        };
        let signal = event.signal.as_str();
        let trend = &event.evidence.trend;
        let mut a = BTreeMap::new();
        // The critical alert's summary names the time left (see `project`).
        a.insert(
            "summary".to_owned(),
            format!(
                "{} is leaking memory: {signal} grows {} (threshold {})",
                self.service,
                rate(event.slope),
                rate(trend.threshold)
            ),
        );
        let headroom = match (event.headroom_bytes, event.limit_bytes) {
            (Some(h), Some(l)) => format!(
                " {} of its {} limit is left",
                HumanBytes(h as u64),
                HumanBytes(l as u64)
            ),
            _ => String::new(),
        };
        let at_this_rate = event.exhaustion_ms.map_or_else(String::new, |ms| {
            format!("; at this rate it is used up in {}", duration(ms))
        });
        a.insert(
            "description".to_owned(),
            format!(
                "MemWatchdog declared a leak of {signal} memory in {}: the post-GC floor grows \
                 {:.1} bytes/ms (p = {:.2e}); {signal} is now {}, JS heap used {}.{headroom}{at_this_rate}.",
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
        if let Some(limit) = event.limit_bytes {
            a.insert("limit_bytes".to_owned(), format!("{limit:.0}"));
        }
        if let Some(headroom) = event.headroom_bytes {
            a.insert("headroom_bytes".to_owned(), format!("{headroom:.0}"));
        }
        let projection = Projection {
            exhaustion_ms: event.exhaustion_ms,
            limit_bytes: event.limit_bytes,
            slope: event.slope,
        };
        self.project(severity, signal, &mut a, projection, now);
        a.extend(self.sticky.clone());
        out.push(Effect::Alert(AlertRequest::Fire {
            key: severity.key(event.signal),
            labels: BTreeMap::from([
                ("signal".to_owned(), signal.to_owned()),
                ("severity".to_owned(), severity.label().to_owned()),
            ]),
            annotations: a.clone(),
        }));
        self.firing[severity.index()][index(event.signal)] = Some(a);
    }

    /// Writes the projection into `a`: `exhaustion_seconds`, `exhaustion_at` and, for the
    /// critical alert, the summary that names the time left.
    fn project(
        &self,
        severity: Severity,
        signal: &str,
        a: &mut BTreeMap<String, String>,
        p: Projection,
        now: SystemTime,
    ) {
        let Some(ms) = p.exhaustion_ms else { return };
        a.insert(
            "exhaustion_seconds".to_owned(),
            format!("{:.0}", ms / 1000.0),
        );
        let at = now + Duration::from_secs_f64((ms / 1000.0).min(1e9));
        a.insert("exhaustion_at".to_owned(), format_rfc3339(at));
        if matches!(severity, Severity::Critical) {
            let limit = p
                .limit_bytes
                .map_or_else(String::new, |l| format!(" of {}", HumanBytes(l as u64)));
            a.insert(
                "summary".to_owned(),
                format!(
                    "{} runs out of memory in {}: {signal} grows {} towards its limit{limit}",
                    self.service,
                    duration(ms),
                    rate(p.slope)
                ),
            );
        }
    }

    /// Keeps the projection on the firing alerts of `signal` current: when the projected time
    /// to exhaustion moved by more than [`PROJECTION_UPDATE`] of the one on an alert, the alert
    /// is re-sent with the new figures.
    pub(crate) fn update_projection(
        &mut self,
        signal: Signal,
        p: Projection,
        now: SystemTime,
        out: &mut Vec<Effect>,
    ) {
        let Some(ms) = p.exhaustion_ms else { return };
        for severity in Severity::ALL {
            let Some(mut a) = self.firing[severity.index()][index(signal)].take() else {
                continue;
            };
            let shown = a
                .get("exhaustion_seconds")
                .and_then(|s| s.parse::<f64>().ok());
            let moved = shown.is_none_or(|s| (ms / 1000.0 - s).abs() > PROJECTION_UPDATE * s);
            if moved {
                self.project(severity, signal.as_str(), &mut a, p, now);
                out.push(Effect::Alert(AlertRequest::refire(
                    severity.key(signal),
                    &a,
                )));
            }
            self.firing[severity.index()][index(signal)] = Some(a);
        }
    }

    /// Adds an annotation to every firing alert and re-sends them.
    pub(crate) fn annotate(
        &mut self,
        name: &str,
        value: &str,
        remove: &str,
        out: &mut Vec<Effect>,
    ) {
        for severity in Severity::ALL {
            for (i, slot) in self.firing[severity.index()].iter_mut().enumerate() {
                if let Some(a) = slot {
                    a.insert(name.to_owned(), value.to_owned());
                    a.remove(remove);
                    out.push(Effect::Alert(AlertRequest::refire(
                        severity.key(Signal::ALL[i]),
                        a,
                    )));
                }
            }
        }
    }

    /// Adds an annotation to every firing alert (re-sending them) and to the alerts that
    /// fire later, until every alert has resolved.
    pub(crate) fn annotate_sticky(&mut self, name: &str, value: &str, out: &mut Vec<Effect>) {
        self.sticky.insert(name.to_owned(), value.to_owned());
        self.annotate(name, value, "", out);
    }

    fn resolve_one(&mut self, severity: Severity, signal: Signal, out: &mut Vec<Effect>) {
        if self.firing[severity.index()][index(signal)]
            .take()
            .is_some()
        {
            out.push(Effect::Alert(AlertRequest::Resolve {
                key: severity.key(signal),
            }));
        }
    }

    /// Resolves both alerts of `signal` (it left `leaking`/`oom_risk`).
    pub(crate) fn resolve(&mut self, signal: Signal, out: &mut Vec<Effect>) {
        for severity in Severity::ALL {
            self.resolve_one(severity, signal, out);
        }
        if !self.any_firing() {
            self.sticky.clear();
        }
    }

    /// Resolves the critical alert of `signal` (it went back from `oom_risk` to `leaking`).
    pub(crate) fn resolve_oom_risk(&mut self, signal: Signal, out: &mut Vec<Effect>) {
        self.resolve_one(Severity::Critical, signal, out);
    }

    /// Whether any alert fires.
    pub(crate) fn any_firing(&self) -> bool {
        self.firing.iter().flatten().any(Option::is_some)
    }
}
