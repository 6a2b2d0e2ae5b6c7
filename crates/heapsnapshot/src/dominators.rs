//! The dominator tree over essential edges: Lengauer–Tarjan, iterative, in `O(m log n)`
//! on any graph.
//!
//! Node `d` dominates `n` when every path from the root to `n` passes through `d`; the
//! immediate dominator `idom(n)` is the closest such `d`. Only [essential
//! edges](crate::essential) count.
//!
//! **Algorithm.** Current `DevTools` (`HeapSnapshot.buildDominatorTreeAndCalculateRetainedSizes`)
//! uses the "simple" Lengauer–Tarjan algorithm (path compression without balancing)
//! with an iterative DFS; older `DevTools` and memlab (`TraceFinder.calculateDominatorNodesFromPostOrder`)
//! use the Cooper–Harvey–Kennedy fixed-point iteration over a post-order, which can
//! need many passes (quadratic) on large heaps. This module implements the same simple
//! Lengauer–Tarjan: `O(m log n)` whatever the graph's shape, no recursion (a 10-million
//! node chain is fine), and about 24 bytes per node plus 4 per essential edge of
//! temporary memory (predecessor lists by node, a 16-byte record per node for the
//! forest, which the DFS fills as it numbers the nodes, two `u32` columns), all freed
//! on return. The predecessor lists are sized from retainer counts taken while the
//! edges are classified and filled on a second thread, from the batches of nodes the
//! DFS has numbered, while the DFS goes on: their random writes (and page faults) are
//! then off the DFS's path, on the other core. The DFS and the semidominator loop touch
//! memory at random on graphs without locality: a random 10M-node, 50M-edge graph takes
//! tens of seconds, a real 4M-node Node snapshot well under one.
//! Semi-NCA was rejected: its NCA walk is quadratic on a long chain whose tail has many
//! extra retainers, a shape real heaps have (a linked list ending in a shared array).
//!
//! **Nodes the root does not reach.** `DevTools` first runs its DFS from the root, then
//! from every unvisited node with no essential retainer at all (it warns "N nodes are
//! unreachable from the root … have only weak retainers"), treating each such *orphan*
//! as a child of the root; any node still unvisited (cycles of garbage that retain each
//! other) is then hung under the root one by one. This module computes exact
//! dominators of that same augmented graph: the essential edges plus a virtual edge
//! root → orphan and root → every remaining node. So orphans and the leftover cycle
//! nodes get the root as immediate dominator, and what an orphan alone keeps is in its
//! subtree. (`DevTools`' numbering of the leftover nodes is not a DFS, which can make it
//! pick an orphan as the dominator of a node also retained from a leftover cycle; with
//! the virtual edges that node is dominated by the root. Real snapshots rarely have
//! such shapes.) Whether a node is reachable from the root at all is reported
//! separately, see [`crate::Retention::is_reachable`].

use std::sync::mpsc;

use crate::bitset::BitSet;
use crate::essential::EssentialEdges;
use crate::prefetch::prefetch;
use crate::{EdgeIdx, HeapGraph, NodeIdx};

/// "No node" in `u32` columns.
const NONE: u32 = u32::MAX;

/// The dominator tree of one graph.
#[derive(Debug, Clone)]
pub(crate) struct Dominators {
    /// Immediate dominator per node; the root's is the root.
    pub(crate) idom: Vec<u32>,
    /// All nodes in DFS preorder: every node comes after its immediate dominator.
    pub(crate) preorder: Vec<u32>,
    /// The first `root_reachable` entries of `preorder` are the nodes reachable from
    /// the root through essential edges; the rest are orphans and what they reach.
    pub(crate) root_reachable: usize,
}

impl Dominators {
    /// Computes the dominator tree of `g` over its [essential edges](crate::essential)
    /// (see the module docs). `helpers_done` is called once the work that runs on a
    /// second thread (edge classification, predecessor lists) is over: Lengauer–Tarjan,
    /// which follows, runs on this thread alone.
    pub(crate) fn compute(g: &HeapGraph, helpers_done: impl FnOnce()) -> Self {
        let n = g.node_count();
        assert!(n < NONE as usize, "too many nodes for u32 indices");
        if n == 0 {
            return Self {
                idom: Vec::new(),
                preorder: Vec::new(),
                root_reachable: 0,
            };
        }
        let (essential, retainer_counts) = EssentialEdges::compute_with_retainer_counts(g);
        let mut has_retainer = BitSet::new(n);
        for (v, _) in retainer_counts.iter().enumerate().filter(|(_, c)| **c > 0) {
            has_retainer.insert(v);
        }
        let (vertex, dom, root_reachable, spare) = std::thread::scope(|scope| {
            let (numbered, chunks) = mpsc::sync_channel(FILL_QUEUE);
            let essential = &essential;
            let filler =
                scope.spawn(move || Predecessors::fill(g, essential, retainer_counts, &chunks));
            let mut dfs = Dfs::new(n, numbered);
            dfs.run(g, essential, HeapGraph::ROOT.0, 0);
            let root_reachable = dfs.vertex.len();
            // Nodes whose only retainer is the virtual root edge: orphans (DFS into what
            // they keep), then whatever is left, one by one.
            let mut virtual_root = BitSet::new(n);
            if root_reachable < n {
                for v in 0..n as u32 {
                    if !dfs.visited.contains(v as usize) && !has_retainer.contains(v as usize) {
                        virtual_root.insert(dfs.vertex.len());
                        dfs.run(g, essential, v, 0);
                    }
                }
                for v in 0..n as u32 {
                    if !dfs.visited.contains(v as usize) {
                        virtual_root.insert(dfs.vertex.len());
                        dfs.visit(g, v, 0);
                    }
                }
            }
            drop(has_retainer);
            let Finished {
                vertex,
                tree,
                cursor,
            } = dfs.finish();
            // Set up the forest while the filler catches up with the last numbers; the
            // cursors' pages become the buckets (fresh pages cost a fault each).
            let forest = Forest::new(tree, cursor);
            let preds = filler.join().expect("predecessor thread panicked");
            helpers_done();
            let dom = forest.immediate_dominators(&preds, &vertex, &virtual_root);
            (vertex, dom, root_reachable, preds.first)
        });
        // Every slot is written below: the predecessor offsets' pages serve again.
        let mut idom = spare;
        idom.truncate(n);
        for (&v, &d) in vertex.iter().zip(&dom) {
            idom[v as usize] = vertex[d as usize];
        }
        Self {
            idom,
            preorder: vertex,
            root_reachable,
        }
    }
}

/// Preorder numbers handed to the predecessor thread at a time.
const FILL_CHUNK: usize = 1 << 14;
/// Chunks the DFS may run ahead of the predecessor thread (4 MB of node indices).
const FILL_QUEUE: usize = 64;

/// Nodes the DFS numbered: `nodes[i]` has preorder number `first + i`.
struct Numbered {
    first: u32,
    nodes: Vec<u32>,
}

/// Essential predecessors of every node, as preorder numbers, in CSR form by node (4
/// bytes per essential edge), sized from the retainer counts taken while the edges were
/// classified.
///
/// They are filled on a thread of their own while the DFS runs: the DFS sends each
/// batch of nodes it has numbered, and this thread scans their essential edges. Those
/// are random writes across the whole array, so taking them out of the DFS (whose
/// order they do not affect: a node's predecessors are only read as a set) moves most of
/// the DFS's cache misses and page faults to the second core (1 GB set: the DFS went
/// from 1.75 s to 0.75 s).
struct Predecessors {
    /// While filling, `first[v]` is the next free slot of `v`; once finished,
    /// `first[v]..first[v + 1]` indexes `from` for node `v`.
    first: Vec<u32>,
    /// Preorder number of the source of each essential edge, grouped by target.
    from: Vec<u32>,
}

impl Predecessors {
    /// The predecessor lists of every node numbered in the batches `chunks` delivers
    /// until it is closed; `counts[v]` is the number of essential retainers of `v`.
    fn fill(
        g: &HeapGraph,
        essential: &EssentialEdges,
        counts: Vec<u32>,
        chunks: &mpsc::Receiver<Numbered>,
    ) -> Self {
        let mut preds = Self::with_counts(counts);
        for Numbered { first, nodes } in chunks {
            for (i, (k, &v)) in (first..).zip(&nodes).enumerate() {
                // The batch's nodes are scattered: a few nodes ahead, start loading their
                // edges, then the cursors of their targets' lists.
                if let Some(&ahead) = nodes.get(i + LOOKAHEAD) {
                    prefetch(&g.first_edge, ahead as usize);
                }
                if let Some(&ahead) = nodes.get(i + LOOKAHEAD / 2) {
                    let first = g.first_edge[ahead as usize] as usize;
                    prefetch(&g.edge_end, first);
                    essential.prefetch(EdgeIdx(first as u32));
                }
                if let Some(&ahead) = nodes.get(i + LOOKAHEAD / 4) {
                    for e in g.edges(NodeIdx(ahead)).take(LOOKAHEAD / 2) {
                        prefetch(&preds.first, g.to(e).ix());
                    }
                }
                for e in g.edges(NodeIdx(v)) {
                    if essential.contains(e) {
                        preds.push(g.to(e), k);
                    }
                }
            }
        }
        preds.finish()
    }

    /// Empty lists with room for `counts[v]` predecessors of each node `v`.
    fn with_counts(mut first: Vec<u32>) -> Self {
        let mut sum = 0u32;
        for slot in &mut first {
            let count = *slot;
            *slot = sum;
            sum += count;
        }
        first.push(sum);
        Self {
            first,
            from: vec![0; sum as usize],
        }
    }

    /// Records the essential edge from preorder number `src_pre` into `to`.
    #[inline]
    fn push(&mut self, to: NodeIdx, src_pre: u32) {
        let slot = &mut self.first[to.ix()];
        self.from[*slot as usize] = src_pre;
        *slot += 1;
    }

    /// Ends filling: each cursor now holds the start of the next node's list, so shift
    /// everything back by one slot.
    fn finish(mut self) -> Self {
        let n = self.first.len() - 1;
        self.first.copy_within(0..n, 1);
        self.first[0] = 0;
        self
    }

    fn of(&self, v: u32) -> &[u32] {
        let v = v as usize;
        &self.from[self.first[v] as usize..self.first[v + 1] as usize]
    }
}

/// What a finished [`Dfs`] leaves: the numbering, and its cursor column for reuse.
struct Finished {
    /// Preorder number -> node.
    vertex: Vec<u32>,
    /// Preorder number -> the node's forest slot, holding its DFS parent.
    tree: Vec<Slot>,
    /// Spent: one `u32` per node, to be reused.
    cursor: Vec<u32>,
}

/// Iterative DFS numbering; no stack: it backtracks through the parents and resumes each
/// node's edge scan from `cursor` (both indexed by preorder number).
struct Dfs {
    /// Preorder number -> node.
    vertex: Vec<u32>,
    /// Preorder number -> Lengauer–Tarjan's forest slot, set up with the parent's
    /// preorder number (the root's is 0) as its ancestor: the DFS writes the forest as
    /// it goes, so no parent column is ever held beside it (memory peaks in
    /// Lengauer–Tarjan).
    tree: Vec<Slot>,
    /// Preorder number -> next edge to scan.
    cursor: Vec<u32>,
    /// Nodes numbered so far (a bit per node stays in cache).
    visited: BitSet,
    /// Where the newly numbered nodes go, [`FILL_CHUNK`] at a time.
    numbered: mpsc::SyncSender<Numbered>,
    /// Preorder numbers below this have been sent.
    sent: usize,
}

impl Dfs {
    fn new(n: usize, numbered: mpsc::SyncSender<Numbered>) -> Self {
        Self {
            vertex: Vec::with_capacity(n),
            tree: Vec::with_capacity(n),
            cursor: Vec::with_capacity(n),
            visited: BitSet::new(n),
            numbered,
            sent: 0,
        }
    }

    /// Numbers node `v` with tree parent `parent` (a preorder number).
    fn visit(&mut self, g: &HeapGraph, v: u32, parent: u32) -> u32 {
        let k = self.vertex.len() as u32;
        self.visited.insert(v as usize);
        self.vertex.push(v);
        self.tree.push(Slot::new(k, parent));
        self.cursor.push(g.first_edge[v as usize]);
        if self.vertex.len() - self.sent == FILL_CHUNK {
            self.send();
        }
        k
    }

    /// Hands the nodes numbered since the last call to the predecessor thread.
    fn send(&mut self) {
        let nodes = self.vertex[self.sent..].to_vec();
        let first = self.sent as u32;
        self.sent = self.vertex.len();
        // The receiver only goes away when its thread panicked, which the join reports.
        let _ = self.numbered.send(Numbered { first, nodes });
    }

    /// Sends what is left and returns the numbering.
    fn finish(mut self) -> Finished {
        if self.sent < self.vertex.len() {
            self.send();
        }
        Finished {
            vertex: self.vertex,
            tree: self.tree,
            cursor: self.cursor,
        }
    }

    /// Depth-first search from `start` along essential edges.
    fn run(&mut self, g: &HeapGraph, essential: &EssentialEdges, start: u32, parent: u32) {
        let top = self.visit(g, start, parent);
        let mut cur = top;
        loop {
            let v = self.vertex[cur as usize] as usize;
            let end = g.first_edge[v + 1];
            let mut next = None;
            // The cursor stays in a register while this node's edges are scanned.
            let mut e = self.cursor[cur as usize];
            while e < end {
                let edge = EdgeIdx(e);
                e += 1;
                if !essential.contains(edge) {
                    continue;
                }
                let w = g.to(edge);
                if !self.visited.contains(w.ix()) {
                    self.cursor[cur as usize] = e;
                    next = Some(self.visit(g, w.0, cur));
                    break;
                }
            }
            match next {
                Some(child) => cur = child,
                None if cur == top => break,
                None => cur = self.tree[cur as usize].ancestor,
            }
        }
    }
}

/// Per preorder number, everything Lengauer–Tarjan touches together: 16 bytes, so one
/// cache line holds a node's whole state.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// DFS parent at first; then the (compressed) ancestor in the forest. A node counts
    /// as linked into the forest once processed (`x >= linked`).
    ancestor: u32,
    /// Node of smallest semidominator on the compressed path above this one.
    label: u32,
    /// Semidominator of `label` (a processed node's semidominator never changes, and
    /// labels only name processed nodes or the node itself).
    label_semi: u32,
    /// Next node in the same bucket while waiting there; then the dominator: the DFS
    /// parent of the bucket's owner's child (which is the node's semidominator), or
    /// `u | DEFERRED` when it is "the dominator of `u`", resolved in a final pass.
    link: u32,
}

impl Slot {
    /// The slot of preorder number `v`, whose DFS parent is `parent`: a tree of its own,
    /// not yet linked, labelled with itself.
    fn new(v: u32, parent: u32) -> Self {
        Self {
            ancestor: parent,
            label: v,
            label_semi: v,
            link: NONE,
        }
    }
}

/// How many steps ahead the predecessor thread and Lengauer–Tarjan's loop start
/// loading what they will read (see [`crate::prefetch`]).
const LOOKAHEAD: usize = 8;

/// Marks a `link` that still has to be replaced by the dominator of the node it names.
const DEFERRED: u32 = 1 << 31;

/// Lengauer–Tarjan's forest over preorder numbers (the root is 0), set up from the DFS
/// parents before the predecessor lists are complete.
struct Forest {
    t: Vec<Slot>,
    /// Per preorder number, the first node waiting in its bucket (linked through `link`).
    bucket_head: Vec<u32>,
}

impl Forest {
    /// The forest of the DFS tree `tree` (from [`Dfs`]); `spare` is any buffer (its
    /// allocation is reused for the buckets).
    fn new(tree: Vec<Slot>, mut spare: Vec<u32>) -> Self {
        let n = tree.len();
        assert!(n < DEFERRED as usize, "too many nodes");
        Self {
            t: tree,
            bucket_head: {
                spare.clear();
                spare.resize(n, NONE);
                spare
            },
        }
    }

    /// Lengauer–Tarjan proper: the immediate dominator of every preorder number.
    fn immediate_dominators(
        self,
        preds: &Predecessors,
        vertex: &[u32],
        virtual_root: &BitSet,
    ) -> Vec<u32> {
        let Self {
            mut t,
            mut bucket_head,
        } = self;
        let n = t.len();
        let mut stack = Vec::new();
        for w in (1..n).rev() {
            // The predecessor lists are by node, so each step's reads miss the cache:
            // start them a few steps ahead (the list's offsets, the list, then the
            // forest slots of its first entries).
            if let Some(ahead) = w.checked_sub(3 * LOOKAHEAD) {
                prefetch(&preds.first, vertex[ahead] as usize);
            }
            if let Some(ahead) = w.checked_sub(2 * LOOKAHEAD) {
                prefetch(&preds.from, preds.first[vertex[ahead] as usize] as usize);
            }
            if let Some(ahead) = w.checked_sub(LOOKAHEAD) {
                for &v in preds.of(vertex[ahead]).iter().take(LOOKAHEAD) {
                    prefetch(&t, v as usize);
                }
            }
            let parent = t[w].ancestor;
            // The DFS parent is a predecessor (or the root, for virtual edges).
            let mut semi = if virtual_root.contains(w) { 0 } else { parent };
            if semi > 0 {
                let list = preds.of(vertex[w]);
                for (i, &v) in list.iter().enumerate() {
                    if let Some(&ahead) = list.get(i + LOOKAHEAD) {
                        prefetch(&t, ahead as usize);
                    }
                    // An unprocessed `v` (numbered before `w`) is its own semidominator.
                    let candidate = if v < w as u32 {
                        v
                    } else {
                        eval(v, w as u32 + 1, &mut t, &mut stack).1
                    };
                    semi = semi.min(candidate);
                }
            }
            let slot = &mut t[w];
            slot.label_semi = semi;
            slot.link = bucket_head[semi as usize];
            bucket_head[semi as usize] = w as u32;
            // `w` is now linked to `parent`; settle everything waiting on `parent`, whose
            // semidominator is therefore `parent`.
            let mut v = std::mem::replace(&mut bucket_head[parent as usize], NONE);
            while v != NONE {
                let next = t[v as usize].link;
                let (u, u_semi) = eval(v, w as u32, &mut t, &mut stack);
                t[v as usize].link = if u_semi < parent {
                    u | DEFERRED
                } else {
                    parent
                };
                v = next;
            }
        }
        drop(bucket_head);
        // Increasing preorder: a deferred dominator names an earlier, resolved node.
        let mut dom: Vec<u32> = t.into_iter().map(|s| s.link).collect();
        dom[0] = 0;
        for w in 1..n {
            let d = dom[w];
            if d & DEFERRED != 0 {
                dom[w] = dom[(d & !DEFERRED) as usize];
            }
        }
        dom
    }
}

/// The node of smallest semidominator on the forest path above `v` (excluding the
/// tree's root), and that semidominator, compressing the path. Nodes `>= linked` are
/// in the forest.
fn eval(v: u32, linked: u32, t: &mut [Slot], stack: &mut Vec<u32>) -> (u32, u32) {
    let slot = t[v as usize];
    if slot.ancestor < linked {
        // `v` is a tree root (not linked yet) or a child of one.
        return (slot.label, slot.label_semi);
    }
    let mut x = v;
    // Collect the path up to (not including) the last linked node below a root.
    while t[x as usize].ancestor >= linked {
        stack.push(x);
        x = t[x as usize].ancestor;
    }
    // `x` is linked and its ancestor is a root: walk back down, compressing.
    let mut top = t[x as usize];
    while let Some(y) = stack.pop() {
        let mut slot = t[y as usize];
        if top.label_semi < slot.label_semi {
            slot.label = top.label;
            slot.label_semi = top.label_semi;
        }
        slot.ancestor = top.ancestor;
        t[y as usize] = slot;
        top = slot;
    }
    (top.label, top.label_semi)
}

#[cfg(test)]
mod tests {
    use super::Dominators;
    use crate::{EdgeKind, GraphBuilder, HeapGraph, NodeKind};

    fn idoms(g: &HeapGraph) -> Vec<u32> {
        Dominators::compute(g, || ()).idom
    }

    #[test]
    fn diamond_and_chain() {
        let mut b = GraphBuilder::default();
        let root = b.node(NodeKind::Synthetic, "", 0);
        let [top, left, right, join, tail] =
            ["top", "left", "right", "join", "tail"].map(|name| b.node(NodeKind::Object, name, 1));
        for (from, to) in [
            (root, top),
            (top, left),
            (top, right),
            (left, join),
            (right, join),
            (join, tail),
        ] {
            b.edge(from, EdgeKind::Property, "p", to);
        }
        let g = b.build();
        assert_eq!(idoms(&g), [0, 0, 1, 1, 1, 4]);
    }

    #[test]
    fn empty_graph() {
        let g = GraphBuilder::default().build();
        assert!(idoms(&g).is_empty());
    }
}
