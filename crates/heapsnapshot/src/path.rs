//! Retainer paths as report steps and as one readable line, the same in every report.

use crate::class::{class_name, kind_name};
use crate::leak::report::{Example, PathStep};
use crate::source::function_info;
use crate::{EdgeIdx, EdgeKind, EdgeLabel, HeapGraph, NodeIdx, Retention};

/// Longest node name kept in a path step (strings can be megabytes).
const MAX_NAME: usize = 80;

/// Turns the edges of a retainer path (root first) into report steps.
#[must_use]
pub fn path_steps(g: &HeapGraph, edges: &[EdgeIdx]) -> Vec<PathStep> {
    edges
        .iter()
        .map(|&e| {
            let to = g.to(e);
            PathStep {
                edge: match g.edge_label(e) {
                    EdgeLabel::Name(name) => name.to_owned(),
                    EdgeLabel::Index(i) => format!("[{i}]"),
                },
                edge_type: edge_kind_name(g.edge_kind(e)).to_owned(),
                class_name: class_name(g, to).into_owned(),
                name: truncate(g.name(to), MAX_NAME),
                node_type: kind_name(g.kind(to)).to_owned(),
                id: g.id(to),
            }
        })
        .collect()
}

/// `n` as the example of a group: its class, its shortest retainer path (string values on
/// it only when `show_strings`), its id and, for a closure, its function.
#[must_use]
pub fn example(g: &HeapGraph, ret: &Retention, n: NodeIdx, show_strings: bool) -> Example {
    let mut path = path_steps(g, &ret.retainer_path(g, n));
    if !show_strings {
        hide_string_values(&mut path);
    }
    Example {
        class_name: class_name(g, n).into_owned(),
        node_type: kind_name(g.kind(n)).to_owned(),
        path_text: path_text(&path),
        path,
        example_id: g.id(n),
        function: function_info(g, n),
    }
}

/// Replaces the names of string nodes (their values, which may be secrets) in `steps` with
/// their class name.
pub fn hide_string_values(steps: &mut [PathStep]) {
    for step in steps {
        if matches!(
            step.node_type.as_str(),
            "string" | "concatenated string" | "sliced string"
        ) {
            step.name.clone_from(&step.class_name);
        }
    }
}

/// One line: the root-side node, then each edge name (indices as `[]`, V8's synthetic root
/// groups by their name), then the class of the object reached, e.g.
/// `global > … > auditLog > [] > AuditEntry` or `(GC roots) > (Handle scope) > [] > …`. A run of
/// identical steps (a linked list's `_idleNext`) is shown once, followed by `…`.
#[must_use]
pub fn path_text(steps: &[PathStep]) -> String {
    let Some((first, rest)) = steps.split_first() else {
        return String::from("(unreachable)");
    };
    let mut parts = vec![first.name.clone()];
    let mut previous: Option<(String, &str)> = None;
    for step in rest {
        let label = if step.node_type == "synthetic" {
            // V8's root groups: `(Stack roots)`, `(Handle scope)`, `(Global handles)`.
            step.name.clone()
        } else if step.edge_type == "element"
            || step.edge_type == "hidden"
            || step.edge.parse::<u64>().is_ok()
        {
            String::from("[]")
        } else {
            step.edge.clone()
        };
        let key = (label, step.class_name.as_str());
        if previous.as_ref() == Some(&key) {
            if let Some(last) = parts.last_mut().filter(|p| !p.ends_with('…')) {
                last.push('…');
            }
            continue;
        }
        parts.push(key.0.clone());
        previous = Some(key);
    }
    if let Some(last) = rest.last() {
        parts.push(last.class_name.clone());
    }
    parts.join(" > ")
}

/// One line with every edge's own name or index (`[12]`; V8's synthetic root groups by
/// their name), then the class and id of the object reached, e.g.
/// `global > process > _events > request > context > sessionCache > table > [36] > Session @7181`.
#[must_use]
pub fn path_text_exact(steps: &[PathStep]) -> String {
    let Some((first, rest)) = steps.split_first() else {
        return String::from("(unreachable)");
    };
    if rest.is_empty() {
        return format!("{} @{}", first.name, first.id);
    }
    let mut parts = vec![first.name.clone()];
    for step in rest {
        parts.push(if step.node_type == "synthetic" {
            step.name.clone()
        } else if step.edge.parse::<u64>().is_ok() {
            format!("[{}]", step.edge)
        } else {
            step.edge.clone()
        });
    }
    let last = steps.last().expect("a step");
    parts.push(format!("{} @{}", last.class_name, last.id));
    parts.join(" > ")
}

/// The V8 name of an edge kind.
#[must_use]
pub fn edge_kind_name(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Context => "context",
        EdgeKind::Element => "element",
        EdgeKind::Property => "property",
        EdgeKind::Internal => "internal",
        EdgeKind::Hidden => "hidden",
        EdgeKind::Shortcut => "shortcut",
        EdgeKind::Weak => "weak",
        EdgeKind::Other => "unknown",
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}
