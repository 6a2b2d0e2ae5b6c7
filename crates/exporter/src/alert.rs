//! [`Alerter`]: the Alertmanager v2 client. `fire`/`resolve` only enqueue; a named
//! thread (`memwd-alerts`) delivers, re-sends and retries.
//!
//! ```no_run
//! use memwatchdog_exporter::{Alerter, AlerterConfig};
//! use std::collections::BTreeMap;
//!
//! let mut config = AlerterConfig::new("http://alertmanager:9093");
//! config.labels.insert("service".into(), "checkout".into());
//! let mut alerter = Alerter::start(config)?;
//! alerter.fire("heap", BTreeMap::from([("summary".into(), "heap grows 2.5 MB/s".into())]));
//! // ... later, when the detector says the leak stopped:
//! alerter.resolve("heap");
//! alerter.stop();
//! # Ok::<(), memwatchdog_exporter::ExporterError>(())
//! ```
//!
//! Guarantees for the caller (the JS thread, in the addon): `fire` and `resolve` take
//! one short uncontended lock and return — no I/O, no allocation beyond the alert's
//! own strings, never a panic. Alertmanager being down, slow or failing costs the
//! caller nothing: the sender retries with exponential backoff and jitter, keeps at
//! most `max_queue` alerts (the oldest is dropped and counted when a new key arrives
//! on a full queue), and delivers what is pending once Alertmanager answers again.
//! `stop` interrupts a request in flight and returns within [`STOP_GRACE`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime};

use crate::backoff::BackoffConfig;
use crate::error::{ExporterError, check_label_names, is_valid_label_name};
use crate::log::{LogFn, emit};
use crate::metrics::Metrics;
use crate::payload::{AlertTemplate, sanitize_name};
use crate::queue::AlertQueue;
use crate::redact::redact_url;
use crate::sender::{self, Sender};

/// Longest time [`Alerter::stop`] waits for the sender thread; only a DNS lookup or TCP
/// connect in progress can take longer, and then the thread is left to finish it alone.
pub const STOP_GRACE: Duration = Duration::from_secs(1);
/// Name of the sender thread.
const THREAD_NAME: &str = "memwd-alerts";

/// Settings of an [`Alerter`]. Start from [`AlerterConfig::new`].
#[derive(Clone)]
pub struct AlerterConfig {
    /// Alertmanager base URL, e.g. `http://alertmanager:9093` (a path prefix is kept;
    /// a trailing `/api/v2/alerts` is tolerated).
    pub url: String,
    /// Labels of every alert. `new` sets `alertname="MemoryLeak"` and
    /// `severity="warning"`; add `service`, `instance`... Empty values are left out.
    pub labels: BTreeMap<String, String>,
    /// Label that carries the alert key given to [`Alerter::fire`] (default `signal`,
    /// so keys `heap`, `external`, `rss` make distinct alerts).
    pub key_label: String,
    /// How often a firing alert is re-sent (default 60 s). Its `endsAt` is set three
    /// intervals ahead, so Alertmanager resolves it by itself if re-sends stop.
    pub resend_interval: Duration,
    /// Limit for one POST, connect included (default 5 s).
    pub timeout: Duration,
    /// Most alerts kept (default 64).
    pub max_queue: usize,
    /// Retry delays.
    pub backoff: BackoffConfig,
    /// `generatorURL` of every alert (e.g. the `/metrics` page), if any.
    pub generator_url: Option<String>,
    /// Where the sent/failed/dropped counters go; a private registry if `None`.
    pub metrics: Option<Arc<Metrics>>,
    /// Log hook, called from the sender thread at most once per backoff step.
    pub on_log: Option<LogFn>,
}

impl AlerterConfig {
    /// Defaults for Alertmanager at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        AlerterConfig {
            url: url.into(),
            labels: BTreeMap::from([
                ("alertname".to_owned(), "MemoryLeak".to_owned()),
                ("severity".to_owned(), "warning".to_owned()),
            ]),
            key_label: "signal".to_owned(),
            resend_interval: Duration::from_secs(60),
            timeout: Duration::from_secs(5),
            max_queue: 64,
            backoff: BackoffConfig::default(),
            generator_url: None,
            metrics: None,
            on_log: None,
        }
    }
}

impl fmt::Debug for AlerterConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlerterConfig")
            .field("url", &redact_url(&self.url))
            .field("labels", &self.labels)
            .field("key_label", &self.key_label)
            .field("resend_interval", &self.resend_interval)
            .field("timeout", &self.timeout)
            .field("max_queue", &self.max_queue)
            .field("backoff", &self.backoff)
            .field("generator_url", &self.generator_url)
            .field("on_log", &self.on_log.as_ref().map(|_| "Fn"))
            .finish_non_exhaustive()
    }
}

/// State shared by the caller and the sender thread.
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    /// Signalled on every enqueue and on stop.
    pub(crate) wake: Condvar,
}

pub(crate) struct State {
    pub(crate) queue: AlertQueue,
    pub(crate) stopping: bool,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running Alertmanager client. Dropping it stops it.
pub struct Alerter {
    shared: Arc<Shared>,
    metrics: Arc<Metrics>,
    log: Option<LogFn>,
    agent: Option<ureq::Agent>,
    thread: Option<JoinHandle<()>>,
    /// Disconnected when the sender thread has exited (in a mutex only to make the
    /// alerter `Sync`).
    exited: Option<Mutex<mpsc::Receiver<()>>>,
    endpoint: String,
}

impl fmt::Debug for Alerter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Alerter")
            .field("endpoint", &redact_url(&self.endpoint))
            .field("running", &self.thread.is_some())
            .finish_non_exhaustive()
    }
}

impl Alerter {
    /// Checks `config` and starts the sender thread. Nothing is sent until `fire`.
    pub fn start(config: AlerterConfig) -> Result<Alerter, ExporterError> {
        let endpoint = alerts_endpoint(&config.url)?;
        let mut labels: BTreeMap<String, String> = config
            .labels
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect();
        check_label_names(labels.keys())?;
        if !is_valid_label_name(&config.key_label) {
            return Err(ExporterError::BadLabelName {
                name: config.key_label,
            });
        }
        labels.remove(&config.key_label);
        if !labels.contains_key("alertname") {
            return Err(ExporterError::BadSetting {
                setting: "AlerterConfig::labels[\"alertname\"]",
                problem: "must not be empty (Alertmanager routes alerts by it)",
            });
        }
        check_duration("alert.timeout", config.timeout)?;
        check_duration("alert.resendInterval", config.resend_interval)?;
        check_duration("alert.backoff.initial", config.backoff.initial)?;
        check_duration("alert.backoff.max", config.backoff.max)?;
        if config.max_queue == 0 {
            return Err(ExporterError::BadSetting {
                setting: "AlerterConfig::max_queue",
                problem: "must be at least 1",
            });
        }

        let metrics = config.metrics.unwrap_or_default();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: AlertQueue::new(config.max_queue, config.resend_interval),
                stopping: false,
            }),
            wake: Condvar::new(),
        });
        let agent = sender::agent(config.timeout);
        let sender = Sender {
            shared: Arc::clone(&shared),
            agent: agent.clone(),
            endpoint: endpoint.clone(),
            template: AlertTemplate {
                labels,
                key_label: config.key_label,
                generator_url: config.generator_url,
                resend_interval: config.resend_interval,
            },
            backoff: config.backoff,
            metrics: Arc::clone(&metrics),
            log: config.on_log.clone(),
        };
        let (exit_tx, exit_rx) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || {
                let _exit = exit_tx; // dropped when the thread ends, even by panic
                sender.run();
            })
            .map_err(|source| ExporterError::Thread {
                name: THREAD_NAME,
                source,
            })?;
        Ok(Alerter {
            shared,
            metrics,
            log: config.on_log,
            agent: Some(agent),
            thread: Some(thread),
            exited: Some(Mutex::new(exit_rx)),
            endpoint,
        })
    }

    /// Fires alert `alert_key` (or updates its annotations), to be sent at once and
    /// re-sent while it stays firing. Annotation names that are not valid label names
    /// are made valid (`top suspect` → `top_suspect`). Never blocks on the network.
    pub fn fire(&self, alert_key: &str, annotations: BTreeMap<String, String>) {
        self.fire_labelled(alert_key, BTreeMap::new(), annotations);
    }

    /// Like [`fire`](Self::fire), with labels of this alert on top of the common ones (they
    /// override them, e.g. `severity`, and the key label). A key keeps the labels of its first
    /// fire until it is resolved: fire another label set under another key.
    pub fn fire_labelled(
        &self,
        alert_key: &str,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
    ) {
        let annotations = annotations
            .into_iter()
            .map(|(k, v)| {
                if is_valid_label_name(&k) {
                    (k, v)
                } else {
                    (sanitize_name(&k), v)
                }
            })
            .collect();
        let now = SystemTime::now();
        let evicted = {
            let mut state = self.shared.lock();
            if state.stopping {
                return;
            }
            state.queue.fire(alert_key, labels, annotations, now)
        };
        for _ in 0..evicted {
            self.metrics.inc_alert_queue_dropped();
        }
        self.shared.wake.notify_all();
    }

    /// Resolves alert `alert_key` as of now (`endsAt`). Unknown keys are ignored.
    pub fn resolve(&self, alert_key: &str) {
        let now = SystemTime::now();
        let known = {
            let mut state = self.shared.lock();
            !state.stopping && state.queue.resolve(alert_key, now)
        };
        if known {
            self.shared.wake.notify_all();
        }
    }

    /// Alerts with changes Alertmanager has not accepted yet.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.shared.lock().queue.undelivered()
    }

    /// The registry holding this alerter's counters.
    #[must_use]
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The URL alerts are sent to (with its credentials: [`redact_url`] it before showing it).
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Stops the sender: pending alerts are discarded (firing ones expire in
    /// Alertmanager at their `endsAt`), a request in flight is cut off. Returns within
    /// [`STOP_GRACE`]. Idempotent; also done on drop.
    pub fn stop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.shared.lock().stopping = true;
        self.shared.wake.notify_all();
        if let Some(agent) = self.agent.take() {
            agent.shutdown(); // interrupts a request blocked on its socket
        }
        let exited = self.exited.take().is_none_or(|rx| {
            let rx = rx.into_inner().unwrap_or_else(PoisonError::into_inner);
            rx.recv_timeout(STOP_GRACE) != Err(mpsc::RecvTimeoutError::Timeout)
        });
        if exited {
            let _ = thread.join();
        } else {
            emit(
                self.log.as_ref(),
                "memwatchdog: alert sender still connecting to Alertmanager; \
                 it will exit when its connect timeout expires",
            );
        }
    }
}

impl Drop for Alerter {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Longest accepted duration setting; keeps every `Instant`/`SystemTime` sum far from
/// overflow.
const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

fn check_duration(setting: &'static str, d: Duration) -> Result<(), ExporterError> {
    let problem = if d.is_zero() {
        "must be more than zero"
    } else if d > MAX_DURATION {
        "must be at most 24 hours"
    } else {
        return Ok(());
    };
    Err(ExporterError::BadSetting { setting, problem })
}

/// Checks an Alertmanager base URL as [`Alerter::start`] will: the one check, so a caller
/// can report a bad URL (in its own words for where it came from) before starting anything.
pub fn check_alertmanager_url(url: &str) -> Result<(), ExporterError> {
    alerts_endpoint(url).map(drop)
}

/// `{base}/api/v2/alerts` from a base URL, or the error saying what a base URL is.
fn alerts_endpoint(url: &str) -> Result<String, ExporterError> {
    let bad = || ExporterError::BadUrl {
        url: redact_url(url),
    };
    let trimmed = url.trim();
    let lower = trimmed.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"))
        .ok_or_else(bad)?;
    if rest.is_empty()
        || rest.starts_with(['/', ':', '?', '#'])
        || trimmed.contains(['?', '#', ' '])
    {
        return Err(bad());
    }
    let mut base = trimmed.trim_end_matches('/');
    for suffix in ["/api/v2/alerts", "/api/v2"] {
        if let Some(stripped) = base.strip_suffix(suffix) {
            base = stripped;
            break;
        }
    }
    let endpoint = format!("{base}/api/v2/alerts");
    let uri: ureq::http::Uri = endpoint.parse().map_err(|_| bad())?;
    if uri.host().is_none_or(str::is_empty) || !port_is_numeric(rest) {
        return Err(bad());
    }
    Ok(endpoint)
}

/// Whether the authority at the start of `rest` (URL after the scheme) has no port or a
/// numeric one (`http::Uri` accepts `am:port`).
fn port_is_numeric(rest: &str) -> bool {
    let authority = rest.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let port = if let Some(after) = host_port.strip_prefix('[') {
        after.split_once(']').map_or("", |(_, p)| p)
    } else {
        host_port.split_once(':').map_or("", |(_, p)| p)
    };
    port.is_empty()
        || port
            .strip_prefix(':')
            .unwrap_or(port)
            .parse::<u16>()
            .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let ok = [
            (
                "http://127.0.0.1:9093",
                "http://127.0.0.1:9093/api/v2/alerts",
            ),
            (
                "http://alertmanager:9093/",
                "http://alertmanager:9093/api/v2/alerts",
            ),
            (
                "https://am.example/prefix",
                "https://am.example/prefix/api/v2/alerts",
            ),
            (
                "http://am:9093/api/v2/alerts",
                "http://am:9093/api/v2/alerts",
            ),
            ("http://am:9093/api/v2/", "http://am:9093/api/v2/alerts"),
            ("http://[::1]:9093", "http://[::1]:9093/api/v2/alerts"),
        ];
        for (url, want) in ok {
            assert_eq!(alerts_endpoint(url).unwrap(), want, "{url}");
        }
        for url in [
            "",
            "alertmanager:9093",
            "ftp://am",
            "http://",
            "http:///x",
            "http://am:9093?x=1",
            "http://am:port",
            "http://a m",
        ] {
            let err = alerts_endpoint(url).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "{url:?} is not an http:// or https:// base URL like http://alertmanager:9093"
                )
            );
        }
    }

    #[test]
    fn bad_settings_are_refused() {
        let mut c = AlerterConfig::new("http://127.0.0.1:1");
        c.labels.insert("bad-name".into(), "x".into());
        assert!(matches!(
            Alerter::start(c),
            Err(ExporterError::BadLabelName { .. })
        ));
        let mut c = AlerterConfig::new("http://127.0.0.1:1");
        c.max_queue = 0;
        assert!(matches!(
            Alerter::start(c),
            Err(ExporterError::BadSetting { .. })
        ));
        let mut c = AlerterConfig::new("http://127.0.0.1:1");
        c.resend_interval = Duration::MAX;
        assert!(matches!(
            Alerter::start(c),
            Err(ExporterError::BadSetting { .. })
        ));
        let mut c = AlerterConfig::new("http://127.0.0.1:1");
        c.labels.remove("alertname");
        assert!(matches!(
            Alerter::start(c),
            Err(ExporterError::BadSetting { .. })
        ));
    }

    #[test]
    fn fire_after_stop_is_ignored() {
        let mut a = Alerter::start(AlerterConfig::new("http://127.0.0.1:1")).unwrap();
        a.stop();
        a.fire("heap", BTreeMap::new());
        a.resolve("heap");
        assert_eq!(a.pending(), 0);
        a.stop();
    }
}
