//! Forwards an alert with its findings to the configured webhook: a JSON body whose `text`
//! is the whole message (what Slack-compatible incoming webhooks show) and whose other
//! fields carry the same facts for machines.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use crate::findings::{Findings, Report};
use crate::webhook::Alert;

/// Attempts per forwarded alert, 1 s, 2 s, 4 s apart.
const ATTEMPTS: u32 = 4;

/// The body forwarded for `alert` about `pod` (namespace, pod) with what was found.
#[must_use]
pub fn body(alert: &Alert, pod: Option<&(String, String)>, findings: &Findings) -> Value {
    let service = alert.labels.get("service").map_or("", String::as_str);
    let mut text = format!("[{}] {}", alert.status, alert.name());
    if !service.is_empty() {
        let _ = write!(text, " {service}");
    }
    if let Some((ns, p)) = pod {
        let _ = write!(text, " ({ns}/{p})");
    }
    if let Some(summary) = alert.annotations.get("summary") {
        let _ = write!(text, ": {summary}");
    }
    let report = |r: &Option<Report>, what: &str, text: &mut String| {
        if let Some(r) = r {
            if let Some(line) = &r.line {
                let _ = write!(text, "\n{what}: {line}");
            }
            let _ = write!(text, "\nreport: {}", r.page.as_ref().unwrap_or(&r.location));
        }
    };
    report(&findings.analysis, "top suspect", &mut text);
    report(&findings.allocation, "top allocation site", &mut text);
    if findings.analysis.is_none() && findings.allocation.is_none() {
        text.push_str("\nno analysis yet for this pod");
    }
    let as_json = |r: &Option<Report>, line: &str| {
        r.as_ref()
            .map(|r| json!({ "report": r.location, "page": r.page, line: r.line }))
    };
    json!({
        "text": text,
        "status": alert.status,
        "alertname": alert.name(),
        "fingerprint": alert.fingerprint,
        "startsAt": alert.starts_at,
        "namespace": pod.map(|p| &p.0),
        "pod": pod.map(|p| &p.1),
        "labels": alert.labels,
        "analysis": as_json(&findings.analysis, "top_suspect"),
        "allocation": as_json(&findings.allocation, "top_allocation_site"),
    })
}

/// POSTs `body` to `url`, retrying network errors and 5xx answers; `Err` with the last
/// failure (URL credentials redacted).
pub async fn forward(client: &reqwest::Client, url: &str, body: &Value) -> Result<(), String> {
    let shown = memwatchdog_exporter::redact_url(url);
    let mut delay = Duration::from_secs(1);
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match client.post(url).json(body).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) if r.status().is_client_error() => {
                return Err(format!(
                    "{shown} answered {} (not retried: check the URL and the body it expects)",
                    r.status()
                ));
            }
            Ok(r) => last = format!("{shown} answered {}", r.status()),
            Err(e) => last = format!("cannot reach {shown}: {}", without_url(&e)),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
    Err(last)
}

/// reqwest's error text without the URL it appends (which may hold credentials).
fn without_url(e: &reqwest::Error) -> String {
    let e = e.to_string();
    e.split(" for url (").next().unwrap_or(&e).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn the_text_carries_the_alert_and_its_findings() {
        let mut labels = BTreeMap::new();
        labels.insert("alertname".into(), "MemoryLeak".into());
        labels.insert("service".into(), "checkout".into());
        let mut annotations = BTreeMap::new();
        annotations.insert("summary".into(), "checkout leaks 2 MB/min".into());
        let alert = Alert {
            status: "firing".into(),
            labels,
            annotations,
            fingerprint: "f1".into(),
            starts_at: "2026-12-05T10:00:00Z".into(),
        };
        let findings = Findings {
            analysis: Some(Report {
                location: "s3://b/shop/p/2026-12-05/x-leak.analysis.json".into(),
                line: Some("AuditEntry ×10 (+1 kB) held by x".into()),
                page: Some("s3://b/shop/p/2026-12-05/x-leak.analysis.html".into()),
                modified: std::time::SystemTime::UNIX_EPOCH,
            }),
            allocation: None,
        };
        let pod = ("shop".to_owned(), "p".to_owned());
        let b = body(&alert, Some(&pod), &findings);
        assert_eq!(
            b["text"],
            "[firing] MemoryLeak checkout (shop/p): checkout leaks 2 MB/min\n\
             top suspect: AuditEntry ×10 (+1 kB) held by x\n\
             report: s3://b/shop/p/2026-12-05/x-leak.analysis.html"
        );
        assert_eq!(
            b["analysis"]["top_suspect"],
            "AuditEntry ×10 (+1 kB) held by x"
        );
        assert_eq!(b["allocation"], Value::Null);
        assert_eq!(b["fingerprint"], "f1");
        let none = body(&alert, None, &Findings::default());
        assert!(
            none["text"]
                .as_str()
                .unwrap()
                .ends_with("no analysis yet for this pod")
        );
    }
}
