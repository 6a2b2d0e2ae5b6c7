//! The string-table indices to keep: one bit each up to a bound that a V8 string table
//! cannot exceed (the table holds only strings some node, edge or trace function names,
//! plus `<dummy>`), and a hash set above it, so a corrupt index cannot make the set reserve
//! gigabytes.

use std::collections::HashSet;

/// A set of string-table indices. See the module docs.
#[derive(Debug, Default)]
pub(crate) struct Kept {
    words: Vec<u64>,
    /// Indices below this go to `words` (grown on demand), the rest to `sparse`.
    dense_limit: u64,
    sparse: HashSet<u64>,
}

impl Kept {
    /// A set whose bitmap grows up to `dense_limit` bits.
    pub(crate) fn new(dense_limit: u64) -> Self {
        Self {
            words: Vec::new(),
            dense_limit,
            sparse: HashSet::new(),
        }
    }

    /// Adds `i`.
    #[inline]
    pub(crate) fn insert(&mut self, i: u64) {
        if i >= self.dense_limit {
            self.sparse.insert(i);
            return;
        }
        let w = (i / 64) as usize;
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        self.words[w] |= 1 << (i % 64);
    }

    /// True when `i` is present.
    pub(crate) fn contains(&self, i: u64) -> bool {
        if i >= self.dense_limit {
            return self.sparse.contains(&i);
        }
        self.words
            .get((i / 64) as usize)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse_indices() {
        let mut k = Kept::new(100);
        for i in [0, 63, 64, 99, 100, 5_000_000_000] {
            assert!(!k.contains(i));
            k.insert(i);
            assert!(k.contains(i));
        }
        assert!(!k.contains(1) && !k.contains(101));
        assert_eq!(k.words.len(), 2);
        assert_eq!(k.sparse.len(), 2);
    }
}
