//! Snapshot bookkeeping between JS (which writes the file with `v8.writeHeapSnapshot`)
//! and [`memwatchdog_snapguard`] (which says whether it is safe to).
//!
//! [`SnapshotBook`] remembers what the next decision needs: when the last leak snapshot
//! was written (cooldown) and the previous snapshot's node count (object estimate).

use std::path::Path;

use memwatchdog_snapguard::system::{read_memory_info, read_snapshot_counts};
use memwatchdog_snapguard::{Decision, HumanBytes, Policy, PreviousSnapshot, Request, decide};
use napi_derive::napi;

use crate::options::bytes;

/// What JS knows when it wants to write a snapshot.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct SnapshotCheck {
    /// `baseline` or `leak`.
    pub kind: String,
    /// Wall-clock now (ms since the epoch).
    pub now_ms: f64,
    /// V8 `used_heap_size` now.
    pub heap_used_bytes: f64,
    /// RSS now.
    pub rss_bytes: f64,
    /// Free bytes on the snapshot directory's filesystem (for unprivileged users); absent
    /// if unknown.
    pub disk_free_bytes: Option<f64>,
}

/// The answer, with the figures for the log line.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct SnapshotVerdict {
    /// Whether to write.
    pub allowed: bool,
    /// Metric label of the refusal (`cooldown`, `memory_headroom`, `disk`); absent when allowed.
    pub reason: Option<String>,
    /// One-line explanation of the refusal; absent when allowed.
    pub message: Option<String>,
    /// Estimated heap objects.
    pub objects: f64,
    /// Estimated extra peak memory while writing (bytes).
    pub memory_needed_bytes: f64,
    /// Memory available (bytes), when known.
    pub memory_available_bytes: Option<f64>,
    /// Estimated file size (bytes).
    pub file_bytes: f64,
}

/// A snapshot JS has written.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct SnapshotWritten {
    /// `baseline` or `leak`.
    pub kind: String,
    /// Path of the file.
    pub path: String,
    /// Wall-clock time when writing finished (ms since the epoch).
    pub now_ms: f64,
    /// How long writing took (ms).
    pub duration_ms: f64,
    /// Heap used when writing started.
    pub heap_used_bytes: f64,
}

/// What the guard remembers between snapshots.
pub(crate) struct SnapshotBook {
    policy: Policy,
    cooldown_ms: u64,
    memory_limit_bytes: Option<u64>,
    system_root: String,
    last_leak_ms: Option<u64>,
    previous: Option<PreviousSnapshot>,
}

impl SnapshotBook {
    pub(crate) fn new(
        policy: Policy,
        cooldown_ms: u64,
        memory_limit_bytes: Option<u64>,
        system_root: String,
    ) -> Self {
        SnapshotBook {
            policy,
            cooldown_ms,
            memory_limit_bytes,
            system_root,
            last_leak_ms: None,
            previous: None,
        }
    }

    /// Decides; reads `/proc` and cgroup files (a few small reads, only when a snapshot
    /// is wanted).
    pub(crate) fn check(&self, c: &SnapshotCheck) -> (SnapshotVerdict, Option<&'static str>) {
        let request = Request {
            policy: self.policy,
            now_ms: bytes(c.now_ms),
            // The cooldown spaces leak snapshots; the one baseline is never held back.
            last_snapshot_ms: if c.kind == "leak" {
                self.last_leak_ms
            } else {
                None
            },
            cooldown_ms: self.cooldown_ms,
            heap_used_bytes: bytes(c.heap_used_bytes),
            rss_bytes: bytes(c.rss_bytes),
            previous: self.previous,
            disk_free_bytes: c.disk_free_bytes.map(bytes),
            memory: read_memory_info(Path::new(&self.system_root)),
            memory_limit_bytes: self.memory_limit_bytes,
        };
        match decide(&request) {
            Decision::Allow(e) => (
                SnapshotVerdict {
                    allowed: true,
                    reason: None,
                    message: None,
                    objects: e.objects as f64,
                    memory_needed_bytes: e.memory_needed as f64,
                    memory_available_bytes: e.memory_available.map(|(b, _)| b as f64),
                    file_bytes: e.file_bytes as f64,
                },
                None,
            ),
            Decision::Refuse(r) => {
                let (objects, needed, available, file) = match r {
                    memwatchdog_snapguard::Refusal::Cooldown { .. } => (0, 0, None, 0),
                    memwatchdog_snapguard::Refusal::MemoryHeadroom {
                        estimate,
                        available,
                        ..
                    } => (
                        estimate.objects,
                        estimate.memory_needed,
                        Some(available),
                        estimate.file_bytes,
                    ),
                    memwatchdog_snapguard::Refusal::Disk { estimate, free: _ } => (
                        estimate.objects,
                        estimate.memory_needed,
                        estimate.memory_available.map(|(b, _)| b),
                        estimate.file_bytes,
                    ),
                };
                (
                    SnapshotVerdict {
                        allowed: false,
                        reason: Some(r.reason().to_owned()),
                        message: Some(r.to_string()),
                        objects: objects as f64,
                        memory_needed_bytes: needed as f64,
                        memory_available_bytes: available.map(|b| b as f64),
                        file_bytes: file as f64,
                    },
                    Some(r.reason()),
                )
            }
        }
    }

    /// Records a written snapshot: cooldown clock and the node count for the next estimate.
    pub(crate) fn written(&mut self, w: &SnapshotWritten) {
        if w.kind == "leak" {
            self.last_leak_ms = Some(bytes(w.now_ms));
        }
        if let Some((node_count, _edges)) = read_snapshot_counts(Path::new(&w.path)) {
            self.previous = Some(PreviousSnapshot {
                node_count,
                heap_used_bytes: bytes(w.heap_used_bytes),
            });
        }
    }

    /// Node count of the last snapshot, if known.
    pub(crate) fn previous_nodes(&self) -> Option<u64> {
        self.previous.map(|p| p.node_count)
    }
}

/// `123 MB` for log lines (re-exported formatting of the guard crate).
pub(crate) fn human(bytes: f64) -> String {
    HumanBytes(crate::options::bytes(bytes)).to_string()
}
