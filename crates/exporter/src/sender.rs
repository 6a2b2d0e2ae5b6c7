//! The alert sender thread: takes due alerts from the [`AlertQueue`](crate::queue),
//! POSTs them to Alertmanager with `ureq`, and waits — for the next change, the next
//! re-send, or the end of a backoff delay — on the queue's condition variable, so a
//! `fire` or a `stop` wakes it at once.
//!
//! The lock is held only to read or update the queue, never during a request.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::alert::Shared;
use crate::backoff::{Backoff, BackoffConfig};
use crate::log::{LogFn, emit};
use crate::metrics::Metrics;
use crate::payload::AlertTemplate;
use crate::redact::redact_url;

/// Longest error-body excerpt put in a log line.
const MAX_ERROR_BODY: u64 = 512;

/// A `ureq` agent for Alertmanager: whole-request `timeout`, no redirects (a POST
/// must not silently turn into a GET), HTTP error statuses returned as responses.
pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .timeout_connect(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("memwatchdog/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Everything the sender thread owns.
pub(crate) struct Sender {
    pub(crate) shared: Arc<Shared>,
    pub(crate) agent: ureq::Agent,
    pub(crate) endpoint: String,
    pub(crate) template: AlertTemplate,
    pub(crate) backoff: BackoffConfig,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) log: Option<LogFn>,
}

impl Sender {
    /// The thread body; returns when the alerter stops.
    pub(crate) fn run(self) {
        let mut backoff = Backoff::new(self.backoff);
        let mut retry_at: Option<Instant> = None;
        let mut state = self.shared.lock();
        loop {
            if state.stopping {
                return;
            }
            let now = Instant::now();
            let wait_until = match retry_at {
                Some(at) if at > now => Some(at),
                _ => {
                    let batch = state.queue.due(now);
                    if batch.is_empty() {
                        state.queue.next_due(now)
                    } else {
                        drop(state);
                        let result = self.post(&self.template.body(&batch, SystemTime::now()));
                        state = self.shared.lock();
                        if state.stopping {
                            return;
                        }
                        match result {
                            Ok(()) => {
                                state.queue.delivered(&batch, Instant::now());
                                self.metrics.add_alerts_sent(batch.len() as u64);
                                if backoff.failures() > 0 {
                                    emit(
                                        self.log.as_ref(),
                                        &format!(
                                            "memwatchdog: Alertmanager at {} answers again; \
                                             delivered {} alert(s) after {} failed attempt(s)",
                                            redact_url(&self.endpoint),
                                            batch.len(),
                                            backoff.failures()
                                        ),
                                    );
                                }
                                backoff.reset();
                                retry_at = None;
                            }
                            Err(why) => {
                                self.metrics.inc_alert_send_failures();
                                let (delay, new_step) = backoff.fail();
                                if new_step {
                                    emit(
                                        self.log.as_ref(),
                                        &format!(
                                            "memwatchdog: cannot send {} alert(s) to {}: {why}; \
                                             retrying in {:.1}s",
                                            batch.len(),
                                            redact_url(&self.endpoint),
                                            delay.as_secs_f64()
                                        ),
                                    );
                                }
                                retry_at = Some(Instant::now() + delay);
                            }
                        }
                        continue;
                    }
                }
            };
            state = match wait_until {
                Some(at) => {
                    let timeout = at.saturating_duration_since(Instant::now());
                    self.shared
                        .wake
                        .wait_timeout(state, timeout)
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0
                }
                None => self
                    .shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            };
        }
    }

    /// One POST; `Err` says why it failed, for the log.
    fn post(&self, body: &str) -> Result<(), String> {
        let response = self
            .agent
            .post(&self.endpoint)
            .content_type("application/json")
            .send(body.as_bytes());
        // An HTTP client error may quote the URL: never with its credentials.
        let mut response = response.map_err(|e| {
            e.to_string()
                .replace(&self.endpoint, &redact_url(&self.endpoint))
        })?;
        let status = response.status();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ERROR_BODY)
            .read_to_string()
            .unwrap_or_default();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {status}: {}", text.trim()))
        }
    }
}
