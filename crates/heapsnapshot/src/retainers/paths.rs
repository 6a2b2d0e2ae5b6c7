//! Every retainer path to one object, up to a bound: through the user roots (the global
//! object) first, then through V8's root groups, then through handle scopes and stack roots
//! — the order the distance search prefers ([`crate::distance`]) — and shortest first within
//! each.
//!
//! A backward breadth-first search from the object over the reversed retaining edges
//! ([`Retainers`]) gives each of its ancestors its number of steps to it. Handle scopes and
//! stack roots get theirs last, from their children, so the other root groups' paths are
//! searched without them. Then, for each kind of start and each length from the shortest on
//! (at most [`MAX_EXTRA`] steps more), a depth-first search from the starts takes only steps
//! from which the object is still within reach, and keeps the simple paths of exactly that
//! length. A budget of steps bounds the work on objects with very many paths.

use super::reverse::{Retainers, retains};
use crate::distance::{is_user_root, transient_roots};
use crate::{EdgeIdx, HeapGraph, NodeIdx};

/// Paths of a kind are searched up to this many steps longer than its shortest.
pub(crate) const MAX_EXTRA: u32 = 6;

/// Steps the depth-first searches may take for one object.
const BUDGET: u64 = 2_000_000;

/// No path to the object from there.
const UNREACHED: u32 = u32::MAX;

/// Where a path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// A user root: the global object.
    User,
    /// One of V8's root groups other than handle scopes and stack roots.
    System,
    /// A handle scope or the stack: held only while native code runs.
    Handles,
}

/// What the search found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// The paths (edges, root side first) and where each starts, in order.
    pub(crate) paths: Vec<(Via, Vec<EdgeIdx>)>,
    /// True when the search stopped at `max_paths` or at its budget: there may be more.
    pub(crate) truncated: bool,
}

/// A start of paths: the edges from the root to it, and the node.
struct Start {
    prefix: Vec<EdgeIdx>,
    node: NodeIdx,
}

struct Search<'g> {
    g: &'g HeapGraph,
    target: NodeIdx,
    /// Steps to the target, [`UNREACHED`] for nodes that do not retain it.
    steps: Vec<u32>,
    transient: Vec<NodeIdx>,
    budget: u64,
}

/// Up to `max_paths` retainer paths to `target` (see the module docs).
#[must_use]
pub(crate) fn retainer_paths(
    g: &HeapGraph,
    rev: &Retainers,
    target: NodeIdx,
    max_paths: usize,
) -> Found {
    let transient: Vec<(NodeIdx, EdgeIdx)> = transient_roots(g);
    let mut search = Search {
        g,
        target,
        steps: steps_to(g, rev, target, &transient),
        transient: transient.iter().map(|&(n, _)| n).collect(),
        budget: BUDGET,
    };
    let mut found = Found::default();
    for (via, starts) in starts(g, &transient) {
        if found.paths.len() >= max_paths || search.budget == 0 {
            break;
        }
        let want = max_paths - found.paths.len();
        for path in search.of_kind(&starts, via == Via::System, want) {
            found.paths.push((via, path));
        }
    }
    found.truncated = found.paths.len() >= max_paths || search.budget == 0;
    found
}

/// The number of retaining steps from every node to `target` (backward breadth-first);
/// `transient` nodes are not searched through, and get one step more than their nearest
/// child.
fn steps_to(
    g: &HeapGraph,
    rev: &Retainers,
    target: NodeIdx,
    transient: &[(NodeIdx, EdgeIdx)],
) -> Vec<u32> {
    let mut steps = vec![UNREACHED; g.node_count()];
    let is_transient = |n: NodeIdx| transient.iter().any(|&(t, _)| t == n);
    steps[target.ix()] = 0;
    let mut queue = std::collections::VecDeque::from([target]);
    while let Some(v) = queue.pop_front() {
        let next = steps[v.ix()] + 1;
        for u in rev.of(v) {
            if steps[u.ix()] == UNREACHED && !is_transient(u) {
                steps[u.ix()] = next;
                queue.push_back(u);
            }
        }
    }
    for &(t, _) in transient {
        let nearest = g
            .edges(t)
            .filter(|&e| retains(g, t, e))
            .map(|e| steps[g.to(e).ix()])
            .min()
            .unwrap_or(UNREACHED);
        steps[t.ix()] = nearest.saturating_add(1);
    }
    steps
}

/// The starts of each kind of path, in the order they are searched.
fn starts(g: &HeapGraph, transient: &[(NodeIdx, EdgeIdx)]) -> [(Via, Vec<Start>); 3] {
    let root = HeapGraph::ROOT;
    let mut user = Vec::new();
    let mut system = Vec::new();
    for e in g.edges(root).filter(|&e| retains(g, root, e)) {
        let start = Start {
            prefix: vec![e],
            node: g.to(e),
        };
        if is_user_root(g, start.node) {
            user.push(start);
        } else {
            system.push(start);
        }
    }
    let handles = transient
        .iter()
        .filter_map(|&(t, e)| {
            let group = crate::retention::edge_source(g, e);
            let into_group = g.edges(root).find(|&r| g.to(r) == group)?;
            Some(Start {
                prefix: vec![into_group, e],
                node: t,
            })
        })
        .collect();
    [
        (Via::User, user),
        (Via::System, system),
        (Via::Handles, handles),
    ]
}

/// The state of one depth-first search.
struct Walk {
    path: Vec<EdgeIdx>,
    on_path: Vec<NodeIdx>,
    out: Vec<Vec<EdgeIdx>>,
    want: usize,
    avoid_transient: bool,
}

impl Search<'_> {
    /// Up to `want` paths from `starts`, shortest first; `avoid_transient` keeps them out of
    /// handle scopes and stack roots.
    fn of_kind(
        &mut self,
        starts: &[Start],
        avoid_transient: bool,
        want: usize,
    ) -> Vec<Vec<EdgeIdx>> {
        let reach = |s: &Start| self.steps[s.node.ix()];
        let shortest = starts
            .iter()
            .filter(|s| reach(s) != UNREACHED)
            .filter(|s| !(avoid_transient && self.transient.contains(&s.node)))
            .map(|s| s.prefix.len() as u32 + reach(s))
            .min();
        let Some(shortest) = shortest else {
            return Vec::new();
        };
        let mut walk = Walk {
            path: Vec::new(),
            on_path: Vec::new(),
            out: Vec::new(),
            want,
            avoid_transient,
        };
        for length in shortest..=shortest.saturating_add(MAX_EXTRA) {
            for start in starts {
                let left = length.checked_sub(start.prefix.len() as u32);
                let Some(left) = left.filter(|&left| self.steps[start.node.ix()] <= left) else {
                    continue;
                };
                walk.path.clone_from(&start.prefix);
                walk.on_path = vec![HeapGraph::ROOT, start.node];
                if self.walk(start.node, left, &mut walk) {
                    return walk.out;
                }
            }
        }
        walk.out
    }

    /// Depth-first from `node` with `left` steps to take; true when done (`want` paths, or
    /// the budget is spent).
    fn walk(&mut self, node: NodeIdx, left: u32, w: &mut Walk) -> bool {
        if node == self.target {
            if left == 0 {
                w.out.push(w.path.clone());
            }
            return w.out.len() >= w.want;
        }
        let g = self.g;
        for e in g.edges(node) {
            let to = g.to(e);
            let steps = self.steps[to.ix()];
            if steps == UNREACHED
                || steps >= left
                || !retains(g, node, e)
                || w.on_path.contains(&to)
                || (w.avoid_transient && self.transient.contains(&to))
            {
                continue;
            }
            if self.budget == 0 {
                return true;
            }
            self.budget -= 1;
            w.path.push(e);
            w.on_path.push(to);
            let done = self.walk(to, left - 1, w);
            w.path.pop();
            w.on_path.pop();
            if done {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EdgeKind, GraphBuilder, NodeKind};

    /// Labels of a path's edges.
    fn names(g: &HeapGraph, path: &[EdgeIdx]) -> Vec<String> {
        path.iter()
            .map(|&e| match g.edge_label(e) {
                crate::EdgeLabel::Name(n) => n.to_owned(),
                crate::EdgeLabel::Index(i) => format!("[{i}]"),
            })
            .collect()
    }

    #[test]
    fn user_paths_first_then_root_groups_then_handles_shortest_first() {
        let mut b = GraphBuilder::default();
        let root = b.node(NodeKind::Synthetic, "", 0);
        let gc = b.node(NodeKind::Synthetic, "(GC roots)", 0);
        let handles = b.node(NodeKind::Synthetic, "(Handle scope)", 0);
        let strong = b.node(NodeKind::Synthetic, "(Strong roots)", 0);
        let global = b.node(NodeKind::Object, "global", 1);
        let a = b.node(NodeKind::Object, "A", 1);
        let c = b.node(NodeKind::Object, "C", 1);
        let target = b.node(NodeKind::Object, "Target", 1);
        b.element(root, EdgeKind::Element, 1, gc);
        b.edge(root, EdgeKind::Shortcut, "2", global);
        b.element(gc, EdgeKind::Element, 1, handles);
        b.element(gc, EdgeKind::Element, 2, strong);
        b.element(handles, EdgeKind::Element, 0, target);
        b.element(strong, EdgeKind::Element, 0, c);
        b.edge(global, EdgeKind::Property, "a", a);
        b.edge(global, EdgeKind::Property, "c", c);
        b.edge(a, EdgeKind::Property, "c", c);
        b.edge(c, EdgeKind::Property, "t", target);
        b.edge(a, EdgeKind::Weak, "w", target);
        let g = b.build();
        let rev = Retainers::build(&g);
        let found = retainer_paths(&g, &rev, target, 10);
        let got: Vec<(Via, Vec<String>)> = found
            .paths
            .iter()
            .map(|(via, p)| (*via, names(&g, p)))
            .collect();
        let path = |via, names: &[&str]| (via, names.iter().map(|s| (*s).to_owned()).collect());
        assert_eq!(
            got,
            [
                path(Via::User, &["2", "c", "t"]),
                path(Via::User, &["2", "a", "c", "t"]),
                path(Via::System, &["[1]", "[2]", "[0]", "t"]),
                path(Via::Handles, &["[1]", "[1]", "[0]"]),
            ]
        );
        assert!(!found.truncated);
        let two = retainer_paths(&g, &rev, target, 2);
        assert_eq!(two.paths.len(), 2);
        assert!(two.truncated);
        // `(GC roots)` itself: the root's own edge.
        let gc_paths = retainer_paths(&g, &rev, gc, 10);
        assert_eq!(gc_paths.paths.len(), 1);
        assert_eq!(gc_paths.paths[0].1.len(), 1);
    }
}
