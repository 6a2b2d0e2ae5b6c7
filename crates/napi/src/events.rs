//! [`NativeEvent`]: what JS receives from [`take_events`](crate::NativeWatchdog::take_events).

use memwatchdog_detect::{Signal, State};
use memwatchdog_watchdog::Event;
use napi_derive::napi;

use crate::profile::NativeAllocationSite;

/// A detector state change, the one-off `warmedUp` notice, the outcome of the
/// background analysis of a snapshot pair (`analysis`), a sampling heap profile stored
/// and diffed (`profile`), or a request for a confirmation GC (`gc`).
#[napi(object)]
#[derive(Debug, Clone)]
pub struct NativeEvent {
    /// `state` (a signal changed state), `warmedUp` (the heap signal left warm-up: time
    /// for the baseline snapshot), `analysis`, `profile` or `gc` (the detector asks for a
    /// full GC: the heap floor is stale and a fast rise may already be urgent).
    pub kind: String,
    /// `heap`, `external` or `rss`.
    pub signal: String,
    /// State before (`normal`, `suspect`, `leaking`, `oom_risk`, `resolved`).
    pub from: String,
    /// State after (`analysis`: `found`, `nothing` or `skipped`; `profile`: the kind,
    /// `baseline`, `suspect` or `leak`).
    pub state: String,
    /// Sample time (ms, `performance.now()` clock).
    pub t_ms: f64,
    /// Growth rate behind the change (bytes/ms).
    pub slope_bytes_per_ms: f64,
    /// Threshold the slope was compared with (bytes/ms).
    pub threshold_bytes_per_ms: f64,
    /// Whether the threshold was adaptive.
    pub adaptive: bool,
    /// One-sided p-value of the upward trend.
    pub p_value: f64,
    /// Growth over the episode (bytes), when known.
    pub growth_bytes: Option<f64>,
    /// The limit the signal runs into (bytes), when known.
    pub limit_bytes: Option<f64>,
    /// What was left below it (bytes).
    pub headroom_bytes: Option<f64>,
    /// Projected time until the limit at the current slope (ms), when growing.
    pub exhaustion_ms: Option<f64>,
    /// Heap used in the sample that caused the change (bytes).
    pub heap_used_bytes: f64,
    /// The signal's value in that sample (bytes).
    pub value_bytes: f64,
    /// `analysis`: the top suspect of the snapshot pair, or why there is none;
    /// `profile`: what failed, if anything did.
    pub detail: Option<String>,
    /// `profile` only: the `.heapprofile` file written.
    pub profile_path: Option<String>,
    /// `profile` only: the JSON allocation report written.
    pub report_path: Option<String>,
    /// `profile` only: the allocation sites that grew since the baseline, most first.
    pub sites: Option<Vec<NativeAllocationSite>>,
}

impl From<Event> for NativeEvent {
    fn from(event: Event) -> Self {
        match event {
            Event::State {
                change,
                heap_used,
                value,
            } => {
                let e = *change;
                NativeEvent {
                    kind: "state".to_owned(),
                    signal: e.signal.as_str().to_owned(),
                    from: e.from.as_str().to_owned(),
                    state: e.state.as_str().to_owned(),
                    t_ms: e.t_ms,
                    slope_bytes_per_ms: e.slope,
                    threshold_bytes_per_ms: e.evidence.trend.threshold,
                    adaptive: e.evidence.trend.adaptive,
                    p_value: e.evidence.trend.p_value,
                    growth_bytes: e.evidence.growth_bytes,
                    limit_bytes: e.limit_bytes,
                    headroom_bytes: e.headroom_bytes,
                    exhaustion_ms: e.exhaustion_ms,
                    heap_used_bytes: heap_used as f64,
                    value_bytes: value as f64,
                    ..NativeEvent::notice("state", "", e.t_ms, None)
                }
            }
            Event::WarmedUp { t_ms, heap_used } => NativeEvent {
                heap_used_bytes: heap_used as f64,
                value_bytes: heap_used as f64,
                ..NativeEvent::notice("warmedUp", State::Normal.as_str(), t_ms, None)
            },
            Event::GcRequest { t_ms, heap_used } => NativeEvent {
                heap_used_bytes: heap_used as f64,
                value_bytes: heap_used as f64,
                ..NativeEvent::notice("gc", State::Normal.as_str(), t_ms, None)
            },
            Event::Analysis { t_ms, outcome } => NativeEvent::notice(
                "analysis",
                outcome.state(),
                t_ms,
                Some(outcome.detail().to_owned()),
            ),
            Event::Profile { t_ms, done } => NativeEvent {
                sites: Some(done.sites.iter().map(NativeAllocationSite::from).collect()),
                profile_path: done.path,
                report_path: done.report_path,
                ..NativeEvent::notice(
                    "profile",
                    done.kind.as_str(),
                    t_ms,
                    done.error.map(|(_, m)| m),
                )
            },
        }
    }
}

impl NativeEvent {
    /// An event that is not a detector state change: no slope or trend figures.
    fn notice(kind: &str, state: &str, t_ms: f64, detail: Option<String>) -> NativeEvent {
        NativeEvent {
            kind: kind.to_owned(),
            signal: Signal::Heap.as_str().to_owned(),
            from: State::Normal.as_str().to_owned(),
            state: state.to_owned(),
            t_ms,
            slope_bytes_per_ms: 0.0,
            threshold_bytes_per_ms: 0.0,
            adaptive: false,
            p_value: 1.0,
            growth_bytes: None,
            limit_bytes: None,
            headroom_bytes: None,
            exhaustion_ms: None,
            heap_used_bytes: 0.0,
            value_bytes: 0.0,
            detail,
            profile_path: None,
            report_path: None,
            sites: None,
        }
    }
}
