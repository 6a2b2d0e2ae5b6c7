//! Shapes that break recursive or quadratic dominator algorithms: a 10-million-node
//! chain (2 million in debug builds) and a long chain whose tail shares many nodes
//! with the root (quadratic for Semi-NCA and for Cooper–Harvey–Kennedy).

use std::time::Instant;

use memwatchdog_heapsnapshot::{
    EdgeEnd, EdgeKind, HeapGraph, NodeIdx, NodeKind, Retention, StringTable,
};

/// Builds a graph from `(from, to)` pairs sorted by `from`, all `property` edges, every
/// node an `Object` of size 1 except the synthetic root.
fn graph(n: usize, edges: &[(u32, u32)]) -> HeapGraph {
    let mut strings = StringTable::default();
    let name = strings.push("x");
    let mut first_edge = vec![0u32; n + 1];
    for &(from, _) in edges {
        first_edge[from as usize + 1] += 1;
    }
    for i in 0..n {
        first_edge[i + 1] += first_edge[i];
    }
    let mut node_kind = vec![NodeKind::Object; n];
    node_kind[0] = NodeKind::Synthetic;
    let mut self_size = vec![1u32; n];
    self_size[0] = 0;
    HeapGraph {
        node_kind,
        node_name: vec![name; n],
        node_id: (0..n as u32).map(|i| 2 * i + 1).collect(),
        self_size,
        big_self_size: Vec::new(),
        first_edge,
        edge_end: edges
            .iter()
            .map(|&(_, to)| EdgeEnd::new(EdgeKind::Property, NodeIdx(to)))
            .collect(),
        edge_name: vec![name.0; edges.len()],
        strings,
        locations: Vec::new(),
        detachedness: None,
    }
}

#[test]
fn long_chain_needs_no_recursion() {
    let n: u32 = if cfg!(debug_assertions) {
        2_000_000
    } else {
        10_000_000
    };
    let edges: Vec<(u32, u32)> = (0..n - 1).map(|i| (i, i + 1)).collect();
    let g = graph(n as usize, &edges);
    drop(edges);
    let start = Instant::now();
    let ret = Retention::compute(&g);
    eprintln!("chain of {n}: {:?}", start.elapsed());
    let last = NodeIdx(n - 1);
    assert_eq!(ret.retained(NodeIdx(1)), u64::from(n - 1));
    assert_eq!(ret.retained(NodeIdx(n / 2)), u64::from(n - n / 2));
    assert_eq!(ret.idom(last), Some(NodeIdx(n - 2)));
    assert_eq!(ret.distance(last), Some(n - 1));
    assert!(ret.is_reachable(last));
    let path = ret.retainer_path(&g, last);
    assert_eq!(path.len(), n as usize - 1);
    assert_eq!(g.to(path[0]), NodeIdx(1));
}

#[test]
fn chain_with_a_shared_tail_is_not_quadratic() {
    // root -> 1 -> 2 -> ... -> k; k -> each of m leaves; root -> each leaf as well.
    // The DFS reaches every leaf through the long chain, but each leaf is dominated by
    // the root: an algorithm that walks the dominator chain per leaf does k*m steps.
    let k: u32 = if cfg!(debug_assertions) {
        50_000
    } else {
        500_000
    };
    let m: u32 = k;
    let n = 1 + k + m;
    let leaves = k + 1..n;
    let mut edges: Vec<(u32, u32)> = vec![(0, 1)];
    edges.extend(leaves.clone().map(|leaf| (0, leaf)));
    edges.extend((1..k).map(|i| (i, i + 1)));
    edges.extend(leaves.clone().map(|leaf| (k, leaf)));
    // The root's edges to the leaves come after root -> 1, so the DFS meets the leaves
    // at the chain's tail first.
    let g = graph(n as usize, &edges);
    let start = Instant::now();
    let ret = Retention::compute(&g);
    eprintln!("chain of {k} with {m} shared leaves: {:?}", start.elapsed());
    for leaf in [k + 1, n - 1] {
        assert_eq!(ret.idom(NodeIdx(leaf)), Some(NodeIdx(0)));
        assert_eq!(ret.distance(NodeIdx(leaf)), Some(1));
    }
    assert_eq!(ret.retained(NodeIdx(1)), u64::from(k));
    assert_eq!(ret.retained(NodeIdx(k)), 1);
}
