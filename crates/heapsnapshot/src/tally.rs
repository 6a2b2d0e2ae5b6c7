//! Counts and bytes per class of a set of objects: the "holds" line of a report row, what
//! a group keeps alive besides itself.
//!
//! Objects and native objects are told apart by their name's string index and every other
//! kind by the kind alone, so adding an object costs a hash of one integer, not a string —
//! with a multiply-and-shift hash rather than the default `SipHash`: a heap summary tallies
//! millions of objects, and `SipHash` made that the slowest step.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::class::kind_class;
use crate::leak::report::ClassBytes;
use crate::{HeapGraph, NodeIdx, NodeKind, StrIdx};

/// Count and bytes per class, keyed by [`class_key`].
#[derive(Debug, Default)]
pub(crate) struct ClassTally {
    by_class: HashMap<u64, (u64, u64), BuildHasherDefault<IntHasher>>,
}

/// One integer per class: the kind in the high half, the name's string index in the low
/// half for objects and native objects.
fn class_key(g: &HeapGraph, n: NodeIdx) -> u64 {
    let kind = g.kind(n);
    let name = match kind {
        NodeKind::Object | NodeKind::Native => g.node_name[n.ix()].0,
        _ => 0,
    };
    u64::from(kind as u8) << 32 | u64::from(name)
}

impl ClassTally {
    /// Counts `n` and its shallow size under its class.
    pub(crate) fn add(&mut self, g: &HeapGraph, n: NodeIdx) {
        let entry = self.by_class.entry(class_key(g, n)).or_default();
        entry.0 += 1;
        entry.1 += g.self_size(n);
    }

    /// The `k` classes with the most bytes, largest first (ties by name).
    pub(crate) fn top(&self, g: &HeapGraph, k: usize) -> Vec<ClassBytes> {
        let mut rows: Vec<ClassBytes> = self
            .by_class
            .iter()
            .map(|(&key, &(count, bytes))| ClassBytes {
                class_name: match NodeKind::ALL[(key >> 32) as usize] {
                    NodeKind::Object | NodeKind::Native => {
                        g.strings.get(StrIdx(key as u32)).to_owned()
                    }
                    kind => kind_class(kind).to_owned(),
                },
                count,
                bytes,
            })
            .collect();
        rows.sort_by(|a, b| {
            b.bytes
                .cmp(&a.bytes)
                .then_with(|| a.class_name.cmp(&b.class_name))
        });
        rows.truncate(k);
        rows
    }
}

/// A hasher for one integer key: a multiply and a shift (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, x: u64) {
        let h = (self.0 ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 29);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GraphBuilder;

    #[test]
    fn objects_by_constructor_others_by_kind_largest_first() {
        let mut b = GraphBuilder::default();
        let nodes = [
            b.node(NodeKind::Object, "Session", 40),
            b.node(NodeKind::Object, "Session", 40),
            b.node(NodeKind::String, "a", 100),
            b.node(NodeKind::String, "b", 20),
            b.node(NodeKind::Object, "Other", 8),
        ];
        let g = b.build();
        let mut tally = ClassTally::default();
        for &n in &nodes {
            tally.add(&g, n);
        }
        let top: Vec<(String, u64, u64)> = tally
            .top(&g, 2)
            .into_iter()
            .map(|c| (c.class_name, c.count, c.bytes))
            .collect();
        assert_eq!(
            top,
            [("(string)".into(), 2, 120), ("Session".into(), 2, 80)]
        );
    }
}
