//! One observation sent by the JS side on every V8 GC event.
//!
//! The Node side registers a `perf_hooks` observer for `'gc'` entries and, in the callback, reads
//! `v8.getHeapStatistics()` (cheap) and, at most once a second, the process RSS (expensive: it reads
//! `/proc`). Each GC event becomes one [`Sample`]; `rss` is `None` when it was not read for this event.

use serde::{Deserialize, Serialize};

/// The kind of a V8 GC event, as reported by `perf_hooks` (`entry.detail.kind`).
///
/// Known values are Node's `perf_hooks.constants.NODE_PERFORMANCE_GC_*`; anything else is kept as
/// [`GcKind::Other`] so that a trace recorded by a newer Node replays unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "u32", into = "u32")]
pub enum GcKind {
    /// `NODE_PERFORMANCE_GC_MINOR` (1): a scavenge of the young generation.
    Minor,
    /// `NODE_PERFORMANCE_GC_MAJOR` (4): a full mark-compact; the heap read after it is the floor.
    Major,
    /// `NODE_PERFORMANCE_GC_INCREMENTAL` (8): incremental marking, which accompanies most majors.
    Incremental,
    /// `NODE_PERFORMANCE_GC_WEAKCB` (16): processing of weak callbacks.
    WeakCallbacks,
    /// Any other value, kept as sent.
    Other(u32),
}

impl GcKind {
    /// The numeric value used by Node and in CSV traces.
    #[must_use]
    pub const fn code(self) -> u32 {
        match self {
            Self::Minor => 1,
            Self::Major => 4,
            Self::Incremental => 8,
            Self::WeakCallbacks => 16,
            Self::Other(code) => code,
        }
    }

    /// Whether this event is a full (mark-compact) collection.
    #[must_use]
    pub const fn is_major(self) -> bool {
        matches!(self, Self::Major)
    }
}

impl From<u32> for GcKind {
    fn from(code: u32) -> Self {
        match code {
            1 => Self::Minor,
            4 => Self::Major,
            8 => Self::Incremental,
            16 => Self::WeakCallbacks,
            other => Self::Other(other),
        }
    }
}

impl From<GcKind> for u32 {
    fn from(kind: GcKind) -> Self {
        kind.code()
    }
}

/// One GC event with the memory figures read right after it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Monotonic time in milliseconds (`performance.now()`); only differences matter.
    pub t_ms: f64,
    /// What kind of collection just ended.
    pub gc_kind: GcKind,
    /// `used_heap_size`: bytes in use on the V8 heap, read in the observer callback.
    pub heap_used: u64,
    /// `total_heap_size`: bytes reserved for the V8 heap.
    pub heap_total: u64,
    /// `external_memory`: bytes of C++ memory owned by JS objects. Per Node's documentation this
    /// already includes `array_buffers`.
    pub external: u64,
    /// Bytes of `ArrayBuffer`/`SharedArrayBuffer` backing stores, including every Node `Buffer`.
    pub array_buffers: u64,
    /// Resident set size, when it was read for this event (at most once a second).
    pub rss: Option<u64>,
    /// V8's heap limit (`heap_size_limit`), when known.
    #[serde(default)]
    pub heap_limit: Option<u64>,
    /// The container's memory limit (cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`; the
    /// smallest over the process's cgroups); `None` when unlimited or unknown.
    #[serde(default)]
    pub memory_limit: Option<u64>,
}

impl Sample {
    /// A sample with only the required fields set; the others are zero / absent.
    #[must_use]
    pub const fn new(t_ms: f64, gc_kind: GcKind, heap_used: u64) -> Self {
        Self {
            t_ms,
            gc_kind,
            heap_used,
            heap_total: 0,
            external: 0,
            array_buffers: 0,
            rss: None,
            heap_limit: None,
            memory_limit: None,
        }
    }

    /// The same sample with the given limits (builder style, for tests and replays).
    #[must_use]
    pub const fn with_limits(mut self, heap_limit: Option<u64>, memory_limit: Option<u64>) -> Self {
        self.heap_limit = heap_limit;
        self.memory_limit = memory_limit;
        self
    }

    /// Off-heap memory owned by JS objects: the figure in which leaked `Buffer`s show up.
    ///
    /// Node counts `arrayBuffers` inside `external`, so the two are not added; the larger one is
    /// taken so that a trace without an `external` column still measures Buffers.
    #[must_use]
    pub const fn off_heap(&self) -> u64 {
        if self.external >= self.array_buffers {
            self.external
        } else {
            self.array_buffers
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gc_kind_round_trips_known_and_unknown_codes() {
        for code in [0, 1, 2, 4, 8, 15, 16, 32, u32::MAX] {
            assert_eq!(GcKind::from(code).code(), code);
        }
        assert!(GcKind::from(4).is_major());
        assert!(!GcKind::from(8).is_major());
        assert_eq!(GcKind::from(7), GcKind::Other(7));
    }

    #[test]
    fn off_heap_does_not_double_count_array_buffers() {
        let mut s = Sample::new(0.0, GcKind::Major, 1);
        s.external = 10;
        s.array_buffers = 8;
        assert_eq!(s.off_heap(), 10);
        s.external = 0;
        assert_eq!(s.off_heap(), 8);
    }
}
