//! Distances from the GC roots, and the BFS tree that gives every node its shortest
//! retainer path — `DevTools`' "Distance" column.
//!
//! As in `HeapSnapshot.calculateDistances` / `bfs` and `JSHeapSnapshot.calculateDistances`
//! (`front_end/entrypoints/heap_snapshot_worker/HeapSnapshot.ts`):
//!
//! 1. **User roots first.** Every target of a root edge that is a *user root* gets
//!    distance 1 — in `JSHeapSnapshot.isUserRoot`, any non-synthetic node (the global
//!    objects the root points at through `shortcut` edges) or Blink's synthetic
//!    `(Document DOM trees)`. A breadth-first search runs from all of them at once.
//! 2. **Then the rest from the root.** The root gets [`BASE_SYSTEM_DISTANCE`]
//!    (100 000 000, `DevTools`' `baseSystemDistance`; 0 when there are no user roots)
//!    and a second BFS from it reaches what only the `(GC roots)` keep: those nodes get
//!    `BASE_SYSTEM_DISTANCE + k`, which `DevTools` shows as "−" and counts as "system".
//! 3. Nodes neither search reaches have no distance.
//!
//! One deliberate difference in step 2: the `(GC roots)` groups that hold objects only
//! while native code runs — `(Handle scope)` and `(Stack roots)` — are searched from
//! last, once the second search is done with everything else. A snapshot written near the
//! heap limit (`--heapsnapshot-near-heap-limit`) is written in the middle of an allocation,
//! often while V8 grows a collection's table, and has no user roots at all: searched from
//! at once, the handle scope holding the half-built new table would be every entry's
//! shortest retainer, and no path would name the variable that holds the collection. Held
//! back, they only give the paths of what nothing else holds (a local variable of the
//! running function), whose distances then count from those groups.
//!
//! Both searches follow every edge except:
//!
//! - `weak` edges;
//! - the `sloppy_function_map` edge of a `hidden` node named `system / NativeContext`;
//! - edges of an `array` node named `(map descriptors)` whose index `i` (the edge name
//!   read with JavaScript's `parseInt`) has `i >= 2 && i % 3 == 1`: descriptor arrays are
//!   shared between maps, so those links need not be valid for every map
//!   (crbug.com/413608);
//! - of the two `internal` edges of a `WeakMap` entry (key → value and table → value,
//!   see [`crate::ephemeron`]), whichever the search meets first (while the value is
//!   still unvisited) is skipped and the second is followed, so the value's distance is
//!   the larger of key + 1 and table + 1 (crbug.com/1290800): a value is only as close
//!   as the farther of the two things that must both be alive.
//!
//! Shortcut edges are followed like any other. One deliberate difference: edges *into*
//! the root are never followed (V8 writes none; `DevTools` would let the first search
//! enter the root, give it a small distance and push its `(GC roots)` child into the
//! user-root distances before resetting the root to [`BASE_SYSTEM_DISTANCE`]), so a
//! retainer path always has exactly as many edges as the distance says (minus
//! [`BASE_SYSTEM_DISTANCE`] for system nodes). The edge that first reaches a node is
//! recorded as its *parent edge*; following parent edges from a node back to the root
//! gives its shortest retainer path, through a user root whenever one reaches it.

use std::collections::VecDeque;

use crate::bitset::BitSet;
use crate::ephemeron::EphemeronNames;
use crate::essential::is_document_dom_trees_root;
use crate::prefetch::{prefetch, queue_ahead};
use crate::retention::edge_source;
use crate::{EdgeIdx, EdgeKind, EdgeLabel, HeapGraph, NodeIdx, NodeKind};

/// `DevTools`' `baseSystemDistance`: the distance of the root when user roots exist, so
/// nodes reached only through the `(GC roots)` have distances above it.
pub const BASE_SYSTEM_DISTANCE: u32 = 100_000_000;

/// "No distance" / "no edge" in the `u32` columns.
pub(crate) const NONE: u32 = u32::MAX;

/// BFS distances and parent edges of every node.
#[derive(Debug, Clone)]
pub(crate) struct Distances {
    /// Distance per node, `NONE` when unreached.
    pub(crate) distance: Vec<u32>,
    /// The edge that first reached each node, `NONE` for the root and unreached nodes.
    pub(crate) parent_edge: Vec<u32>,
}

impl Distances {
    /// Runs both searches over `g` (see the module docs).
    pub(crate) fn compute(g: &HeapGraph) -> Self {
        let n = g.node_count();
        let mut bfs = Bfs {
            g,
            filter: Filter::new(g),
            distance: vec![NONE; n],
            parent_edge: vec![NONE; n],
            queue: VecDeque::new(),
            seen: BitSet::new(n),
        };
        if n == 0 {
            return bfs.finish();
        }
        let root = HeapGraph::ROOT;
        // The root is where both searches start; nothing leads into it.
        bfs.seen.insert(root.ix());
        for e in g.edges(root) {
            let child = g.to(e);
            if is_user_root(g, child) {
                bfs.seen.insert(child.ix());
                bfs.distance[child.ix()] = 1;
                if bfs.parent_edge[child.ix()] == NONE {
                    bfs.parent_edge[child.ix()] = e.0;
                }
                bfs.queue.push_back(child.0);
            }
        }
        let has_user_roots = !bfs.queue.is_empty();
        bfs.run();
        bfs.distance[root.ix()] = if has_user_roots {
            BASE_SYSTEM_DISTANCE
        } else {
            0
        };
        bfs.queue.push_back(root.0);
        let held_back = bfs.hold_back(transient_roots(g));
        bfs.run();
        bfs.release(&held_back);
        bfs.run();
        bfs.finish()
    }
}

/// The `(GC roots)` groups that hold objects only while native code runs (see the module
/// docs), with the edge from `(GC roots)` to each.
pub(crate) fn transient_roots(g: &HeapGraph) -> Vec<(NodeIdx, EdgeIdx)> {
    let is_synthetic =
        |n: NodeIdx, names: &[&str]| g.kind(n) == NodeKind::Synthetic && names.contains(&g.name(n));
    let Some(gc_roots) = g
        .edges(HeapGraph::ROOT)
        .map(|e| g.to(e))
        .find(|&n| is_synthetic(n, &["(GC roots)"]))
    else {
        return Vec::new();
    };
    g.edges(gc_roots)
        .filter(|&e| is_synthetic(g.to(e), &["(Handle scope)", "(Stack roots)"]))
        .map(|e| (g.to(e), e))
        .collect()
}

/// `DevTools`' `JSHeapSnapshot.isUserRoot` for a child of the root.
pub(crate) fn is_user_root(g: &HeapGraph, n: NodeIdx) -> bool {
    g.kind(n) != NodeKind::Synthetic || is_document_dom_trees_root(g, n)
}

struct Bfs<'g> {
    g: &'g HeapGraph,
    filter: Filter<'g>,
    distance: Vec<u32>,
    parent_edge: Vec<u32>,
    /// Nodes reached but not yet searched from: at most two levels of the search, not
    /// every node (on the benchmark heaps, a small part of them).
    queue: VecDeque<u32>,
    /// Nodes with a distance (or the root): a bit per node stays in cache.
    seen: BitSet,
}

impl Bfs<'_> {
    /// Breadth-first search from everything in `queue`.
    fn run(&mut self) {
        let g = self.g;
        while let Some(node) = self.queue.pop_front() {
            // The nodes to search next are known: start loading what their steps read
            // (the queue is in no useful order, so each of those reads misses the cache).
            let ahead = queue_ahead(g, &self.queue);
            if let Some(n) = ahead.far {
                prefetch(&g.node_kind, n as usize);
                prefetch(&self.distance, n as usize);
            }
            if let Some(first) = ahead.first_edge {
                prefetch(&g.edge_name, first);
            }
            let node = NodeIdx(node);
            let d = self.distance[node.ix()].saturating_add(1);
            let rule = self.filter.rule(node);
            for e in g.edges(node) {
                if g.edge_kind(e) == EdgeKind::Weak {
                    continue;
                }
                let child = g.to(e);
                if self.seen.contains(child.ix()) || !self.filter.follow(rule, e) {
                    continue;
                }
                self.seen.insert(child.ix());
                self.distance[child.ix()] = d;
                self.parent_edge[child.ix()] = e.0;
                self.queue.push_back(child.0);
            }
        }
    }

    /// Keeps the search out of `roots` (marks them reached) and returns those it had not
    /// reached yet.
    fn hold_back(&mut self, roots: Vec<(NodeIdx, EdgeIdx)>) -> Vec<(NodeIdx, EdgeIdx)> {
        roots
            .into_iter()
            .filter(|&(n, _)| self.seen.insert(n.ix()))
            .collect()
    }

    /// Lets the search go on from the roots [`hold_back`](Self::hold_back) kept out, one
    /// step below the node each one's edge leaves.
    fn release(&mut self, held_back: &[(NodeIdx, EdgeIdx)]) {
        for &(n, e) in held_back {
            let from = edge_source(self.g, e);
            self.distance[n.ix()] = self.distance[from.ix()].saturating_add(1);
            self.parent_edge[n.ix()] = e.0;
            self.queue.push_back(n.0);
        }
    }

    fn finish(self) -> Distances {
        Distances {
            distance: self.distance,
            parent_edge: self.parent_edge,
        }
    }
}

/// `DevTools`' distance filter (`JSHeapSnapshot.calculateDistances`); it is stateful
/// because of the `WeakMap` pair rule.
struct Filter<'g> {
    g: &'g HeapGraph,
    names: EphemeronNames<'g>,
    /// Per `WeakMap` pair: one of its two edges was met (and skipped) already.
    pending: Vec<bool>,
}

impl<'g> Filter<'g> {
    fn new(g: &'g HeapGraph) -> Self {
        Self {
            g,
            names: EphemeronNames::new(g),
            pending: Vec::new(),
        }
    }

    /// Which of the per-node rules applies to the edges out of `node`.
    fn rule(&self, node: NodeIdx) -> Rule {
        let g = self.g;
        match g.kind(node) {
            NodeKind::Hidden if g.name(node) == "system / NativeContext" => Rule::NativeContext,
            NodeKind::Array if g.name(node) == "(map descriptors)" => Rule::MapDescriptors,
            _ => Rule::Plain,
        }
    }

    /// Whether the search may take edge `e`, out of a node whose [`rule`](Self::rule) is
    /// `rule`, to an unvisited node.
    fn follow(&mut self, rule: Rule, e: EdgeIdx) -> bool {
        let g = self.g;
        match rule {
            Rule::NativeContext if g.edge_label(e) == EdgeLabel::Name("sloppy_function_map") => {
                return false;
            }
            Rule::MapDescriptors => {
                let index = match g.edge_label(e) {
                    EdgeLabel::Index(i) => Some(i64::from(i)),
                    EdgeLabel::Name(name) => js_parse_int(name),
                };
                return index.is_none_or(|i| i < 2 || i % 3 != 1);
            }
            Rule::NativeContext | Rule::Plain => {}
        }
        if g.edge_kind(e) == EdgeKind::Internal {
            if let Some(m) = self.names.get(g.edge_name[e.ix()]) {
                let pair = m.pair as usize;
                if pair >= self.pending.len() {
                    self.pending.resize(pair + 1, false);
                }
                // First edge of the pair: remember and skip; second: follow.
                self.pending[pair] = !self.pending[pair];
                return !self.pending[pair];
            }
        }
        true
    }
}

/// The filter's rules that depend on the node an edge leaves, decided once per node.
#[derive(Clone, Copy)]
enum Rule {
    /// Only the `WeakMap` pair rule.
    Plain,
    /// A `system / NativeContext`: not its `sloppy_function_map` edge.
    NativeContext,
    /// A `(map descriptors)` array: not the indices `i >= 2 && i % 3 == 1`.
    MapDescriptors,
}

/// JavaScript's `parseInt(s, 10)`: optional leading whitespace and sign, then the
/// longest run of decimal digits; `None` for `NaN`. Values beyond `i64` saturate.
fn js_parse_int(s: &str) -> Option<i64> {
    let s = s.trim_start();
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let digits = &digits[..digits.bytes().take_while(u8::is_ascii_digit).count()];
    if digits.is_empty() {
        return None;
    }
    let value = digits.bytes().fold(0i64, |acc, b| {
        acc.saturating_mul(10).saturating_add(i64::from(b - b'0'))
    });
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::{BASE_SYSTEM_DISTANCE, Distances, NONE, js_parse_int};
    use crate::{EdgeKind, GraphBuilder, NodeKind};

    #[test]
    fn parse_int_like_javascript() {
        assert_eq!(js_parse_int("12"), Some(12));
        assert_eq!(js_parse_int("  7abc"), Some(7));
        assert_eq!(js_parse_int("-4"), Some(-4));
        assert_eq!(js_parse_int("abc"), None);
        assert_eq!(js_parse_int(""), None);
        assert_eq!(js_parse_int("-"), None);
    }

    #[test]
    fn user_roots_then_system_roots() {
        let mut b = GraphBuilder::default();
        let root = b.node(NodeKind::Synthetic, "", 0);
        let gc = b.node(NodeKind::Synthetic, "(GC roots)", 0);
        let global = b.node(NodeKind::Object, "global", 1);
        let a = b.node(NodeKind::Object, "A", 1);
        let sys = b.node(NodeKind::Hidden, "system / X", 1);
        let island = b.node(NodeKind::Object, "island", 1);
        b.element(root, EdgeKind::Element, 1, gc);
        b.edge(root, EdgeKind::Shortcut, "2", global);
        b.edge(gc, EdgeKind::Internal, "a", a);
        b.edge(gc, EdgeKind::Internal, "sys", sys);
        b.edge(global, EdgeKind::Property, "a", a);
        b.edge(sys, EdgeKind::Weak, "w", island);
        let g = b.build();
        let d = Distances::compute(&g);
        assert_eq!(
            d.distance,
            [
                BASE_SYSTEM_DISTANCE,
                BASE_SYSTEM_DISTANCE + 1,
                1,
                2,
                BASE_SYSTEM_DISTANCE + 2,
                NONE
            ]
        );
        assert_eq!(d.parent_edge[0], NONE);
        assert_eq!(d.parent_edge[5], NONE);
    }

    #[test]
    fn no_user_roots_means_root_at_zero() {
        let mut b = GraphBuilder::default();
        let root = b.node(NodeKind::Synthetic, "", 0);
        let gc = b.node(NodeKind::Synthetic, "(GC roots)", 0);
        let a = b.node(NodeKind::Object, "A", 1);
        b.element(root, EdgeKind::Element, 1, gc);
        b.edge(gc, EdgeKind::Internal, "a", a);
        let g = b.build();
        assert_eq!(Distances::compute(&g).distance, [0, 1, 2]);
    }

    /// A near-heap-limit snapshot: no user roots, and a `Map` growing its table when V8
    /// wrote it (the new table is in a handle scope).
    #[test]
    fn handle_scopes_and_stack_roots_are_searched_from_last() {
        let mut b = GraphBuilder::default();
        let root = b.node(NodeKind::Synthetic, "", 0);
        let gc = b.node(NodeKind::Synthetic, "(GC roots)", 0);
        let handles = b.node(NodeKind::Synthetic, "(Handle scope)", 0);
        let globals = b.node(NodeKind::Synthetic, "(Global handles)", 0);
        let stack = b.node(NodeKind::Synthetic, "(Stack roots)", 0);
        let context = b.node(NodeKind::Hidden, "system / Context", 1);
        let map = b.node(NodeKind::Object, "Map", 1);
        let old_table = b.node(NodeKind::Array, "", 1);
        let new_table = b.node(NodeKind::Array, "", 1);
        let entry = b.node(NodeKind::Object, "Session", 1);
        let local = b.node(NodeKind::Object, "Local", 1);
        b.element(root, EdgeKind::Element, 1, gc);
        b.element(gc, EdgeKind::Element, 1, handles);
        b.element(gc, EdgeKind::Element, 2, globals);
        b.element(gc, EdgeKind::Element, 3, stack);
        b.element(handles, EdgeKind::Element, 0, new_table);
        b.edge(new_table, EdgeKind::Internal, "3", entry);
        b.element(globals, EdgeKind::Element, 0, context);
        b.edge(context, EdgeKind::Context, "sessionCache", map);
        b.edge(map, EdgeKind::Internal, "table", old_table);
        b.edge(old_table, EdgeKind::Internal, "3", entry);
        b.element(stack, EdgeKind::Element, 0, local);
        let g = b.build();
        let d = Distances::compute(&g);
        let parent = |n: crate::NodeIdx| {
            crate::retention::edge_source(&g, crate::EdgeIdx(d.parent_edge[n.ix()]))
        };
        assert_eq!(
            parent(entry),
            old_table,
            "through the variable, not the handle scope"
        );
        assert_eq!(d.distance[entry.ix()], 6);
        assert_eq!(d.distance[handles.ix()], 2);
        assert_eq!(d.distance[new_table.ix()], 3);
        assert_eq!(
            parent(local),
            stack,
            "what only the stack holds keeps its path"
        );
        assert_eq!(d.distance[local.ix()], 3);
    }

    #[test]
    fn native_context_sloppy_function_map_and_map_descriptors_are_skipped() {
        let mut b = GraphBuilder::default();
        let root = b.node(NodeKind::Synthetic, "", 0);
        let ctx = b.node(NodeKind::Hidden, "system / NativeContext", 1);
        let map = b.node(NodeKind::ObjectShape, "system / Map", 1);
        let desc = b.node(NodeKind::Array, "(map descriptors)", 1);
        let d0 = b.node(NodeKind::Object, "d0", 1);
        let d4 = b.node(NodeKind::Object, "d4", 1);
        let d5 = b.node(NodeKind::Object, "d5", 1);
        let named = b.node(NodeKind::Object, "named7", 1);
        b.edge(root, EdgeKind::Property, "ctx", ctx);
        b.edge(ctx, EdgeKind::Internal, "sloppy_function_map", map);
        b.edge(root, EdgeKind::Property, "desc", desc);
        b.element(desc, EdgeKind::Element, 0, d0);
        b.element(desc, EdgeKind::Element, 4, d4);
        b.element(desc, EdgeKind::Element, 5, d5);
        b.edge(desc, EdgeKind::Internal, "7", named);
        let g = b.build();
        let d = Distances::compute(&g).distance;
        assert_eq!(d[map.ix()], NONE);
        assert_eq!(d[d0.ix()], 2);
        assert_eq!(d[d4.ix()], NONE, "4 % 3 == 1");
        assert_eq!(d[d5.ix()], 2);
        assert_eq!(d[named.ix()], NONE, "parseInt(\"7\") % 3 == 1");
    }
}
