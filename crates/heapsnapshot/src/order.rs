//! Which of several snapshots of one process was taken first, told by their contents.
//!
//! V8's heap profiler gives an object its id the first time a snapshot (or allocation
//! tracking) sees it, from a counter that only grows, and the object keeps that id for
//! life. So every object first seen after snapshot `A` has a larger id than any object
//! in `A`, and a later snapshot `B` — which always holds some such object (writing a
//! snapshot alone allocates) — has a larger *newest object id* than `A`. Argument order
//! is then irrelevant: sorting by that id puts snapshots of one process oldest first.
//!
//! Native and synthetic nodes do not count: Node 20 numbers some of them by hashes of
//! their addresses (`917114496`, even numbers), not by the counter.
//!
//! ```
//! use memwatchdog_heapsnapshot::{GraphBuilder, NodeKind, chronological, newest_object_id};
//! let snapshot = |ids: &[u32]| {
//!     let mut b = GraphBuilder::default();
//!     for &id in ids {
//!         b.node_with_id(NodeKind::Object, "Foo", 16, id);
//!     }
//!     b.build()
//! };
//! let (old, new) = (snapshot(&[1, 3, 5]), snapshot(&[3, 5, 9]));
//! let newest = [newest_object_id(&new), newest_object_id(&old)];
//! assert_eq!(chronological(&newest), [1, 0]); // given newest first: the second is older
//! ```

use crate::{HeapGraph, NodeKind};

/// The largest id of a heap object in `g` (native and synthetic nodes left out, see the
/// module docs); 0 when there is none.
#[must_use]
pub fn newest_object_id(g: &HeapGraph) -> u32 {
    g.node_id
        .iter()
        .zip(&g.node_kind)
        .filter(|(_, kind)| !matches!(kind, NodeKind::Native | NodeKind::Synthetic))
        .map(|(&id, _)| id)
        .max()
        .unwrap_or(0)
}

/// The indices of snapshots oldest first, given each one's [`newest_object_id`]. Ties
/// (snapshots with no object the other lacks) keep the order given.
#[must_use]
pub fn chronological(newest_ids: &[u32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..newest_ids.len()).collect();
    order.sort_by_key(|&i| newest_ids[i]);
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GraphBuilder;

    #[test]
    fn native_and_synthetic_ids_do_not_count() {
        let mut b = GraphBuilder::default();
        b.node_with_id(NodeKind::Synthetic, "(GC roots)", 0, 917_114_496);
        b.node_with_id(NodeKind::Object, "Session", 32, 80_487);
        b.node_with_id(NodeKind::Native, "Node / BindingData", 96, 931_099_808);
        b.node_with_id(NodeKind::String, "req-1", 24, 77_001);
        assert_eq!(newest_object_id(&b.build()), 80_487);
        assert_eq!(newest_object_id(&GraphBuilder::default().build()), 0);
    }

    #[test]
    fn any_permutation_comes_out_oldest_first_and_ties_keep_their_place() {
        assert_eq!(chronological(&[900, 100, 500]), [1, 2, 0]);
        assert_eq!(chronological(&[100, 500, 900]), [0, 1, 2]);
        assert_eq!(chronological(&[500, 500, 100]), [2, 0, 1]);
        assert_eq!(chronological(&[]), Vec::<usize>::new());
    }
}
