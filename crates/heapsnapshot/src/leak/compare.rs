//! Per-constructor comparison of two snapshots, like DevTools' Comparison view.
//!
//! For every class: how many objects are new in the newer snapshot (their id is not in
//! the older one), how many of the older snapshot's objects are gone, and their bytes.
//! Also the snapshot totals and the native (outside the JS heap) bytes.

use std::collections::HashMap;

use super::report::{ConstructorDelta, NativeGrowth, SnapshotStats};
use crate::class::kind_class;
use crate::{HeapGraph, IdSet, NodeIdx, NodeKind};

/// Sums shallow sizes of `g`, in total and for native nodes.
#[must_use]
pub fn snapshot_stats(g: &HeapGraph) -> SnapshotStats {
    let mut stats = SnapshotStats {
        given: 0,
        nodes: g.node_count() as u64,
        edges: g.edge_count() as u64,
        total_bytes: 0,
        native_bytes: 0,
    };
    for n in g.nodes() {
        let size = g.self_size(n);
        stats.total_bytes += size;
        if g.kind(n) == NodeKind::Native {
            stats.native_bytes += size;
        }
    }
    stats
}

/// The comparison rows, largest absolute byte change first.
#[derive(Debug, Default)]
pub struct Comparison {
    /// One row per class present in either snapshot with any change.
    pub rows: Vec<ConstructorDelta>,
    /// Which rows are native classes.
    native: Vec<bool>,
}

impl Comparison {
    /// Compares `newer` against `older`; `*_ids` are the snapshots' id sets.
    #[must_use]
    pub fn compute(
        older: &HeapGraph,
        older_ids: &IdSet,
        newer: &HeapGraph,
        newer_ids: &IdSet,
    ) -> Self {
        let mut table = ClassTable::default();
        let mut slots = SlotCache::new(newer);
        for n in newer.nodes() {
            if !older_ids.contains(newer.id(n)) {
                let row = slots.row(&mut table, newer, n);
                row.new_count += 1;
                row.alloc_bytes += newer.self_size(n);
            }
        }
        let mut slots = SlotCache::new(older);
        for n in older.nodes() {
            if !newer_ids.contains(older.id(n)) {
                let row = slots.row(&mut table, older, n);
                row.deleted_count += 1;
                row.freed_bytes += older.self_size(n);
            }
        }
        let mut pairs: Vec<(ConstructorDelta, bool)> = table
            .rows
            .into_iter()
            .map(|mut row| {
                row.delta_count = row.new_count as i64 - row.deleted_count as i64;
                row.delta_bytes = row.alloc_bytes as i64 - row.freed_bytes as i64;
                row
            })
            .zip(table.native)
            .filter(|(row, _)| row.new_count + row.deleted_count > 0)
            .collect();
        pairs.sort_by(|(a, _), (b, _)| {
            b.delta_bytes
                .unsigned_abs()
                .cmp(&a.delta_bytes.unsigned_abs())
                .then_with(|| a.class_name.cmp(&b.class_name))
        });
        let (rows, native) = pairs.into_iter().unzip();
        Self { rows, native }
    }

    /// The `top` rows overall and the `top` native rows that changed.
    #[must_use]
    pub fn top_rows(self, top: usize) -> (Vec<ConstructorDelta>, Vec<ConstructorDelta>) {
        let native = self
            .rows
            .iter()
            .zip(&self.native)
            .filter(|(row, native)| **native && row.delta_bytes != 0)
            .map(|(row, _)| row.clone())
            .take(top)
            .collect();
        let mut rows = self.rows;
        rows.truncate(top);
        (rows, native)
    }

    /// The native-memory summary: totals from the stats, and the native rows.
    #[must_use]
    pub fn native_growth(
        rows: &[ConstructorDelta],
        older: &SnapshotStats,
        newer: &SnapshotStats,
    ) -> NativeGrowth {
        NativeGrowth {
            base_bytes: older.native_bytes,
            newest_bytes: newer.native_bytes,
            delta_bytes: newer.native_bytes as i64 - older.native_bytes as i64,
            classes: rows.to_vec(),
        }
    }
}

/// Rows keyed by class name, shared by both snapshots.
#[derive(Default)]
struct ClassTable {
    rows: Vec<ConstructorDelta>,
    native: Vec<bool>,
    by_name: HashMap<String, usize>,
}

impl ClassTable {
    fn row_index(&mut self, name: &str, native: bool) -> usize {
        if let Some(&row) = self.by_name.get(name) {
            return row;
        }
        let row = self.rows.len();
        self.by_name.insert(name.to_owned(), row);
        self.rows.push(ConstructorDelta {
            class_name: name.to_owned(),
            new_count: 0,
            deleted_count: 0,
            delta_count: 0,
            alloc_bytes: 0,
            freed_bytes: 0,
            delta_bytes: 0,
        });
        self.native.push(native);
        row
    }
}

/// Maps one graph's nodes to table rows without hashing a string per node: objects and
/// native nodes are cached by name index, every other kind has one row.
struct SlotCache {
    by_name: Vec<u32>,
    by_kind: HashMap<NodeKind, usize>,
}

const NO_SLOT: u32 = u32::MAX;

impl SlotCache {
    fn new(g: &HeapGraph) -> Self {
        Self {
            by_name: vec![NO_SLOT; g.strings.len()],
            by_kind: HashMap::new(),
        }
    }

    fn row<'t>(
        &mut self,
        table: &'t mut ClassTable,
        g: &HeapGraph,
        n: NodeIdx,
    ) -> &'t mut ConstructorDelta {
        let kind = g.kind(n);
        let row = if matches!(kind, NodeKind::Object | NodeKind::Native) {
            let slot = &mut self.by_name[g.node_name[n.ix()].0 as usize];
            if *slot == NO_SLOT {
                *slot = table.row_index(g.name(n), kind == NodeKind::Native) as u32;
            }
            *slot as usize
        } else {
            *self
                .by_kind
                .entry(kind)
                .or_insert_with(|| table.row_index(kind_class(kind), false))
        };
        &mut table.rows[row]
    }
}
