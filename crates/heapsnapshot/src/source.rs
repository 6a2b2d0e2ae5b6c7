//! Where a closure comes from: its name and definition site (`file:line:col`).
//!
//! Snapshots carry a `locations` entry (script id, 0-based line and column) for each
//! closure. The script's file name is found through the heap graph: a closure points to
//! its `SharedFunctionInfo` (`shared`), which points to its Script (`script`, or
//! `script_or_debug_info` in older V8), whose `name` edge leads to the file name string.

use crate::leak::report::FunctionInfo;
use crate::{EdgeLabel, HeapGraph, NodeIdx, NodeKind};

/// Name and definition site of closure `n`; `None` for other nodes.
#[must_use]
pub fn function_info(g: &HeapGraph, n: NodeIdx) -> Option<FunctionInfo> {
    if g.kind(n) != NodeKind::Closure {
        return None;
    }
    let loc = g.location(n);
    let name = match g.name(n) {
        "" => "(anonymous)".to_owned(),
        name => name.to_owned(),
    };
    Some(FunctionInfo {
        name,
        file: script_name(g, n),
        line: loc.map(|l| l.line + 1),
        column: loc.map(|l| l.column + 1),
        original: None,
    })
}

/// The file name of the script that defines closure `n`, when the graph links it.
fn script_name(g: &HeapGraph, n: NodeIdx) -> Option<String> {
    let shared = named_edge(g, n, &["shared"])?;
    let script = named_edge(g, shared, &["script", "script_or_debug_info"])?;
    let name = named_edge(g, script, &["name", "source_url"])?;
    g.kind(name)
        .is_string()
        .then(|| g.name(name).to_owned())
        .filter(|s| !s.is_empty())
}

fn named_edge(g: &HeapGraph, from: NodeIdx, names: &[&str]) -> Option<NodeIdx> {
    g.edges(from).find_map(|e| match g.edge_label(e) {
        EdgeLabel::Name(name) if names.contains(&name) => Some(g.to(e)),
        _ => None,
    })
}
