//! Groups the objects that survived since the base snapshot into leak suspects.
//!
//! A leak is many objects kept alive by one place in the code, so objects are grouped
//! by the shape of their retainer path (edge names and classes, with element indices
//! abstracted to `[]`: 4,000 entries of one array are one suspect).
//!
//! Only the *topmost* new objects form groups; everything they dominate is counted as
//! their growth. For each new object, its **owner** is found by climbing the dominator
//! tree while the dominator is itself new: the owner is the highest new object of a
//! user-visible kind on that chain (V8's internal arrays, such as a growing array's
//! backing store, do not own the entries they hold), or the object itself. Each new
//! object's bytes count exactly once, towards its owner's group, so groups never
//! double-count and ranking by `delta_bytes` ranks by retained-size growth.

use std::collections::HashMap;

use crate::leak::report::Suspect;
use crate::path::example;
use crate::shape::path_signature;
use crate::tally::ClassTally;
use crate::{HeapGraph, NodeIdx, Retention};

const NONE: u32 = u32::MAX;

/// Finds the owner of every new, reachable node (see the module docs); `NONE` elsewhere.
fn owners(g: &HeapGraph, ret: &Retention, is_new: &[bool]) -> Vec<u32> {
    let mut owner = vec![NONE; g.node_count()];
    let mut chain = Vec::new();
    for n in g.nodes() {
        if !is_new[n.ix()] || owner[n.ix()] != NONE || !ret.is_reachable(n) {
            continue;
        }
        // Climb while the dominator is new and unresolved, then resolve top-down.
        let mut cur = n;
        loop {
            chain.push(cur);
            match ret.idom(cur) {
                Some(p) if is_new[p.ix()] && owner[p.ix()] == NONE => cur = p,
                _ => break,
            }
        }
        while let Some(x) = chain.pop() {
            let inherited = ret
                .idom(x)
                .filter(|p| is_new[p.ix()])
                .map(|p| owner[p.ix()])
                .filter(|&o| o != NONE && g.kind(NodeIdx(o)).is_user_visible());
            owner[x.ix()] = inherited.unwrap_or(x.0);
        }
    }
    owner
}

#[derive(Default)]
struct Group {
    example: u32,
    count: u64,
    bytes: u64,
    retained: u64,
    holds: ClassTally,
}

/// Groups the new nodes of `g` (`is_new[n]`) into suspects and returns the `top` largest.
#[must_use]
pub fn find_suspects(g: &HeapGraph, ret: &Retention, is_new: &[bool], top: usize) -> Vec<Suspect> {
    let owner = owners(g, ret, is_new);
    let mut group_of: HashMap<u32, usize> = HashMap::new();
    let mut by_signature: HashMap<u64, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for n in g.nodes() {
        if owner[n.ix()] != n.0 {
            continue;
        }
        let sig = path_signature(g, ret, n);
        let gi = *by_signature.entry(sig).or_insert_with(|| {
            groups.push(Group {
                example: n.0,
                ..Group::default()
            });
            groups.len() - 1
        });
        let group = &mut groups[gi];
        group.count += 1;
        group.retained += ret.retained(n);
        group_of.insert(n.0, gi);
    }
    for n in g.nodes() {
        let o = owner[n.ix()];
        if o == NONE {
            continue;
        }
        let group = &mut groups[group_of[&o]];
        group.bytes += g.self_size(n);
        if o != n.0 && g.kind(n).is_user_visible() {
            group.holds.add(g, n);
        }
    }
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| {
        groups[b]
            .bytes
            .cmp(&groups[a].bytes)
            .then(groups[a].example.cmp(&groups[b].example))
    });
    order
        .into_iter()
        .take(top)
        .enumerate()
        .map(|(i, gi)| suspect(g, ret, &groups[gi], i + 1))
        .collect()
}

fn suspect(g: &HeapGraph, ret: &Retention, group: &Group, rank: usize) -> Suspect {
    let example = example(g, ret, NodeIdx(group.example), true);
    Suspect {
        rank,
        summary: Suspect::summary_text(&example, group.count, group.bytes),
        delta_bytes: group.bytes,
        delta_count: group.count,
        retained_bytes: group.retained,
        example,
        holds: group.holds.top(g, 3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EdgeKind, NodeKind};

    #[test]
    fn a_suspect_carries_its_one_line_summary() {
        let (mut b, _, global) = crate::testing::with_global(100);
        let log = b.node(NodeKind::Object, "Array", 32);
        b.edge(global, EdgeKind::Property, "log", log);
        for i in 0..1_500 {
            let entry = b.node(NodeKind::Object, "Entry", 600);
            b.element(log, EdgeKind::Element, i, entry);
        }
        let g = b.build();
        let ret = Retention::compute(&g);
        let is_new: Vec<bool> = g.nodes().map(|n| n.0 > log.0).collect();
        let suspects = find_suspects(&g, &ret, &is_new, 5);
        assert_eq!(
            suspects[0].summary,
            "Entry ×1,500 (+900 kB) held by global > log > [] > Entry"
        );
        let json = serde_json::to_value(&suspects[0]).unwrap();
        assert_eq!(json["summary"], suspects[0].summary);
    }
}
