//! Per-signal tracking: the two windows, warm-up, and the hysteresis state machine.
//!
//! A signal tracker receives floor readings of one signal (heap floor after major GCs,
//! off-heap memory after major GCs, or RSS when it was read) and turns window verdicts into state
//! changes:
//!
//! - `Normal`/`Resolved` → `Suspect` as soon as either window *exceeds* (see [`crate::trend`]).
//!   That starts an *episode*, which ends after `clear_evaluations` consecutive evaluations in which
//!   no window exceeds (`Suspect` → `Normal`).
//! - `Suspect` → `Leaking` when, within the episode, the short window has exceeded at
//!   `short.confirm_evaluations` evaluations **and** the floor has grown by more than the growth
//!   allowance since the episode began; or the long window has exceeded at
//!   `long.confirm_evaluations` evaluations (one per long bucket).
//! - The fast path ([`crate::config::FastPathConfig`]): `Normal`/`Resolved`/`Suspect` →
//!   `Leaking` at once when the newest short-window floor points form a run of steep rises that
//!   covers `fast_path.min_span_ms` and the floor has grown by the whole growth allowance since
//!   the lowest reading before the run. Readings after minor GCs (see [`SignalTracker::observe`])
//!   only enter that baseline: each is an upper bound of the live set at its time, so a floor
//!   above it proves growth.
//! - `Leaking` → `OomRisk` when the projected time until the signal's limit (headroom ÷ the
//!   deciding window's slope) is within `oom.horizon_ms`; back to `Leaking` once it is beyond
//!   `oom.clear_factor` × the horizon.
//! - `Leaking`/`OomRisk` → `Resolved` when every window has been *quiet* (recent slope below
//!   `quiet_fraction` of its threshold, no exceedance) for `resolve_ms`.
//! - `Resolved` → `Normal` after `resolved_hold_ms` without a new suspicion.
//!
//! The growth allowance scales with the headroom ([`crate::config::GrowthAllowance`]), and the
//! long window's early verdict (before `long.min_span_ms`) needs an urgent projection.

use crate::config::{Config, WindowConfig};
use crate::point::Point;
use crate::state::{Signal, State};
use crate::trend::{Scratch, ThresholdRule, Trend, TrendParams, WindowKind};
use crate::window::{BucketWindow, Pushed};
use serde::{Deserialize, Serialize};

/// A state change of one signal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Time of the reading that caused the change (ms, same clock as the samples).
    pub t_ms: f64,
    /// Which signal changed.
    pub signal: Signal,
    /// State before.
    pub from: State,
    /// State after.
    pub state: State,
    /// Growth rate behind the change (bytes/ms): the Theil–Sen slope of the deciding window.
    pub slope: f64,
    /// The limit the signal runs into (bytes), when known: see [`Room`].
    pub limit_bytes: Option<f64>,
    /// What was left below that limit (bytes).
    pub headroom_bytes: Option<f64>,
    /// Projected time until the limit (ms) at the deciding window's projection rate
    /// ([`Trend::projection_slope`]), for `suspect`, `leaking` and `oom_risk` with a known limit
    /// and a rising floor.
    pub exhaustion_ms: Option<f64>,
    /// Why.
    pub evidence: Evidence,
}

/// How much memory a signal has left: its limit and the headroom below it, at one reading.
///
/// Heap: the smaller of V8's heap limit minus the floor and the container limit minus RSS (the
/// heap lives in the RSS). Off-heap and RSS: the container limit minus RSS.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Room {
    /// The binding limit (bytes).
    pub limit_bytes: f64,
    /// What is left below it (bytes, never negative).
    pub headroom_bytes: f64,
}

impl Room {
    /// The tighter of two rooms (the one with less headroom).
    #[must_use]
    pub fn tighter(a: Option<Self>, b: Option<Self>) -> Option<Self> {
        match (a, b) {
            (Some(a), Some(b)) => Some(if b.headroom_bytes < a.headroom_bytes {
                b
            } else {
                a
            }),
            (a, b) => a.or(b),
        }
    }

    /// `limit − used`, floored at 0.
    #[must_use]
    pub fn below(limit: f64, used: f64) -> Self {
        Self {
            limit_bytes: limit,
            headroom_bytes: (limit - used).max(0.0),
        }
    }

    /// Time until the headroom is used up at `slope` bytes/ms; `None` unless the slope is
    /// positive.
    #[must_use]
    pub fn exhaustion_ms(self, slope: f64) -> Option<f64> {
        (slope > 0.0 && slope.is_finite()).then(|| self.headroom_bytes / slope)
    }
}

/// The numbers behind an [`Event`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The deciding window's evaluation.
    #[serde(flatten)]
    pub trend: Trend,
    /// Floor growth since the suspect episode began (bytes), for short-window decisions.
    pub growth_bytes: Option<f64>,
    /// Growth a short-window episode had to exceed (bytes).
    pub growth_allowance_bytes: Option<f64>,
    /// The fast-path run at the deciding evaluation, for short-window decisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_path: Option<FastRun>,
}

/// The fast path's view of the newest short-window floor points (see
/// [`crate::config::FastPathConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FastRun {
    /// Points in the run of steep rises, the first one included (1: no steep rise); the
    /// baseline reading counts as the first point when the rise from it is steep too.
    pub points: usize,
    /// Time from the first to the newest point of the run (ms).
    pub span_ms: f64,
    /// Rate of the slowest step of the run (bytes/ms; 0 without a step).
    pub slowest_step: f64,
    /// Lowest reading, after a minor or a major GC, since the floor point before the run (bytes):
    /// an upper bound of the live set at that time.
    pub baseline_bytes: f64,
    /// Newest floor point minus the baseline (bytes).
    pub growth_bytes: f64,
    /// The growth allowance for this baseline (bytes).
    pub allowance_bytes: f64,
    /// Whether the run has enough points, covers enough time and grew by the allowance.
    pub qualifies: bool,
}

/// Where one signal stands now; what `mw detect --json` and the exporter publish.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SignalStatus {
    /// Which signal.
    pub signal: Signal,
    /// Current state.
    pub state: State,
    /// When the current state began (ms), if it ever changed.
    pub since_ms: Option<f64>,
    /// Headline growth rate (bytes/ms): the deciding window's slope while suspect or leaking,
    /// otherwise the long window's (the short window's until the long one has a fit); 0 if none.
    pub slope: f64,
    /// Threshold of the window behind `slope` (bytes/ms).
    pub threshold: Option<f64>,
    /// Fitted floor now (bytes).
    pub floor_bytes: Option<f64>,
    /// The limit this signal runs into and the headroom below it, at the latest reading.
    pub room: Option<Room>,
    /// Projected time until the limit (ms) at the headline window's projection rate: only while
    /// `suspect`, `leaking` or `oom_risk` and the floor rises.
    pub exhaustion_ms: Option<f64>,
    /// Last raw reading (bytes).
    pub last_bytes: Option<f64>,
    /// Whether warm-up is over (the long window collects only after it).
    pub warmed_up: bool,
    /// Floor readings received.
    pub readings: u64,
    /// Latest short-window evaluation.
    pub short: Option<Trend>,
    /// Latest long-window evaluation.
    pub long: Option<Trend>,
    /// Latest fast-path run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_path: Option<FastRun>,
}

/// Per-signal scaling of the common configuration (RSS is stricter).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SignalRules {
    pub threshold_factor: f64,
    pub allowance_factor: f64,
    pub long_min_span_ms: f64,
    pub short: WindowConfig,
    pub fast_path: bool,
}

#[derive(Debug, Clone, Copy)]
struct Episode {
    short_base: Option<f64>,
    short_hits: u32,
    long_hits: u32,
    clear_run: u32,
}

/// A window for the fast path: short-window buckets over `fast_path.max_span_ms`.
fn fast_window(cfg: &Config, rules: &SignalRules) -> BucketWindow {
    let span = cfg.fast_path.max_span_ms.max(rules.short.max_span_ms);
    let points = (span / rules.short.bucket_ms).ceil() as usize + 2;
    BucketWindow::new(rules.short.bucket_ms, points, span)
}

/// Tracks one signal; see the module docs.
#[derive(Debug, Clone)]
pub(crate) struct SignalTracker {
    signal: Signal,
    rules: SignalRules,
    short: BucketWindow,
    long: BucketWindow,
    /// Floor points for the fast path, bucketed like the short window but kept for
    /// `fast_path.max_span_ms`.
    fast_floors: BucketWindow,
    /// Every reading (floors and readings after minor GCs), bucketed the same way: the fast
    /// path's baseline.
    lows: BucketWindow,
    last_fast: Option<FastRun>,
    /// Trend statistics over the latest fast-path run (when it has `fast_path.min_points`).
    fast_trend: Option<Trend>,
    t_first: Option<f64>,
    warm: bool,
    settle_run: u32,
    last_short: Option<Trend>,
    last_long: Option<Trend>,
    last_known: Option<Trend>,
    state: State,
    since: Option<f64>,
    focus: WindowKind,
    episode: Option<Episode>,
    quiet_since: Option<f64>,
    last_reading: Option<Point>,
    room: Option<Room>,
    /// When the latest confirmation GC was requested.
    gc_requested_at: Option<f64>,
    readings: u64,
    buf: Vec<Point>,
    scratch: Scratch,
}

impl SignalTracker {
    pub(crate) fn new(signal: Signal, cfg: &Config, rules: SignalRules) -> Self {
        Self {
            signal,
            rules,
            short: BucketWindow::new(
                rules.short.bucket_ms,
                rules.short.max_points,
                rules.short.max_span_ms,
            ),
            long: BucketWindow::new(
                cfg.long.bucket_ms,
                cfg.long.max_points,
                cfg.long.max_span_ms,
            ),
            fast_floors: fast_window(cfg, &rules),
            lows: fast_window(cfg, &rules),
            last_fast: None,
            fast_trend: None,
            t_first: None,
            warm: false,
            settle_run: 0,
            last_short: None,
            last_long: None,
            last_known: None,
            state: State::Normal,
            since: None,
            focus: WindowKind::Short,
            episode: None,
            quiet_since: None,
            last_reading: None,
            room: None,
            gc_requested_at: None,
            readings: 0,
            buf: Vec::with_capacity(rules.short.max_points.max(cfg.long.max_points) + 1),
            scratch: Scratch::default(),
        }
    }

    pub(crate) const fn state(&self) -> State {
        self.state
    }

    fn rule(&self, cfg: &Config, kind: WindowKind) -> ThresholdRule {
        let f = self.rules.threshold_factor;
        match cfg.threshold {
            Some(t) => ThresholdRule::Fixed(t * f),
            None => ThresholdRule::Adaptive {
                k: cfg.adaptive.noise_multiplier,
                min_rate: f * match kind {
                    WindowKind::Short => cfg.adaptive.short_min_rate,
                    WindowKind::Long => cfg.adaptive.long_min_rate,
                },
            },
        }
    }

    /// Notes a reading that is not a floor (after a minor GC): an upper bound of the live set
    /// at time `t`, used only as the fast path's baseline. O(1) amortised.
    pub(crate) fn observe(&mut self, t: f64, v: f64) {
        if self.rules.fast_path {
            self.lows.push(t, v);
        }
    }

    /// Whether a full GC now could confirm a fast-path run (see
    /// [`crate::config::ConfirmGcConfig`]); `v` is a reading after a minor GC at `t`. Records
    /// the request when it says yes. O(1).
    pub(crate) fn wants_gc(&mut self, t: f64, v: f64, cfg: &Config) -> bool {
        let c = cfg.confirm_gc;
        // Cheapest tests first: this runs on every minor GC.
        let (Some(run), Some(floor), Some(room)) = (self.last_fast, self.last_reading, self.room)
        else {
            return false;
        };
        if !(c.enabled && run.points >= 2 && v - run.baseline_bytes >= run.allowance_bytes)
            || t - floor.t < c.stale_ms
            || self.gc_requested_at.is_some_and(|r| t - r < c.interval_ms)
            || self.state.is_leak()
        {
            return false;
        }
        let slope = self
            .fast_trend
            .map_or(run.slowest_step, |trend| trend.projection_slope());
        // The reading is higher than the floor it was measured against, so the headroom at
        // the floor is an upper bound of the headroom now.
        let urgent = room
            .exhaustion_ms(slope)
            .is_some_and(|e| e <= cfg.oom.horizon_ms);
        if urgent {
            self.gc_requested_at = Some(t);
        }
        urgent
    }

    /// Adds one floor reading, with the room left below the signal's limit at that time;
    /// appends the state changes it caused to `out`.
    pub(crate) fn add(
        &mut self,
        t: f64,
        v: f64,
        room: Option<Room>,
        cfg: &Config,
        z: f64,
        out: &mut Vec<Event>,
    ) {
        let t_first = *self.t_first.get_or_insert(t);
        self.room = room;
        self.readings += 1;
        self.last_reading = Some(Point::new(t, v));
        if self.rules.fast_path {
            self.lows.push(t, v);
            self.fast_floors.push(t, v);
        }

        if self.short.push(t, v) == Pushed::Unchanged {
            // Same points as at the previous evaluation: nothing new to learn. The long window
            // cannot have closed a bucket either (the short bucket is shorter).
            return;
        }
        self.short.collect(true, &mut self.buf);
        let params = TrendParams {
            kind: WindowKind::Short,
            alpha: cfg.alpha,
            z,
            min_points: self.rules.short.min_points,
            min_span_ms: self.rules.short.min_span_ms,
            threshold: self.rule(cfg, WindowKind::Short),
            autocorrelation: self.rules.short.autocorrelation_correction,
        };
        self.last_short = Trend::evaluate(&self.buf, &params, &mut self.scratch);
        self.last_known = self.last_short.or(self.last_known);
        self.last_fast = if self.rules.fast_path && cfg.fast_path.enabled {
            self.fast_floors.collect(true, &mut self.buf);
            // Steps are held to the fixed threshold or the adaptive minimum rate, and, in
            // adaptive mode after warm-up, to the short window's noise once it has the points
            // for a verdict. During warm-up the start-up ramp bends the window's floor line,
            // and its spread measures the bend, not the noise.
            let (threshold, noise) = match self.rule(cfg, WindowKind::Short) {
                ThresholdRule::Fixed(t) => (t, 0.0),
                ThresholdRule::Adaptive { min_rate, .. } => (
                    min_rate,
                    self.last_short
                        .filter(|s| self.warm && s.points >= self.rules.short.min_points)
                        .map_or(0.0, |s| s.noise_bytes),
                ),
            };
            self.fast_run(cfg, threshold, noise, z)
        } else {
            None
        };

        if !self.warm {
            let settled = self.last_short.is_some_and(|s| {
                s.points >= self.rules.short.min_points
                    && s.span_ms >= self.rules.short.min_span_ms
                    && s.is_quiet(cfg.hysteresis.quiet_fraction)
            });
            self.settle_run = if settled { self.settle_run + 1 } else { 0 };
            if self.settle_run >= cfg.warmup.settle_evaluations || t - t_first >= cfg.warmup.max_ms
            {
                self.warm = true;
            }
        }

        let mut long_evaluated = false;
        if self.warm && self.long.push(t, v) == Pushed::Closed {
            self.long.collect(false, &mut self.buf);
            let params = TrendParams {
                kind: WindowKind::Long,
                alpha: cfg.alpha,
                z,
                min_points: cfg.long.min_points,
                min_span_ms: self
                    .rules
                    .long_min_span_ms
                    .min(cfg.growth_allowance.long_early_span_ms),
                threshold: self.rule(cfg, WindowKind::Long),
                autocorrelation: cfg.long.autocorrelation_correction,
            };
            self.last_long = Trend::evaluate(&self.buf, &params, &mut self.scratch);
            self.last_known = self.last_long.or(self.last_known);
            long_evaluated = true;
        }
        self.step(t, cfg, long_evaluated, out);
    }

    /// The fast path's run over the floor points in `self.buf` (oldest first): the newest
    /// points each higher than the one before by `rate_multiple` × `threshold` × Δt, by
    /// `min_step_bytes` and by `noise_multiple` × `noise`. The lowest reading since the point
    /// before the run is its baseline; when it lies before the run's first point and the rise
    /// from it is steep as well, it extends the run (it is an upper bound of the live set then,
    /// so the rise from it is real growth).
    /// Also fits [`Self::fast_trend`] over the run when it is long enough. O(points) without a
    /// fit, O(points²) with one.
    fn fast_run(&mut self, cfg: &Config, threshold: f64, noise: f64, z: f64) -> Option<FastRun> {
        let f = cfg.fast_path;
        let min_rise = f.min_step_bytes.max(f.noise_multiple * noise);
        let steep = |a: Point, b: Point| {
            let (dt, dv) = (b.t - a.t, b.v - a.v);
            (dt > 0.0 && dv >= min_rise && dv >= f.rate_multiple * threshold * dt).then(|| dv / dt)
        };
        // Majors often come in pairs 0.1 s apart; when a pair straddles a bucket boundary its
        // two floors are one observation, not a flat step that would break the run.
        let gap = self.rules.short.bucket_ms;
        self.buf.dedup_by(|later, earlier| {
            let pair = later.t - earlier.t < gap;
            if pair {
                *earlier = Point::new(later.t, earlier.v.min(later.v));
            }
            pair
        });
        let last = *self.buf.last()?;
        let mut start = self.buf.len() - 1;
        let mut slowest = f64::INFINITY;
        while start > 0 {
            let Some(rate) = steep(self.buf[start - 1], self.buf[start]) else {
                break;
            };
            slowest = slowest.min(rate);
            start -= 1;
        }
        let first = self.buf[start];
        let before = if start > 0 {
            self.buf[start - 1].t
        } else {
            f64::NEG_INFINITY
        };
        self.buf.drain(..start);
        let low = self
            .lows
            .min_after(before)
            .filter(|p| p.v < first.v)
            .unwrap_or(first);
        if low.t < first.t
            && let Some(rate) = steep(low, first)
        {
            slowest = slowest.min(rate);
            self.buf.insert(0, low);
        }
        let (points, span_ms) = (self.buf.len(), last.t - self.buf[0].t);
        let growth = last.v - low.v;
        let allowance = self.allowance(cfg, low.v);
        self.fast_trend = if points >= f.min_points {
            let params = TrendParams {
                kind: WindowKind::Short,
                alpha: cfg.alpha,
                z,
                min_points: f.min_points,
                min_span_ms: f.min_span_ms,
                threshold: ThresholdRule::Fixed(threshold),
                autocorrelation: false,
            };
            Trend::evaluate(&self.buf, &params, &mut self.scratch)
        } else {
            None
        };
        let run = FastRun {
            points,
            span_ms,
            slowest_step: if slowest.is_finite() { slowest } else { 0.0 },
            baseline_bytes: low.v,
            growth_bytes: growth,
            allowance_bytes: allowance,
            qualifies: points >= f.min_points
                && span_ms >= f.min_span_ms
                && growth >= allowance
                && self.fast_trend.is_some(),
        };
        run.growth_bytes.is_finite().then_some(run)
    }

    fn allowance(&self, cfg: &Config, base: f64) -> f64 {
        let a = cfg.growth_allowance;
        let headroom = self.room.map_or(0.0, |r| r.headroom_bytes);
        a.bytes
            .max(a.fraction * base.max(0.0))
            .max(a.headroom_fraction * headroom)
            * self.rules.allowance_factor
    }

    /// Projected time until the limit at `slope` (ms), when the limit is known.
    fn exhaustion_ms(&self, slope: f64) -> Option<f64> {
        self.room.and_then(|r| r.exhaustion_ms(slope))
    }

    /// Whether the long window's latest verdict counts: it exceeds, and either covers the full
    /// minimum span, or has already risen by more than the growth allowance at a slope that
    /// reaches the limit within the `oom_risk` horizon.
    fn long_exceeds(&self, cfg: &Config) -> bool {
        self.last_long.is_some_and(|l| {
            l.exceeds
                && (l.span_ms >= self.rules.long_min_span_ms
                    || (l.floor_bytes - l.start_floor_bytes
                        >= self.allowance(cfg, l.start_floor_bytes)
                        && self
                            .exhaustion_ms(l.projection_slope())
                            .is_some_and(|e| e <= cfg.oom.horizon_ms)))
        })
    }

    fn step(&mut self, t: f64, cfg: &Config, long_evaluated: bool, out: &mut Vec<Event>) {
        let short_ex = self.last_short.is_some_and(|s| s.exceeds);
        let long_ex = self.long_exceeds(cfg);
        let fast = self.last_fast.filter(|f| f.qualifies);
        let any = short_ex || long_ex || fast.is_some();

        if any {
            let ep = self.episode.get_or_insert(Episode {
                short_base: None,
                short_hits: 0,
                long_hits: 0,
                clear_run: 0,
            });
            ep.clear_run = 0;
            if short_ex {
                ep.short_hits += 1;
                if ep.short_base.is_none() {
                    ep.short_base = self.last_short.map(|s| s.start_floor_bytes);
                }
            }
            if long_ex && long_evaluated {
                ep.long_hits += 1;
            }
        } else if let Some(ep) = &mut self.episode {
            ep.clear_run += 1;
        }
        let episode_over = self
            .episode
            .is_some_and(|e| e.clear_run >= cfg.hysteresis.clear_evaluations);

        // The fitted line's end overshoots a ramp that has levelled off (a cache that filled);
        // the newest reading is an upper bound of the live set, so growth is at most that.
        let newest = self.last_reading.map_or(f64::INFINITY, |p| p.v);
        let growth = match (self.episode.and_then(|e| e.short_base), self.last_short) {
            (Some(base), Some(s)) => {
                Some((s.floor_bytes.min(newest) - base, self.allowance(cfg, base)))
            }
            _ => None,
        };
        // A fast-path decision reports the fast path's growth and allowance.
        let shown = fast.map(|f| (f.growth_bytes, f.allowance_bytes)).or(growth);
        // A short-window suspicion is voiced once the episode has grown by a share of the
        // allowance (all of it during warm-up, whose ramp is expected).
        let share = if self.warm {
            cfg.growth_allowance.suspect_fraction
        } else {
            1.0
        };
        let suspicious =
            long_ex || fast.is_some() || (short_ex && growth.is_some_and(|(g, a)| g >= share * a));

        if matches!(self.state, State::Normal | State::Resolved) && suspicious {
            self.focus = if short_ex || fast.is_some() {
                WindowKind::Short
            } else {
                WindowKind::Long
            };
            out.push(self.transition(t, State::Suspect, shown));
        }
        match self.state {
            State::Resolved => {
                let since = self.since.unwrap_or(t);
                if t - since >= cfg.hysteresis.resolved_hold_ms {
                    out.push(self.transition(t, State::Normal, shown));
                }
            }
            State::Normal => {}
            State::Suspect => {
                let Some(ep) = self.episode else { return };
                let grown = growth.is_some_and(|(g, a)| g >= a);
                let confirmed =
                    short_ex && ep.short_hits >= self.rules.short.confirm_evaluations && grown;
                if fast.is_some() || confirmed {
                    self.focus = WindowKind::Short;
                    self.quiet_since = None;
                    out.push(self.transition(t, State::Leaking, shown));
                } else if long_ex && long_evaluated && ep.long_hits >= cfg.long.confirm_evaluations
                {
                    self.focus = WindowKind::Long;
                    self.quiet_since = None;
                    out.push(self.transition(t, State::Leaking, shown));
                } else if episode_over {
                    out.push(self.transition(t, State::Normal, shown));
                }
            }
            State::Leaking | State::OomRisk => {
                let qf = cfg.hysteresis.quiet_fraction;
                let quiet = self.last_short.is_none_or(|s| s.is_quiet(qf))
                    && self.last_long.is_none_or(|l| l.is_quiet(qf));
                if quiet {
                    let since = *self.quiet_since.get_or_insert(t);
                    if t - since >= cfg.hysteresis.resolve_ms {
                        self.episode = None;
                        self.quiet_since = None;
                        out.push(self.transition(t, State::Resolved, shown));
                    }
                } else {
                    self.quiet_since = None;
                }
            }
        }
        if episode_over && !self.state.is_leak() {
            self.episode = None;
        }
        self.project(t, cfg, shown, out);
    }

    /// `Leaking ⇄ OomRisk`: whether the projected time until the limit is within the horizon
    /// (with hysteresis on the way back).
    fn project(&mut self, t: f64, cfg: &Config, shown: Option<(f64, f64)>, out: &mut Vec<Event>) {
        if !self.state.is_leak() {
            return;
        }
        // The newest fit that exists: a window without enough points (majors minutes apart)
        // keeps the last projection rather than calling the risk over.
        let exhaustion = self
            .focus_trend()
            .or(self.last_known)
            .and_then(|trend| self.exhaustion_ms(trend.projection_slope()));
        match self.state {
            State::Leaking if exhaustion.is_some_and(|e| e <= cfg.oom.horizon_ms) => {
                out.push(self.transition(t, State::OomRisk, shown));
            }
            State::OomRisk
                if exhaustion.is_none_or(|e| e > cfg.oom.clear_factor * cfg.oom.horizon_ms) =>
            {
                out.push(self.transition(t, State::Leaking, shown));
            }
            _ => {}
        }
    }

    fn focus_trend(&self) -> Option<Trend> {
        match self.focus {
            WindowKind::Short => {
                // While the fast path's run qualifies, its fit is the evidence.
                let fast = self
                    .fast_trend
                    .filter(|_| self.last_fast.is_some_and(|f| f.qualifies));
                fast.or(self.last_short)
                    .or(self.fast_trend)
                    .or(self.last_long)
            }
            WindowKind::Long => self.last_long.or(self.last_short),
        }
    }

    fn transition(&mut self, t: f64, to: State, growth: Option<(f64, f64)>) -> Event {
        let from = self.state;
        self.state = to;
        self.since = Some(t);
        let trend = if to.is_growing() {
            self.focus_trend()
        } else {
            self.last_long.or(self.last_short)
        }
        .or(self.last_known)
        .unwrap_or_else(|| Trend::empty(self.focus, t));
        let short_decision = trend.window == WindowKind::Short;
        Event {
            t_ms: t,
            signal: self.signal,
            from,
            state: to,
            slope: trend.theil_sen_slope,
            limit_bytes: self.room.map(|r| r.limit_bytes),
            headroom_bytes: self.room.map(|r| r.headroom_bytes),
            exhaustion_ms: if to.is_growing() {
                self.exhaustion_ms(trend.projection_slope())
            } else {
                None
            },
            evidence: Evidence {
                trend,
                growth_bytes: growth.filter(|_| short_decision).map(|g| g.0),
                growth_allowance_bytes: growth.filter(|_| short_decision).map(|g| g.1),
                fast_path: self.last_fast.filter(|_| short_decision),
            },
        }
    }

    pub(crate) fn status(&self) -> SignalStatus {
        let rising = self.state.is_growing();
        let headline = if rising {
            self.focus_trend().or(self.last_known)
        } else {
            self.last_long.or(self.last_short)
        };
        SignalStatus {
            signal: self.signal,
            state: self.state,
            since_ms: self.since,
            slope: headline.map_or(0.0, |t| t.theil_sen_slope),
            threshold: headline.map(|t| t.threshold),
            floor_bytes: headline.map(|t| t.floor_bytes),
            room: self.room,
            exhaustion_ms: headline
                .filter(|_| rising)
                .and_then(|t| self.exhaustion_ms(t.projection_slope())),
            last_bytes: self.last_reading.map(|p| p.v),
            warmed_up: self.warm,
            readings: self.readings,
            short: self.last_short,
            long: self.last_long,
            fast_path: self.last_fast,
        }
    }
}
