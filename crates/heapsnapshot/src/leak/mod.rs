//! Snapshot diff: which objects allocated after the base snapshot are still alive, what
//! keeps them alive, and how each class and native memory grew.
//!
//! Only the newest snapshot needs its edges (for dominators and retainer paths); the
//! older ones contribute their object ids and per-class sizes, so they can be parsed
//! with `ParseOptions { edges: false, .. }`.

mod compare;
pub mod report;
mod suspects;

use thiserror::Error;

pub use crate::path::edge_kind_name;
pub use compare::snapshot_stats;

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
    /// One snapshot gives one object id to two objects, which V8 never does: the file is
    /// corrupt (a block of it overwritten, a bit flipped in an id), whatever the other
    /// snapshots are. Checked before the ids are compared across snapshots, so a corrupt
    /// file is not blamed on the snapshots coming from different processes.
    #[error(
        "snapshot {} of the diff (oldest first) is corrupt: object id {id} names two objects \
         ({first} and {second}); V8 gives every object an id of its own",
        which + 1
    )]
    DuplicateId {
        /// Which snapshot, oldest first from 0 (base, target, final).
        which: usize,
        /// The id.
        id: u32,
        /// The first object's class or name.
        first: String,
        /// The second's.
        second: String,
    },
}

/// Diffs `base` against `target` (and `last`, the final snapshot, when given).
///
/// Two snapshots: new objects are those in `target` whose id is not in `base`. Three:
/// those in `target` but not in `base` that are still alive in `last`; the newest
/// snapshot is the one searched for retainer paths and must have edges. The snapshots
/// must be given oldest first ([`crate::chronological`] tells that order; the report
/// says where each was given with [`LeakReport::given_as`]).
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
    let mut report = LeakReport {
        schema_version: SCHEMA_VERSION,
        snapshots,
        reordered: false,
        new_objects,
        new_bytes,
        suspects,
        constructors,
        native,
    };
    report.given_as(&[0, 1, 2]);
    Ok(report)
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
    let newest_which = if target.is_some() { 2 } else { 1 };
    check_same_process((&base, 0), (newest, newest_which))?;
    if let Some(target) = &target {
        check_same_process((target, 1), (newest, newest_which))?;
    }
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
/// name different objects (or none are shared at all), and first when either snapshot
/// gives one id to two heap objects (corrupt: [`DiffError::DuplicateId`]). `which` says
/// where each snapshot is in the diff, oldest first.
///
/// About a hundred thousand ids decide as well as every node would: both snapshots keep
/// the same ones (those whose hash falls below a cut), sorted and joined. Sorting every
/// node of a multi-GB snapshot would cost more than the rest of the comparison. Both
/// copies of a duplicated id hash alike, so the sample keeps both or neither.
fn check_same_process(
    (older, older_which): (&HeapGraph, usize),
    (newer, newer_which): (&HeapGraph, usize),
) -> Result<(), DiffError> {
    let cut = u32::MAX / (newer.node_count() / SAME_PROCESS_SAMPLE).max(1) as u32;
    let (old, new) = (id_sample(older, cut), id_sample(newer, cut));
    check_unique(older, &old, older_which)?;
    check_unique(newer, &new, newer_which)?;
    let (mut matched, mut mismatched) = (0u64, 0u64);
    let mut older_ids = old.iter().peekable();
    for &(id, n) in &new {
        while older_ids.next_if(|&&(old_id, _)| old_id < id).is_some() {}
        if let Some(&&(old_id, old_n)) = older_ids.peek()
            && old_id == id
        {
            let (o, n) = (crate::NodeIdx(old_n), crate::NodeIdx(n));
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

/// Fails when two heap objects of `sample` (sorted by id) share an id. Native nodes are
/// left out: some Node versions number them by hashing addresses, which can collide.
fn check_unique(g: &HeapGraph, sample: &[(u32, u32)], which: usize) -> Result<(), DiffError> {
    let heap = |&&(_, n): &&(u32, u32)| g.kind(crate::NodeIdx(n)) != NodeKind::Native;
    let mut heap_ids = sample.iter().filter(heap).peekable();
    while let Some(&(id, a)) = heap_ids.next() {
        if let Some(&&(next, b)) = heap_ids.peek()
            && next == id
        {
            let name = |n| g.name(crate::NodeIdx(n)).chars().take(40).collect();
            return Err(DiffError::DuplicateId {
                which,
                id,
                first: name(a),
                second: name(b),
            });
        }
    }
    Ok(())
}

/// How many ids [`check_same_process`] looks at, roughly.
const SAME_PROCESS_SAMPLE: usize = 100_000;

/// `(id, node)` of the non-synthetic nodes of `g` whose id hashes to at most `cut`, by id.
fn id_sample(g: &HeapGraph, cut: u32) -> Vec<(u32, u32)> {
    let mut sample: Vec<(u32, u32)> = g
        .nodes()
        .filter(|&n| g.kind(n) != NodeKind::Synthetic && id_kept(g.id(n), cut))
        .map(|n| (g.id(n), n.0))
        .collect();
    sample.sort_unstable();
    sample
}

/// Whether [`id_sample`] keeps `id`: multiplying by an odd constant permutes the `u32`s
/// and spreads V8's ids (odd numbers in allocation order) evenly over them (Fibonacci
/// hashing), so a cut at `u32::MAX / k` keeps about one id in `k`.
fn id_kept(id: u32, cut: u32) -> bool {
    id.wrapping_mul(0x9E37_79B9) <= cut
}

#[cfg(test)]
mod tests {
    #[test]
    fn id_sample_keeps_the_asked_share_of_v8_ids() {
        for k in [1u32, 8, 30] {
            let ids = (0..4_000_000u32).map(|i| 2 * i + 1);
            let kept = ids.filter(|&id| super::id_kept(id, u32::MAX / k)).count();
            let want = 4_000_000 / k as usize;
            assert!(
                kept.abs_diff(want) < want / 100,
                "1 in {k}: kept {kept}, want {want}"
            );
        }
    }
}
