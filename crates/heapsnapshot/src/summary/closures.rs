//! Closures grouped by function: many closures of one function alive at once (listeners,
//! callbacks, timers) is a common leak, and their definition site (`file:line:col`) says
//! which code made them.
//!
//! A function is its name and its definition site from the snapshot's `locations`
//! (script, line, column); closures without a recorded site are grouped by name.

use std::collections::HashMap;

use super::report::ClosureGroup;
use crate::path::{path_steps, path_text};
use crate::source::function_info;
use crate::{HeapGraph, Location, NodeIdx, NodeKind, Retention};

/// What identifies a function: its name's string index and its definition site.
type Function = (u32, Option<(u32, u32, u32)>);

#[derive(Debug, Clone, Copy)]
struct Group {
    count: u64,
    retained: u64,
    example: NodeIdx,
}

/// The `top` functions whose closures retain the most, largest first.
#[must_use]
pub(super) fn closures(g: &HeapGraph, ret: &Retention, top: usize) -> Vec<ClosureGroup> {
    let mut groups: HashMap<Function, Group> = HashMap::new();
    let mut locations = g.locations.iter().peekable();
    for n in g.nodes() {
        if g.kind(n) != NodeKind::Closure {
            continue;
        }
        while locations.next_if(|(node, _)| *node < n).is_some() {}
        let site = locations.peek().filter(|(node, _)| *node == n).map(
            |&&(
                _,
                Location {
                    script_id,
                    line,
                    column,
                },
            )| (script_id, line, column),
        );
        if !ret.is_reachable(n) {
            continue;
        }
        let retained = ret.retained(n);
        groups
            .entry((g.node_name[n.ix()].0, site))
            .and_modify(|group| {
                group.count += 1;
                group.retained += retained;
                if retained > ret.retained(group.example) {
                    group.example = n;
                }
            })
            .or_insert(Group {
                count: 1,
                retained,
                example: n,
            });
    }
    let mut groups: Vec<Group> = groups.into_values().collect();
    groups.sort_unstable_by(|a, b| {
        b.retained
            .cmp(&a.retained)
            .then_with(|| g.id(a.example).cmp(&g.id(b.example)))
    });
    groups
        .into_iter()
        .take(top)
        .enumerate()
        .map(|(i, group)| ClosureGroup {
            rank: i + 1,
            retained_bytes: group.retained,
            count: group.count,
            function: function_info(g, group.example).expect("a closure"),
            example_id: g.id(group.example),
            path_text: path_text(&path_steps(g, &ret.retainer_path(g, group.example))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EdgeKind;

    #[test]
    fn closures_of_one_site_group_and_other_sites_do_not() {
        let (mut b, _, global) = crate::testing::with_global(10);
        let listeners = b.node(NodeKind::Object, "Array", 16);
        b.edge(global, EdgeKind::Property, "listeners", listeners);
        let site = |line| Location {
            script_id: 7,
            line,
            column: 4,
        };
        for i in 0..3 {
            let f = b.node(NodeKind::Closure, "onData", 64);
            b.element(listeners, EdgeKind::Element, i, f);
            b.location(f, site(11));
        }
        let other = b.node(NodeKind::Closure, "onData", 64);
        b.element(listeners, EdgeKind::Element, 3, other);
        b.location(other, site(40));
        let g = b.build();
        let rows = closures(&g, &Retention::compute(&g), 10);
        let summary: Vec<(u64, u64, Option<u32>)> = rows
            .iter()
            .map(|r| (r.count, r.retained_bytes, r.function.line))
            .collect();
        assert_eq!(summary, [(3, 192, Some(12)), (1, 64, Some(41))]);
        assert_eq!(rows[0].function.name, "onData");
        assert_eq!(rows[0].path_text, "global > listeners > [] > (closure)");
    }
}
