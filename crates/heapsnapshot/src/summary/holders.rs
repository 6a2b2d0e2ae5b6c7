//! What holds the memory: the dominator tree, cut where it stops holding memory in big
//! pieces.
//!
//! The walk starts at the root and goes down the dominator tree through *split* nodes. A
//! node is split when its retained size is at least [`min_split`] (1 % of the reachable
//! heap, at least 64 KiB) and
//!
//! - it is V8 plumbing (not user-visible: internal objects, contexts, backing stores, code,
//!   synthetic roots) or a user root (the global object), or
//! - it dominates another node of that size that is not its own backing store (`elements`,
//!   `properties`, `table`): its memory is in big pieces further down.
//!
//! The dominator children of split nodes that are not split themselves are the *holders*. So
//! a collection of many small things (a `Map` and its table, an array and its entries)
//! stays whole, a hub that only passes memory on (`process`, a closure's context) does not,
//! and no holder dominates another: their retained sizes add up without counting a byte
//! twice.
//!
//! Holders are grouped like the diff's suspects, by the shape of their retainer path and
//! their class ([`crate::shape`]); groups are ranked by the bytes they retain. Computing a
//! path per holder would cost a walk up the retainer tree each (there can be millions), so
//! holders are first gathered by what identifies their path cheaply — their dominator, their
//! class and the last edge that reaches them — and one example of each gathering is walked.

use std::collections::{HashMap, HashSet};

use super::report::Holder;
use crate::bitset::BitSet;
use crate::path::example;
use crate::shape::path_signature;
use crate::tally::ClassTally;
use crate::{EdgeIdx, EdgeKind, EdgeLabel, HeapGraph, NodeIdx, NodeKind, Retention};

/// Nodes retaining less are never split, however they hold their memory.
const MIN_SPLIT_FLOOR: u64 = 64 << 10;

/// The retained size from which a node can be split (see the module docs).
#[must_use]
pub(super) fn min_split(reachable_bytes: u64) -> u64 {
    (reachable_bytes / 100).max(MIN_SPLIT_FLOOR)
}

/// The nodes the walk goes through (see the module docs), the root included.
fn split_region(g: &HeapGraph, ret: &Retention, min: u64) -> BitSet {
    // Every dominator of a big node is big (and reachable): the region is among them.
    let big: Vec<NodeIdx> = g
        .nodes()
        .filter(|&n| ret.retained(n) >= min && ret.is_reachable(n))
        .collect();
    let with_big_piece: HashSet<NodeIdx> = big
        .iter()
        .filter_map(|&c| ret.idom(c).filter(|&p| !is_backing_store(g, p, c)))
        .collect();
    let splits = |n: NodeIdx| {
        n == HeapGraph::ROOT
            || !g.kind(n).is_user_visible()
            || ret.distance(n) == Some(1)
            || with_big_piece.contains(&n)
    };
    let mut in_region: HashMap<NodeIdx, bool> = HashMap::from([(HeapGraph::ROOT, true)]);
    let mut chain = Vec::new();
    for &n in &big {
        let mut cur = n;
        let mut above = loop {
            if let Some(&known) = in_region.get(&cur) {
                break known;
            }
            chain.push(cur);
            cur = ret.idom(cur).unwrap_or(HeapGraph::ROOT);
        };
        while let Some(x) = chain.pop() {
            above = above && splits(x);
            in_region.insert(x, above);
        }
    }
    let mut region = BitSet::new(g.node_count());
    for (n, inside) in in_region {
        if inside {
            region.insert(n.ix());
        }
    }
    region
}

/// Whether `child` is `parent`'s own backing store: the target of its internal `elements`,
/// `properties` or `table` edge.
pub(super) fn is_backing_store(g: &HeapGraph, parent: NodeIdx, child: NodeIdx) -> bool {
    g.edges(parent)
        .any(|e| g.to(e) == child && is_store_edge(g, e))
}

/// Whether `e` is an object's internal edge to its own backing store (`elements`,
/// `properties` or `table`).
pub(super) fn is_store_edge(g: &HeapGraph, e: EdgeIdx) -> bool {
    g.edge_kind(e) == EdgeKind::Internal
        && matches!(
            g.edge_label(e),
            EdgeLabel::Name("elements" | "properties" | "table")
        )
}

/// What gathers holders before their paths are walked: dominator, class, last edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Gathering {
    dominator: NodeIdx,
    class: (NodeKind, u32),
    edge: (EdgeKind, u32),
}

/// Marks an edge label that is an index (or a name that is a number).
const INDEX: u32 = u32::MAX;

impl Gathering {
    fn of(g: &HeapGraph, ret: &Retention, n: NodeIdx) -> Self {
        let class = match g.kind(n) {
            kind @ (NodeKind::Object | NodeKind::Native) => (kind, g.node_name[n.ix()].0),
            kind => (kind, 0),
        };
        let edge = ret.parent_edge(n).map_or((EdgeKind::Other, INDEX), |e| {
            let label = match g.edge_label(e) {
                EdgeLabel::Name(name) if name.parse::<u64>().is_err() => g.edge_name[e.ix()],
                _ => INDEX,
            };
            (g.edge_kind(e), label)
        });
        Self {
            dominator: ret.idom(n).unwrap_or(HeapGraph::ROOT),
            class,
            edge,
        }
    }
}

/// One group of holders.
#[derive(Debug, Clone, Copy)]
struct Group {
    example: NodeIdx,
    count: u64,
    retained: u64,
}

impl Group {
    fn of(ret: &Retention, n: NodeIdx) -> Self {
        Self {
            example: n,
            count: 1,
            retained: ret.retained(n),
        }
    }

    fn add(&mut self, other: Group, ret: &Retention) {
        self.count += other.count;
        self.retained += other.retained;
        let (a, b) = (ret.retained(self.example), ret.retained(other.example));
        if b > a || (b == a && other.example < self.example) {
            self.example = other.example;
        }
    }
}

/// Per node: the gathering of its holder (see [`holds`]); [`UNKNOWN`] until found.
const UNKNOWN: u32 = u32::MAX;

/// The `top` groups of holders, largest retained size first; string values in their paths
/// are shown only when `show_strings`.
#[must_use]
pub(super) fn holders(
    g: &HeapGraph,
    ret: &Retention,
    min_split: u64,
    top: usize,
    show_strings: bool,
) -> Vec<Holder> {
    let region = split_region(g, ret, min_split);
    let mut gathering_of = vec![UNKNOWN; g.node_count()];
    let mut ids: HashMap<Gathering, u32> = HashMap::new();
    let mut gatherings: Vec<Group> = Vec::new();
    for n in g.nodes() {
        let is_holder = n != HeapGraph::ROOT
            && !region.contains(n.ix())
            && ret.is_reachable(n)
            && ret.idom(n).is_some_and(|d| region.contains(d.ix()));
        if !is_holder {
            continue;
        }
        let id = *ids.entry(Gathering::of(g, ret, n)).or_insert_with(|| {
            gatherings.push(Group {
                count: 0,
                ..Group::of(ret, n)
            });
            gatherings.len() as u32 - 1
        });
        let group = &mut gatherings[id as usize];
        if group.count == 0 {
            group.count = 1;
        } else {
            group.add(Group::of(ret, n), ret);
        }
        gathering_of[n.ix()] = id;
    }
    // One path walk per gathering; gatherings of one path shape are one group.
    let mut by_signature: HashMap<u64, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    let group_of_gathering: Vec<usize> = gatherings
        .iter()
        .map(|&gathering| {
            let sig = path_signature(g, ret, gathering.example);
            *by_signature
                .entry(sig)
                .and_modify(|&mut i| groups[i].add(gathering, ret))
                .or_insert_with(|| {
                    groups.push(gathering);
                    groups.len() - 1
                })
        })
        .collect();
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| {
        groups[b]
            .retained
            .cmp(&groups[a].retained)
            .then_with(|| g.id(groups[a].example).cmp(&g.id(groups[b].example)))
    });
    order.truncate(top);
    let mut rank_of_group = vec![None; groups.len()];
    for (rank, &i) in order.iter().enumerate() {
        rank_of_group[i] = Some(rank);
    }
    let rank_of_gathering: Vec<Option<usize>> = group_of_gathering
        .iter()
        .map(|&i| rank_of_group[i])
        .collect();
    let holds = holds(
        g,
        ret,
        &region,
        gathering_of,
        &rank_of_gathering,
        order.len(),
    );
    order
        .iter()
        .zip(holds)
        .enumerate()
        .map(|(i, (&gi, holds))| {
            let group = &groups[gi];
            let example = example(g, ret, group.example, show_strings);
            Holder {
                rank: i + 1,
                summary: Holder::summary_text(&example, group.count, group.retained),
                retained_bytes: group.retained,
                count: group.count,
                example,
                holds: holds.top(g, 3),
            }
        })
        .collect()
}

/// What each of the ranked groups holds: the user-visible classes its holders dominate,
/// themselves left out. `gathering_of` knows the holders' gatherings; every other node below
/// the region finds its holder by climbing its dominators once (the answer is written down
/// for every node on the way, so no node is climbed through twice).
fn holds(
    g: &HeapGraph,
    ret: &Retention,
    region: &BitSet,
    mut gathering_of: Vec<u32>,
    rank_of_gathering: &[Option<usize>],
    ranked: usize,
) -> Vec<ClassTally> {
    let mut tallies: Vec<ClassTally> = (0..ranked).map(|_| ClassTally::default()).collect();
    let mut chain = Vec::new();
    for n in g.nodes() {
        if gathering_of[n.ix()] != UNKNOWN || region.contains(n.ix()) || !ret.is_reachable(n) {
            continue;
        }
        let mut cur = n;
        let found = loop {
            chain.push(cur);
            cur = ret.idom(cur).unwrap_or(HeapGraph::ROOT);
            let known = gathering_of[cur.ix()];
            if known != UNKNOWN {
                break known;
            }
        };
        let rank = rank_of_gathering[found as usize];
        while let Some(x) = chain.pop() {
            gathering_of[x.ix()] = found;
            if let Some(rank) = rank
                && g.kind(x).is_user_visible()
            {
                tallies[rank].add(g, x);
            }
        }
    }
    tallies
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `global > process > _events > listener (closure) > context > sessionCache (Map) >
    /// table > [] > Session × 100`, and `global > log (Array) > [] > Entry × 50`.
    fn service() -> HeapGraph {
        let (mut b, _, global) = crate::testing::with_global(100);
        let process = b.node(NodeKind::Object, "process", 200);
        b.edge(global, EdgeKind::Property, "process", process);
        let events = b.node(NodeKind::Object, "Object", 50);
        b.edge(process, EdgeKind::Property, "_events", events);
        let listener = b.node(NodeKind::Closure, "handleRequest", 64);
        b.edge(events, EdgeKind::Property, "request", listener);
        let context = b.node(NodeKind::Hidden, "system / Context", 48);
        b.edge(listener, EdgeKind::Internal, "context", context);
        let cache = b.node(NodeKind::Object, "Map", 32);
        b.edge(context, EdgeKind::Context, "sessionCache", cache);
        let table = b.node(NodeKind::Array, "", 4_000);
        b.edge(cache, EdgeKind::Internal, "table", table);
        for i in 0..100 {
            let session = b.node(NodeKind::Object, "Session", 1_000);
            b.edge(table, EdgeKind::Internal, &(3 + 2 * i).to_string(), session);
            let token = b.node(NodeKind::String, "secret token", 100);
            b.edge(session, EdgeKind::Property, "token", token);
        }
        let log = b.node(NodeKind::Object, "Array", 32);
        b.edge(global, EdgeKind::Property, "log", log);
        for i in 0..50 {
            let entry = b.node(NodeKind::Object, "Entry", 600);
            b.element(log, EdgeKind::Element, i, entry);
        }
        b.build()
    }

    /// Class, count and path text of each row.
    fn class_count_path(rows: &[Holder]) -> Vec<(&str, u64, &str)> {
        rows.iter()
            .map(|h| {
                let e = &h.example;
                (e.class_name.as_str(), h.count, e.path_text.as_str())
            })
            .collect()
    }

    #[test]
    fn hubs_are_walked_through_and_collections_hold_their_entries() {
        let g = service();
        let ret = Retention::compute(&g);
        let rows = holders(&g, &ret, 20_000, 10, false);
        let top = class_count_path(&rows);
        assert_eq!(
            top[..2],
            [
                (
                    "Map",
                    1,
                    "global > process > _events > request > context > sessionCache > Map"
                ),
                ("Array", 1, "global > log > Array"),
            ]
        );
        assert_eq!(rows[0].retained_bytes, 32 + 4_000 + 100 * 1_100);
        assert_eq!(
            rows[0].summary,
            "Map ×1 retains 114 kB, via global > process > _events > request > context > sessionCache > Map"
        );
        assert_eq!(
            serde_json::to_value(&rows[0]).unwrap()["summary"],
            rows[0].summary
        );
        let holds: Vec<(&str, u64)> = rows[0]
            .holds
            .iter()
            .map(|c| (c.class_name.as_str(), c.count))
            .collect();
        assert_eq!(holds, [("Session", 100), ("(string)", 100)]);
        let total: u64 = rows.iter().map(|h| h.retained_bytes).sum();
        let reachable: u64 = g.nodes().map(|n| g.self_size(n)).sum();
        assert!(
            total <= reachable,
            "no byte counted twice: {total} > {reachable}"
        );
    }

    #[test]
    fn an_array_of_big_entries_is_split_into_one_group_of_entries() {
        let g = service();
        let ret = Retention::compute(&g);
        // From 500 bytes on, the log's entries (600 bytes) are big pieces: the log is split,
        // and its 50 entries, with one path shape, are one group. The Map keeps its
        // Sessions: they hang below its backing store.
        let rows = holders(&g, &ret, 500, 10, false);
        let top = class_count_path(&rows);
        assert_eq!(
            top[1],
            ("Entry", 50, "global > log > [] > Entry"),
            "{top:#?}"
        );
        assert_eq!(top[0].0, "Map");
    }
}
