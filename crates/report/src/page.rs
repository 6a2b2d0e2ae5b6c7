//! The page: an HTML shell with the verdict, inline CSS, the embedded document and the
//! inline script that draws the sections from it.

use std::io::Write;

use memwatchdog_heapprofile::ProfileReport;
use memwatchdog_heapsnapshot::report::LeakReport;
use memwatchdog_heapsnapshot::summary::report::HeapSummary;
use serde::Serialize;
use thiserror::Error;

use crate::data::Document;
use crate::escape::{html_text, script_json};
use crate::trace::TraceChart;
use crate::verdict::verdict;

/// The page's stylesheet.
const CSS: &str = include_str!("../assets/report.css");
/// The page's script: draws the sections from the embedded document.
const JS: &str = include_str!("../assets/report.js");

/// No request of any kind: scripts and styles only inline, images only `data:`.
const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/// What was analyzed.
#[derive(Debug, Clone, Copy)]
pub enum Analysis<'a> {
    /// Two or three heap snapshots.
    Leak(&'a LeakReport),
    /// One heap snapshot.
    Summary(&'a HeapSummary),
    /// Two or three sampling heap profiles.
    Profile(&'a ProfileReport),
}

/// One input file, in the order given on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Input {
    /// The path as given.
    pub name: String,
    /// Its size in bytes (`None` for a pipe).
    pub bytes: Option<u64>,
    /// When it was last modified, in milliseconds since the Unix epoch (`None` for a pipe).
    pub modified_ms: Option<u64>,
}

/// Everything one page shows.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    /// The report.
    pub analysis: Analysis<'a>,
    /// The input files in the order given.
    pub inputs: Vec<Input>,
    /// A trace replayed through the detector, when one was given.
    pub trace: Option<TraceChart>,
    /// What made the page (`mw 0.1.0`).
    pub generator: String,
}

impl<'a> Page<'a> {
    /// A page of `analysis` without inputs or trace.
    #[must_use]
    pub fn new(analysis: Analysis<'a>, generator: &str) -> Self {
        Self {
            analysis,
            inputs: Vec::new(),
            trace: None,
            generator: generator.to_owned(),
        }
    }
}

/// The page could not be written.
#[derive(Debug, Error)]
pub enum ReportError {
    /// Writing failed.
    #[error("cannot write the HTML report")]
    Io(#[from] std::io::Error),
    /// The report could not be serialised (not expected: the models are plain data).
    #[error("cannot serialise the report for the HTML page")]
    Json(#[from] serde_json::Error),
}

/// Writes the page of `page` to `out`.
pub fn write_html(page: &Page<'_>, out: &mut impl Write) -> Result<(), ReportError> {
    let verdict = verdict(&page.analysis);
    let doc = Document::new(
        &page.analysis,
        &page.generator,
        &verdict,
        &page.inputs,
        page.trace.as_ref(),
    )?;
    let json = script_json(&serde_json::to_string(&doc)?);
    let title = match page.analysis {
        Analysis::Leak(_) => "Heap snapshot diff",
        Analysis::Summary(_) => "Heap snapshot",
        Analysis::Profile(_) => "Sampling heap profile diff",
    };
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"{generator}\">\n\
         <title>{title}: {verdict_text}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
         <header>\n<h1>MemWatchdog · {title}</h1>\n<p id=\"verdict\" class=\"verdict\">{verdict_text}</p>\n</header>\n\
         <main id=\"app\"><noscript><p>The sections of this report are drawn by its script; \
         without JavaScript its data is still here, as JSON in the element #mw-data.</p></noscript></main>\n\
         <footer>Made by {generator}. Self-contained: this page loads nothing from the network.</footer>\n\
         <script type=\"application/json\" id=\"mw-data\">{json}</script>\n\
         <script>\n{JS}</script>\n</body>\n</html>\n",
        generator = html_text(&page.generator),
        verdict_text = html_text(&verdict),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use memwatchdog_heapsnapshot::report::{
        Example, FunctionInfo, NativeGrowth, PathStep, SnapshotStats, Suspect,
    };

    const HOSTILE: &str = "</script><script>alert(1)</script><!--<SCRIPT>&amp;\u{2028}";

    fn step(edge: &str, class_name: &str) -> PathStep {
        PathStep {
            edge: edge.to_owned(),
            edge_type: "property".to_owned(),
            class_name: class_name.to_owned(),
            name: class_name.to_owned(),
            node_type: "object".to_owned(),
            id: 7,
        }
    }

    fn leak_report(class_name: &str, path_len: usize) -> LeakReport {
        let mut path = vec![step("global", "global")];
        path.extend((1..path_len).map(|i| step(&format!("next{i}"), "Node")));
        path.push(step(class_name, class_name));
        LeakReport {
            schema_version: 1,
            snapshots: vec![
                SnapshotStats {
                    given: 1,
                    nodes: 10,
                    edges: 0,
                    total_bytes: 1000,
                    native_bytes: 0,
                },
                SnapshotStats {
                    given: 2,
                    nodes: 20,
                    edges: 40,
                    total_bytes: 5000,
                    native_bytes: 0,
                },
            ],
            reordered: false,
            new_objects: 1500,
            new_bytes: 4000,
            suspects: vec![Suspect {
                rank: 1,
                summary: format!("{class_name} ×1,500 (+3.1 MB) held by global > {class_name}"),
                delta_bytes: 3_084_000,
                delta_count: 1500,
                retained_bytes: 3_100_000,
                example: Example {
                    class_name: class_name.to_owned(),
                    node_type: "object".to_owned(),
                    path_text: format!("global > {class_name}"),
                    path,
                    example_id: 42,
                    function: Some(FunctionInfo {
                        name: HOSTILE.to_owned(),
                        file: Some(format!("/srv/{HOSTILE}.js")),
                        line: Some(3),
                        column: Some(9),
                        original: None,
                    }),
                },
                holds: vec![],
            }],
            constructors: vec![],
            native: NativeGrowth {
                base_bytes: 0,
                newest_bytes: 0,
                delta_bytes: 0,
                classes: vec![],
            },
        }
    }

    fn html(page: &Page<'_>) -> String {
        let mut out = Vec::new();
        write_html(page, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The text of the `<script type="application/json" id="mw-data">` element.
    fn data_of(html: &str) -> &str {
        let open = "<script type=\"application/json\" id=\"mw-data\">";
        let start = html.find(open).expect("the data element") + open.len();
        let len = html[start..].find("</script>").expect("its end");
        &html[start..start + len]
    }

    #[test]
    fn hostile_strings_cannot_leave_the_data_element_and_read_back_unchanged() {
        let report = leak_report(HOSTILE, 3);
        let mut page = Page::new(Analysis::Leak(&report), HOSTILE);
        page.inputs.push(Input {
            name: HOSTILE.to_owned(),
            bytes: Some(1),
            modified_ms: None,
        });
        let html = html(&page);
        // Exactly the page's own elements: two scripts, one comment-free document.
        assert_eq!(html.matches("<script").count(), 2, "{html}");
        assert_eq!(html.matches("</script>").count(), 2);
        assert!(!html.contains("<!--"));
        assert!(!html.to_ascii_lowercase().contains("<script>alert"));
        let data: serde_json::Value = serde_json::from_str(data_of(&html)).unwrap();
        assert_eq!(data["report"]["suspects"][0]["class_name"], HOSTILE);
        assert_eq!(data["report"]["suspects"][0]["function"]["name"], HOSTILE);
        assert_eq!(data["inputs"][0]["name"], HOSTILE);
        assert_eq!(data["generator"], HOSTILE);
        // The verdict, rendered as HTML text, is escaped too.
        let verdict = &html[html.find("<p id=\"verdict\"").unwrap()..];
        let verdict = &verdict[..verdict.find("</p>").unwrap()];
        assert!(verdict.contains("&lt;/script&gt;"), "{verdict}");
    }

    #[test]
    fn the_page_loads_nothing_from_outside() {
        let report = leak_report("Session", 3);
        let html = html(&Page::new(Analysis::Leak(&report), "mw test"));
        assert!(html.starts_with("<!DOCTYPE html>\n"));
        assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none';"));
        for needle in [
            " src=",
            "href=\"http",
            "url(",
            "@import",
            "<link",
            "<iframe",
            "fetch(",
            "XMLHttpRequest",
        ] {
            assert!(!html.contains(needle), "the page contains {needle}");
        }
    }

    #[test]
    fn the_page_has_the_verdict_the_data_and_the_script() {
        let report = leak_report("Session", 3);
        let html = html(&Page::new(Analysis::Leak(&report), "mw test"));
        assert!(html.contains(
            "<p id=\"verdict\" class=\"verdict\">Top leak suspect: Session +3.1 MB (1,500 new objects), held by global &gt; Session</p>"
        ), "{html}");
        assert!(html.contains("<title>Heap snapshot diff: Top leak suspect: Session"));
        let data: serde_json::Value = serde_json::from_str(data_of(&html)).unwrap();
        assert_eq!(data["format"], crate::FORMAT_VERSION);
        assert_eq!(data["kind"], "leak");
        assert_eq!(
            data["report"]["suspects"][0]["path"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
        assert!(data["trace"].is_null());
        assert!(html.contains("<main id=\"app\">"));
        assert!(html.contains("document.getElementById('mw-data')"));
    }

    #[test]
    fn a_deep_path_is_bounded_in_the_page() {
        let report = leak_report("Node", 100_000);
        let html = html(&Page::new(Analysis::Leak(&report), "mw test"));
        assert!(html.len() < 64 << 10, "{} bytes", html.len());
        let data: serde_json::Value = serde_json::from_str(data_of(&html)).unwrap();
        let suspect = &data["report"]["suspects"][0];
        assert_eq!(
            suspect["path"].as_array().unwrap().len(),
            crate::bound::MAX_PATH_STEPS
        );
        assert_eq!(
            suspect["path_omitted"]["hops"],
            100_001 - crate::bound::MAX_PATH_STEPS
        );
        // The model passed in is untouched.
        assert_eq!(report.suspects[0].example.path.len(), 100_001);
    }

    #[test]
    fn the_assets_cannot_close_their_elements() {
        assert!(!JS.contains("</") && !JS.contains("<!--"));
        assert!(!CSS.contains("</") && !CSS.contains("<!--"));
    }
}
