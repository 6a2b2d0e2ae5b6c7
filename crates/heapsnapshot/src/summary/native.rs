//! Memory outside the JS heap and detached objects, where V8 records them.
//!
//! Native nodes are what the embedder (Node) tells V8 about: ArrayBuffer and Buffer backing
//! stores (`system / JSArrayBufferData`), Node's handles and bindings. Their sizes are the
//! embedder's; a JS-heap-only view misses them. V8 marks an object *detached* when the
//! embedder says it left its document or context (`detachedness` 2; in Node, some of its
//! binding objects); snapshots written before 2021 do not say.

use std::collections::{HashMap, HashSet};

use super::report::{Detached, NativeClass, NativeMemory};
use crate::path::{path_steps, path_text};
use crate::tally::ClassTally;
use crate::{HeapGraph, NodeIdx, NodeKind, Retention, StrIdx};

/// Native bytes and the `top` native classes by bytes.
#[must_use]
pub(super) fn native_memory(g: &HeapGraph, ret: &Retention, top: usize) -> NativeMemory {
    let mut classes: HashMap<StrIdx, (u64, u64, NodeIdx)> = HashMap::new();
    let (mut bytes, mut count) = (0, 0);
    for n in g.nodes().filter(|&n| g.kind(n) == NodeKind::Native) {
        let size = g.self_size(n);
        bytes += size;
        count += 1;
        classes
            .entry(g.node_name[n.ix()])
            .and_modify(|(count, bytes, largest)| {
                *count += 1;
                *bytes += size;
                if size > g.self_size(*largest) {
                    *largest = n;
                }
            })
            .or_insert((1, size, n));
    }
    let mut classes: Vec<(u64, u64, NodeIdx)> = classes.into_values().collect();
    classes.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| g.name(a.2).cmp(g.name(b.2))));
    NativeMemory {
        bytes,
        count,
        classes: classes
            .into_iter()
            .take(top)
            .map(|(count, bytes, largest)| NativeClass {
                class_name: g.name(largest).to_owned(),
                count,
                bytes,
                example_id: g.id(largest),
                path_text: path_text(&path_steps(g, &ret.retainer_path(g, largest))),
            })
            .collect(),
    }
}

/// The detached objects by class; `None` when the snapshot does not record detachedness.
#[must_use]
pub(super) fn detached(g: &HeapGraph, ret: &Retention, top: usize) -> Option<Detached> {
    let detached = g.detachedness.as_ref()?;
    let set: HashSet<NodeIdx> = detached.iter().copied().collect();
    let mut tally = ClassTally::default();
    let (mut bytes, mut retained) = (0, 0);
    for &n in detached {
        tally.add(g, n);
        bytes += g.self_size(n);
        // Count the retained size of detached objects no other detached object dominates.
        let mut up = ret.idom(n);
        while let Some(d) = up.filter(|&d| !set.contains(&d)) {
            up = ret.idom(d);
        }
        if up.is_none() {
            retained += ret.retained(n);
        }
    }
    Some(Detached {
        count: detached.len() as u64,
        bytes,
        retained_bytes: retained,
        classes: tally.top(g, top),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EdgeKind, GraphBuilder};

    #[test]
    fn native_classes_and_detached_trees_are_counted_once() {
        let (mut b, _, global) = crate::testing::with_global(10);
        let buffer = b.node(NodeKind::Object, "Buffer", 80);
        b.edge(global, EdgeKind::Property, "payload", buffer);
        let store = b.node(NodeKind::Native, "system / JSArrayBufferData", 65_536);
        b.edge(buffer, EdgeKind::Internal, "backing_store", store);
        let binding = b.node(NodeKind::Native, "Node / BindingData", 96);
        b.edge(global, EdgeKind::Property, "binding", binding);
        let child = b.node(NodeKind::Native, "Node / BindingData", 40);
        b.edge(binding, EdgeKind::Internal, "child", child);
        b.detached(binding);
        b.detached(child);
        let g = b.build();
        let ret = Retention::compute(&g);
        let native = native_memory(&g, &ret, 10);
        assert_eq!((native.bytes, native.count), (65_672, 3));
        assert_eq!(native.classes[0].class_name, "system / JSArrayBufferData");
        assert_eq!(
            native.classes[0].path_text,
            "global > payload > backing_store > system / JSArrayBufferData"
        );
        assert_eq!((native.classes[1].count, native.classes[1].bytes), (2, 136));
        let detached = detached(&g, &ret, 10).unwrap();
        assert_eq!((detached.count, detached.bytes), (2, 136));
        assert_eq!(
            detached.retained_bytes, 136,
            "the child is inside its parent"
        );
    }

    #[test]
    fn a_snapshot_without_detachedness_says_nothing() {
        let mut b = GraphBuilder::default();
        b.node(NodeKind::Synthetic, "", 0);
        let g = b.build();
        assert!(detached(&g, &Retention::compute(&g), 10).is_none());
    }
}
