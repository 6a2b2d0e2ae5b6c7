//! One snapshot alone: what holds the memory, without a baseline to diff against.
//!
//! The snapshot users most often have is a single one, written as the process ran out of
//! memory (`node --heapsnapshot-near-heap-limit`, `--heapsnapshot-signal`). [`summarize`]
//! answers from it alone, every answer ranked by bytes:
//!
//! - **holders** ([`holders`](self::holders)): the largest dominator subtrees, grouped by
//!   retainer path shape and class like the diff's suspects;
//! - **collections**: the largest `Map`s, `Set`s, arrays and objects used as dictionaries,
//!   with their entry counts and the variable that holds them;
//! - **duplicated strings**: values stored more than once and the bytes wasted (the values
//!   themselves only when asked for: they may be secrets);
//! - **closures** grouped by function, with the function's `file:line:col`;
//! - **native memory** by class and **detached** objects, where V8 records them.
//!
//! Each part is one pass or a few over the graph's columns after the dominators; none
//! builds a per-node structure bigger than a `u32` column. The holders take longest and run
//! on a second thread beside the rest.

mod closures;
mod collections;
mod duplicates;
mod hash_table;
mod holders;
mod native;
pub mod report;

use report::{HeapSummary, SCHEMA_VERSION, Totals};

use crate::{HeapGraph, NodeKind, Retention};

/// Settings of [`summarize`].
#[derive(Debug, Clone)]
pub struct SummaryOptions {
    /// Rows of each ranked list.
    pub top: usize,
    /// Show string values (duplicated strings, strings on retainer paths); off by default
    /// because they may be secrets.
    pub show_strings: bool,
}

impl Default for SummaryOptions {
    fn default() -> Self {
        Self {
            top: 10,
            show_strings: false,
        }
    }
}

/// Analyses `g` alone, with its retention already computed (see the module docs). The
/// holders, the longest part, are found on a thread of their own while the rest is.
#[must_use]
pub fn summarize(g: &HeapGraph, ret: &Retention, opts: &SummaryOptions) -> HeapSummary {
    let snapshot = totals(g, ret);
    let min_split = holders::min_split(snapshot.reachable_bytes);
    std::thread::scope(|scope| {
        let holders =
            scope.spawn(|| holders::holders(g, ret, min_split, opts.top, opts.show_strings));
        let collections = collections::collections(g, ret, opts.top);
        let duplicated_strings =
            duplicates::duplicated_strings(g, ret, opts.top, opts.show_strings);
        let closures = closures::closures(g, ret, opts.top);
        let native = native::native_memory(g, ret, opts.top);
        let detached = native::detached(g, ret, opts.top);
        HeapSummary {
            schema_version: SCHEMA_VERSION,
            kind: "heap_summary",
            snapshot,
            holders: holders.join().expect("holders thread panicked"),
            collections,
            duplicated_strings,
            closures,
            native,
            detached,
        }
    })
}

fn totals(g: &HeapGraph, ret: &Retention) -> Totals {
    let mut totals = Totals {
        nodes: g.node_count() as u64,
        edges: g.edge_count() as u64,
        total_bytes: 0,
        reachable_bytes: 0,
        unreachable_nodes: ret.unreachable_count() as u64,
        native_bytes: 0,
    };
    for n in g.nodes() {
        let size = g.self_size(n);
        totals.total_bytes += size;
        if ret.is_reachable(n) {
            totals.reachable_bytes += size;
        }
        if g.kind(n) == NodeKind::Native {
            totals.native_bytes += size;
        }
    }
    totals
}
