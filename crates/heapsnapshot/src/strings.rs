//! The snapshot's string table, stored as one text buffer plus offsets.
//!
//! A snapshot can hold millions of strings; one `String` each would cost 24 bytes of
//! header plus an allocation per string, so they share a single buffer instead.

use std::collections::HashMap;

/// Index into a [`StringTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StrIdx(pub u32);

/// All strings of a snapshot in one buffer.
#[derive(Debug, Default)]
pub struct StringTable {
    text: String,
    /// `ends[i]` is the end offset of string `i` in `text`.
    ends: Vec<u64>,
    /// Only used by [`StringTable::intern`] (graphs built by hand).
    lookup: HashMap<String, StrIdx>,
}

impl StringTable {
    /// Appends a string and returns its index (no de-duplication: snapshot order is kept).
    pub fn push(&mut self, s: &str) -> StrIdx {
        let idx = StrIdx(self.ends.len() as u32);
        self.text.push_str(s);
        self.ends.push(self.text.len() as u64);
        idx
    }

    /// Returns the index of `s`, adding it once.
    pub fn intern(&mut self, s: &str) -> StrIdx {
        if let Some(idx) = self.lookup.get(s) {
            return *idx;
        }
        let idx = self.push(s);
        self.lookup.insert(s.to_owned(), idx);
        idx
    }

    /// The string at `idx`; an out-of-range index yields `""`.
    #[must_use]
    pub fn get(&self, idx: StrIdx) -> &str {
        let i = idx.0 as usize;
        let Some(&end) = self.ends.get(i) else {
            return "";
        };
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start as usize..end as usize]
    }

    /// Number of strings.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there are no strings.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Releases spare capacity once parsing is done.
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}
