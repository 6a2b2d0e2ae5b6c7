//! The fixed label values of the exporter's metrics: GC kinds, watched signals and
//! detector states.
//!
//! Fixed sets keep the metrics' cardinality bounded and let the registry store them
//! in plain arrays indexed by the enum, with no map or lock on the update path.

/// A V8 garbage collection kind, as reported by Node's `perf_hooks` `gc` entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GcKind {
    /// Scavenge of the young generation (`NODE_PERFORMANCE_GC_MINOR`, 1).
    Minor,
    /// Mark-compact of the whole heap (`NODE_PERFORMANCE_GC_MAJOR`, 4).
    Major,
    /// Incremental marking step (`NODE_PERFORMANCE_GC_INCREMENTAL`, 8).
    Incremental,
    /// Weak callback processing (`NODE_PERFORMANCE_GC_WEAKCB`, 16).
    WeakCb,
}

impl GcKind {
    /// Every kind, in exposition order.
    pub const ALL: [GcKind; 4] = [
        GcKind::Minor,
        GcKind::Major,
        GcKind::Incremental,
        GcKind::WeakCb,
    ];

    /// Maps `entry.detail.kind` from a Node `gc` performance entry; `None` for unknown values.
    #[must_use]
    pub fn from_node_kind(kind: u32) -> Option<GcKind> {
        match kind {
            1 => Some(GcKind::Minor),
            4 => Some(GcKind::Major),
            8 => Some(GcKind::Incremental),
            16 => Some(GcKind::WeakCb),
            _ => None,
        }
    }

    /// The `kind` label value.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            GcKind::Minor => "minor",
            GcKind::Major => "major",
            GcKind::Incremental => "incremental",
            GcKind::WeakCb => "weakcb",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// A memory signal the detector watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// The post-major-GC JS heap floor.
    Heap,
    /// External and `ArrayBuffer` memory (Buffers live outside the JS heap).
    External,
    /// Resident set size of the process.
    Rss,
}

impl Signal {
    /// Every signal, in exposition order.
    pub const ALL: [Signal; 3] = [Signal::Heap, Signal::External, Signal::Rss];

    /// The `signal` label value.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Signal::Heap => "heap",
            Signal::External => "external",
            Signal::Rss => "rss",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// The leak detector's state for one signal, exported as the value of
/// `memwatchdog_detector_state{signal=...}`.
///
/// One numeric gauge per signal (rather than one-hot series per state) keeps alert
/// rules short — `memwatchdog_detector_state{signal="heap"} == 2` — and makes state
/// changes plot as steps on one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DetectorState {
    /// No significant growth (also during warm-up).
    Normal,
    /// Growth seen but not yet significant or sustained.
    Suspect,
    /// A leak is declared; an alert has been fired.
    Leaking,
    /// A declared leak stopped growing.
    Resolved,
    /// A declared leak projected to reach the memory limit within the horizon; a critical
    /// alert has been fired.
    OomRisk,
}

impl DetectorState {
    /// The exported gauge value: 0 normal, 1 suspect, 2 leaking, 3 resolved, 4 `oom_risk`.
    #[must_use]
    pub fn value(self) -> u8 {
        match self {
            DetectorState::Normal => 0,
            DetectorState::Suspect => 1,
            DetectorState::Leaking => 2,
            DetectorState::Resolved => 3,
            DetectorState::OomRisk => 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_kinds_map_to_labels() {
        let labels: Vec<_> = [1, 4, 8, 16]
            .into_iter()
            .map(|k| GcKind::from_node_kind(k).unwrap().label())
            .collect();
        assert_eq!(labels, ["minor", "major", "incremental", "weakcb"]);
        assert_eq!(GcKind::from_node_kind(2), None);
        for (i, kind) in GcKind::ALL.into_iter().enumerate() {
            assert_eq!(kind.index(), i);
        }
        for (i, signal) in Signal::ALL.into_iter().enumerate() {
            assert_eq!(signal.index(), i);
        }
    }
}
