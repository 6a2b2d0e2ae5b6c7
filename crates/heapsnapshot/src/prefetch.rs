//! Software prefetch: asks the CPU to start loading the cache line of a slice element
//! that a loop will need a few iterations later.
//!
//! The graph passes read arrays at indices that come from other arrays (a node's
//! predecessor list, its edges), so each step waits for a cache miss it could have
//! started long before. Telling the CPU where the next steps will read lets those misses
//! overlap instead of queueing one after the other.

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
