//! Snapshot bookkeeping between JS (which writes the file with `v8.writeHeapSnapshot`)
//! and [`memwatchdog_snapguard`] (which says whether it is safe to).
//!
//! [`SnapshotBook`] remembers what the next decision needs: when the last leak snapshot
//! was written (cooldown) and the previous snapshot's node count (object estimate). Pure:
//! the caller reads the machine's memory and the written file's header.

use memwatchdog_snapguard::{
    Decision, MemoryInfo, Policy, PreviousSnapshot, Refusal, Request, decide,
};

/// Which snapshot JS wants to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotKind {
    /// The one reference snapshot taken when warm-up ends.
    Baseline,
    /// A snapshot taken because a leak was declared.
    Leak,
}

/// What JS knows when it wants to write a snapshot.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotCheck {
    /// Baseline or leak.
    pub kind: SnapshotKind,
    /// Wall-clock now (ms since the epoch).
    pub now_ms: u64,
    /// V8 `used_heap_size` now.
    pub heap_used_bytes: u64,
    /// Used size of V8's large-object spaces now (0 when unknown).
    pub large_object_bytes: u64,
    /// RSS now.
    pub rss_bytes: u64,
    /// Free bytes on the snapshot directory's filesystem (for unprivileged users), if known.
    pub disk_free_bytes: Option<u64>,
}

/// The answer, with the figures for the log line.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotVerdict {
    /// `None`: write it; otherwise why not.
    pub refusal: Option<Refusal>,
    /// Estimated heap objects.
    pub objects: u64,
    /// Estimated extra peak memory while writing (bytes).
    pub memory_needed_bytes: u64,
    /// Memory available (bytes), when known.
    pub memory_available_bytes: Option<u64>,
    /// Estimated file size (bytes).
    pub file_bytes: u64,
}

/// A snapshot JS has written.
#[derive(Debug, Clone)]
pub struct SnapshotWritten {
    /// Baseline or leak.
    pub kind: SnapshotKind,
    /// Path of the file.
    pub path: String,
    /// Wall-clock time when writing finished (ms since the epoch).
    pub now_ms: u64,
    /// How long writing took (ms).
    pub duration_ms: f64,
    /// Heap used when writing started.
    pub heap_used_bytes: u64,
}

/// What the runtime reads back from a written snapshot file for the next estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrittenFile {
    /// `snapshot.node_count` from its header.
    pub node_count: u64,
    /// Its size in bytes.
    pub file_bytes: u64,
}

/// What the guard remembers between snapshots.
pub(crate) struct SnapshotBook {
    policy: Policy,
    cooldown_ms: u64,
    memory_limit_bytes: Option<u64>,
    allow_unknown_memory: bool,
    last_leak_ms: Option<u64>,
    previous: Option<PreviousSnapshot>,
}

impl SnapshotBook {
    pub(crate) fn new(
        policy: Policy,
        cooldown_ms: u64,
        memory_limit_bytes: Option<u64>,
        allow_unknown_memory: bool,
    ) -> Self {
        SnapshotBook {
            policy,
            cooldown_ms,
            memory_limit_bytes,
            allow_unknown_memory,
            last_leak_ms: None,
            previous: None,
        }
    }

    /// Decides, with the machine's `memory` as read just now.
    pub(crate) fn check(&self, c: &SnapshotCheck, memory: MemoryInfo) -> SnapshotVerdict {
        let request = Request {
            policy: self.policy,
            now_ms: c.now_ms,
            // The cooldown spaces leak snapshots; the one baseline is never held back.
            last_snapshot_ms: match c.kind {
                SnapshotKind::Leak => self.last_leak_ms,
                SnapshotKind::Baseline => None,
            },
            cooldown_ms: self.cooldown_ms,
            heap_used_bytes: c.heap_used_bytes,
            large_object_bytes: c.large_object_bytes,
            rss_bytes: c.rss_bytes,
            previous: self.previous,
            disk_free_bytes: c.disk_free_bytes,
            memory,
            memory_limit_bytes: self.memory_limit_bytes,
            allow_unknown_memory: self.allow_unknown_memory,
        };
        match decide(&request) {
            Decision::Allow(e) => SnapshotVerdict {
                refusal: None,
                objects: e.objects,
                memory_needed_bytes: e.memory_needed,
                memory_available_bytes: e.memory_available.map(|(b, _)| b),
                file_bytes: e.file_bytes,
            },
            Decision::Refuse(r) => {
                let (objects, needed, available, file) = match &r {
                    Refusal::Cooldown { .. } => (0, 0, None, 0),
                    Refusal::MemoryHeadroom {
                        estimate,
                        available,
                        ..
                    } => (
                        estimate.objects,
                        estimate.memory_needed,
                        Some(*available),
                        estimate.file_bytes,
                    ),
                    Refusal::Disk { estimate, .. } | Refusal::MemoryUnknown { estimate } => (
                        estimate.objects,
                        estimate.memory_needed,
                        estimate.memory_available.map(|(b, _)| b),
                        estimate.file_bytes,
                    ),
                };
                SnapshotVerdict {
                    refusal: Some(r),
                    objects,
                    memory_needed_bytes: needed,
                    memory_available_bytes: available,
                    file_bytes: file,
                }
            }
        }
    }

    /// Records a written snapshot: cooldown clock and, when its header could be read, its
    /// node count and size for the next estimate.
    pub(crate) fn written(&mut self, w: &SnapshotWritten, file: Option<WrittenFile>) {
        if w.kind == SnapshotKind::Leak {
            self.last_leak_ms = Some(w.now_ms);
        }
        if let Some(file) = file {
            self.previous = Some(PreviousSnapshot {
                node_count: file.node_count,
                heap_used_bytes: w.heap_used_bytes,
                file_bytes: file.file_bytes,
            });
        }
    }
}
