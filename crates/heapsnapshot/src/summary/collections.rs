//! The biggest collections: `Map`, `Set`, `WeakMap`, `WeakSet`, `Array`, and plain objects
//! used as dictionaries, with their entry counts and the variable that holds them.
//!
//! How V8 writes them (Node 20 to 24):
//!
//! - `Map`/`Set` (and subclasses): an object with an `internal` edge `table` to its hash
//!   table; entries are counted from the table ([`super::hash_table`]). A `WeakMap`'s or
//!   `WeakSet`'s table has `weak` edges to its keys and values instead.
//! - `Array`: `element` edges from the array object itself to every entry that is a heap
//!   object (the backing store, `(object elements)`, has them too).
//! - Dictionary: an object whose `properties` backing store is a hash table rather than a
//!   plain array: V8 switches an object to this mode when properties are added and deleted
//!   like keys. The store has 3 slots per entry (key, value, details) plus room to grow, a
//!   plain property array one per property; V8 writes a `property` edge per key from the
//!   object itself. Objects other than arrays with `element` edges (integer keys) count too.
//!
//! Collections are ranked by what their entries hold: the backing store plus the retained
//! size of every entry. That is the collection's retained size, except when something else
//! holds the entries too — in a snapshot written near the heap limit, often the new table V8
//! was building to grow the collection, which leaves the collection itself dominating
//! almost nothing. So the candidates are the objects with the largest retained sizes and the
//! owners of the largest backing stores, a few of each at first and more only while the
//! list is not full.
//!
//! A collection one of whose entries retains at least half of its size only passes memory
//! on (`process`, an `_events` object with one listener) and is left out: the entry is what
//! holds the memory.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

use super::hash_table::{EPHEMERON_LAYOUT, entries_in_use, ordered_table_layout};
use super::holders::{is_backing_store, is_store_edge};
use super::report::{Collection, CollectionKind};
use crate::class::class_name;
use crate::path::{path_steps, path_text};
use crate::retention::edge_source;
use crate::{EdgeIdx, EdgeKind, EdgeLabel, HeapGraph, NodeIdx, NodeKind, Retention};

/// The `top` collections whose entries hold the most, largest first. User roots (the global
/// object) are left out: they hold everything.
#[must_use]
pub(super) fn collections(g: &HeapGraph, ret: &Retention, top: usize) -> Vec<Collection> {
    let mut look_at = (top * 8).max(64);
    let mut found = loop {
        let mut seen = HashSet::new();
        let candidates: Vec<NodeIdx> = largest_objects(g, ret, look_at)
            .into_iter()
            .chain(owners_of_largest_stores(g, ret, look_at))
            .filter(|&n| seen.insert(n))
            .collect();
        let seen_all = candidates.len() < look_at;
        let found: Vec<Found> = candidates
            .into_iter()
            .filter(|&n| !is_hub(g, ret, n))
            .filter_map(|n| {
                let (kind, entries) = classify(g, n)?;
                Some(Found {
                    node: n,
                    kind,
                    entries,
                    bytes: entries_bytes(g, ret, n),
                })
            })
            .collect();
        if found.len() >= top || seen_all {
            break found;
        }
        look_at *= 4;
    };
    found.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then_with(|| g.id(a.node).cmp(&g.id(b.node)))
    });
    found.truncate(top);
    found
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let n = f.node;
            let path = path_steps(g, &ret.retainer_path(g, n));
            Collection {
                rank: i + 1,
                kind: f.kind,
                class_name: class_name(g, n).into_owned(),
                entries: f.entries,
                entries_bytes: f.bytes,
                retained_bytes: ret.retained(n),
                variable: path.last().and_then(|step| {
                    let named = matches!(step.edge_type.as_str(), "property" | "context")
                        || (step.edge_type == "internal" && step.edge.parse::<u64>().is_err());
                    named.then(|| step.edge.clone())
                }),
                path_text: path_text(&path),
                id: g.id(n),
            }
        })
        .collect()
}

/// A collection found, before it is reported.
struct Found {
    node: NodeIdx,
    kind: CollectionKind,
    entries: u64,
    bytes: u64,
}

/// The `k` largest of `items` (a size, an id that breaks ties, a node), largest first, kept
/// in a heap of `k` while they stream by.
fn largest(items: impl Iterator<Item = (u64, u32, NodeIdx)>, k: usize) -> Vec<NodeIdx> {
    let mut heap: BinaryHeap<Reverse<(u64, Reverse<u32>, NodeIdx)>> = BinaryHeap::new();
    for (size, id, n) in items {
        let key = Reverse((size, Reverse(id), n));
        if heap.len() < k {
            heap.push(key);
        } else if heap.peek().is_some_and(|smallest| key < *smallest) {
            heap.pop();
            heap.push(key);
        }
    }
    heap.into_sorted_vec()
        .into_iter()
        .map(|Reverse((_, _, n))| n)
        .collect()
}

/// The `k` reachable objects (user roots left out) with the largest retained sizes.
fn largest_objects(g: &HeapGraph, ret: &Retention, k: usize) -> Vec<NodeIdx> {
    let objects = g.nodes().filter(|&n| {
        g.kind(n) == NodeKind::Object && ret.is_reachable(n) && ret.distance(n) != Some(1)
    });
    largest(objects.map(|n| (ret.retained(n), g.id(n), n)), k)
}

/// The objects that own the `k` largest backing stores (V8 arrays reached through an
/// object's `table`, `elements` or `properties` edge), whatever their retained sizes.
fn owners_of_largest_stores(g: &HeapGraph, ret: &Retention, k: usize) -> Vec<NodeIdx> {
    let stores = g
        .nodes()
        .filter(|&n| g.kind(n) == NodeKind::Array && ret.is_reachable(n));
    largest(stores.map(|n| (g.self_size(n), g.id(n), n)), k)
        .into_iter()
        .filter_map(|store| {
            let owner = edge_source(g, ret.parent_edge(store)?);
            (g.kind(owner) == NodeKind::Object
                && ret.distance(owner) != Some(1)
                && is_backing_store(g, owner, store))
            .then_some(owner)
        })
        .collect()
}

/// What the entries of collection `n` hold: its backing stores' sizes and the retained
/// size of everything it or they point to through a retaining edge (not `weak`, not the
/// object's shape or prototype).
fn entries_bytes(g: &HeapGraph, ret: &Retention, n: NodeIdx) -> u64 {
    let entry = |e: EdgeIdx| {
        !matches!(
            (g.edge_kind(e), g.edge_label(e)),
            (EdgeKind::Weak | EdgeKind::Shortcut, _)
                | (EdgeKind::Property, EdgeLabel::Name("__proto__"))
                | (
                    EdgeKind::Internal,
                    EdgeLabel::Name("map" | "table" | "elements" | "properties")
                )
        )
    };
    let mut bytes = 0;
    for e in g.edges(n) {
        if entry(e) {
            bytes += ret.retained(g.to(e));
        } else if is_store_edge(g, e) {
            let store = g.to(e);
            bytes += g.self_size(store);
            bytes += g
                .edges(store)
                .filter(|&e| entry(e))
                .map(|e| ret.retained(g.to(e)))
                .sum::<u64>();
        }
    }
    bytes
}

/// Whether one entry of `n` retains at least half of what `n` does: then `n` only passes
/// memory on (`process`, an `_events` object holding one listener), and the entry, not the
/// collection, is what holds it. A collection's own backing store does not count.
fn is_hub(g: &HeapGraph, ret: &Retention, n: NodeIdx) -> bool {
    let half = ret.retained(n).div_ceil(2);
    g.edges(n).any(|e| {
        let to = g.to(e);
        to != n && ret.idom(to) == Some(n) && ret.retained(to) >= half && !is_store_edge(g, e)
    })
}

/// The kind and entry count of `n` when it is a collection.
fn classify(g: &HeapGraph, n: NodeIdx) -> Option<(CollectionKind, u64)> {
    let mut table = None;
    let mut properties = None;
    let (mut elements, mut keys) = (0u64, 0u64);
    for e in g.edges(n) {
        match (g.edge_kind(e), g.edge_label(e)) {
            (EdgeKind::Internal, EdgeLabel::Name("table")) => table = Some(g.to(e)),
            (EdgeKind::Internal, EdgeLabel::Name("properties")) => properties = Some(g.to(e)),
            (EdgeKind::Element, _) => elements += 1,
            (EdgeKind::Property, EdgeLabel::Name(name)) if name != "__proto__" => keys += 1,
            _ => {}
        }
    }
    if let Some(table) = table {
        return Some(hash_collection(g, n, table));
    }
    if g.name(n) == "Array" {
        return Some((CollectionKind::Array, elements));
    }
    let dictionary = properties.is_some_and(|store| is_hash_table_store(g, store, keys));
    (dictionary || elements > 0).then_some((CollectionKind::Dictionary, keys + elements))
}

/// A `Map`, `Set`, `WeakMap` or `WeakSet` with the hash table `table`.
fn hash_collection(g: &HeapGraph, n: NodeIdx, table: NodeIdx) -> (CollectionKind, u64) {
    // Node 22 and later write deleted entries as edges to V8's hole: not entries.
    let is_hole = |n: NodeIdx| g.kind(n) == NodeKind::Hidden && g.name(n) == "system / Hole";
    let slots = |kind: EdgeKind| {
        g.edges(table)
            .filter(move |&e| g.edge_kind(e) == kind && !is_hole(g.to(e)))
            .filter_map(move |e| match g.edge_label(e) {
                EdgeLabel::Name(name) => name.parse::<u64>().ok(),
                EdgeLabel::Index(i) => Some(u64::from(i)),
            })
    };
    if slots(EdgeKind::Weak).next().is_some() {
        let kind = if g.name(n).contains("WeakSet") {
            CollectionKind::WeakSet
        } else {
            CollectionKind::WeakMap
        };
        return (
            kind,
            entries_in_use(EPHEMERON_LAYOUT, slots(EdgeKind::Weak)),
        );
    }
    let Some(layout) = ordered_table_layout(g.self_size(table)) else {
        // An unknown layout: count the objects the table points to.
        let kind = if g.name(n).contains("Set") {
            CollectionKind::Set
        } else {
            CollectionKind::Map
        };
        return (kind, slots(EdgeKind::Internal).count() as u64);
    };
    let kind = if layout.width == 3 {
        CollectionKind::Map
    } else {
        CollectionKind::Set
    };
    (kind, entries_in_use(layout, slots(EdgeKind::Internal)))
}

/// Whether a `properties` store of this size holding `keys` properties is a hash table
/// (3 slots per entry and room to grow) rather than a property array (a slot per property
/// beyond those kept in the object, grown 3 at a time). Sizes are read as 8-byte slots;
/// with 4-byte slots a hash table still has more than twice as many as it has keys.
fn is_hash_table_store(g: &HeapGraph, store: NodeIdx, keys: u64) -> bool {
    let slots = g.self_size(store).saturating_sub(16) / 8;
    keys > 0 && slots >= 2 * keys + 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GraphBuilder;

    #[test]
    fn maps_sets_arrays_and_dictionaries_are_told_apart() {
        let mut b = GraphBuilder::default();
        let map = b.node(NodeKind::Object, "Map", 32);
        let table = b.node(NodeKind::Array, "", 1832);
        b.edge(map, EdgeKind::Internal, "table", table);
        for i in 0..50 {
            let key = b.node(NodeKind::String, &format!("k{i}"), 24);
            let value = b.node(NodeKind::Object, "Session", 40);
            b.edge(table, EdgeKind::Internal, &(35 + 3 * i).to_string(), key);
            b.edge(table, EdgeKind::Internal, &(36 + 3 * i).to_string(), value);
        }
        // Node 22: a Map of 10 entries, 5 deleted (their slots point to the hole).
        let deleted = b.node(NodeKind::Object, "Map", 32);
        let small_table = b.node(NodeKind::Array, "", 488);
        b.edge(deleted, EdgeKind::Internal, "table", small_table);
        let hole = b.node(NodeKind::Hidden, "system / Hole", 16);
        for i in 0..5 {
            b.edge(
                small_table,
                EdgeKind::Internal,
                &(11 + 3 * i).to_string(),
                hole,
            );
            b.edge(
                small_table,
                EdgeKind::Internal,
                &(12 + 3 * i).to_string(),
                hole,
            );
            let value = b.node(NodeKind::Object, "Object", 16);
            b.edge(
                small_table,
                EdgeKind::Internal,
                &(27 + 3 * i).to_string(),
                value,
            );
        }
        let shape = b.node(NodeKind::Hidden, "system / Map", 72);
        b.edge(small_table, EdgeKind::Internal, "map", shape);
        let array = b.node(NodeKind::Object, "Array", 32);
        for i in 0..20 {
            let entry = b.node(NodeKind::Object, "Session", 40);
            b.element(array, EdgeKind::Element, i, entry);
        }
        let dict = b.node(NodeKind::Object, "Object", 24);
        let store = b.node(NodeKind::Array, "(object properties)", 12_352);
        b.edge(dict, EdgeKind::Internal, "properties", store);
        let fast = b.node(NodeKind::Object, "Object", 40);
        let small_store = b.node(NodeKind::Array, "(object properties)", 16 + 8 * 6);
        b.edge(fast, EdgeKind::Internal, "properties", small_store);
        for (owner, count) in [(dict, 199), (fast, 5)] {
            for i in 0..count {
                let value = b.node(NodeKind::Object, "Session", 40);
                b.edge(owner, EdgeKind::Property, &format!("key{i}"), value);
            }
        }
        let g = b.build();
        assert_eq!(classify(&g, map), Some((CollectionKind::Map, 50)));
        assert_eq!(classify(&g, deleted), Some((CollectionKind::Map, 5)));
        assert_eq!(classify(&g, array), Some((CollectionKind::Array, 20)));
        assert_eq!(classify(&g, dict), Some((CollectionKind::Dictionary, 199)));
        assert_eq!(classify(&g, fast), None);
    }

    #[test]
    fn a_collection_whose_one_entry_holds_most_is_left_out() {
        let (mut b, _, global) = crate::testing::with_global(10);
        let hub = b.node(NodeKind::Object, "Array", 32);
        b.edge(global, EdgeKind::Property, "hub", hub);
        let big = b.node(NodeKind::Object, "Array", 32);
        b.element(hub, EdgeKind::Element, 0, big);
        let small = b.node(NodeKind::Object, "Small", 16);
        b.element(hub, EdgeKind::Element, 1, small);
        for i in 0..100 {
            let entry = b.node(NodeKind::Object, "Session", 40);
            b.element(big, EdgeKind::Element, i, entry);
        }
        let g = b.build();
        let found = collections(&g, &Retention::compute(&g), 10);
        let found: Vec<(u32, u64, Option<&str>)> = found
            .iter()
            .map(|c| (c.id, c.entries, c.variable.as_deref()))
            .collect();
        assert_eq!(found, [(g.id(big), 100, None)]);
    }
}
