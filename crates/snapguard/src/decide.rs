//! [`decide`]: the pure allow/refuse decision for one snapshot request.
//!
//! Checks, in order: cooldown, memory headroom, disk space. The first that fails is the
//! refusal. Memory available is the smallest of what is known:
//! - the user's limit (`snapshot.memoryLimitBytes`) minus RSS, which replaces the
//!   cgroup headroom when given (useful where the real limit is invisible, e.g. a VM
//!   size or a `ulimit`);
//! - otherwise the cgroup headroom (`memory.max − memory.current`);
//! - `MemAvailable` from `/proc/meminfo`.
//!
//! When none of these is known (no `/proc`: not Linux, or a sandbox that hides it), the
//! request is refused as [`Refusal::MemoryUnknown`] unless the user opted in
//! ([`Request::allow_unknown_memory`]): a guard that cannot see the headroom must not
//! guess that there is enough.

use std::fmt;

use memwatchdog_units::HumanBytes;

use crate::estimate::{
    ObjectSource, Policy, PreviousSnapshot, estimate_objects, snapshot_file_bytes, snapshot_memory,
};
use crate::system::MemoryInfo;

/// Everything the decision looks at, as plain numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    /// Estimate tunables.
    pub policy: Policy,
    /// Now, in milliseconds on any clock also used for `last_snapshot_ms`.
    pub now_ms: u64,
    /// When the last snapshot that the cooldown applies to was written.
    pub last_snapshot_ms: Option<u64>,
    /// Minimum time between such snapshots.
    pub cooldown_ms: u64,
    /// V8 `used_heap_size` now.
    pub heap_used_bytes: u64,
    /// Used size of V8's large-object spaces now (part of `heap_used_bytes`; 0 when
    /// unknown). They hold few, big objects, which cost a snapshot next to nothing.
    pub large_object_bytes: u64,
    /// Resident set size now.
    pub rss_bytes: u64,
    /// The previous snapshot this process wrote, if any.
    pub previous: Option<PreviousSnapshot>,
    /// Free space (for unprivileged users) on the snapshot directory's filesystem.
    pub disk_free_bytes: Option<u64>,
    /// What the machine says about memory.
    pub memory: MemoryInfo,
    /// A user-set memory limit for the process; replaces the cgroup headroom.
    pub memory_limit_bytes: Option<u64>,
    /// Write even when no memory figure is known (`snapshot.allowUnknownMemory`).
    pub allow_unknown_memory: bool,
}

impl Request {
    /// A request with the given policy and every other field zero or unknown.
    #[must_use]
    pub fn new(policy: Policy) -> Self {
        Request {
            policy,
            now_ms: 0,
            last_snapshot_ms: None,
            cooldown_ms: 0,
            heap_used_bytes: 0,
            large_object_bytes: 0,
            rss_bytes: 0,
            previous: None,
            disk_free_bytes: None,
            memory: MemoryInfo::default(),
            memory_limit_bytes: None,
            allow_unknown_memory: false,
        }
    }
}

/// The figures behind a decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Heap objects the snapshot is expected to hold.
    pub objects: u64,
    /// Where `objects` came from.
    pub source: ObjectSource,
    /// Extra peak memory expected while writing (with the safety factor).
    pub memory_needed: u64,
    /// Memory available and what limited it; `None` when unknown.
    pub memory_available: Option<(u64, &'static str)>,
    /// Expected file size (without the safety factor).
    pub file_bytes: u64,
    /// Disk space required (file × safety + reserve).
    pub disk_needed: u64,
}

/// Why a snapshot was refused. [`reason`](Refusal::reason) is the metric label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Refusal {
    /// The last snapshot is too recent.
    Cooldown {
        /// Milliseconds until a snapshot is allowed again.
        remaining_ms: u64,
    },
    /// Writing could exhaust memory (likely an OOM kill).
    MemoryHeadroom {
        /// The estimate that did not fit.
        estimate: Estimate,
        /// Bytes available.
        available: u64,
        /// What limited `available`.
        limited_by: &'static str,
    },
    /// Nothing tells how much memory is available (no `/proc/meminfo`, no cgroup, no
    /// user-set limit), and the user did not allow writing blind.
    MemoryUnknown {
        /// The estimate that could not be checked.
        estimate: Estimate,
    },
    /// The file would not fit on disk.
    Disk {
        /// The estimate that did not fit.
        estimate: Estimate,
        /// Bytes free.
        free: u64,
    },
}

impl Refusal {
    /// The `reason` label value: `cooldown`, `memory_headroom`, `memory_unknown` or `disk`.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::Cooldown { .. } => "cooldown",
            Refusal::MemoryHeadroom { .. } => "memory_headroom",
            Refusal::MemoryUnknown { .. } => "memory_unknown",
            Refusal::Disk { .. } => "disk",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Refusal::Cooldown { remaining_ms } => write!(
                f,
                "cooldown: the previous snapshot is recent, next allowed in {}s (snapshot.cooldownMs)",
                remaining_ms.div_ceil(1000)
            ),
            Refusal::MemoryHeadroom {
                estimate,
                available,
                limited_by,
            } => write!(
                f,
                "memory headroom too small: writing needs ~{} (~{} objects {}) but only {} is available ({}); \
                 raise the memory limit or set snapshot.memoryLimitBytes",
                HumanBytes(estimate.memory_needed),
                estimate.objects,
                estimate.source.describe(),
                HumanBytes(available),
                limited_by,
            ),
            Refusal::MemoryUnknown { estimate } => write!(
                f,
                "memory headroom unknown: writing needs ~{} but this system tells neither the memory \
                 available (/proc/meminfo) nor a container limit (cgroup); set snapshot.memoryLimitBytes \
                 to the process's memory limit, or snapshot.allowUnknownMemory to write anyway",
                HumanBytes(estimate.memory_needed),
            ),
            Refusal::Disk { estimate, free } => write!(
                f,
                "not enough disk space: the snapshot needs ~{} but only {} is free on snapshot.dir",
                HumanBytes(estimate.disk_needed),
                HumanBytes(free),
            ),
        }
    }
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Safe to write, with the figures checked.
    Allow(Estimate),
    /// Not safe now.
    Refuse(Refusal),
}

/// Decides whether a snapshot may be written now.
#[must_use]
pub fn decide(request: &Request) -> Decision {
    if let Some(last) = request.last_snapshot_ms {
        let since = request.now_ms.saturating_sub(last);
        if since < request.cooldown_ms {
            return Decision::Refuse(Refusal::Cooldown {
                remaining_ms: request.cooldown_ms - since,
            });
        }
    }
    let estimate = estimate(request);
    match estimate.memory_available {
        Some((available, limited_by)) if estimate.memory_needed > available => {
            return Decision::Refuse(Refusal::MemoryHeadroom {
                estimate,
                available,
                limited_by,
            });
        }
        None if !request.allow_unknown_memory => {
            return Decision::Refuse(Refusal::MemoryUnknown { estimate });
        }
        _ => {}
    }
    if let Some(free) = request.disk_free_bytes {
        if estimate.disk_needed > free {
            return Decision::Refuse(Refusal::Disk { estimate, free });
        }
    }
    Decision::Allow(estimate)
}

fn estimate(request: &Request) -> Estimate {
    let policy = &request.policy;
    let safety = if policy.safety.is_finite() && policy.safety > 0.0 {
        policy.safety
    } else {
        1.0
    };
    let (objects, source) = estimate_objects(
        request.heap_used_bytes,
        request.large_object_bytes,
        request.previous,
        policy,
    );
    let small_heap = request
        .heap_used_bytes
        .saturating_sub(request.large_object_bytes);
    let file = snapshot_file_bytes(
        objects,
        small_heap,
        request.heap_used_bytes,
        request.previous,
        policy,
    );
    Estimate {
        objects,
        source,
        memory_needed: (snapshot_memory(objects, small_heap, policy) * safety).ceil() as u64,
        memory_available: memory_available(request),
        file_bytes: file.ceil() as u64,
        disk_needed: ((file * safety).ceil() as u64).saturating_add(policy.disk_reserve_bytes),
    }
}

fn memory_available(request: &Request) -> Option<(u64, &'static str)> {
    let limit = match request.memory_limit_bytes {
        Some(limit) => Some((
            limit.saturating_sub(request.rss_bytes),
            "snapshot.memoryLimitBytes minus RSS",
        )),
        None => request
            .memory
            .cgroup_headroom
            .map(|h| (h, "cgroup memory limit minus usage")),
    };
    let meminfo = request
        .memory
        .mem_available
        .map(|m| (m, "MemAvailable in /proc/meminfo"));
    match (limit, meminfo) {
        (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1_000_000;
    const GB: u64 = 1_000_000_000;

    fn base() -> Request {
        Request {
            now_ms: 1_000_000,
            cooldown_ms: 600_000,
            heap_used_bytes: 40 * MB, // 1 M objects → 750 MB needed, 165 MB file
            rss_bytes: 100 * MB,
            disk_free_bytes: Some(100 * GB),
            memory: MemoryInfo {
                mem_available: Some(16 * GB),
                cgroup_headroom: None,
            },
            // Round figures: only the per-object terms.
            ..Request::new(Policy {
                snapshot_bytes_per_object: 500,
                snapshot_bytes_per_heap_byte: 0.0,
                snapshot_fixed_bytes: 0,
                file_bytes_per_heap_byte: 0.0,
                safety: 1.5,
                ..Policy::default()
            })
        }
    }

    #[test]
    fn allows_when_everything_fits() {
        let Decision::Allow(e) = decide(&base()) else {
            panic!("refused")
        };
        assert_eq!(e.objects, 1_000_000);
        assert_eq!(e.memory_needed, 750 * MB);
        assert_eq!(e.file_bytes, 110 * MB);
        assert_eq!(e.disk_needed, 165 * MB + (64 << 20));
        assert_eq!(
            e.memory_available,
            Some((16 * GB, "MemAvailable in /proc/meminfo"))
        );
    }

    #[test]
    fn cooldown() {
        let r = Request {
            last_snapshot_ms: Some(1_000_000 - 100_000),
            ..base()
        };
        let Decision::Refuse(refusal) = decide(&r) else {
            panic!("allowed")
        };
        assert_eq!(refusal.reason(), "cooldown");
        assert_eq!(
            refusal,
            Refusal::Cooldown {
                remaining_ms: 500_000
            }
        );
        assert!(refusal.to_string().contains("next allowed in 500s"));
        // Exactly at the end of the cooldown it is allowed again.
        let r = Request {
            last_snapshot_ms: Some(400_000),
            ..base()
        };
        assert!(matches!(decide(&r), Decision::Allow(_)));
    }

    #[test]
    fn unknown_memory_refuses_unless_allowed_or_limited_by_the_user() {
        let blind = Request {
            memory: MemoryInfo::default(),
            ..base()
        };
        let Decision::Refuse(refusal) = decide(&blind) else {
            panic!("allowed without knowing the memory")
        };
        assert_eq!(refusal.reason(), "memory_unknown");
        let text = refusal.to_string();
        assert!(text.contains("~750 MB"), "{text}");
        assert!(text.contains("snapshot.memoryLimitBytes"), "{text}");
        assert!(text.contains("snapshot.allowUnknownMemory"), "{text}");

        let allowed = Request {
            allow_unknown_memory: true,
            ..blind
        };
        let Decision::Allow(e) = decide(&allowed) else {
            panic!("refused although allowed")
        };
        assert_eq!(e.memory_available, None);

        // A user-set limit is a known figure: no opt-in needed, and it is checked.
        let limited = Request {
            memory_limit_bytes: Some(2 * GB),
            ..blind
        };
        assert!(matches!(decide(&limited), Decision::Allow(_)));
        let too_small = Request {
            memory_limit_bytes: Some(500 * MB),
            ..blind
        };
        let Decision::Refuse(refusal) = decide(&too_small) else {
            panic!("allowed above the user's limit")
        };
        assert_eq!(refusal.reason(), "memory_headroom");

        // The disk is still checked when writing blind is allowed.
        let full = Request {
            disk_free_bytes: Some(MB),
            ..allowed
        };
        let Decision::Refuse(refusal) = decide(&full) else {
            panic!("allowed on a full disk")
        };
        assert_eq!(refusal.reason(), "disk");
    }

    #[test]
    fn cgroup_headroom_refuses() {
        let mut r = base();
        r.memory.cgroup_headroom = Some(500 * MB);
        let Decision::Refuse(refusal) = decide(&r) else {
            panic!("allowed")
        };
        assert_eq!(refusal.reason(), "memory_headroom");
        assert_eq!(
            refusal.to_string(),
            "memory headroom too small: writing needs ~750 MB (~1000000 objects estimated from \
             heap size) but only 500 MB is available (cgroup memory limit minus usage); raise the \
             memory limit or set snapshot.memoryLimitBytes"
        );
    }

    #[test]
    fn user_limit_replaces_cgroup_and_counts_rss() {
        let mut r = base();
        r.memory.cgroup_headroom = Some(100 * MB);
        r.memory_limit_bytes = Some(2 * GB);
        assert!(matches!(decide(&r), Decision::Allow(_)));
        r.memory_limit_bytes = Some(800 * MB); // 800 − 100 RSS = 700 < 750
        let Decision::Refuse(Refusal::MemoryHeadroom {
            available,
            limited_by,
            ..
        }) = decide(&r)
        else {
            panic!("not a memory refusal")
        };
        assert_eq!(available, 700 * MB);
        assert_eq!(limited_by, "snapshot.memoryLimitBytes minus RSS");
        // A limit below RSS leaves nothing.
        r.memory_limit_bytes = Some(MB);
        assert!(matches!(
            decide(&r),
            Decision::Refuse(Refusal::MemoryHeadroom { available: 0, .. })
        ));
    }

    #[test]
    fn meminfo_is_the_tighter_bound() {
        let mut r = base();
        r.memory.cgroup_headroom = Some(10 * GB);
        r.memory.mem_available = Some(600 * MB);
        let Decision::Refuse(Refusal::MemoryHeadroom { limited_by, .. }) = decide(&r) else {
            panic!("allowed")
        };
        assert_eq!(limited_by, "MemAvailable in /proc/meminfo");
    }

    #[test]
    fn previous_snapshot_scales_the_estimate() {
        let mut r = base();
        // The previous snapshot had 2 M nodes at 40 MB: objects are small here.
        r.previous = Some(PreviousSnapshot {
            node_count: 2_000_000,
            heap_used_bytes: 20 * MB,
            file_bytes: 0,
        });
        r.memory.mem_available = Some(2 * GB);
        let Decision::Refuse(Refusal::MemoryHeadroom { estimate, .. }) = decide(&r) else {
            panic!("allowed")
        };
        assert_eq!(estimate.objects, 4_000_000);
        assert_eq!(estimate.source, ObjectSource::PreviousSnapshot);
        assert_eq!(estimate.memory_needed, 3 * GB);
    }

    /// A heap of strings that JSON escapes (control characters: six bytes of file per byte)
    /// defeats the per-heap-byte formula; once one snapshot was written, its file size,
    /// scaled by heap growth, is the estimate.
    #[test]
    fn the_previous_file_size_bounds_the_disk_estimate() {
        let mut r = base();
        r.memory.mem_available = Some(100 * GB);
        r.policy.file_bytes_per_heap_byte = 1.0;
        r.disk_free_bytes = Some(300 * MB);
        let Decision::Allow(first) = decide(&r) else {
            panic!("refused without a previous snapshot")
        };
        assert_eq!(first.file_bytes, 150 * MB);
        // The previous snapshot of half this heap wrote a 120 MB file: 240 MB now.
        r.previous = Some(PreviousSnapshot {
            node_count: 500_000,
            heap_used_bytes: 20 * MB,
            file_bytes: 120 * MB,
        });
        let Decision::Refuse(Refusal::Disk { estimate, .. }) = decide(&r) else {
            panic!("allowed a file larger than the free space")
        };
        assert_eq!(estimate.file_bytes, 240 * MB);
        // A previous file smaller than the formula does not lower it.
        r.previous = Some(PreviousSnapshot {
            file_bytes: MB,
            ..r.previous.unwrap()
        });
        let Decision::Allow(e) = decide(&r) else {
            panic!("refused")
        };
        assert_eq!(e.file_bytes, 150 * MB);
    }

    #[test]
    fn disk() {
        let r = Request {
            disk_free_bytes: Some(200 * MB),
            ..base()
        };
        let Decision::Refuse(refusal) = decide(&r) else {
            panic!("allowed")
        };
        assert_eq!(refusal.reason(), "disk");
        assert!(refusal.to_string().starts_with(
            "not enough disk space: the snapshot needs ~232 MB but only 200 MB is free"
        ));
    }

    #[test]
    fn unknown_disk_allows_as_unknown_memory_does_when_allowed() {
        let r = Request {
            heap_used_bytes: 100 * GB,
            allow_unknown_memory: true,
            ..Request::new(Policy::default())
        };
        let Decision::Allow(e) = decide(&r) else {
            panic!("refused")
        };
        assert_eq!(e.memory_available, None);
    }

    #[test]
    fn bad_safety_factor_is_one() {
        let mut r = base();
        r.policy.safety = f64::NAN;
        let Decision::Allow(e) = decide(&r) else {
            panic!("refused")
        };
        assert_eq!(e.memory_needed, 500 * MB);
    }

    /// The default policy against measured cases (docs/benchmarks-snapshot-cost.md).
    #[test]
    fn default_policy_fits_measured_cases() {
        let memory_needed = |heap: u64, large: u64, previous: Option<PreviousSnapshot>| {
            let r = Request {
                heap_used_bytes: heap,
                large_object_bytes: large,
                previous,
                allow_unknown_memory: true,
                ..Request::new(Policy::default())
            };
            let Decision::Allow(e) = decide(&r) else {
                panic!("refused")
            };
            e.memory_needed
        };
        let known = |nodes, heap| {
            Some(PreviousSnapshot {
                node_count: nodes,
                heap_used_bytes: heap,
                file_bytes: 0,
            })
        };
        // (heap used, large-object spaces, node count, measured peak extra RSS)
        let cases = [
            (290_980_000, 17_000_000, 6_597_386, 2_553_000_000_u64), // Node 20, service-like
            (298_000_000, 0, 6_176_500, 1_639_000_000),              // Node 24, small objects
            (988_000_000, 0, 1_720_979, 1_752_000_000),              // Node 20, strings
            (1_000_000_000, 997_000_000, 48_969, 25_000_000),        // Node 20, 1 MB objects
        ];
        for (heap, large, nodes, measured) in cases {
            let from_count = memory_needed(heap, large, known(nodes, heap));
            assert!(from_count >= measured, "{heap}: {from_count} < {measured}");
            // Never less from the heap size alone (it assumes 40 B objects).
            assert!(memory_needed(heap, large, None) >= measured);
        }
        assert!(
            memory_needed(298_000_000, 0, known(6_176_500, 298_000_000)) < 1_639_000_000 / 10 * 17
        );
    }

    /// Issue #16: a 31 MB heap in a 1 GiB container was refused ("needs ~1.4 GB"); writing it
    /// peaked at 578 MB RSS.
    #[test]
    fn a_31_mb_heap_fits_in_1_gib() {
        let r = Request {
            heap_used_bytes: 31_000_000,
            rss_bytes: 100_000_000,
            memory: MemoryInfo {
                mem_available: Some(16 * GB),
                cgroup_headroom: Some((1 << 30) - 100_000_000),
            },
            ..Request::new(Policy::default())
        };
        let Decision::Allow(e) = decide(&r) else {
            panic!("refused")
        };
        // 775 k objects × 336 B + 31 MB × 1.2 + 16 MiB, × 1.1.
        assert_eq!(e.objects, 775_000);
        assert_eq!(e.memory_needed, 345_814_938);
    }
}
