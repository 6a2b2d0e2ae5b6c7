//! How many entries a `Map`'s or `Set`'s hash table holds, read from its size and its edges.
//!
//! V8 keeps a `Map`'s entries in an `OrderedHashMap` (a `Set`'s in an `OrderedHashSet`):
//! one array of pointer-sized slots — map and length, then 3 counters, `B` buckets (a power
//! of two), then `2B` entries of 3 slots (key, value, chain) or 2 slots (key, chain). The
//! snapshot writes the table as one node whose size is the array's, with an `internal` edge
//! named by slot number to every key and value that is a heap object (small integers are
//! not objects and have no edge). So the size tells `B` and the entry width, and the slot
//! numbers of the edges tell which entries are in use:
//!
//! ```text
//! size = pointer * (2 + 3 + B + 2B * width)      first entry at slot 3 + B
//! ```
//!
//! A `WeakMap`'s or `WeakSet`'s table (an `EphemeronHashTable`) has 3 counters, then
//! (key, value) pairs; the snapshot writes a `weak` edge, named by slot number, to each
//! key and value.

/// Where the entries of an ordered hash table start and how wide they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TableLayout {
    /// Slots per entry: 3 for a `Map`, 2 for a `Set`.
    pub(super) width: u64,
    /// Slot of the first entry: 3 + the bucket count.
    pub(super) first: u64,
}

/// The layout of an `OrderedHashMap`/`OrderedHashSet` of `self_size` bytes, trying 8-byte
/// and then 4-byte (compressed) pointers; `None` when no layout fits.
#[must_use]
pub(super) fn ordered_table_layout(self_size: u64) -> Option<TableLayout> {
    for pointer in [8, 4] {
        if self_size % pointer != 0 || self_size / pointer < 5 {
            continue;
        }
        let after_counters = self_size / pointer - 2 - 3;
        for width in [3, 2] {
            let per_bucket = 1 + 2 * width;
            if after_counters % per_bucket == 0 {
                let buckets = after_counters / per_bucket;
                if buckets.is_power_of_two() {
                    return Some(TableLayout {
                        width,
                        first: 3 + buckets,
                    });
                }
            }
        }
    }
    None
}

/// The number of entries that the edges to slots `slots` belong to.
#[must_use]
pub(super) fn entries_in_use(layout: TableLayout, slots: impl Iterator<Item = u64>) -> u64 {
    let mut entries: Vec<u64> = slots
        .filter(|&slot| slot >= layout.first)
        .map(|slot| (slot - layout.first) / layout.width)
        .collect();
    entries.sort_unstable();
    entries.dedup();
    entries.len() as u64
}

/// The layout of an `EphemeronHashTable`: 3 counters, then (key, value) pairs.
pub(super) const EPHEMERON_LAYOUT: TableLayout = TableLayout { width: 2, first: 3 };

#[cfg(test)]
mod tests {
    use super::*;

    /// Sizes and slots from real Node 20 snapshots (a `Map` of 50 string keys, a `Set` of
    /// 40 objects, a `Map` of 30 small-integer keys).
    #[test]
    fn real_tables_decode() {
        let map = ordered_table_layout(1832).unwrap();
        assert_eq!(
            map,
            TableLayout {
                width: 3,
                first: 35
            }
        );
        let string_keys = (0..50).flat_map(|i| [35 + 3 * i, 36 + 3 * i]);
        assert_eq!(entries_in_use(map, string_keys), 50);
        let set = ordered_table_layout(1320).unwrap();
        assert_eq!(
            set,
            TableLayout {
                width: 2,
                first: 35
            }
        );
        assert_eq!(entries_in_use(set, (0..40).map(|i| 35 + 2 * i)), 40);
        let int_keys = ordered_table_layout(936).unwrap();
        assert_eq!(
            int_keys,
            TableLayout {
                width: 3,
                first: 19
            }
        );
        assert_eq!(entries_in_use(int_keys, (0..30).map(|i| 20 + 3 * i)), 30);
    }

    #[test]
    fn compressed_pointers_and_sizes_that_fit_nothing() {
        // 4-byte slots: 2 + 3 + 4 buckets + 8 entries of 3.
        let size = 4 * (2 + 3 + 4 + 8 * 3);
        assert_eq!(
            ordered_table_layout(size),
            Some(TableLayout { width: 3, first: 7 })
        );
        assert_eq!(ordered_table_layout(8 * 100), None);
        assert_eq!(ordered_table_layout(12), None);
    }

    #[test]
    fn deleted_entries_and_counters_do_not_count() {
        let map = TableLayout {
            width: 3,
            first: 35,
        };
        // Entries 0 and 2 are deleted (no edges); slots below the entries are buckets.
        assert_eq!(entries_in_use(map, [4, 38, 39, 44, 47].into_iter()), 3);
        assert_eq!(
            entries_in_use(EPHEMERON_LAYOUT, [5, 6, 7, 8, 9].into_iter()),
            3
        );
    }
}
