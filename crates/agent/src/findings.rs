//! The newest analysis of a pod, for an alert about it: the agent's snapshot analysis
//! (`….analysis.json`: top suspect, and the HTML page beside it) and the watchdog's
//! allocation report (`….allocation-report.json`: top allocation site).
//!
//! With a store they are looked up under the pod's keys (`<namespace>/<pod>/…`), so one
//! agent can answer for every pod whose agents upload there; without one, in the local
//! artifact directory, for the agent's own pod only.

use std::path::Path;
use std::time::SystemTime;

use memwatchdog_offload::{ObjectKey, Store};
use memwatchdog_profstore::REPORT_SUFFIX;
use serde_json::Value;

use crate::artifact::{ANALYSIS_HTML_SUFFIX, ANALYSIS_SUFFIX};

/// Largest report read to answer an alert.
const REPORT_MAX_BYTES: u64 = 16 << 20;

/// One report found for an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Where it is: `s3://bucket/prefix/<key>`, or the local path.
    pub location: String,
    /// Its one line: the top suspect, or the top allocation site.
    pub line: Option<String>,
    /// The HTML page of a snapshot analysis, when there is one.
    pub page: Option<String>,
    /// When it was written (uploaded, for a store).
    pub modified: SystemTime,
}

/// The newest reports of a pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// The newest snapshot analysis.
    pub analysis: Option<Report>,
    /// The newest allocation report.
    pub allocation: Option<Report>,
}

/// Where the agent looks.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// The object store: `url` is its `s3://…` (or `file://…`) base for showing keys.
    Store {
        /// The store.
        store: &'a Store,
        /// Its URL, prefix included.
        url: &'a str,
    },
    /// The local artifact directory of the agent's own pod.
    Local {
        /// The directory.
        dir: &'a Path,
        /// (namespace, pod) of the agent.
        own: (&'a str, &'a str),
    },
}

/// The top suspect of a diff report (`suspects[0].summary`), or the top holder of a
/// one-snapshot report (`holders[0].summary`).
#[must_use]
pub fn top_suspect(report: &Value) -> Option<String> {
    ["suspects", "holders"]
        .iter()
        .find_map(|k| report.get(k)?.get(0)?.get("summary")?.as_str())
        .map(str::to_owned)
}

/// The top allocation site of an allocation report (`sites[0].summary`).
#[must_use]
pub fn top_site(report: &Value) -> Option<String> {
    Some(
        report
            .get("sites")?
            .get(0)?
            .get("summary")?
            .as_str()?
            .to_owned(),
    )
}

/// The newest reports of `namespace`/`pod` in `source`.
pub async fn newest(source: Source<'_>, namespace: &str, pod: &str) -> Result<Findings, String> {
    match source {
        Source::Store { store, url } => from_store(store, url, namespace, pod).await,
        Source::Local { dir, own } => {
            if own != (namespace, pod) {
                return Ok(Findings::default());
            }
            from_dir(dir)
        }
    }
}

async fn from_store(
    store: &Store,
    url: &str,
    namespace: &str,
    pod: &str,
) -> Result<Findings, String> {
    let dir = ObjectKey::pod_dir(namespace, pod).map_err(|e| e.to_string())?;
    let objects = store.list(&dir).await.map_err(|e| e.to_string())?;
    let newest = |suffix: &str| {
        objects
            .iter()
            .filter(|o| o.key.as_str().ends_with(suffix))
            .max_by(|a, b| {
                (a.last_modified, a.key.as_str()).cmp(&(b.last_modified, b.key.as_str()))
            })
    };
    let base = url.trim_end_matches('/');
    let mut findings = Findings::default();
    if let Some(o) = newest(ANALYSIS_SUFFIX) {
        let body = store
            .get(&o.key, REPORT_MAX_BYTES)
            .await
            .map_err(|e| e.to_string())?;
        let page_key = o
            .key
            .as_str()
            .replace(ANALYSIS_SUFFIX, ANALYSIS_HTML_SUFFIX);
        let has_page = objects.iter().any(|p| p.key.as_str() == page_key);
        findings.analysis = Some(Report {
            location: format!("{base}/{}", o.key),
            line: parse(&body).as_ref().and_then(top_suspect),
            page: has_page.then(|| format!("{base}/{page_key}")),
            modified: o.last_modified,
        });
    }
    if let Some(o) = newest(REPORT_SUFFIX) {
        let body = store
            .get(&o.key, REPORT_MAX_BYTES)
            .await
            .map_err(|e| e.to_string())?;
        findings.allocation = Some(Report {
            location: format!("{base}/{}", o.key),
            line: parse(&body).as_ref().and_then(top_site),
            page: None,
            modified: o.last_modified,
        });
    }
    Ok(findings)
}

fn from_dir(dir: &Path) -> Result<Findings, String> {
    let found = crate::scan::scan(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let found = found.unwrap_or_default();
    let newest = |suffix: &str| {
        found
            .iter()
            .filter(|f| f.artifact.name.ends_with(suffix))
            .max_by_key(|f| (f.stat.modified, f.artifact.name.clone()))
    };
    let read = |path: &Path| -> Option<Value> {
        let meta = std::fs::metadata(path).ok()?;
        (meta.len() <= REPORT_MAX_BYTES)
            .then(|| std::fs::read(path).ok())
            .flatten()
            .and_then(|b| parse(&b))
    };
    let mut findings = Findings::default();
    if let Some(f) = newest(ANALYSIS_SUFFIX) {
        let page = f.path.with_file_name(f.artifact.analysis_page_name());
        findings.analysis = Some(Report {
            location: f.path.display().to_string(),
            line: read(&f.path).as_ref().and_then(top_suspect),
            page: page.exists().then(|| page.display().to_string()),
            modified: f.stat.modified,
        });
    }
    if let Some(f) = newest(REPORT_SUFFIX) {
        findings.allocation = Some(Report {
            location: f.path.display().to_string(),
            line: read(&f.path).as_ref().and_then(top_site),
            page: None,
            modified: f.stat.modified,
        });
    }
    Ok(findings)
}

fn parse(bytes: &[u8]) -> Option<Value> {
    serde_json::from_slice(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_lines_come_from_the_reports_summaries() {
        let diff = serde_json::json!({"suspects": [{"summary": "A ×1 (+1 kB) held by x"}]});
        let one = serde_json::json!({"kind": "heap_summary", "holders": [{"summary": "Map ×1 retains 9 MB: x"}]});
        let none = serde_json::json!({"suspects": []});
        let sites = serde_json::json!({"sites": [{"summary": "+1 MB in f (a.js:1:1)"}]});
        assert_eq!(
            top_suspect(&diff).as_deref(),
            Some("A ×1 (+1 kB) held by x")
        );
        assert_eq!(top_suspect(&one).as_deref(), Some("Map ×1 retains 9 MB: x"));
        assert_eq!(top_suspect(&none), None);
        assert_eq!(top_site(&sites).as_deref(), Some("+1 MB in f (a.js:1:1)"));
    }
}
