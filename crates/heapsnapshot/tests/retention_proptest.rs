//! Random small graphs against a brute-force reference.
//!
//! The reference restates `DevTools`' rules in the plainest way: essential edges by the
//! rule list, the augmented graph (virtual root edges to orphans and to leftover
//! unreachable nodes), and then, for every node `x`, a fresh reachability search with
//! `x` removed: the nodes that become unreachable are exactly what `x` retains, and the
//! dominators of `v` are the `x` whose removal cuts `v` off.

use std::collections::VecDeque;

use memwatchdog_heapsnapshot::{
    BASE_SYSTEM_DISTANCE, EdgeIdx, EdgeKind, EdgeLabel, GraphBuilder, HeapGraph, NodeIdx, NodeKind,
    Retention,
};
use proptest::prelude::*;

const KINDS: [EdgeKind; 7] = [
    EdgeKind::Property,
    EdgeKind::Element,
    EdgeKind::Internal,
    EdgeKind::Hidden,
    EdgeKind::Shortcut,
    EdgeKind::Weak,
    EdgeKind::Context,
];

/// A random node: kind selector and self size.
type NodeSpec = (u8, u32);
/// A random edge: from, to, kind selector, name selector, table selector.
type EdgeSpec = (usize, usize, usize, u8, usize);

fn build(nodes: &[NodeSpec], edges: &[EdgeSpec]) -> HeapGraph {
    let mut b = GraphBuilder::default();
    b.node(NodeKind::Synthetic, "", 0);
    for &(kind, size) in nodes {
        match kind % 6 {
            0 => b.node(NodeKind::Synthetic, "(GC roots)", size),
            1 => b.node(NodeKind::Synthetic, "(Document DOM trees)", size),
            2 => b.node(NodeKind::Hidden, "system / Foo", size),
            3 => b.node(NodeKind::Array, "", size),
            _ => b.node(NodeKind::Object, "Obj", size),
        };
    }
    let n = nodes.len() + 1;
    for &(from, to, kind, name, table) in edges {
        let (from, to) = (NodeIdx((from % n) as u32), NodeIdx((to % n) as u32));
        let kind = KINDS[kind % KINDS.len()];
        if kind.name_is_index() {
            b.element(from, kind, u32::from(name), to);
        } else if kind == EdgeKind::Internal && name % 2 == 0 {
            // A WeakMap ephemeron edge naming some node (often `from`) as the table.
            let table = if name % 4 == 0 {
                from
            } else {
                NodeIdx((table % n) as u32)
            };
            let table_id = 2 * table.0 + 1; // GraphBuilder's ids: 1, 3, 5, ...
            let text = format!(
                "{name} / part of key (K @{}) -> value (V @{}) pair in WeakMap (table @{table_id})",
                table.0 % 5,
                to.0
            );
            b.edge(from, kind, &text, to);
        } else {
            b.edge(from, kind, &format!("e{name}"), to);
        }
    }
    b.build()
}

fn edge_source(g: &HeapGraph, e: EdgeIdx) -> NodeIdx {
    NodeIdx(g.first_edge.partition_point(|&f| f <= e.0) as u32 - 1)
}

fn all_edges(g: &HeapGraph) -> impl Iterator<Item = (NodeIdx, EdgeIdx, NodeIdx)> + '_ {
    g.nodes()
        .flat_map(move |s| g.edges(s).map(move |e| (s, e, g.to(e))))
}

fn is_weak_map_table_edge(g: &HeapGraph, from: NodeIdx, e: EdgeIdx) -> bool {
    let EdgeLabel::Name(name) = g.edge_label(e) else {
        return false;
    };
    g.edge_kind(e) == EdgeKind::Internal
        && name.contains(" / part of key (")
        && name
            .rsplit_once("(table @")
            .is_some_and(|(_, id)| id.trim_end_matches(')') == g.id(from).to_string())
}

/// Essential edges, restated from the `DevTools` rule list.
fn reference_essential(g: &HeapGraph) -> Vec<bool> {
    let n = g.node_count();
    let root = HeapGraph::ROOT;
    let mut owned = vec![false; n];
    let mut stack: Vec<NodeIdx> = g
        .edges(root)
        .filter(|&e| {
            let to = g.to(e);
            g.edge_kind(e) == EdgeKind::Shortcut
                || (g.edge_kind(e) == EdgeKind::Element
                    && g.kind(to) == NodeKind::Synthetic
                    && g.name(to) == "(Document DOM trees)")
        })
        .map(|e| g.to(e))
        .collect();
    for &s in &stack {
        owned[s.ix()] = true;
    }
    while let Some(v) = stack.pop() {
        for e in g.edges(v) {
            if g.edge_kind(e) != EdgeKind::Weak && !owned[g.to(e).ix()] {
                owned[g.to(e).ix()] = true;
                stack.push(g.to(e));
            }
        }
    }
    let mut ess = vec![false; g.edge_count()];
    for (from, e, to) in all_edges(g) {
        ess[e.ix()] = !(is_weak_map_table_edge(g, from, e)
            || g.edge_kind(e) == EdgeKind::Weak
            || from == to
            || (from != root
                && (g.edge_kind(e) == EdgeKind::Shortcut
                    || (owned[to.ix()] && !owned[from.ix()]))));
    }
    ess
}

/// Adjacency lists of the augmented graph; also which nodes the root reaches.
fn augmented(g: &HeapGraph, ess: &[bool]) -> (Vec<Vec<usize>>, Vec<bool>) {
    let n = g.node_count();
    let mut adj = vec![Vec::new(); n];
    let mut has_retainer = vec![false; n];
    for (from, e, to) in all_edges(g) {
        if ess[e.ix()] {
            adj[from.ix()].push(to.ix());
            has_retainer[to.ix()] = true;
        }
    }
    let reach = |adj: &Vec<Vec<usize>>| reachable(adj, n, usize::MAX);
    let from_root = reach(&adj);
    for v in 0..n {
        if !from_root[v] && !has_retainer[v] {
            adj[0].push(v);
        }
    }
    let with_orphans = reach(&adj);
    for (v, &reached) in with_orphans.iter().enumerate() {
        if !reached {
            adj[0].push(v);
        }
    }
    (adj, from_root)
}

/// Nodes reachable from node 0 without passing through `removed`.
fn reachable(adj: &[Vec<usize>], n: usize, removed: usize) -> Vec<bool> {
    let mut seen = vec![false; n];
    if removed == 0 {
        return seen;
    }
    seen[0] = true;
    let mut stack = vec![0];
    while let Some(v) = stack.pop() {
        for &w in &adj[v] {
            if w != removed && !seen[w] {
                seen[w] = true;
                stack.push(w);
            }
        }
    }
    seen
}

/// Plain two-phase BFS distances (valid when no filter rule applies).
fn reference_distances(g: &HeapGraph) -> Vec<Option<u32>> {
    let n = g.node_count();
    let mut dist = vec![None; n];
    let mut queue = VecDeque::new();
    for e in g.edges(HeapGraph::ROOT) {
        let to = g.to(e);
        if g.kind(to) != NodeKind::Synthetic || g.name(to) == "(Document DOM trees)" {
            dist[to.ix()] = Some(1);
            queue.push_back(to);
        }
    }
    let base = if queue.is_empty() {
        0
    } else {
        BASE_SYSTEM_DISTANCE
    };
    for phase in 0..2 {
        if phase == 1 {
            dist[0] = Some(base);
            queue.push_back(HeapGraph::ROOT);
        }
        while let Some(v) = queue.pop_front() {
            for e in g.edges(v) {
                let to = g.to(e);
                if g.edge_kind(e) != EdgeKind::Weak
                    && dist[to.ix()].is_none()
                    && to != HeapGraph::ROOT
                {
                    dist[to.ix()] = Some(dist[v.ix()].unwrap() + 1);
                    queue.push_back(to);
                }
            }
        }
    }
    dist
}

fn check(nodes: &[NodeSpec], edges: &[EdgeSpec]) -> Result<(), TestCaseError> {
    let g = build(nodes, edges);
    let n = g.node_count();
    let ret = Retention::compute(&g);
    let ess = reference_essential(&g);
    let (adj, from_root) = augmented(&g, &ess);
    let total: u64 = g.nodes().map(|v| g.self_size(v)).sum();
    prop_assert_eq!(ret.retained(HeapGraph::ROOT), total);
    prop_assert_eq!(ret.idom(HeapGraph::ROOT), None);
    // dominators[v] = every x whose removal cuts v off (v itself included).
    let mut dominators = vec![vec![0usize]; n];
    for x in 1..n {
        let seen = reachable(&adj, n, x);
        let mut retained = 0;
        for v in 0..n {
            if !seen[v] {
                retained += g.self_size(NodeIdx(v as u32));
                dominators[v].push(x);
            }
        }
        prop_assert_eq!(
            ret.retained(NodeIdx(x as u32)),
            retained,
            "retained size of {}",
            x
        );
    }
    for v in 1..n {
        let node = NodeIdx(v as u32);
        prop_assert_eq!(
            ret.is_reachable(node),
            from_root[v],
            "reachability of {}",
            v
        );
        let idom = ret
            .idom(node)
            .expect("non-root nodes have a dominator")
            .ix();
        let mut strict: Vec<usize> = dominators[v].iter().copied().filter(|&d| d != v).collect();
        strict.sort_unstable();
        let mut of_idom = dominators[idom].clone();
        of_idom.sort_unstable();
        prop_assert_eq!(
            strict,
            of_idom,
            "idom({}) = {} is the nearest dominator",
            v,
            idom
        );
    }
    // Retainer paths: chains of non-weak edges from the root, matching distances.
    for v in g.nodes() {
        let path = ret.retainer_path(&g, v);
        match ret.distance(v) {
            None => prop_assert!(path.is_empty()),
            Some(d) => {
                let mut at = HeapGraph::ROOT;
                for &e in &path {
                    prop_assert_eq!(edge_source(&g, e), at);
                    prop_assert!(g.edge_kind(e) != EdgeKind::Weak || at == HeapGraph::ROOT);
                    at = g.to(e);
                }
                prop_assert_eq!(at, v);
                if d < BASE_SYSTEM_DISTANCE {
                    prop_assert_eq!(path.len() as u32, d);
                } else if v != HeapGraph::ROOT {
                    prop_assert_eq!(path.len() as u32, d - BASE_SYSTEM_DISTANCE);
                }
            }
        }
    }
    let has_weak_map_names = all_edges(&g).any(|(_, e, _)| {
        matches!(g.edge_label(e), EdgeLabel::Name(s) if s.contains("part of key"))
            && g.edge_kind(e) == EdgeKind::Internal
    });
    if !has_weak_map_names {
        let want = reference_distances(&g);
        for v in g.nodes() {
            prop_assert_eq!(ret.distance(v), want[v.ix()], "distance of {}", v.0);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(debug_assertions) { 2000 } else { 10000 }))]

    #[test]
    fn matches_brute_force(
        nodes in prop::collection::vec((any::<u8>(), 0u32..1000), 0..12),
        edges in prop::collection::vec((0usize..12, 0usize..12, 0usize..7, any::<u8>(), 0usize..12), 0..30),
    ) {
        check(&nodes, &edges)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(debug_assertions) { 100 } else { 1000 }))]

    /// Bigger graphs, optionally threaded on a chain `0 -> 1 -> ... -> n-1` so that
    /// DFS trees get deep and path compression has work to do.
    #[test]
    fn matches_brute_force_on_bigger_graphs(
        nodes in prop::collection::vec((any::<u8>(), 0u32..1000), 20..150),
        extra in prop::collection::vec((0usize..150, 0usize..150, 0usize..7, any::<u8>(), 0usize..150), 0..400),
        chain in any::<bool>(),
    ) {
        let n = nodes.len() + 1;
        let mut edges: Vec<EdgeSpec> = if chain {
            (0..n - 1).map(|i| (i, i + 1, 0, 1, 0)).collect()
        } else {
            Vec::new()
        };
        edges.extend(extra);
        check(&nodes, &edges)?;
    }
}

#[test]
fn ephemeron_names_in_the_generator_are_recognised() {
    let g = build(&[(4, 1), (4, 1)], &[(1, 2, 2, 4, 0)]);
    let e = EdgeIdx(0);
    let EdgeLabel::Name(name) = g.edge_label(e) else {
        panic!("named edge expected")
    };
    let parsed = memwatchdog_heapsnapshot::parse_weak_map_edge_name(name).unwrap();
    assert_eq!(parsed.table_id, u64::from(g.id(NodeIdx(1))));
    assert!(is_weak_map_table_edge(&g, NodeIdx(1), e));
}
