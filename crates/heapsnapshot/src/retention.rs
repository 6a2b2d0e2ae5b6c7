//! What keeps what alive: immediate dominators, retained sizes, distances and shortest
//! retainer paths of every node, computed the way Chrome `DevTools` computes them.
//!
//! - **Retained size** of `n`: the total self size of `n`'s subtree in the [dominator
//!   tree](crate::dominators) over [essential edges](crate::essential) — what the GC
//!   would free if `n` were gone. The root's retained size is the whole heap. This is
//!   `DevTools`' `buildDominatorTreeAndCalculateRetainedSizes`: self sizes added up the
//!   tree in reverse DFS order. (`DevTools` first moves the self size of `array` and
//!   `hidden` nodes owned by a single object onto that object, in
//!   `JSHeapSnapshot.calculateShallowSizes`; that is a change of self sizes, not of the
//!   algorithm, and is not done here.)
//! - **Reachable**: reached from the root through essential edges. Other nodes (garbage
//!   V8 had not collected yet, or nodes held only weakly) still get a dominator — the
//!   root, or the orphan that keeps them, as in `DevTools` — but
//!   [`Retention::is_reachable`] is `false` for them.
//! - **Distance** and **retainer path**: see [`crate::distance`]: breadth-first from the
//!   user roots (the globals) first, then from the `(GC roots)` (handle scopes and stack
//!   roots last), so the path through user code is preferred over one through V8 internals.
//!
//! ```
//! use memwatchdog_heapsnapshot::{EdgeKind, GraphBuilder, NodeKind, Retention};
//! let mut b = GraphBuilder::default();
//! let root = b.node(NodeKind::Synthetic, "", 0);
//! let global = b.node(NodeKind::Object, "global", 10);
//! let cache = b.node(NodeKind::Object, "Map", 20);
//! let entry = b.node(NodeKind::String, "payload", 100);
//! b.edge(root, EdgeKind::Shortcut, "1", global);
//! b.edge(global, EdgeKind::Property, "cache", cache);
//! b.edge(cache, EdgeKind::Internal, "table", entry);
//! let g = b.build();
//! let r = Retention::compute(&g);
//! assert_eq!(r.retained(cache), 120);
//! assert_eq!(r.idom(entry), Some(cache));
//! assert_eq!(r.distance(entry), Some(3));
//! let path: Vec<_> = r.retainer_path(&g, entry).iter().map(|&e| g.to(e)).collect();
//! assert_eq!(path, [global, cache, entry]);
//! ```
//!
//! Memory: the result costs 20 bytes per node (four columns) plus a bit; computing it
//! needs about 24 bytes per node and 4 bytes per essential edge more, for a moment.

use std::sync::mpsc;

use crate::bitset::BitSet;
use crate::distance::{Distances, NONE};
use crate::dominators::Dominators;
use crate::{EdgeIdx, HeapGraph, NodeIdx};

/// Dominators, retained sizes, distances and retainer paths of one [`HeapGraph`].
#[derive(Debug, Clone)]
pub struct Retention {
    /// Immediate dominator per node (the root's is itself).
    idom: Vec<u32>,
    /// Retained size per node, in bytes.
    retained: Vec<u64>,
    /// BFS distance per node, `NONE` when the searches did not reach it.
    distance: Vec<u32>,
    /// The edge the BFS reached each node through, `NONE` for the root and unreached.
    parent_edge: Vec<u32>,
    /// Nodes reachable from the root through essential edges.
    reachable: BitSet,
    reachable_count: usize,
}

impl Retention {
    /// Computes everything for `g`. Pure; linear-ish in the size of the graph
    /// (`O(m log n)` for the dominators). The distance search does not depend on the
    /// dominators, so it runs on a second thread meanwhile.
    #[must_use]
    pub fn compute(g: &HeapGraph) -> Self {
        Self::compute_alongside(g, || ()).0
    }

    /// [`Retention::compute`], running `side` on the second thread first: work that is
    /// not needed before the dominators are done (the diff's comparison with older
    /// snapshots) then shares that thread instead of taking a core from the dominators,
    /// which are the long pole.
    ///
    /// The distance search on that thread then waits until the dominators' own helper
    /// threads are done: until then they use the second core, and Lengauer–Tarjan, which
    /// follows on this thread alone, would leave it idle.
    pub fn compute_alongside<T: Send>(g: &HeapGraph, side: impl FnOnce() -> T + Send) -> (Self, T) {
        std::thread::scope(|scope| {
            let (helpers_done, start_search) = mpsc::channel::<()>();
            let second = scope.spawn(move || {
                let side = side();
                // An error means the dominators' thread is gone (it panicked): the join
                // below reports that.
                let _ = start_search.recv();
                (Distances::compute(g), side)
            });
            let n = g.node_count();
            let dom = Dominators::compute(g, move || {
                let _ = helpers_done.send(());
            });
            let mut reachable = BitSet::new(n);
            for &v in &dom.preorder[..dom.root_reachable] {
                reachable.insert(v as usize);
            }
            let retained = retained_sizes(g, &dom);
            let Dominators {
                idom,
                root_reachable,
                ..
            } = dom;
            let (
                Distances {
                    distance,
                    parent_edge,
                },
                side,
            ) = second.join().expect("distance thread panicked");
            let retention = Self {
                idom,
                retained,
                distance,
                parent_edge,
                reachable,
                reachable_count: root_reachable,
            };
            (retention, side)
        })
    }

    /// The immediate dominator of `n`; `None` for the root.
    #[must_use]
    pub fn idom(&self, n: NodeIdx) -> Option<NodeIdx> {
        (n != HeapGraph::ROOT).then(|| NodeIdx(self.idom[n.ix()]))
    }

    /// Bytes that would be freed if `n` were gone: the self sizes of the nodes `n`
    /// dominates, its own included.
    #[must_use]
    pub fn retained(&self, n: NodeIdx) -> u64 {
        self.retained[n.ix()]
    }

    /// The BFS distance of `n` from the roots (see [`crate::distance`]); values at or
    /// above [`crate::BASE_SYSTEM_DISTANCE`] mean "reached only through V8 internals";
    /// `None` when no search reached `n`.
    #[must_use]
    pub fn distance(&self, n: NodeIdx) -> Option<u32> {
        let d = self.distance[n.ix()];
        (d != NONE).then_some(d)
    }

    /// True when the root reaches `n` through essential (retaining) edges.
    #[must_use]
    pub fn is_reachable(&self, n: NodeIdx) -> bool {
        self.reachable.contains(n.ix())
    }

    /// Number of nodes the root does not reach through essential edges.
    #[must_use]
    pub fn unreachable_count(&self) -> usize {
        self.idom.len() - self.reachable_count
    }

    /// The edge through which the distance BFS first reached `n`; `None` for the root
    /// and for nodes it did not reach.
    #[must_use]
    pub fn parent_edge(&self, n: NodeIdx) -> Option<EdgeIdx> {
        let e = self.parent_edge[n.ix()];
        (e != NONE).then_some(EdgeIdx(e))
    }

    /// The shortest retainer path of `n`: the edges from the root to `n`, root first,
    /// going through a user root (a global) when one reaches `n`. Empty for the root
    /// and for nodes the distance BFS did not reach.
    #[must_use]
    pub fn retainer_path(&self, g: &HeapGraph, n: NodeIdx) -> Vec<EdgeIdx> {
        let mut path = Vec::new();
        let mut cur = n;
        while let Some(e) = self.parent_edge(cur) {
            path.push(e);
            cur = edge_source(g, e);
            if path.len() > self.idom.len() {
                return Vec::new(); // cannot happen: BFS parent edges form a tree
            }
        }
        if cur != HeapGraph::ROOT {
            return Vec::new();
        }
        path.reverse();
        path
    }
}

/// The node whose edge range holds `e` (binary search over the CSR offsets).
pub(crate) fn edge_source(g: &HeapGraph, e: EdgeIdx) -> NodeIdx {
    let after = g.first_edge.partition_point(|&first| first <= e.0);
    NodeIdx(after as u32 - 1)
}

/// Sums self sizes up the dominator tree, children before parents (reverse preorder).
fn retained_sizes(g: &HeapGraph, dom: &Dominators) -> Vec<u64> {
    let mut retained: Vec<u64> = g.self_size.iter().map(|&s| u64::from(s)).collect();
    for &(n, size) in &g.big_self_size {
        retained[n.ix()] = size;
    }
    for &v in dom.preorder.iter().skip(1).rev() {
        let d = dom.idom[v as usize] as usize;
        retained[d] += retained[v as usize];
    }
    retained
}
