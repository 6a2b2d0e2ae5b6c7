//! [`Effect`]: what the pure [`crate::Machine`] asks of the world, and [`Event`], what it
//! tells JS.

use std::path::PathBuf;

use memwatchdog_detect::Event as StateChange;

use crate::alerts::AlertRequest;
use crate::analysis::Outcome;
use crate::profiles::ProfileDone;

/// One thing to do, in order.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Hand this to JS (`take_events`).
    Event(Event),
    /// Send this to Alertmanager.
    Alert(AlertRequest),
    /// Write this log line.
    Log(String),
    /// Analyze the snapshot pair in the background; report the outcome back with
    /// [`crate::Machine::analysis_done`].
    Analyze {
        /// The process's baseline snapshot.
        baseline: PathBuf,
        /// The leak snapshot just written.
        leak: PathBuf,
    },
}

/// What JS hears about.
#[derive(Debug, Clone)]
pub enum Event {
    /// A signal changed state.
    State {
        /// The detector's event (boxed: it is large, and rare).
        change: Box<StateChange>,
        /// Heap used in the sample that caused it (bytes).
        heap_used: u64,
        /// The signal's value in that sample (bytes).
        value: u64,
    },
    /// The heap signal left warm-up: time for the baseline snapshot and profile.
    WarmedUp {
        /// Sample time (ms).
        t_ms: f64,
        /// Heap used (bytes).
        heap_used: u64,
    },
    /// The detector asks for a confirmation GC: the heap floor is stale and a fast rise may
    /// already be urgent.
    GcRequest {
        /// Sample time (ms).
        t_ms: f64,
        /// Heap used (bytes).
        heap_used: u64,
    },
    /// The background analysis of the snapshot pair finished (or was skipped).
    Analysis {
        /// Sample time when it was picked up (ms).
        t_ms: f64,
        /// What it found.
        outcome: Outcome,
    },
    /// A sampling heap profile was stored and, unless it is the baseline, diffed.
    Profile {
        /// Sample time when it was picked up (ms).
        t_ms: f64,
        /// What became of it.
        done: ProfileDone,
    },
}
