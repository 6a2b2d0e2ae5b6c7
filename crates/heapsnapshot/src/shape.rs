//! The shape of a retainer path: what makes many objects "held by one place in the code".
//!
//! Objects are grouped by the edge kinds, edge names (element indices, and names that are
//! numbers, abstracted to `[]`) and classes along their shortest retainer path, plus their
//! own class: the 4,000 entries of one array share a shape. A run of two or more identical
//! steps counts as one step *without its edge name*: the entries of a linked list sit at
//! different depths (`_idleNext` repeated 3 or 90 times), and the shortest path may walk
//! it either way (`_idleNext…` or `_idlePrev…`); all of them have one shape.

use std::hash::{DefaultHasher, Hash, Hasher};

use crate::class::class_name;
use crate::{EdgeLabel, HeapGraph, NodeIdx, Retention};

/// A hash of `n`'s retainer path shape and class (see the module docs).
#[must_use]
pub(crate) fn path_signature(g: &HeapGraph, ret: &Retention, n: NodeIdx) -> u64 {
    let steps: Vec<_> = ret
        .retainer_path(g, n)
        .into_iter()
        .map(|e| {
            let name = match g.edge_label(e) {
                EdgeLabel::Name(name) if name.parse::<u64>().is_err() => name,
                _ => "[]",
            };
            (g.edge_kind(e), name, class_name(g, g.to(e)))
        })
        .collect();
    let mut h = DefaultHasher::new();
    let mut i = 0;
    while i < steps.len() {
        let run = steps[i..].iter().take_while(|s| **s == steps[i]).count();
        if run > 1 {
            ("run", &steps[i].2).hash(&mut h);
        } else {
            steps[i].hash(&mut h);
        }
        i += run;
    }
    class_name(g, n).hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EdgeKind, NodeKind};

    #[test]
    fn indices_and_runs_do_not_change_the_shape_but_names_and_classes_do() {
        let (mut b, _, global) = crate::testing::with_global(10);
        let list = b.node(NodeKind::Object, "Array", 16);
        b.edge(global, EdgeKind::Property, "auditLog", list);
        let other = b.node(NodeKind::Object, "Array", 16);
        b.edge(global, EdgeKind::Property, "other", other);
        let entries: Vec<NodeIdx> = (0..3)
            .map(|i| {
                let entry = b.node(NodeKind::Object, "AuditEntry", 32);
                b.element(list, EdgeKind::Element, i, entry);
                entry
            })
            .collect();
        let elsewhere = b.node(NodeKind::Object, "AuditEntry", 32);
        b.element(other, EdgeKind::Element, 0, elsewhere);
        let session = b.node(NodeKind::Object, "Session", 32);
        b.element(list, EdgeKind::Element, 3, session);
        // A linked list: head > next > next > ... at different depths.
        let mut node = b.node(NodeKind::Object, "Timer", 8);
        b.edge(global, EdgeKind::Property, "timers", node);
        let mut deep = Vec::new();
        for _ in 0..4 {
            let next = b.node(NodeKind::Object, "Timer", 8);
            b.edge(node, EdgeKind::Property, "_idleNext", next);
            deep.push(next);
            node = next;
        }
        let g = b.build();
        let ret = Retention::compute(&g);
        let sig = |n| path_signature(&g, &ret, n);
        assert!(entries.iter().all(|&e| sig(e) == sig(entries[0])));
        assert_ne!(sig(elsewhere), sig(entries[0]), "another variable");
        assert_ne!(sig(session), sig(entries[0]), "another class");
        assert_eq!(sig(deep[2]), sig(deep[3]), "runs of one step fold");
        assert_ne!(sig(deep[0]), sig(deep[3]), "one step is not a run");
    }
}
