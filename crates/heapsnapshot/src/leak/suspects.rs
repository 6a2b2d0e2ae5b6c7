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
use std::hash::{DefaultHasher, Hash, Hasher};

use super::path::{path_steps, path_text};
use super::report::{ClassBytes, Suspect};
use crate::class::{class_name, kind_name};
use crate::source::function_info;
use crate::{EdgeLabel, HeapGraph, NodeIdx, NodeKind, Retention};

const NONE: u32 = u32::MAX;

/// True for node kinds a user would recognise as their data (not V8 plumbing).
fn is_user_visible(kind: NodeKind) -> bool {
    !matches!(
        kind,
        NodeKind::Hidden
            | NodeKind::Array
            | NodeKind::Code
            | NodeKind::ObjectShape
            | NodeKind::Synthetic
    )
}

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
                .filter(|&o| o != NONE && is_user_visible(g.kind(NodeIdx(o))));
            owner[x.ix()] = inherited.unwrap_or(x.0);
        }
    }
    owner
}

/// Hash of a node's retainer path shape: edge kinds, names (indices as `[]`) and classes.
///
/// A run of two or more identical steps counts as one step *without its edge name*: the
/// entries of a linked list sit at different depths (`_idleNext` repeated 3 or 90 times),
/// and the shortest path may walk it either way (`_idleNext…` or `_idlePrev…`); all of
/// them are one suspect.
fn path_signature(g: &HeapGraph, ret: &Retention, n: NodeIdx) -> u64 {
    let steps: Vec<_> = ret
        .retainer_path(g, n)
        .into_iter()
        .map(|e| {
            let name = match g.edge_label(e) {
                EdgeLabel::Name(name) if name.parse::<u64>().is_err() => name,
                _ => "[]",
            };
            (g.edge_kind(e), name, class_name(g, g.to(e)))
        })
        .collect();
    let mut h = DefaultHasher::new();
    let mut i = 0;
    while i < steps.len() {
        let run = steps[i..].iter().take_while(|s| **s == steps[i]).count();
        if run > 1 {
            ("run", &steps[i].2).hash(&mut h);
        } else {
            steps[i].hash(&mut h);
        }
        i += run;
    }
    class_name(g, n).hash(&mut h);
    h.finish()
}

#[derive(Default)]
struct Group {
    example: u32,
    count: u64,
    bytes: u64,
    retained: u64,
    holds: HashMap<(NodeKind, u32), (u64, u64)>,
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
        if o != n.0 && is_user_visible(g.kind(n)) {
            let key = match g.kind(n) {
                kind @ (NodeKind::Object | NodeKind::Native) => (kind, g.node_name[n.ix()].0),
                kind => (kind, 0),
            };
            let entry = group.holds.entry(key).or_default();
            entry.0 += 1;
            entry.1 += g.self_size(n);
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
    let n = NodeIdx(group.example);
    let path = path_steps(g, &ret.retainer_path(g, n));
    let mut holds: Vec<ClassBytes> = group
        .holds
        .iter()
        .map(|(&(kind, name), &(count, bytes))| ClassBytes {
            class_name: match kind {
                NodeKind::Object | NodeKind::Native => {
                    g.strings.get(crate::StrIdx(name)).to_owned()
                }
                kind => crate::class::kind_class(kind).to_owned(),
            },
            count,
            bytes,
        })
        .collect();
    holds.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then_with(|| a.class_name.cmp(&b.class_name))
    });
    holds.truncate(3);
    Suspect {
        rank,
        delta_bytes: group.bytes,
        delta_count: group.count,
        retained_bytes: group.retained,
        class_name: class_name(g, n).into_owned(),
        node_type: kind_name(g.kind(n)).to_owned(),
        path_text: path_text(&path),
        path,
        example_id: g.id(n),
        function: function_info(g, n),
        holds,
    }
}
