//! A set of V8 object ids: the only thing an older snapshot contributes to a diff.
//!
//! Ids are what match objects across snapshots of one process. When ids are dense
//! (the largest id is at most 64 times the number of objects, the usual case) the set
//! is a bitmap costing at most 8 bytes per object and answering in O(1); otherwise a
//! sorted `Vec<u32>` (4 bytes per object, binary search).

use crate::HeapGraph;

/// The object ids of one snapshot.
#[derive(Debug, Clone)]
pub enum IdSet {
    /// Bit `id` is set when the id is present.
    Bitmap(Vec<u64>),
    /// Sorted, de-duplicated ids.
    Sorted(Vec<u32>),
}

impl IdSet {
    /// Collects the ids of every node of `g`.
    #[must_use]
    pub fn of(g: &HeapGraph) -> Self {
        Self::from_ids(&g.node_id)
    }

    /// Builds the set from a list of ids in any order.
    #[must_use]
    pub fn from_ids(ids: &[u32]) -> Self {
        let max = ids.iter().copied().max().unwrap_or(0);
        if u64::from(max) <= 64 * ids.len() as u64 + 64 {
            let mut bits = vec![0u64; max as usize / 64 + 1];
            for &id in ids {
                bits[id as usize / 64] |= 1 << (id % 64);
            }
            Self::Bitmap(bits)
        } else {
            let mut sorted = ids.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            Self::Sorted(sorted)
        }
    }

    /// True when `id` is in the set.
    #[must_use]
    pub fn contains(&self, id: u32) -> bool {
        match self {
            Self::Bitmap(bits) => bits
                .get(id as usize / 64)
                .is_some_and(|word| word & (1 << (id % 64)) != 0),
            Self::Sorted(ids) => ids.binary_search(&id).is_ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse_sets_answer_alike() {
        let dense = IdSet::from_ids(&[1, 3, 5, 99]);
        let sparse = IdSet::from_ids(&[1, 3, 5, 4_000_000_000]);
        assert!(matches!(dense, IdSet::Bitmap(_)));
        assert!(matches!(sparse, IdSet::Sorted(_)));
        for set in [&dense, &sparse] {
            assert!(set.contains(1) && set.contains(5));
            assert!(!set.contains(2) && !set.contains(7) && !set.contains(u32::MAX));
        }
        assert!(dense.contains(99));
        assert!(sparse.contains(4_000_000_000));
    }
}
