//! The self-contained HTML page of an `mw analyze` report (`mw analyze ... --html FILE`).
//!
//! One file that opens from disk or as a CI artifact: inline CSS and JavaScript, the report
//! embedded as JSON in a `<script type="application/json">` element, and a Content Security
//! Policy that forbids every network request. The page shows the report models the analyzers
//! produce — [`LeakReport`](memwatchdog_heapsnapshot::report::LeakReport) (a snapshot diff),
//! [`HeapSummary`](memwatchdog_heapsnapshot::summary::HeapSummary) (one snapshot) and
//! [`ProfileReport`](memwatchdog_heapprofile::ProfileReport) (a profile diff) — and,
//! optionally, a recorded trace replayed through the leak detector ([`TraceChart`]).
//!
//! Pure: [`write_html`] takes the models and writes to any [`std::io::Write`]; files are the
//! caller's.
//!
//! ```
//! use memwatchdog_report::{Analysis, Page, write_html};
//! # let report: memwatchdog_heapprofile::ProfileReport = memwatchdog_heapprofile::diff(
//! #     &memwatchdog_heapprofile::parse(&br#"{"head":{"callFrame":{"functionName":"(root)","url":"","lineNumber":-1,"columnNumber":-1},"selfSize":0,"id":1,"children":[]}}"#[..]).unwrap(),
//! #     &memwatchdog_heapprofile::parse(&br#"{"head":{"callFrame":{"functionName":"(root)","url":"","lineNumber":-1,"columnNumber":-1},"selfSize":0,"id":1,"children":[]}}"#[..]).unwrap(),
//! #     None, &memwatchdog_heapprofile::DiffOptions { top: 10 });
//! let page = Page::new(Analysis::Profile(&report), "mw 0.1.0");
//! let mut html = Vec::new();
//! write_html(&page, &mut html).unwrap();
//! assert!(String::from_utf8(html).unwrap().starts_with("<!DOCTYPE html>"));
//! ```

mod bound;
mod data;
mod escape;
mod page;
mod trace;
mod verdict;

pub use data::FORMAT_VERSION;
pub use escape::{html_text, script_json};
pub use page::{Analysis, Input, Page, ReportError, write_html};
pub use trace::{FloorPoint, MAX_EVENTS, MAX_POINTS, TraceChart};
pub use verdict::verdict;
