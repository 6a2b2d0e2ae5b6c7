//! The JS shapes of snapshot checks and writes, translated to and from
//! [`memwatchdog_watchdog::snapshots`].

use memwatchdog_watchdog::snapshots::{
    SnapshotCheck as Check, SnapshotKind, SnapshotVerdict as Verdict, SnapshotWritten as Written,
};
use napi::Result;
use napi_derive::napi;

use crate::options::{bytes, invalid};

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
    /// Used size of V8's large-object spaces now (`v8.getHeapSpaceStatistics()`); absent if
    /// unknown.
    pub large_object_bytes: Option<f64>,
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
    /// Metric label of the refusal (`cooldown`, `memory_headroom`, `memory_unknown`, `disk`); absent when allowed.
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

fn kind(name: &str) -> Result<SnapshotKind> {
    match name {
        "baseline" => Ok(SnapshotKind::Baseline),
        "leak" => Ok(SnapshotKind::Leak),
        _ => Err(invalid(format!(
            "unknown snapshot kind {name:?} (baseline or leak)"
        ))),
    }
}

impl SnapshotCheck {
    pub(crate) fn to_rust(&self) -> Result<Check> {
        Ok(Check {
            kind: kind(&self.kind)?,
            now_ms: bytes(self.now_ms),
            heap_used_bytes: bytes(self.heap_used_bytes),
            large_object_bytes: self.large_object_bytes.map_or(0, bytes),
            rss_bytes: bytes(self.rss_bytes),
            disk_free_bytes: self.disk_free_bytes.map(bytes),
        })
    }
}

impl SnapshotWritten {
    pub(crate) fn to_rust(&self) -> Result<Written> {
        Ok(Written {
            kind: kind(&self.kind)?,
            path: self.path.clone(),
            now_ms: bytes(self.now_ms),
            duration_ms: self.duration_ms,
            heap_used_bytes: bytes(self.heap_used_bytes),
        })
    }
}

impl From<Verdict> for SnapshotVerdict {
    fn from(v: Verdict) -> Self {
        SnapshotVerdict {
            allowed: v.refusal.is_none(),
            reason: v.refusal.map(|r| r.reason().to_owned()),
            message: v.refusal.map(|r| r.to_string()),
            objects: v.objects as f64,
            memory_needed_bytes: v.memory_needed_bytes as f64,
            memory_available_bytes: v.memory_available_bytes.map(|b| b as f64),
            file_bytes: v.file_bytes as f64,
        }
    }
}
