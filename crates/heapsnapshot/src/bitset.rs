//! A fixed-size set of small integers, one bit each: flags over millions of nodes or
//! edges (essential edges, page-owned nodes, reachability) at 1/8 byte per item.

/// One bit per index in `0..len`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    /// An empty set able to hold indices `0..len`.
    pub(crate) fn new(len: usize) -> Self {
        Self {
            words: vec![0; len.div_ceil(64)],
        }
    }

    /// Adds `i`; returns `true` when it was not present.
    pub(crate) fn insert(&mut self, i: usize) -> bool {
        let (w, b) = (i / 64, 1u64 << (i % 64));
        let fresh = self.words[w] & b == 0;
        self.words[w] |= b;
        fresh
    }

    /// True when `i` is present.
    #[inline]
    pub(crate) fn contains(&self, i: usize) -> bool {
        self.words[i / 64] & (1u64 << (i % 64)) != 0
    }

    /// Starts loading the word holding `i` (see [`crate::prefetch`]).
    #[inline]
    pub(crate) fn prefetch(&self, i: usize) {
        crate::prefetch::prefetch(&self.words, i / 64);
    }

    /// Adds every index of `other`, a set of the same size.
    pub(crate) fn union_with(&mut self, other: &BitSet) {
        debug_assert_eq!(self.words.len(), other.words.len());
        for (word, more) in self.words.iter_mut().zip(&other.words) {
            *word |= more;
        }
    }

    /// Number of indices present.
    pub(crate) fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::BitSet;

    #[test]
    fn insert_contains_count() {
        let mut s = BitSet::new(130);
        assert!(!s.contains(0));
        assert!(s.insert(0));
        assert!(!s.insert(0));
        assert!(s.insert(64));
        assert!(s.insert(129));
        assert!(s.contains(64) && s.contains(129) && !s.contains(128));
        assert_eq!(s.count(), 3);
        let mut t = BitSet::new(130);
        t.insert(1);
        t.insert(129);
        s.union_with(&t);
        assert!(s.contains(1) && s.contains(129));
        assert_eq!(s.count(), 4);
    }
}
