//! The compact heap graph: struct-of-arrays with `u32` indices and CSR edges.
//!
//! One parsed snapshot becomes one [`HeapGraph`]. Nothing here allocates per node:
//! every attribute is a column (`Vec<u32>` or `Vec<NodeKind>`), and the outgoing
//! edges of node `n` are the range `first_edge[n]..first_edge[n + 1]` of the edge
//! columns (compressed sparse row). Node 0 is V8's synthetic root. An edge's kind and
//! target share one `u32` ([`EdgeEnd`]): every graph walk reads both, and an edge costs
//! 8 bytes instead of 9.
//!
//! ```
//! use memwatchdog_heapsnapshot::{GraphBuilder, NodeKind, EdgeKind};
//! let mut b = GraphBuilder::default();
//! let root = b.node(NodeKind::Synthetic, "", 0);
//! let obj = b.node(NodeKind::Object, "Foo", 16);
//! b.edge(root, EdgeKind::Property, "foo", obj);
//! let g = b.build();
//! assert_eq!(g.node_count(), 2);
//! assert_eq!(g.edges(root).count(), 1);
//! ```

use crate::kind::{EdgeKind, NodeKind};
use crate::strings::{StrIdx, StringTable};

/// Dense index of a node in a [`HeapGraph`] (its ordinal in the snapshot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeIdx(pub u32);

/// Dense index of an edge in a [`HeapGraph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EdgeIdx(pub u32);

impl NodeIdx {
    /// The index as a `usize`, for slicing columns.
    #[must_use]
    pub fn ix(self) -> usize {
        self.0 as usize
    }
}

impl EdgeIdx {
    /// The index as a `usize`, for slicing columns.
    #[must_use]
    pub fn ix(self) -> usize {
        self.0 as usize
    }
}

/// An edge's kind and target node packed into 32 bits: the target's index in the low 29
/// bits, the kind in the top 3. Graphs are limited to [`EdgeEnd::MAX_NODES`] nodes
/// (about 60 GB of snapshot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeEnd(u32);

impl EdgeEnd {
    const KIND_SHIFT: u32 = 29;
    const TO_MASK: u32 = (1 << Self::KIND_SHIFT) - 1;
    /// Most nodes a graph can hold (2^29).
    pub const MAX_NODES: u32 = 1 << Self::KIND_SHIFT;

    /// Packs `kind` and `to`; `to` must be below [`Self::MAX_NODES`].
    #[must_use]
    pub fn new(kind: EdgeKind, to: NodeIdx) -> Self {
        debug_assert!(to.0 < Self::MAX_NODES, "node index {} too large", to.0);
        Self(u32::from(kind as u8) << Self::KIND_SHIFT | to.0 & Self::TO_MASK)
    }

    /// The target node.
    #[must_use]
    pub fn to(self) -> NodeIdx {
        NodeIdx(self.0 & Self::TO_MASK)
    }

    /// The edge's kind.
    #[must_use]
    pub fn kind(self) -> EdgeKind {
        EdgeKind::ALL[(self.0 >> Self::KIND_SHIFT) as usize]
    }
}

/// A closure's source position (from the snapshot's `locations` array), 0-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// V8 script id; map it to a file through the Script object in the graph.
    pub script_id: u32,
    /// 0-based line.
    pub line: u32,
    /// 0-based column.
    pub column: u32,
}

/// A parsed heap snapshot as columns. See the module docs.
#[derive(Debug, Default)]
pub struct HeapGraph {
    /// Node kind per node.
    pub node_kind: Vec<NodeKind>,
    /// Name per node (constructor name for objects, value for strings, ...).
    pub node_name: Vec<StrIdx>,
    /// V8 object id per node: stable across snapshots of one process.
    pub node_id: Vec<u32>,
    /// Shallow size in bytes per node; `u32::MAX` means "`u32::MAX` or more: see
    /// [`HeapGraph::big_self_size`]" (read sizes with [`HeapGraph::self_size`]).
    pub self_size: Vec<u32>,
    /// The nodes whose shallow size is `u32::MAX` bytes or more (a 5 GB `ArrayBuffer`'s
    /// backing store), with that size, sorted by node: sizes are carried in 64 bits, never
    /// clamped, while the column stays 4 bytes a node.
    pub big_self_size: Vec<(NodeIdx, u64)>,
    /// CSR offsets: edges of node `n` are `first_edge[n]..first_edge[n+1]`; length `node_count + 1`.
    pub first_edge: Vec<u32>,
    /// Kind and target node per edge.
    pub edge_end: Vec<EdgeEnd>,
    /// Per edge: a string index (as `u32`) or, when [`EdgeKind::name_is_index`], the element index.
    pub edge_name: Vec<u32>,
    /// All strings of the snapshot.
    pub strings: StringTable,
    /// Closure locations, sorted by node.
    pub locations: Vec<(NodeIdx, Location)>,
    /// The nodes V8 marked detached (`detachedness` 2: the embedder says the object is
    /// no longer part of its document or context), in node order; `None` when the
    /// snapshot has no `detachedness` field (V8 before 2021).
    pub detachedness: Option<Vec<NodeIdx>>,
}

impl HeapGraph {
    /// The synthetic root (node 0).
    pub const ROOT: NodeIdx = NodeIdx(0);

    /// Number of nodes.
    #[must_use]
    pub fn node_count(&self) -> usize {
        self.node_kind.len()
    }

    /// Number of edges.
    #[must_use]
    pub fn edge_count(&self) -> usize {
        self.edge_end.len()
    }

    /// All node indices in snapshot order.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = NodeIdx> + use<> {
        (0..self.node_count() as u32).map(NodeIdx)
    }

    /// The outgoing edges of `n`.
    pub fn edges(&self, n: NodeIdx) -> impl ExactSizeIterator<Item = EdgeIdx> + use<> {
        let start = self.first_edge[n.ix()];
        let end = self.first_edge[n.ix() + 1];
        (start..end).map(EdgeIdx)
    }

    /// Kind of node `n`.
    #[must_use]
    pub fn kind(&self, n: NodeIdx) -> NodeKind {
        self.node_kind[n.ix()]
    }

    /// Name of node `n`.
    #[must_use]
    pub fn name(&self, n: NodeIdx) -> &str {
        self.strings.get(self.node_name[n.ix()])
    }

    /// V8 object id of node `n`.
    #[must_use]
    pub fn id(&self, n: NodeIdx) -> u32 {
        self.node_id[n.ix()]
    }

    /// Shallow size of node `n` in bytes.
    #[must_use]
    pub fn self_size(&self, n: NodeIdx) -> u64 {
        match self.self_size[n.ix()] {
            u32::MAX => self
                .big_self_size
                .binary_search_by_key(&n, |&(node, _)| node)
                .map_or(u64::from(u32::MAX), |i| self.big_self_size[i].1),
            size => u64::from(size),
        }
    }

    /// Target of edge `e`.
    #[must_use]
    pub fn to(&self, e: EdgeIdx) -> NodeIdx {
        self.edge_end[e.ix()].to()
    }

    /// Kind of edge `e`.
    #[must_use]
    pub fn edge_kind(&self, e: EdgeIdx) -> EdgeKind {
        self.edge_end[e.ix()].kind()
    }

    /// The edge's name as text: the property/variable name, or the element index.
    #[must_use]
    pub fn edge_label(&self, e: EdgeIdx) -> EdgeLabel<'_> {
        let raw = self.edge_name[e.ix()];
        if self.edge_kind(e).name_is_index() {
            EdgeLabel::Index(raw)
        } else {
            EdgeLabel::Name(self.strings.get(StrIdx(raw)))
        }
    }

    /// Forgets the edges and closure locations, keeping what a graph parsed with
    /// [`crate::ParseOptions::NODES_ONLY`] has (ids, names, kinds, sizes): for a snapshot
    /// read whole that turns out to be an older one of a diff.
    pub fn drop_edges(&mut self) {
        self.first_edge = vec![0; self.node_count() + 1];
        self.edge_end = Vec::new();
        self.edge_name = Vec::new();
        self.locations = Vec::new();
    }

    /// The closure location of node `n`, when the snapshot recorded one.
    #[must_use]
    pub fn location(&self, n: NodeIdx) -> Option<Location> {
        self.locations
            .binary_search_by_key(&n, |(node, _)| *node)
            .ok()
            .map(|i| self.locations[i].1)
    }
}

/// An edge's name: a property name or an element index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeLabel<'a> {
    /// Property, context variable, internal or shortcut name.
    Name(&'a str),
    /// Element or hidden index.
    Index(u32),
}

/// Builds small graphs by hand, for tests and examples. Edges may be added in any order.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    graph: HeapGraph,
    pending: Vec<(NodeIdx, EdgeKind, u32, NodeIdx)>,
    next_id: u32,
}

impl GraphBuilder {
    /// Adds a node and returns its index; ids are assigned 1, 3, 5, ... like V8's.
    pub fn node(&mut self, kind: NodeKind, name: &str, self_size: u32) -> NodeIdx {
        self.next_id += if self.next_id == 0 { 1 } else { 2 };
        self.node_with_id(kind, name, self_size, self.next_id)
    }

    /// Adds a node with an explicit V8 id.
    pub fn node_with_id(&mut self, kind: NodeKind, name: &str, self_size: u32, id: u32) -> NodeIdx {
        let g = &mut self.graph;
        let n = NodeIdx(g.node_kind.len() as u32);
        assert!(n.0 < EdgeEnd::MAX_NODES, "too many nodes");
        g.node_kind.push(kind);
        let name = g.strings.intern(name);
        g.node_name.push(name);
        g.node_id.push(id);
        g.self_size.push(self_size);
        n
    }

    /// Adds a named edge (context, property, internal, shortcut, weak).
    pub fn edge(&mut self, from: NodeIdx, kind: EdgeKind, name: &str, to: NodeIdx) {
        assert!(
            !kind.name_is_index(),
            "use GraphBuilder::element for {kind:?}"
        );
        let name = self.graph.strings.intern(name).0;
        self.pending.push((from, kind, name, to));
    }

    /// Adds an indexed edge (element, hidden).
    pub fn element(&mut self, from: NodeIdx, kind: EdgeKind, index: u32, to: NodeIdx) {
        assert!(kind.name_is_index(), "use GraphBuilder::edge for {kind:?}");
        self.pending.push((from, kind, index, to));
    }

    /// Marks `n` detached (and the graph as one that records detachedness).
    pub fn detached(&mut self, n: NodeIdx) {
        self.graph.detachedness.get_or_insert_with(Vec::new).push(n);
    }

    /// Records a closure location for `n`.
    pub fn location(&mut self, n: NodeIdx, loc: Location) {
        self.graph.locations.push((n, loc));
    }

    /// Finishes the graph (sorts edges into CSR order, stable per node).
    #[must_use]
    pub fn build(mut self) -> HeapGraph {
        let mut g = self.graph;
        self.pending.sort_by_key(|(from, ..)| *from);
        let n = g.node_kind.len();
        g.first_edge = vec![0; n + 1];
        for (from, kind, name, to) in &self.pending {
            g.first_edge[from.ix() + 1] += 1;
            g.edge_end.push(EdgeEnd::new(*kind, *to));
            g.edge_name.push(*name);
        }
        for i in 0..n {
            g.first_edge[i + 1] += g.first_edge[i];
        }
        g.locations.sort_by_key(|(node, _)| *node);
        if let Some(detached) = &mut g.detachedness {
            detached.sort_unstable();
            detached.dedup();
        }
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edge_end_keeps_every_kind_and_the_largest_node_index() {
        for kind in EdgeKind::ALL {
            for to in [0, 1, 12_345, EdgeEnd::MAX_NODES - 1] {
                let end = EdgeEnd::new(kind, NodeIdx(to));
                assert_eq!((end.kind(), end.to()), (kind, NodeIdx(to)));
            }
        }
        assert!(
            EdgeKind::ALL
                .iter()
                .enumerate()
                .all(|(i, &k)| k as usize == i)
        );
    }
}
