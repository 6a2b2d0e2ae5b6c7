//! The terminal rendering of one object's story (`mw analyze FILE --node ID` / `--class`):
//! the object, its dominators, the objects that point at it, its retainer paths.

use std::fmt::Write;

use memwatchdog_heapsnapshot::retainers::report::{ObjectStory, RetainersReport};
use memwatchdog_units::HumanBytes;
use owo_colors::OwoColorize;

use crate::format::count;
use crate::style::Styles;

/// Renders the report.
pub fn render(report: &RetainersReport, color: bool) -> String {
    let s = Styles::new(color);
    let mut out = String::new();
    if let Some(class) = &report.class {
        let _ = writeln!(
            out,
            "{}: {} objects, {:.1}; the {} with the largest retained sizes:\n",
            format!("Class {}", class.class_name).style(s.heading),
            count(class.count),
            HumanBytes(class.bytes),
            class.sampled,
        );
    }
    for story in &report.objects {
        render_story(&mut out, story, &s);
    }
    out
}

fn render_story(out: &mut String, o: &ObjectStory, s: &Styles) {
    let name = if o.name == o.class_name || o.name.is_empty() {
        String::new()
    } else {
        format!(" {:?}", o.name)
    };
    let _ = writeln!(
        out,
        "{}  {:.1} retained, {:.1} self",
        format!("{} @{}{name} ({})", o.class_name, o.id, o.node_type).style(s.heading),
        HumanBytes(o.retained_bytes).style(s.grow),
        HumanBytes(o.self_bytes),
    );
    if !o.reachable {
        let _ = writeln!(
            out,
            "  not reachable from the roots: V8 frees it at the next garbage collection"
        );
    }
    if !o.dominators.is_empty() {
        let chain: Vec<String> = o
            .dominators
            .iter()
            .map(|d| {
                format!(
                    "{} @{} ({:.1})",
                    d.class_name,
                    d.id,
                    HumanBytes(d.retained_bytes)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "  dominators, nearest first (any of them gone frees it): {}",
            chain.join(" < ").style(s.dim)
        );
    }
    let _ = writeln!(out, "  retainers (edges that keep it alive):");
    if o.retainers.is_empty() {
        let _ = writeln!(out, "    none");
    }
    for r in &o.retainers {
        let _ = writeln!(
            out,
            "    {} ({}) of {} @{}",
            r.edge, r.edge_type, r.class_name, r.id
        );
    }
    let more = if o.paths_truncated {
        ", more exist"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "  retainer paths ({} shown{more}; global object first, then V8's root groups, then handle scopes and the stack; shortest first):",
        o.paths.len()
    );
    for (i, path) in o.paths.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {:>3}  {:>2} steps  {:<7}  {}",
            i + 1,
            path.length,
            path.via,
            path.path_text.style(s.path)
        );
    }
    let _ = writeln!(out);
}
