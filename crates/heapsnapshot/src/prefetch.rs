//! Software prefetch: asks the CPU to start loading the cache line of a slice element
//! that a loop will need a few iterations later.
//!
//! The graph passes read arrays at indices that come from other arrays (a node's
//! predecessor list, its edges), so each step waits for a cache miss it could have
//! started long before. Telling the CPU where the next steps will read lets those misses
//! overlap instead of queueing one after the other.

use std::collections::VecDeque;

use crate::HeapGraph;

/// Starts loading the cache line holding `slice[i]`; does nothing when `i` is out of
/// bounds or on targets without a prefetch instruction. Never changes what a program
/// computes, only how long it waits.
#[inline]
pub(crate) fn prefetch<T>(slice: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if i < slice.len() {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let p = slice[i..].as_ptr().cast::<i8>();
        // SAFETY: `_mm_prefetch` is a hint: it never faults and never changes memory,
        // and SSE, which provides it, is part of every x86_64 CPU.
        #[allow(unsafe_code)]
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(p);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (slice, i);
}

/// How many places ahead in a breadth-first search's queue a node's edge offset starts
/// loading; its first edges start loading half as far ahead, once that offset is cached.
const QUEUE_AHEAD: usize = 16;

/// The queued nodes whose reads [`queue_ahead`] started.
pub(crate) struct Ahead {
    /// The node [`QUEUE_AHEAD`] places ahead, whose edge offset is loading.
    pub(crate) far: Option<u32>,
    /// The first edge of the node half as far ahead, which is loading.
    pub(crate) first_edge: Option<usize>,
}

/// For a breadth-first search over `g` whose next nodes are `queue`: starts loading
/// where the edges of the nodes a few places ahead are, then those edges. Callers that
/// read more of these nodes (or edges) prefetch that too, from what this returns.
pub(crate) fn queue_ahead(g: &HeapGraph, queue: &VecDeque<u32>) -> Ahead {
    let far = queue.get(QUEUE_AHEAD).copied();
    if let Some(n) = far {
        prefetch(&g.first_edge, n as usize);
    }
    let first_edge = queue.get(QUEUE_AHEAD / 2).map(|&n| {
        let first = g.first_edge[n as usize] as usize;
        prefetch(&g.edge_end, first);
        first
    });
    Ahead { far, first_edge }
}
