//! The retaining edges reversed: for every node, the nodes that keep it alive directly.
//!
//! A snapshot stores each node's outgoing edges; a node's retainers are found by reading
//! them backwards. Built once (two passes over the edges), it costs 4 bytes per retaining
//! edge and per node, and makes a backward search from one object cost what that object's
//! ancestors cost, not a pass over the whole graph per step.

use crate::{EdgeIdx, EdgeKind, HeapGraph, NodeIdx};

/// Whether edge `e` (out of `from`) keeps its target alive: not `weak`, not a self edge, and
/// a `shortcut` only from the root (elsewhere it duplicates a longer real path).
#[must_use]
pub(crate) fn retains(g: &HeapGraph, from: NodeIdx, e: EdgeIdx) -> bool {
    match g.edge_kind(e) {
        EdgeKind::Weak => false,
        EdgeKind::Shortcut if from != HeapGraph::ROOT => false,
        _ => g.to(e) != from,
    }
}

/// Retainers of every node through retaining edges ([`retains`]), CSR like the graph's edges.
#[derive(Debug)]
pub(crate) struct Retainers {
    /// `first[n]..first[n + 1]` is the range of `from` holding `n`'s retainers.
    first: Vec<u32>,
    /// Retainer nodes, grouped by the node they retain, in edge order.
    from: Vec<u32>,
}

impl Retainers {
    /// Reverses the retaining edges of `g`.
    #[must_use]
    pub(crate) fn build(g: &HeapGraph) -> Self {
        let n = g.node_count();
        let mut first = vec![0u32; n + 1];
        for u in g.nodes() {
            for e in g.edges(u) {
                if retains(g, u, e) {
                    first[g.to(e).ix() + 1] += 1;
                }
            }
        }
        for i in 0..n {
            first[i + 1] += first[i];
        }
        let mut from = vec![0u32; first[n] as usize];
        let mut next = first.clone();
        for u in g.nodes() {
            for e in g.edges(u) {
                if retains(g, u, e) {
                    let slot = &mut next[g.to(e).ix()];
                    from[*slot as usize] = u.0;
                    *slot += 1;
                }
            }
        }
        Self { first, from }
    }

    /// The nodes that retain `n` directly (a node twice when it has two edges to `n`).
    pub(crate) fn of(&self, n: NodeIdx) -> impl Iterator<Item = NodeIdx> + '_ {
        let range = self.first[n.ix()] as usize..self.first[n.ix() + 1] as usize;
        self.from[range].iter().map(|&u| NodeIdx(u))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GraphBuilder, NodeKind};

    #[test]
    fn weak_self_and_inner_shortcut_edges_do_not_retain() {
        let mut gb = GraphBuilder::default();
        let root = gb.node(NodeKind::Synthetic, "", 0);
        let first = gb.node(NodeKind::Object, "A", 1);
        let second = gb.node(NodeKind::Object, "C", 1);
        gb.edge(root, EdgeKind::Shortcut, "1", first);
        gb.edge(first, EdgeKind::Property, "c", second);
        gb.edge(first, EdgeKind::Weak, "w", second);
        gb.edge(second, EdgeKind::Shortcut, "s", first);
        gb.edge(second, EdgeKind::Property, "self", second);
        gb.edge(root, EdgeKind::Property, "c", second);
        let g = gb.build();
        let r = Retainers::build(&g);
        assert_eq!(r.of(first).collect::<Vec<_>>(), [root]);
        assert_eq!(r.of(second).collect::<Vec<_>>(), [root, first]);
        assert_eq!(r.of(root).count(), 0);
    }
}
