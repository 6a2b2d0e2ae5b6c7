//! Hand-built graphs with known dominators, retained sizes, distances and retainer
//! paths, one `DevTools` rule per test.

use memwatchdog_heapsnapshot::{
    BASE_SYSTEM_DISTANCE, EdgeIdx, EdgeKind, GraphBuilder, HeapGraph, NodeIdx, NodeKind, Retention,
};

/// The nodes a retainer path visits, root excluded.
fn path_nodes(g: &HeapGraph, ret: &Retention, n: NodeIdx) -> Vec<NodeIdx> {
    ret.retainer_path(g, n).iter().map(|&e| g.to(e)).collect()
}

fn path_names(g: &HeapGraph, ret: &Retention, n: NodeIdx) -> Vec<String> {
    ret.retainer_path(g, n)
        .iter()
        .map(|&e| format!("{:?}", g.edge_label(e)))
        .collect()
}

fn obj(gb: &mut GraphBuilder, name: &str, size: u32) -> NodeIdx {
    gb.node(NodeKind::Object, name, size)
}

#[test]
fn diamond() {
    let mut gb = GraphBuilder::default();
    let root = gb.node(NodeKind::Synthetic, "", 0);
    let top = obj(&mut gb, "top", 1);
    let left = obj(&mut gb, "left", 2);
    let right = obj(&mut gb, "right", 4);
    let join = obj(&mut gb, "join", 8);
    let tail = obj(&mut gb, "tail", 16);
    gb.edge(root, EdgeKind::Shortcut, "1", top);
    gb.edge(top, EdgeKind::Property, "l", left);
    gb.edge(top, EdgeKind::Property, "r", right);
    gb.edge(left, EdgeKind::Property, "j", join);
    gb.edge(right, EdgeKind::Property, "j", join);
    gb.edge(join, EdgeKind::Property, "t", tail);
    let g = gb.build();
    let ret = Retention::compute(&g);
    assert_eq!(ret.idom(root), None);
    assert_eq!(ret.idom(join), Some(top));
    assert_eq!(ret.idom(tail), Some(join));
    assert_eq!(ret.retained(top), 31);
    assert_eq!(ret.retained(left), 2);
    assert_eq!(ret.retained(right), 4);
    assert_eq!(ret.retained(join), 24);
    assert_eq!(ret.retained(root), 31, "the root retains the whole heap");
    assert_eq!(ret.distance(tail), Some(4));
    assert_eq!(path_nodes(&g, &ret, tail), [top, left, join, tail]);
    assert_eq!(ret.unreachable_count(), 0);
}

#[test]
fn cycle_is_dominated_by_its_entry() {
    let mut gb = GraphBuilder::default();
    let root = gb.node(NodeKind::Synthetic, "", 0);
    let a = obj(&mut gb, "a", 1);
    let c1 = obj(&mut gb, "c1", 10);
    let c2 = obj(&mut gb, "c2", 100);
    gb.edge(root, EdgeKind::Property, "a", a);
    gb.edge(a, EdgeKind::Property, "c", c1);
    gb.edge(c1, EdgeKind::Property, "next", c2);
    gb.edge(c2, EdgeKind::Property, "next", c1);
    gb.edge(c2, EdgeKind::Property, "self", c2);
    let g = gb.build();
    let ret = Retention::compute(&g);
    assert_eq!(ret.idom(c1), Some(a));
    assert_eq!(ret.idom(c2), Some(c1));
    assert_eq!(ret.retained(a), 111);
    assert_eq!(ret.retained(c1), 110);
    assert_eq!(ret.retained(c2), 100);
}

#[test]
fn weak_edges_never_retain() {
    let mut gb = GraphBuilder::default();
    let root = gb.node(NodeKind::Synthetic, "", 0);
    let holder = obj(&mut gb, "WeakRef", 8);
    let target = obj(&mut gb, "Target", 1000);
    let shared = obj(&mut gb, "Shared", 5);
    gb.edge(root, EdgeKind::Property, "h", holder);
    gb.edge(holder, EdgeKind::Weak, "target", target);
    gb.edge(root, EdgeKind::Property, "s", shared);
    gb.edge(holder, EdgeKind::Weak, "w", shared);
    let g = gb.build();
    let ret = Retention::compute(&g);
    assert_eq!(ret.retained(holder), 8);
    assert!(!ret.is_reachable(target));
    assert_eq!(ret.idom(target), Some(root), "orphans hang under the root");
    assert_eq!(ret.distance(target), None);
    assert!(ret.retainer_path(&g, target).is_empty());
    assert_eq!(ret.idom(shared), Some(root));
    assert_eq!(ret.unreachable_count(), 1);
}

#[test]
fn shortcuts_retain_only_from_the_root() {
    let mut gb = GraphBuilder::default();
    let root = gb.node(NodeKind::Synthetic, "", 0);
    let global = obj(&mut gb, "global", 1);
    let a = obj(&mut gb, "a", 1);
    let via_shortcut = obj(&mut gb, "onlyViaShortcut", 50);
    gb.edge(root, EdgeKind::Shortcut, "1", global);
    gb.edge(global, EdgeKind::Property, "a", a);
    gb.edge(a, EdgeKind::Shortcut, "s", via_shortcut);
    let g = gb.build();
    let ret = Retention::compute(&g);
    assert!(ret.is_reachable(global), "the root's shortcut retains");
    assert_eq!(ret.retained(global), 2);
    assert!(
        !ret.is_reachable(via_shortcut),
        "a shortcut elsewhere does not"
    );
    assert_eq!(ret.retained(a), 1);
    // The distance BFS does follow shortcuts.
    assert_eq!(ret.distance(via_shortcut), Some(3));
    assert_eq!(
        path_nodes(&g, &ret, via_shortcut),
        [global, a, via_shortcut]
    );
}

/// A `WeakMap` entry: `global.map -> WeakMap -table-> table`, `global.key -> key`, and
/// V8's two ephemeron edges `key -> value` and `table -> value`.
fn weak_map(key_first: bool) -> (HeapGraph, [NodeIdx; 5]) {
    let mut gb = GraphBuilder::default();
    let root = gb.node(NodeKind::Synthetic, "", 0);
    let global = gb.node_with_id(NodeKind::Object, "global", 1, 3);
    let map = gb.node_with_id(NodeKind::Object, "WeakMap", 10, 5);
    let table = gb.node_with_id(NodeKind::Array, "", 20, 7);
    let key = gb.node_with_id(NodeKind::Object, "Key", 30, 9);
    let value = gb.node_with_id(NodeKind::Object, "Value", 40, 11);
    gb.edge(root, EdgeKind::Shortcut, "1", global);
    if key_first {
        gb.edge(global, EdgeKind::Property, "key", key);
        gb.edge(global, EdgeKind::Property, "map", map);
    } else {
        let holder = gb.node_with_id(NodeKind::Object, "Holder", 0, 13);
        gb.edge(global, EdgeKind::Property, "map", map);
        gb.edge(map, EdgeKind::Property, "holder", holder);
        gb.edge(holder, EdgeKind::Property, "key", key);
    }
    gb.edge(map, EdgeKind::Internal, "table", table);
    let pair = "/ part of key (Key @9) -> value (Value @11) pair in WeakMap (table @7)";
    gb.edge(key, EdgeKind::Internal, &format!("1 {pair}"), value);
    gb.edge(table, EdgeKind::Weak, "2", key);
    gb.edge(table, EdgeKind::Internal, &format!("4 {pair}"), value);
    let g = gb.build();
    (g, [global, map, table, key, value])
}

#[test]
fn weak_map_value_is_retained_by_the_key_and_as_far_as_the_farther_of_key_and_table() {
    let (g, [global, map, table, key, value]) = weak_map(true);
    let ret = Retention::compute(&g);
    assert_eq!(
        ret.idom(value),
        Some(key),
        "DevTools drops the table's edge"
    );
    assert_eq!(ret.retained(key), 70);
    assert_eq!(ret.retained(table), 20);
    assert_eq!(ret.retained(map), 30);
    // key at 2 and table at 3: the value is at 4, reached through the table's edge.
    assert_eq!(ret.distance(key), Some(2));
    assert_eq!(ret.distance(table), Some(3));
    assert_eq!(ret.distance(value), Some(4));
    assert_eq!(path_nodes(&g, &ret, value), [global, map, table, value]);

    // Now the table (3) is nearer than the key (4): the value is at 5, via the key.
    let (g, [_, map, table, key, value]) = weak_map(false);
    let ret = Retention::compute(&g);
    assert_eq!(ret.idom(value), Some(key));
    assert_eq!(ret.idom(key), Some(NodeIdx(6)), "the holder");
    assert_eq!(
        ret.retained(map),
        10 + 20 + 30 + 40,
        "map, table, holder (0), key, value"
    );
    assert_eq!(ret.distance(table), Some(3));
    assert_eq!(ret.distance(key), Some(4));
    assert_eq!(ret.distance(value), Some(5));
    assert_eq!(path_nodes(&g, &ret, value)[3..], [key, value]);
}

#[test]
fn unreachable_islands_hang_under_the_root() {
    let mut gb = GraphBuilder::default();
    let root = gb.node(NodeKind::Synthetic, "", 0);
    let live = obj(&mut gb, "live", 1);
    // An orphan (no retainer at all) keeping a child.
    let orphan = obj(&mut gb, "orphan", 10);
    let kept = obj(&mut gb, "kept", 100);
    // A garbage cycle: each is retained, but only by the other.
    let c1 = obj(&mut gb, "c1", 1000);
    let c2 = obj(&mut gb, "c2", 10000);
    let c2_child = obj(&mut gb, "c2child", 100_000);
    gb.edge(root, EdgeKind::Property, "live", live);
    gb.edge(orphan, EdgeKind::Property, "kept", kept);
    gb.edge(c1, EdgeKind::Property, "c2", c2);
    gb.edge(c2, EdgeKind::Property, "c1", c1);
    gb.edge(c2, EdgeKind::Property, "child", c2_child);
    let g = gb.build();
    let ret = Retention::compute(&g);
    assert!(ret.is_reachable(root) && ret.is_reachable(live));
    for n in [orphan, kept, c1, c2, c2_child] {
        assert!(!ret.is_reachable(n));
        assert_eq!(ret.distance(n), None);
        assert!(ret.retainer_path(&g, n).is_empty());
    }
    assert_eq!(ret.unreachable_count(), 5);
    assert_eq!(ret.idom(orphan), Some(root));
    assert_eq!(ret.idom(kept), Some(orphan));
    assert_eq!(ret.retained(orphan), 110);
    assert_eq!(ret.idom(c1), Some(root));
    assert_eq!(ret.idom(c2), Some(root));
    assert_eq!(
        ret.idom(c2_child),
        Some(root),
        "leftover nodes hang under the root one by one"
    );
    assert_eq!(ret.retained(root), 111_111);
}

#[test]
fn orphan_keeping_a_live_node_shares_it_with_the_root() {
    // DevTools treats the orphan as a child of the root, so a live node it points at is
    // no longer dominated by its live retainer alone.
    let mut gb = GraphBuilder::default();
    let root = gb.node(NodeKind::Synthetic, "", 0);
    let a = obj(&mut gb, "a", 1);
    let y = obj(&mut gb, "y", 10);
    let orphan = obj(&mut gb, "orphan", 100);
    gb.edge(root, EdgeKind::Property, "a", a);
    gb.edge(a, EdgeKind::Property, "y", y);
    gb.edge(orphan, EdgeKind::Property, "y", y);
    let g = gb.build();
    let ret = Retention::compute(&g);
    assert_eq!(ret.idom(y), Some(root));
    assert_eq!(ret.retained(a), 1);
    assert!(ret.is_reachable(y));
}

#[test]
fn user_roots_are_preferred_for_retainer_paths() {
    let mut gb = GraphBuilder::default();
    let root = gb.node(NodeKind::Synthetic, "", 0);
    let gc_roots = gb.node(NodeKind::Synthetic, "(GC roots)", 0);
    let handles = gb.node(NodeKind::Synthetic, "(Handle scope)", 0);
    let global = obj(&mut gb, "global", 1);
    let a = obj(&mut gb, "a", 1);
    let c = obj(&mut gb, "c", 1);
    let target = obj(&mut gb, "target", 1);
    gb.element(root, EdgeKind::Element, 1, gc_roots);
    gb.edge(root, EdgeKind::Shortcut, "2", global);
    gb.element(gc_roots, EdgeKind::Element, 1, handles);
    gb.element(handles, EdgeKind::Hidden, 0, target);
    gb.edge(global, EdgeKind::Property, "a", a);
    gb.edge(a, EdgeKind::Property, "c", c);
    gb.edge(c, EdgeKind::Property, "target", target);
    let g = gb.build();
    let ret = Retention::compute(&g);
    // Three edges through (GC roots), four through the global: the global wins.
    assert_eq!(ret.distance(target), Some(4));
    assert_eq!(path_nodes(&g, &ret, target), [global, a, c, target]);
    assert_eq!(ret.distance(handles), Some(BASE_SYSTEM_DISTANCE + 2));
    assert_eq!(ret.distance(root), Some(BASE_SYSTEM_DISTANCE));
    assert_eq!(path_names(&g, &ret, handles), ["Index(1)", "Index(1)"]);
    assert!(ret.retainer_path(&g, root).is_empty());
    // The handle scope is not page-owned and the target is: its edge does not retain.
    assert_eq!(ret.idom(target), Some(c));
    assert_eq!(ret.retained(global), 4);
}

#[test]
fn parent_edges_lead_to_the_node() {
    let mut gb = GraphBuilder::default();
    let root = gb.node(NodeKind::Synthetic, "", 0);
    let empty = obj(&mut gb, "no edges", 1);
    let a = obj(&mut gb, "a", 1);
    let c = obj(&mut gb, "c", 1);
    gb.edge(root, EdgeKind::Property, "e", empty);
    gb.edge(root, EdgeKind::Property, "a", a);
    gb.edge(a, EdgeKind::Property, "c", c);
    let g = gb.build();
    let ret = Retention::compute(&g);
    let e: EdgeIdx = ret.parent_edge(c).unwrap();
    assert_eq!(g.to(e), c);
    assert_eq!(ret.retainer_path(&g, c), [ret.parent_edge(a).unwrap(), e]);
    assert_eq!(ret.parent_edge(root), None);
}

#[test]
fn empty_and_root_only_graphs() {
    let g = GraphBuilder::default().build();
    let ret = Retention::compute(&g);
    assert_eq!(ret.unreachable_count(), 0);
    let mut gb = GraphBuilder::default();
    let root = gb.node(NodeKind::Synthetic, "", 7);
    let g = gb.build();
    let ret = Retention::compute(&g);
    assert_eq!(ret.retained(root), 7);
    assert_eq!(ret.distance(root), Some(0));
    assert!(ret.is_reachable(root));
}
