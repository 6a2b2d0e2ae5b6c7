//! One object's story: why it is alive. The answer DevTools gives in its Retainers view, for
//! one object asked for by id or for a sample of a class's objects: every retainer path to it
//! up to a bound ([`paths`]), the objects that point at it, its dominators (any of which,
//! once gone, frees it) and its retained size.
//!
//! The retaining edges are reversed once ([`reverse`]), so each object's paths cost what its
//! ancestors cost. An id or a class that is not in the snapshot is a [`LookupError`] (for a
//! class, with the names closest to it).

mod paths;
pub mod report;
mod reverse;
mod suggest;

use std::collections::BTreeSet;

use thiserror::Error;

use crate::class::{class_name, kind_class, kind_name};
use crate::path::{hide_string_values, path_steps, path_text_exact};
use crate::{HeapGraph, NodeIdx, NodeKind, Retention};
use paths::{Via, retainer_paths};
use report::{
    ClassSample, Dominator, ObjectStory, Retainer, RetainerPath, RetainersReport, SCHEMA_VERSION,
};
use reverse::{Retainers, retains};

/// Dominators and retainers listed per object, at most.
const MAX_LISTED: usize = 20;

/// Longest node name kept (strings can be megabytes).
const MAX_NAME: usize = 80;

/// Whose story to tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The object with this V8 id (`@id` in DevTools).
    Id(u32),
    /// The `sample` objects of this class with the largest retained sizes.
    Class {
        /// DevTools class name (`Session`, `(closure)`, `(string)`).
        name: String,
        /// How many of its objects.
        sample: usize,
    },
}

/// Settings of [`retainers`].
#[derive(Debug, Clone)]
pub struct RetainerOptions {
    /// Retainer paths per object, at most.
    pub paths: usize,
    /// Show string values (names of string nodes); off by default: they may be secrets.
    pub show_strings: bool,
}

impl Default for RetainerOptions {
    fn default() -> Self {
        Self {
            paths: 10,
            show_strings: false,
        }
    }
}

/// What was asked for is not in the snapshot.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LookupError {
    /// No node has this id.
    #[error("no object has id @{id} in this snapshot")]
    UnknownId {
        /// The id asked for.
        id: u32,
    },
    /// No node has this class.
    #[error(
        "no object of class \"{name}\" in this snapshot{}",
        did_you_mean(suggestions)
    )]
    UnknownClass {
        /// The class asked for.
        name: String,
        /// The class names closest to it, closest first.
        suggestions: Vec<String>,
    },
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

/// The stories of `target` in `g` (see the module docs).
pub fn retainers(
    g: &HeapGraph,
    ret: &Retention,
    target: &Target,
    opts: &RetainerOptions,
) -> Result<RetainersReport, LookupError> {
    let (class, nodes) = match target {
        Target::Id(id) => {
            let n = g
                .nodes()
                .find(|&n| g.id(n) == *id)
                .ok_or(LookupError::UnknownId { id: *id })?;
            (None, vec![n])
        }
        Target::Class { name, sample } => {
            let (class, nodes) = sample_of_class(g, ret, name, *sample)?;
            (Some(class), nodes)
        }
    };
    let rev = Retainers::build(g);
    Ok(RetainersReport {
        schema_version: SCHEMA_VERSION,
        kind: "retainers",
        class,
        objects: nodes
            .into_iter()
            .map(|n| story(g, ret, &rev, n, opts))
            .collect(),
    })
}

/// The class `name`'s count and bytes, and its `sample` objects with the largest retained
/// sizes (ties by id).
fn sample_of_class(
    g: &HeapGraph,
    ret: &Retention,
    name: &str,
    sample: usize,
) -> Result<(ClassSample, Vec<NodeIdx>), LookupError> {
    let mut members: Vec<NodeIdx> = g.nodes().filter(|&n| class_name(g, n) == name).collect();
    if members.is_empty() {
        return Err(LookupError::UnknownClass {
            name: name.to_owned(),
            suggestions: suggest::nearest(name, class_names(g).iter().copied(), 3),
        });
    }
    let class = ClassSample {
        class_name: name.to_owned(),
        count: members.len() as u64,
        bytes: members.iter().map(|&n| g.self_size(n)).sum(),
        sampled: sample.min(members.len()),
    };
    members.sort_unstable_by(|&a, &b| {
        ret.retained(b)
            .cmp(&ret.retained(a))
            .then_with(|| g.id(a).cmp(&g.id(b)))
    });
    members.truncate(sample);
    Ok((class, members))
}

/// Every class name in `g`.
fn class_names(g: &HeapGraph) -> BTreeSet<&str> {
    let mut seen = vec![false; g.strings.len()];
    let mut names = BTreeSet::new();
    for n in g.nodes() {
        match g.kind(n) {
            NodeKind::Object | NodeKind::Native => {
                let i = g.node_name[n.ix()].0 as usize;
                if !std::mem::replace(&mut seen[i], true) {
                    names.insert(g.name(n));
                }
            }
            kind => {
                names.insert(kind_class(kind));
            }
        }
    }
    names
}

/// The name of `n` as reported: cut to [`MAX_NAME`], a string's value only when shown.
fn shown_name(g: &HeapGraph, n: NodeIdx, show_strings: bool) -> String {
    if g.kind(n).is_string() && !show_strings {
        return class_name(g, n).into_owned();
    }
    let name = g.name(n);
    match name.char_indices().nth(MAX_NAME) {
        Some((cut, _)) => format!("{}…", &name[..cut]),
        None => name.to_owned(),
    }
}

fn story(
    g: &HeapGraph,
    ret: &Retention,
    rev: &Retainers,
    n: NodeIdx,
    opts: &RetainerOptions,
) -> ObjectStory {
    let found = retainer_paths(g, rev, n, opts.paths);
    let paths = found
        .paths
        .iter()
        .map(|(via, edges)| {
            let mut path = path_steps(g, edges);
            if !opts.show_strings {
                hide_string_values(&mut path);
            }
            RetainerPath {
                via: match via {
                    Via::User => "user",
                    Via::System => "system",
                    Via::Handles => "handles",
                },
                length: edges.len(),
                path_text: path_text_exact(&path),
                path,
            }
        })
        .collect();
    let dominators = std::iter::successors(ret.idom(n), |&d| ret.idom(d))
        .take_while(|&d| d != HeapGraph::ROOT)
        .take(MAX_LISTED)
        .map(|d| Dominator {
            class_name: class_name(g, d).into_owned(),
            name: shown_name(g, d, opts.show_strings),
            id: g.id(d),
            retained_bytes: ret.retained(d),
        })
        .collect();
    let mut from: Vec<NodeIdx> = rev.of(n).collect();
    from.dedup();
    let retainers = from
        .into_iter()
        .flat_map(|u| {
            g.edges(u)
                .filter(move |&e| g.to(e) == n && retains(g, u, e))
                .map(move |e| (u, e))
        })
        .take(MAX_LISTED)
        .map(|(u, e)| {
            let step = &path_steps(g, &[e])[0];
            Retainer {
                edge: step.edge.clone(),
                edge_type: step.edge_type.clone(),
                class_name: class_name(g, u).into_owned(),
                name: shown_name(g, u, opts.show_strings),
                id: g.id(u),
            }
        })
        .collect();
    ObjectStory {
        id: g.id(n),
        class_name: class_name(g, n).into_owned(),
        name: shown_name(g, n, opts.show_strings),
        node_type: kind_name(g.kind(n)).to_owned(),
        self_bytes: g.self_size(n),
        retained_bytes: ret.retained(n),
        reachable: ret.is_reachable(n),
        dominators,
        retainers,
        paths,
        paths_truncated: found.truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EdgeKind;

    /// `global > cache (Map) > table > [i] > Session` × 3, each with a secret token; and a
    /// Session only a weak edge points at.
    fn graph() -> HeapGraph {
        let (mut b, _, global) = crate::testing::with_global(10);
        let map = b.node(NodeKind::Object, "Map", 32);
        b.edge(global, EdgeKind::Property, "cache", map);
        let table = b.node(NodeKind::Array, "", 64);
        b.edge(map, EdgeKind::Internal, "table", table);
        for (i, size) in [(3, 40), (5, 400), (7, 40)] {
            let session = b.node(NodeKind::Object, "Session", size);
            b.edge(table, EdgeKind::Internal, &i.to_string(), session);
            let token = b.node(NodeKind::String, "hunter2", 24);
            b.edge(session, EdgeKind::Property, "token", token);
        }
        let gone = b.node(NodeKind::Object, "Session", 40);
        b.edge(global, EdgeKind::Weak, "w", gone);
        b.build()
    }

    #[test]
    fn an_object_by_id_tells_paths_retainers_dominators_and_size() {
        let g = graph();
        let ret = Retention::compute(&g);
        let second = g
            .nodes()
            .filter(|&n| g.name(n) == "Session")
            .nth(1)
            .unwrap();
        let report = retainers(
            &g,
            &ret,
            &Target::Id(g.id(second)),
            &RetainerOptions::default(),
        )
        .unwrap();
        assert!(report.class.is_none());
        let story = &report.objects[0];
        assert_eq!((story.self_bytes, story.retained_bytes), (400, 424));
        assert!(story.reachable);
        let texts: Vec<&str> = story.paths.iter().map(|p| p.path_text.as_str()).collect();
        assert_eq!(
            texts,
            [format!(
                "global > cache > table > [5] > Session @{}",
                g.id(second)
            )]
        );
        assert_eq!(story.paths[0].via, "user");
        let dominators: Vec<&str> = story
            .dominators
            .iter()
            .map(|d| d.class_name.as_str())
            .collect();
        assert_eq!(dominators, ["(array)", "Map", "global"]);
        assert_eq!(story.retainers.len(), 1);
        assert_eq!(story.retainers[0].edge, "5");
    }

    #[test]
    fn a_class_sample_is_its_largest_objects_and_strings_stay_hidden() {
        let g = graph();
        let ret = Retention::compute(&g);
        let target = Target::Class {
            name: "Session".into(),
            sample: 2,
        };
        let report = retainers(&g, &ret, &target, &RetainerOptions::default()).unwrap();
        let class = report.class.unwrap();
        assert_eq!((class.count, class.bytes, class.sampled), (4, 520, 2));
        let sizes: Vec<u64> = report.objects.iter().map(|o| o.self_bytes).collect();
        assert_eq!(sizes, [400, 40]);
        let strings = Target::Class {
            name: "(string)".into(),
            sample: 1,
        };
        let hidden = retainers(&g, &ret, &strings, &RetainerOptions::default()).unwrap();
        assert_eq!(hidden.objects[0].name, "(string)");
        assert!(
            hidden.objects[0].paths[0]
                .path
                .iter()
                .all(|s| s.name != "hunter2")
        );
        let shown = RetainerOptions {
            show_strings: true,
            ..RetainerOptions::default()
        };
        let shown = retainers(&g, &ret, &strings, &shown).unwrap();
        assert_eq!(shown.objects[0].name, "hunter2");
    }

    #[test]
    fn an_unreachable_object_has_no_path() {
        let g = graph();
        let ret = Retention::compute(&g);
        let gone = g
            .nodes()
            .filter(|&n| g.name(n) == "Session")
            .last()
            .unwrap();
        let report = retainers(
            &g,
            &ret,
            &Target::Id(g.id(gone)),
            &RetainerOptions::default(),
        )
        .unwrap();
        let story = &report.objects[0];
        assert!(!story.reachable);
        assert!(story.paths.is_empty() && story.retainers.is_empty());
    }

    #[test]
    fn unknown_ids_and_classes_are_errors_with_the_nearest_names() {
        let g = graph();
        let ret = Retention::compute(&g);
        let opts = RetainerOptions::default();
        assert_eq!(
            retainers(&g, &ret, &Target::Id(424_242), &opts).unwrap_err(),
            LookupError::UnknownId { id: 424_242 }
        );
        let err = retainers(
            &g,
            &ret,
            &Target::Class {
                name: "session".into(),
                sample: 3,
            },
            &opts,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no object of class \"session\" in this snapshot; did you mean Session?"
        );
    }
}
