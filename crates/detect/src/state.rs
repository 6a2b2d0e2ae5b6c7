//! The detector's per-signal states and the signals it watches.

use serde::{Deserialize, Serialize};

/// A memory figure the detector watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Signal {
    /// The V8 heap floor: `heap_used` right after each major GC.
    Heap,
    /// Off-heap memory owned by JS objects (`external`, which includes `arrayBuffers`): Buffers.
    External,
    /// Resident set size of the whole process.
    Rss,
}

impl Signal {
    /// All signals, in a fixed order.
    pub const ALL: [Self; 3] = [Self::Heap, Self::External, Self::Rss];

    /// Lower-case name, as used in JSON and metrics labels.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Heap => "heap",
            Self::External => "external",
            Self::Rss => "rss",
        }
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a signal stands.
///
/// `Normal → Suspect → Leaking → Resolved → Normal`; a suspicion that does not hold goes back to
/// `Normal`, and a new suspicion while `Resolved` goes to `Suspect`. `Leaking ⇄ OomRisk` while
/// the projected time until the memory limit is within the horizon (see
/// [`crate::config::OomConfig`]); `OomRisk → Resolved` like `Leaking`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// No sign of a leak.
    Normal,
    /// A window exceeds the threshold; waiting for confirmation.
    Suspect,
    /// Confirmed leak (severity warning).
    Leaking,
    /// Was leaking; growth has stopped.
    Resolved,
    /// Confirmed leak that, at its current rate, reaches the memory limit within the horizon
    /// (severity critical).
    OomRisk,
}

impl State {
    /// Numeric code for a Prometheus gauge: normal 0, suspect 1, leaking 2, resolved 3,
    /// `oom_risk` 4.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::Normal => 0,
            Self::Suspect => 1,
            Self::Leaking => 2,
            Self::Resolved => 3,
            Self::OomRisk => 4,
        }
    }

    /// Whether the signal is seen growing (`suspect`, `leaking`, `oom_risk`): its headline slope
    /// is the deciding window's and a projection to the limit is made.
    #[must_use]
    pub const fn is_growing(self) -> bool {
        matches!(self, Self::Suspect | Self::Leaking | Self::OomRisk)
    }

    /// Whether this state is a confirmed leak (`leaking` or `oom_risk`): an alert fires.
    #[must_use]
    pub const fn is_leak(self) -> bool {
        matches!(self, Self::Leaking | Self::OomRisk)
    }

    /// Lower-case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Suspect => "suspect",
            Self::Leaking => "leaking",
            Self::Resolved => "resolved",
            Self::OomRisk => "oom_risk",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
