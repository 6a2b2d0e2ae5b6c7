//! How many heap objects a snapshot will hold, and what that costs.
//!
//! The memory V8 needs while writing a snapshot follows the number of heap objects (graph
//! nodes): it keeps per-node and per-edge records, an address-to-id map and hash maps while
//! serializing. It also copies the text of every string (up to 1024 characters each), so a
//! heap of strings costs about its own size on top. Measured on Node 20, 22 and 24 by
//! `bench/snapshot-cost.mjs` (docs/benchmarks-snapshot-cost.md), peak extra RSS is
//!
//! > fixed + objects × per object + (heap used − large-object spaces) × per heap byte
//!
//! times [`Policy::safety`]. The object count is:
//!
//! - the previous snapshot's `node_count` from this process, scaled by how much the heap
//!   grew since (a leak adds objects at roughly the heap's own average size), or
//! - `(heap_used − large_object_bytes) / heap_bytes_per_object` plus one object per 128 KiB
//!   of the large-object spaces when there is no previous snapshot. Objects in V8's
//!   large-object spaces are at least 128 KiB each, and the snapshot copies at most 1 KiB of
//!   a string, so they cost next to nothing.

/// Objects in V8's large-object spaces are larger than this (`kMaxRegularHeapObjectSize`).
const LARGE_OBJECT_MIN_BYTES: u64 = 128 << 10;

/// Tunables of the estimate. The defaults are fitted to measurements (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Bytes of JS heap per snapshot node used when there is no previous snapshot.
    ///
    /// Default 40: heaps of small objects measure 45–50 B per node (1 M `{a, b}` objects),
    /// service-like heaps of records, Maps, Sets, Dates, short strings and closures 45–50,
    /// heaps of 100 B–1 KiB strings 300–600. A smaller divisor means more objects and a
    /// higher, safer cost estimate.
    pub heap_bytes_per_object: u64,
    /// Extra peak memory per node while writing. Default 336: with the two terms below, the
    /// lowest line above every measured case (Node 20, 22, 24; 30 MB–1 GB heaps of small
    /// objects, service-like records, strings and large objects), touching it at Node 20's
    /// 291 MB service-like heap (6.6 M objects, +2.55 GB). Measured per node: 265–321 B
    /// for small objects, 350–389 B for service-like heaps.
    pub snapshot_bytes_per_object: u64,
    /// Extra peak memory per byte of heap outside the large-object spaces (string text the
    /// snapshot copies). Default 1.2: a 988 MB heap of 100 B–1 KiB
    /// strings (1.7 M objects) raised peak RSS by 1.75 GB on Node 20.
    pub snapshot_bytes_per_heap_byte: f64,
    /// Extra peak memory whatever the heap (buffers, the writer's own structures).
    /// Default 16 MiB: a heap of 1 MB strings and arrays (~50–65 k objects, most of them
    /// Node's own) needed 25–40 MB whatever its size.
    pub snapshot_fixed_bytes: u64,
    /// Bytes of `.heapsnapshot` file per node. Default 110: measured 70–110 (plus the text
    /// of strings, below).
    pub file_bytes_per_object: u64,
    /// Bytes of `.heapsnapshot` file per byte of heap outside the large-object spaces: the
    /// file holds the text of every string (up to 1 KiB each). Default 1.0: a heap of
    /// 100 B–1 KiB strings wrote 1.09 bytes of file per heap byte, 0.6 of it per node.
    pub file_bytes_per_heap_byte: f64,
    /// Multiplier applied to the memory and disk estimates. Default 1.1: the formula above
    /// meets the worst measured case exactly, and repeated runs differ by up to 3 %.
    pub safety: f64,
    /// Free disk space to leave after the file is written. Default 64 MiB.
    pub disk_reserve_bytes: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            heap_bytes_per_object: 40,
            snapshot_bytes_per_object: 336,
            snapshot_bytes_per_heap_byte: 1.2,
            snapshot_fixed_bytes: 16 << 20,
            file_bytes_per_object: 110,
            file_bytes_per_heap_byte: 1.0,
            safety: 1.1,
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
    /// Its file size (0 when unknown). It holds what the heap sizes do not show: strings
    /// that JSON escapes grow up to six-fold in the file (`\u0001` for one byte).
    pub file_bytes: u64,
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
///
/// `large_object_bytes` is the used size of V8's large-object spaces (0 when unknown,
/// which counts them as small objects: safe, only higher).
#[must_use]
pub fn estimate_objects(
    heap_used_bytes: u64,
    large_object_bytes: u64,
    previous: Option<PreviousSnapshot>,
    policy: &Policy,
) -> (u64, ObjectSource) {
    match previous {
        Some(prev) if prev.node_count > 0 && prev.heap_used_bytes > 0 => {
            // A heap twice as big has about twice the objects.
            let scale = heap_used_bytes as f64 / prev.heap_used_bytes as f64;
            let scaled = (prev.node_count as f64 * scale).ceil() as u64;
            (scaled.max(1), ObjectSource::PreviousSnapshot)
        }
        _ => {
            let large = large_object_bytes.min(heap_used_bytes);
            let small = (heap_used_bytes - large) / policy.heap_bytes_per_object.max(1);
            (
                (small + large.div_ceil(LARGE_OBJECT_MIN_BYTES)).max(1),
                ObjectSource::HeapSize,
            )
        }
    }
}

/// Extra peak memory while writing a snapshot of `objects` objects, without the safety
/// factor. `small_heap_bytes` is the heap used outside the large-object spaces.
#[must_use]
pub fn snapshot_memory(objects: u64, small_heap_bytes: u64, policy: &Policy) -> f64 {
    policy.snapshot_fixed_bytes as f64
        + objects as f64 * policy.snapshot_bytes_per_object as f64
        + small_heap_bytes as f64 * policy.snapshot_bytes_per_heap_byte.max(0.0)
}

/// Expected `.heapsnapshot` file size, without the safety factor: from the object count
/// and the heap outside the large-object spaces, or the previous snapshot's file scaled by
/// heap growth when that is larger (its strings escaped more than the formula assumes).
#[must_use]
pub fn snapshot_file_bytes(
    objects: u64,
    small_heap_bytes: u64,
    heap_used_bytes: u64,
    previous: Option<PreviousSnapshot>,
    policy: &Policy,
) -> f64 {
    let formula = objects as f64 * policy.file_bytes_per_object as f64
        + small_heap_bytes as f64 * policy.file_bytes_per_heap_byte.max(0.0);
    let scaled = previous
        .filter(|prev| prev.heap_used_bytes > 0)
        .map_or(0.0, |prev| {
            prev.file_bytes as f64 * heap_used_bytes as f64 / prev.heap_used_bytes as f64
        });
    formula.max(scaled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_heap_size() {
        let p = Policy::default();
        assert_eq!(
            estimate_objects(400, 0, None, &p),
            (10, ObjectSource::HeapSize)
        );
        assert_eq!(estimate_objects(0, 0, None, &p).0, 1);
    }

    #[test]
    fn scaled_from_previous() {
        let p = Policy::default();
        let prev = PreviousSnapshot {
            node_count: 1_000_000,
            heap_used_bytes: 100 << 20,
            file_bytes: 0,
        };
        assert_eq!(
            estimate_objects(200 << 20, 0, Some(prev), &p),
            (2_000_000, ObjectSource::PreviousSnapshot)
        );
        // A useless previous record falls back to the heap size.
        let empty = PreviousSnapshot {
            node_count: 0,
            heap_used_bytes: 1,
            file_bytes: 0,
        };
        assert_eq!(
            estimate_objects(4000, 0, Some(empty), &p).1,
            ObjectSource::HeapSize
        );
    }

    #[test]
    fn large_object_spaces_hold_few_objects() {
        let p = Policy::default();
        // 1 GB of 1 MB strings and arrays plus 4 MB of small objects.
        let heap = 1_004_000_000;
        let large = 1_000_000_000;
        assert_eq!(
            estimate_objects(heap, large, None, &p),
            (100_000 + 7630, ObjectSource::HeapSize)
        );
        // A large-object figure above the heap (racy reads) counts the heap as large.
        assert_eq!(estimate_objects(1 << 20, 2 << 20, None, &p).0, 8);
        // With a previous snapshot its count is what scales.
        let prev = PreviousSnapshot {
            node_count: 50_000,
            heap_used_bytes: heap,
            file_bytes: 0,
        };
        assert_eq!(estimate_objects(heap, large, Some(prev), &p).0, 50_000);
    }
}
