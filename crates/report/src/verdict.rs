//! The report's verdict in one line: what a reader (or a CI log) needs before anything else.

use memwatchdog_heapprofile::ProfileReport;
use memwatchdog_heapsnapshot::report::LeakReport;
use memwatchdog_heapsnapshot::summary::report::HeapSummary;
use memwatchdog_units::{HumanBytes, grouped};

use crate::page::Analysis;

/// One line: the top suspect with its growth and count (a diff), the largest holder (one
/// snapshot) or the top allocation site (profiles), or that there is none.
#[must_use]
pub fn verdict(analysis: &Analysis<'_>) -> String {
    match analysis {
        Analysis::Leak(r) => leak(r),
        Analysis::Summary(r) => summary(r),
        Analysis::Profile(r) => profile(r),
    }
}

fn leak(r: &LeakReport) -> String {
    match r.suspects.first() {
        Some(s) => format!(
            "Top leak suspect: {} +{} ({} new objects), held by {}",
            s.example.class_name,
            HumanBytes(s.delta_bytes),
            grouped(s.delta_count),
            s.example.path_text
        ),
        None if r.new_objects == 0 => {
            "No leak suspects: no object allocated after the base is still alive".to_owned()
        }
        None => format!(
            "No leak suspects among the {} new objects still alive ({})",
            grouped(r.new_objects),
            HumanBytes(r.new_bytes)
        ),
    }
}

fn summary(r: &HeapSummary) -> String {
    match r.holders.first() {
        Some(h) => format!("Largest holder: {}", h.summary),
        None => format!(
            "No holders found in {} of heap",
            HumanBytes(r.snapshot.total_bytes)
        ),
    }
}

fn profile(r: &ProfileReport) -> String {
    match r.sites.first() {
        Some(site) => format!("Top allocation site: {}", site.summary),
        None => "No allocation site grew".to_owned(),
    }
}
