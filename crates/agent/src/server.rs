//! The agent's HTTP endpoints on `--listen`: `GET /metrics`, `GET /healthz` and
//! `POST /alertmanager` (Alertmanager's webhook receiver). Alerts are answered at once; the
//! lookup of their findings and the forwarding run in a task of their own.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::json;

use crate::findings::{self, Source};
use crate::log;
use crate::notify;
use crate::shared::Shared;
use crate::webhook::{Alert, Payload};

/// The routes, over the agent's shared state.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/alertmanager", post(alertmanager))
        .with_state(shared)
}

async fn metrics(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.encode(),
    )
}

/// 200 while the scan loop runs (an analysis in progress included), 503 once it stopped.
async fn healthz(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    let running = s.running.load(Ordering::Relaxed);
    let status = if running {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if running { "ok" } else { "stopped" },
        "last_scan_unix_seconds": s.last_scan.load(Ordering::Relaxed),
    });
    (status, Json(body))
}

async fn alertmanager(
    State(s): State<Arc<Shared>>,
    Json(payload): Json<Payload>,
) -> impl IntoResponse {
    let mut news = Vec::new();
    {
        let mut dedup = s
            .dedup
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for alert in payload.alerts {
            if !alert.is_memwatchdog() {
                s.metrics.alert("ignored");
            } else if dedup.admit(&alert) {
                news.push(alert);
            } else {
                s.metrics.alert("duplicate");
            }
        }
    }
    let accepted = news.len();
    for alert in news {
        tokio::spawn(answer(Arc::clone(&s), alert));
    }
    Json(json!({ "accepted": accepted }))
}

/// How often the findings of a firing alert's pod are looked up again while waiting.
const LOOKUP_EVERY: Duration = Duration::from_secs(5);

/// Looks up the alert's pod's findings and forwards them (or logs them without a URL).
/// A firing alert waits up to `--notify-wait` for an analysis written after it started:
/// the leak snapshot is written, then analyzed, after the watchdog fires.
async fn answer(s: Arc<Shared>, alert: Alert) {
    let config = &s.config;
    let pod = alert.pod(&config.namespace);
    let deadline = tokio::time::Instant::now() + config.notify_wait;
    let findings = loop {
        let findings = match &pod {
            None => findings::Findings::default(),
            Some((ns, p)) => lookup(&s, ns, p).await.unwrap_or_else(|e| {
                log::warn(
                    "cannot look up the analysis for an alert",
                    json!({ "alert": alert.name(), "error": e }),
                );
                findings::Findings::default()
            }),
        };
        let current = findings
            .analysis
            .as_ref()
            .is_some_and(|r| alert.is_after_start(r.modified));
        if current
            || pod.is_none()
            || alert.status != "firing"
            || tokio::time::Instant::now() >= deadline
        {
            break findings;
        }
        tokio::time::sleep(LOOKUP_EVERY).await;
    };
    let body = notify::body(&alert, pod.as_ref(), &findings);
    let Some(url) = &config.notify_url else {
        s.metrics.alert("logged");
        log::info("alert", body);
        return;
    };
    match notify::forward(&s.http, url, &body).await {
        Ok(()) => {
            s.metrics.alert("forwarded");
            log::info(
                "alert forwarded",
                json!({
                    "alert": alert.name(), "status": alert.status, "fingerprint": alert.fingerprint,
                    "analysis": body["analysis"], "allocation": body["allocation"],
                }),
            );
        }
        Err(e) => {
            s.dedup
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .forget(&alert);
            s.metrics.alert("failed");
            log::warn(
                "cannot forward an alert",
                json!({ "alert": alert.name(), "fingerprint": alert.fingerprint, "error": e }),
            );
        }
    }
}

async fn lookup(s: &Shared, namespace: &str, pod: &str) -> Result<findings::Findings, String> {
    let config = &s.config;
    let source = if let (Some(store), Some(sc)) = (&s.store, &config.store) {
        Source::Store {
            store,
            url: &sc.url,
        }
    } else {
        let own = (config.namespace.as_str(), config.pod.as_str());
        Source::Local {
            dir: &config.dir,
            own,
        }
    };
    findings::newest(source, namespace, pod).await
}
