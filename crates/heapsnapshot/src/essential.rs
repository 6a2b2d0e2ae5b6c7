//! Which edges retain their target: `DevTools`' *essential* edges, the only edges the
//! dominator tree and retained sizes look at.
//!
//! Chrome `DevTools` decides this in `HeapSnapshot.computeIsEssentialEdge`
//! (`front_end/entrypoints/heap_snapshot_worker/HeapSnapshot.ts`, cached as a bit per
//! edge by `isEssentialEdge`). An edge `from -> to` is **not** essential when
//!
//! 1. it is an `internal` edge whose name is a `WeakMap` ephemeron name (see
//!    [`crate::ephemeron`]) and `from` is the `WeakMap`'s table (`id(from)` equals the
//!    `table @N` id in the name). The value of a `WeakMap` entry is kept alive by key and
//!    table together; `DevTools` keeps only the key's edge because "the edge from the key
//!    generally produces more useful results". So a value is retained by its key;
//! 2. it is a `weak` edge ("weak edges never retain anything");
//! 3. it is a self edge (`from == to`);
//! 4. `from` is not the root and the edge is a `shortcut` ("shortcuts at the root node
//!    have special meaning of marking user global objects"; elsewhere they duplicate a
//!    longer real path);
//! 5. `from` is not the root, `to` is *page-owned* and `from` is not ("skipping the
//!    edges from non-page-owned nodes to page-owned nodes. Otherwise the dominators for
//!    the objects that also were retained by debugger would be affected").
//!
//! Every other edge, including kinds this crate does not know, is essential.
//!
//! *Page-owned* (`JSHeapSnapshot.markPageOwnedNodes`) means reachable, through any
//! non-weak edges, from the targets of the root's `shortcut` edges (V8's
//! `SetUserGlobalReference`: the global objects — Node's `global`, a page's `Window`)
//! or of the root's `element` edges to a synthetic `(Document DOM trees)` node. In a
//! Node snapshot that is most user-land objects; an object kept both by `global` and by
//! some internal root (a handle scope, the compilation cache) is thus attributed to
//! its user-land retainer. When the root has no such edges nothing is page-owned and
//! rule 5 never applies.

use std::collections::VecDeque;

use crate::bitset::BitSet;
use crate::ephemeron::EphemeronNames;
use crate::prefetch::queue_ahead;
use crate::{EdgeIdx, EdgeKind, HeapGraph, NodeIdx, NodeKind};

/// The set of essential edges of one graph (one bit per edge).
#[derive(Debug, Clone)]
pub struct EssentialEdges {
    bits: BitSet,
}

impl EssentialEdges {
    /// Classifies every edge of `g` (see the module docs).
    #[must_use]
    pub fn compute(g: &HeapGraph) -> Self {
        Self::classify(g, false, use_helper(g)).0
    }

    /// [`EssentialEdges::compute`], also counting each node's essential retainers
    /// (self edges excluded, as they are not essential): the dominator search sizes its
    /// predecessor lists with them, and this pass already looks at every edge.
    pub(crate) fn compute_with_retainer_counts(g: &HeapGraph) -> (Self, Vec<u32>) {
        Self::classify(g, true, use_helper(g))
    }

    /// With `helper`, a second thread classifies the nodes holding the second half of
    /// the edges, into a bit set and counts of its own that are then merged.
    fn classify(g: &HeapGraph, counting: bool, helper: bool) -> (Self, Vec<u32>) {
        let page_owned = page_owned_nodes(g);
        let (n, m) = (g.node_count(), g.edge_count());
        let part = |nodes: std::ops::Range<usize>| {
            let mut bits = BitSet::new(m);
            let mut counts = if counting { vec![0u32; n] } else { Vec::new() };
            classify_nodes(g, &page_owned, nodes, &mut bits, &mut counts);
            (bits, counts)
        };
        if !helper {
            let (bits, counts) = part(0..n);
            return (Self { bits }, counts);
        }
        let mid = g.first_edge[..n].partition_point(|&first| (first as usize) < m / 2);
        let ((mut bits, mut counts), (more_bits, more_counts)) = std::thread::scope(|scope| {
            let second = scope.spawn(|| part(mid..n));
            let first = part(0..mid);
            (
                first,
                second.join().expect("edge classifier thread panicked"),
            )
        });
        bits.union_with(&more_bits);
        for (count, more) in counts.iter_mut().zip(more_counts) {
            *count += more;
        }
        (Self { bits }, counts)
    }

    /// True when edge `e` keeps its target alive.
    #[inline]
    #[must_use]
    pub fn contains(&self, e: EdgeIdx) -> bool {
        self.bits.contains(e.ix())
    }

    /// Starts loading the bit of edge `e` (see [`crate::prefetch`]).
    #[inline]
    pub(crate) fn prefetch(&self, e: EdgeIdx) {
        self.bits.prefetch(e.ix());
    }

    /// Number of essential edges.
    #[must_use]
    pub fn count(&self) -> usize {
        self.bits.count()
    }
}

/// Graphs with fewer edges are classified on one thread (a helper would not pay).
const HELPER_MIN_EDGES: usize = 1 << 20;

/// Whether a helper thread pays: a large graph and a second core.
fn use_helper(g: &HeapGraph) -> bool {
    g.edge_count() >= HELPER_MIN_EDGES
        && std::thread::available_parallelism().is_ok_and(|p| p.get() > 1)
}

/// Classifies the edges of `nodes` into `bits`; counts each essential edge's target in
/// `counts` unless it is empty.
fn classify_nodes(
    g: &HeapGraph,
    page_owned: &BitSet,
    nodes: std::ops::Range<usize>,
    bits: &mut BitSet,
    counts: &mut [u32],
) {
    let mut names = EphemeronNames::new(g);
    let counting = !counts.is_empty();
    for from in nodes.map(|v| NodeIdx(v as u32)) {
        let from_is_root = from == HeapGraph::ROOT;
        let from_owned = page_owned.contains(from.ix());
        let from_id = u64::from(g.id(from));
        for e in g.edges(from) {
            let to = g.to(e);
            let essential = match g.edge_kind(e) {
                EdgeKind::Weak => false,
                _ if to == from => false,
                EdgeKind::Internal
                    if names
                        .get(g.edge_name[e.ix()])
                        .is_some_and(|m| m.table_id == from_id) =>
                {
                    false
                }
                EdgeKind::Shortcut if !from_is_root => false,
                _ => from_is_root || from_owned || !page_owned.contains(to.ix()),
            };
            if essential {
                bits.insert(e.ix());
                if counting {
                    counts[to.ix()] += 1;
                }
            }
        }
    }
}

/// `DevTools`' `markPageOwnedNodes`: see the module docs.
fn page_owned_nodes(g: &HeapGraph) -> BitSet {
    let mut owned = BitSet::new(g.node_count());
    if g.node_count() == 0 {
        return owned;
    }
    // Breadth first, though any order would do: the nodes to search next are known, so
    // the reads of their edges can start a few nodes ahead.
    let mut queue = VecDeque::new();
    for e in g.edges(HeapGraph::ROOT) {
        let to = g.to(e);
        let entry = match g.edge_kind(e) {
            EdgeKind::Shortcut => true,
            EdgeKind::Element => is_document_dom_trees_root(g, to),
            _ => false,
        };
        if entry && owned.insert(to.ix()) {
            queue.push_back(to.0);
        }
    }
    while let Some(n) = queue.pop_front() {
        queue_ahead(g, &queue);
        for e in g.edges(NodeIdx(n)) {
            let to = g.to(e);
            if g.edge_kind(e) != EdgeKind::Weak && owned.insert(to.ix()) {
                queue.push_back(to.0);
            }
        }
    }
    owned
}

/// Blink's synthetic `(Document DOM trees)` node, which `DevTools` treats like a user root.
pub(crate) fn is_document_dom_trees_root(g: &HeapGraph, n: NodeIdx) -> bool {
    g.kind(n) == NodeKind::Synthetic && g.name(n) == "(Document DOM trees)"
}

#[cfg(test)]
mod tests {
    use super::EssentialEdges;

    #[test]
    fn helper_thread_classifies_like_one_thread() {
        let mut b = GraphBuilder::default();
        let root = b.node(NodeKind::Synthetic, "", 0);
        let global = b.node(NodeKind::Object, "global", 1);
        b.edge(root, EdgeKind::Shortcut, "1", global);
        let nodes: Vec<_> = (0..200_000)
            .map(|i| b.node(NodeKind::Object, if i % 2 == 0 { "A" } else { "B" }, 1))
            .collect();
        let kinds = [
            EdgeKind::Property,
            EdgeKind::Weak,
            EdgeKind::Shortcut,
            EdgeKind::Internal,
            EdgeKind::Context,
        ];
        let mut rng = memwatchdog_rng::Rng::new(12_345);
        for (i, &from) in nodes.iter().enumerate() {
            if i % 3 == 0 {
                b.edge(global, EdgeKind::Property, "p", from);
            }
            for k in 0..6 {
                let to = nodes[rng.below(nodes.len() as u32) as usize];
                let kind = kinds[(i + k) % kinds.len()];
                b.edge(from, kind, "e", if k == 5 { from } else { to });
            }
        }
        let g = b.build();
        assert!(g.edge_count() > 1 << 20);
        let (alone, alone_counts) = EssentialEdges::classify(&g, true, false);
        let (helped, helped_counts) = EssentialEdges::classify(&g, true, true);
        assert_eq!(alone.bits, helped.bits);
        assert_eq!(alone_counts, helped_counts);
        assert!(alone.count() > 0 && alone.count() < g.edge_count());
    }
    use crate::{EdgeIdx, EdgeKind, GraphBuilder, HeapGraph, NodeKind};

    fn essential_names(g: &HeapGraph) -> Vec<String> {
        let ess = EssentialEdges::compute(g);
        (0..g.edge_count() as u32)
            .map(EdgeIdx)
            .filter(|&e| ess.contains(e))
            .map(|e| match g.edge_label(e) {
                crate::EdgeLabel::Name(n) => n.to_owned(),
                crate::EdgeLabel::Index(i) => i.to_string(),
            })
            .collect()
    }

    #[test]
    fn weak_self_and_non_root_shortcuts_are_not_essential() {
        let mut b = GraphBuilder::default();
        let root = b.node(NodeKind::Synthetic, "", 0);
        let a = b.node(NodeKind::Object, "A", 1);
        let c = b.node(NodeKind::Object, "C", 1);
        b.edge(root, EdgeKind::Shortcut, "root-shortcut", a);
        b.edge(a, EdgeKind::Weak, "weak", c);
        b.edge(a, EdgeKind::Shortcut, "shortcut", c);
        b.edge(a, EdgeKind::Property, "self", a);
        b.edge(a, EdgeKind::Property, "prop", c);
        let g = b.build();
        assert_eq!(essential_names(&g), ["root-shortcut", "prop"]);
    }

    #[test]
    fn edges_into_page_owned_nodes_count_only_from_page_owned_nodes() {
        let mut b = GraphBuilder::default();
        let root = b.node(NodeKind::Synthetic, "", 0);
        let gc_roots = b.node(NodeKind::Synthetic, "(GC roots)", 0);
        let global = b.node(NodeKind::Object, "global", 1);
        let obj = b.node(NodeKind::Object, "Obj", 1);
        let internal = b.node(NodeKind::Hidden, "system / Foo", 1);
        b.element(root, EdgeKind::Element, 1, gc_roots);
        b.edge(root, EdgeKind::Shortcut, "1", global);
        b.edge(gc_roots, EdgeKind::Internal, "gc->global", global);
        b.edge(gc_roots, EdgeKind::Internal, "gc->internal", internal);
        b.edge(global, EdgeKind::Property, "obj", obj);
        b.edge(internal, EdgeKind::Internal, "internal->obj", obj);
        let g = b.build();
        // `internal` is not reachable from `global`, so its edge into the page-owned
        // `obj` does not retain; neither does (GC roots) -> global.
        assert_eq!(
            essential_names(&g),
            ["1", "1", "gc->internal", "obj"],
            "root element edge, root shortcut, gc->internal, global.obj"
        );
    }

    #[test]
    fn weak_map_value_is_retained_by_its_key_not_its_table() {
        let mut b = GraphBuilder::default();
        let root = b.node(NodeKind::Synthetic, "", 0);
        let key = b.node_with_id(NodeKind::Object, "K", 1, 11);
        let table = b.node_with_id(NodeKind::Array, "", 1, 33);
        let value = b.node_with_id(NodeKind::Object, "V", 1, 22);
        b.edge(root, EdgeKind::Property, "key", key);
        b.edge(root, EdgeKind::Property, "table", table);
        let pair = "/ part of key (K @11) -> value (V @22) pair in WeakMap (table @33)";
        b.edge(key, EdgeKind::Internal, &format!("2 {pair}"), value);
        b.edge(table, EdgeKind::Internal, &format!("5 {pair}"), value);
        let g = b.build();
        let names = essential_names(&g);
        assert_eq!(names, ["key", "table", &format!("2 {pair}")]);
    }
}
