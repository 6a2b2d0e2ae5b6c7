//! How many heap objects a snapshot will hold, and what that costs.
//!
//! The cost of writing a snapshot follows the number of heap objects (graph nodes), not
//! the heap's byte size: V8 keeps per-node and per-edge records plus hash maps while
//! serializing. So the estimate starts from the object count:
//!
//! - the previous snapshot's `node_count` from this process, scaled by how much the heap
//!   grew since (a leak adds objects at roughly the heap's own average size), or
//! - `heap_used / heap_bytes_per_object` when there is no previous snapshot.

/// Tunables of the estimate. The defaults are measured figures with a margin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Bytes of JS heap per snapshot node used when there is no previous snapshot.
    ///
    /// Default 40: heaps of small objects measured 32–44 B per node on Node 20 and 22
    /// (1 M `{a: i}` objects: 43.6; 200 k concatenated strings: 32.3); ordinary service
    /// heaps measure 60–200. A smaller divisor means more objects and a higher, safer
    /// cost estimate.
    pub heap_bytes_per_object: u64,
    /// Extra peak memory per node while writing. Default 1450: heaps of 1 M, 3 M and 8 M
    /// small objects raised peak RSS by 1.37–1.44 kB per node on Node 20 and 22 here
    /// (8 M objects, 338 MB heap: +11.6 GB); an earlier measurement of a 300 MB heap of
    /// 8 M objects saw +4.3 GB (~540 B per node). The default takes the worst seen.
    pub snapshot_bytes_per_object: u64,
    /// Bytes of `.heapsnapshot` file per node. Default 110: measured 67–103.
    pub file_bytes_per_object: u64,
    /// Multiplier applied to the memory and disk estimates. Default 1.25 (the per-node
    /// figures above are already worst cases; the heap-size object count overestimates
    /// ordinary heaps, whose objects average 60–200 B).
    pub safety: f64,
    /// Free disk space to leave after the file is written. Default 64 MiB.
    pub disk_reserve_bytes: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            heap_bytes_per_object: 40,
            snapshot_bytes_per_object: 1450,
            file_bytes_per_object: 110,
            safety: 1.25,
            disk_reserve_bytes: 64 << 20,
        }
    }
}

/// What is known about the last snapshot this process wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviousSnapshot {
    /// `snapshot.node_count` from its header.
    pub node_count: u64,
    /// V8 `used_heap_size` when it was written.
    pub heap_used_bytes: u64,
}

/// Where an object count came from (reported in log lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectSource {
    /// Scaled from the previous snapshot's node count.
    PreviousSnapshot,
    /// Heap bytes divided by [`Policy::heap_bytes_per_object`].
    HeapSize,
}

impl ObjectSource {
    /// Short text for log lines.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            ObjectSource::PreviousSnapshot => "scaled from the previous snapshot",
            ObjectSource::HeapSize => "estimated from heap size",
        }
    }
}

/// Estimated number of heap objects a snapshot taken now would hold.
#[must_use]
pub fn estimate_objects(
    heap_used_bytes: u64,
    previous: Option<PreviousSnapshot>,
    policy: &Policy,
) -> (u64, ObjectSource) {
    match previous {
        Some(prev) if prev.node_count > 0 && prev.heap_used_bytes > 0 => {
            let scale = heap_used_bytes as f64 / prev.heap_used_bytes as f64;
            // Never assume fewer objects than the heap-size floor would for a shrunken
            // heap; a heap twice as big has about twice the objects.
            let scaled = (prev.node_count as f64 * scale).ceil() as u64;
            (scaled.max(1), ObjectSource::PreviousSnapshot)
        }
        _ => (
            (heap_used_bytes / policy.heap_bytes_per_object.max(1)).max(1),
            ObjectSource::HeapSize,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_heap_size() {
        let p = Policy::default();
        assert_eq!(
            estimate_objects(400, None, &p),
            (10, ObjectSource::HeapSize)
        );
        assert_eq!(estimate_objects(0, None, &p).0, 1);
    }

    #[test]
    fn scaled_from_previous() {
        let p = Policy::default();
        let prev = PreviousSnapshot {
            node_count: 1_000_000,
            heap_used_bytes: 100 << 20,
        };
        assert_eq!(
            estimate_objects(200 << 20, Some(prev), &p),
            (2_000_000, ObjectSource::PreviousSnapshot)
        );
        // A useless previous record falls back to the heap size.
        let empty = PreviousSnapshot {
            node_count: 0,
            heap_used_bytes: 1,
        };
        assert_eq!(
            estimate_objects(4000, Some(empty), &p).1,
            ObjectSource::HeapSize
        );
    }
}
