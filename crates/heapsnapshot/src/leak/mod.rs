//! Snapshot diff: which objects allocated after the base snapshot are still alive, what
//! keeps them alive, and how each class and native memory grew.
//!
//! Only the newest snapshot needs its edges (for dominators and retainer paths); the
//! older ones contribute their object ids and per-class sizes, so they can be parsed
//! with `ParseOptions { edges: false, .. }`.

mod compare;
mod path;
pub mod report;
mod suspects;

use thiserror::Error;

pub use compare::snapshot_stats;
pub use path::edge_kind_name;

use crate::{HeapGraph, IdSet, NodeKind, Retention};
use compare::Comparison;
use report::{LeakReport, SCHEMA_VERSION};

/// Settings of [`analyze`].
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// How many suspects and constructor rows to report.
    pub top: usize,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        Self { top: 10 }
    }
}

/// Why a set of snapshots cannot be diffed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DiffError {
    /// The newest snapshot was parsed without edges.
    #[error(
        "the newest snapshot was read without edges; parse it with edges to find retainer paths"
    )]
    NoEdges,
    /// Object ids do not match up: the snapshots come from different processes.
    #[error(
        "the snapshots come from different processes: {matched} object ids match but {mismatched} of them \
         name different objects. Ids are only stable within one process: take the base and later \
         snapshots from the same running process"
    )]
    DifferentProcesses {
        /// Ids found in both snapshots.
        matched: u64,
        /// Of those, ids whose node kind or name differs.
        mismatched: u64,
    },
}

/// Diffs `base` against `target` (and `last`, the final snapshot, when given).
///
/// Two snapshots: new objects are those in `target` whose id is not in `base`. Three:
/// those in `target` but not in `base` that are still alive in `last`; the newest
/// snapshot is the one searched for retainer paths and must have edges.
///
/// The graphs are taken by value so the older ones are freed as soon as their part is
/// done. Two threads share the work: one computes the newest snapshot's dominators (the
/// long pole), the other first everything that needs the older snapshots (so they are
/// freed early), then the distances and retainer paths.
pub fn analyze(
    base: HeapGraph,
    target: HeapGraph,
    last: Option<HeapGraph>,
    opts: &AnalyzeOptions,
) -> Result<LeakReport, DiffError> {
    let three = last.is_some();
    let (target, newest) = match last {
        Some(last) => (Some(target), last),
        None => (None, target),
    };
    if newest.edge_count() == 0 && newest.node_count() > 1 {
        return Err(DiffError::NoEdges);
    }
    let (retention, older) = Retention::compute_alongside(&newest, || {
        compare_with_older(base, target, &newest, opts.top)
    });
    let Older {
        mut snapshots,
        is_new,
        constructors,
        native_rows,
    } = older?;
    let (new_objects, new_bytes) = newest
        .nodes()
        .filter(|n| is_new[n.ix()] && retention.is_reachable(*n))
        .fold((0, 0), |(c, b), n| (c + 1, b + newest.self_size(n)));
    let suspects = suspects::find_suspects(&newest, &retention, &is_new, opts.top);
    snapshots.push(snapshot_stats(&newest));
    debug_assert_eq!(snapshots.len(), if three { 3 } else { 2 });
    let native =
        Comparison::native_growth(&native_rows, &snapshots[0], &snapshots[snapshots.len() - 1]);
    Ok(LeakReport {
        schema_version: SCHEMA_VERSION,
        snapshots,
        new_objects,
        new_bytes,
        suspects,
        constructors,
        native,
    })
}

/// What the older snapshots contribute, computed while the newest one's retention is.
struct Older {
    /// Stats of base (and target), in order.
    snapshots: Vec<report::SnapshotStats>,
    /// Per node of the newest snapshot: allocated in the window the diff looks at.
    is_new: Vec<bool>,
    /// The top constructor rows.
    constructors: Vec<report::ConstructorDelta>,
    /// The top native rows.
    native_rows: Vec<report::ConstructorDelta>,
}

/// Checks the snapshots belong together, marks the newest snapshot's new objects and
/// compares classes; consumes (and so frees) the older graphs.
fn compare_with_older(
    base: HeapGraph,
    target: Option<HeapGraph>,
    newest: &HeapGraph,
    top: usize,
) -> Result<Older, DiffError> {
    check_same_process(&base, newest)?;
    let mut snapshots = vec![snapshot_stats(&base)];
    let base_ids = IdSet::of(&base);
    let newest_ids = IdSet::of(newest);
    let comparison = Comparison::compute(&base, &base_ids, newest, &newest_ids);
    drop((base, newest_ids));
    let target_ids = target.map(|target| {
        snapshots.push(snapshot_stats(&target));
        IdSet::of(&target)
    });
    let is_new = newest
        .nodes()
        .map(|n| {
            let id = newest.id(n);
            !base_ids.contains(id) && target_ids.as_ref().is_none_or(|t| t.contains(id))
        })
        .collect();
    let (constructors, native_rows) = comparison.top_rows(top);
    Ok(Older {
        snapshots,
        is_new,
        constructors,
        native_rows,
    })
}

/// Objects with the same id in one process keep their kind and name; across processes
/// ids are reused for unrelated objects. Fails when more than a fifth of the shared ids
/// name different objects (or none are shared at all).
fn check_same_process(older: &HeapGraph, newer: &HeapGraph) -> Result<(), DiffError> {
    let mut old: Vec<(u32, u32)> = older.nodes().map(|n| (older.id(n), n.0)).collect();
    old.sort_unstable();
    let (mut matched, mut mismatched) = (0u64, 0u64);
    // A million evenly spread samples decide as well as every node would.
    let step = (newer.node_count() / 1_000_000).max(1);
    for n in newer.nodes().step_by(step) {
        if newer.kind(n) == NodeKind::Synthetic {
            continue;
        }
        if let Ok(i) = old.binary_search_by_key(&newer.id(n), |&(id, _)| id) {
            let o = crate::NodeIdx(old[i].1);
            matched += 1;
            if older.kind(o) != newer.kind(n) || older.name(o) != newer.name(n) {
                mismatched += 1;
            }
        }
    }
    if matched == 0 || mismatched * 5 > matched {
        return Err(DiffError::DifferentProcesses {
            matched,
            mismatched,
        });
    }
    Ok(())
}
