//! The leak detector: samples in, state changes out.
//!
//! ```
//! use memwatchdog_detect::{Config, Detector, GcKind, Sample, Signal, State};
//!
//! let mut detector = Detector::new(Config::with_threshold(256.0)).unwrap();
//! let mut events = Vec::new();
//! for i in 0..120_u32 {
//!     // A major GC every second; the floor grows 2.5 MB/s: a fast leak.
//!     let t = f64::from(i) * 1000.0;
//!     let sample = Sample::new(t, GcKind::Major, 50_000_000 + u64::from(i) * 2_500_000);
//!     events.extend(detector.push(&sample));
//! }
//! assert_eq!(detector.state(Signal::Heap), State::Leaking);
//! assert!(events.iter().any(|e| e.state == State::Leaking && e.t_ms <= 60_000.0));
//! ```
//!
//! Pure and deterministic: no clock, no IO, no threads, no randomness; the same samples give the
//! same events. Cost per sample: O(1) for non-major samples without RSS; for a major GC (or an RSS
//! reading) one short-window fit over at most `short.max_points` points, and once per long bucket
//! (a minute by default) one long-window fit over at most `long.max_points` points.

use crate::config::{Config, ConfigError};
use crate::normal;
use crate::sample::{GcKind, Sample};
use crate::signal::{Event, Room, SignalRules, SignalStatus, SignalTracker};
use crate::state::{Signal, State};
use serde::{Deserialize, Serialize};

/// Everything the detector knows, for `--json` output and the exporter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorStatus {
    /// Time of the latest accepted sample (ms).
    pub t_ms: Option<f64>,
    /// Samples accepted.
    pub samples: u64,
    /// Samples ignored because their time was not finite or went backwards.
    pub rejected_samples: u64,
    /// Accepted samples per GC kind: minor, major, incremental, weak callbacks, other.
    pub gc_counts: GcCounts,
    /// Latest RSS reading (carried forward between reads).
    pub rss: Option<u64>,
    /// V8's heap limit in the latest sample.
    pub heap_limit: Option<u64>,
    /// The container's memory limit in the latest sample (`None`: unlimited or unknown).
    pub memory_limit: Option<u64>,
    /// Lowest `heap_used` seen after a minor GC since the latest major GC (an upper bound of the
    /// current floor; reported, not used for detection).
    pub heap_after_minor_min: Option<u64>,
    /// Per-signal status, in the order heap, external, rss.
    pub signals: Vec<SignalStatus>,
}

/// Counts of accepted samples per GC kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcCounts {
    /// Scavenges.
    pub minor: u64,
    /// Mark-compacts.
    pub major: u64,
    /// Incremental marking.
    pub incremental: u64,
    /// Weak callbacks.
    pub weak_callbacks: u64,
    /// Anything else.
    pub other: u64,
}

/// The leak detector; see the module docs.
#[derive(Debug, Clone)]
pub struct Detector {
    config: Config,
    z: f64,
    t_first: Option<f64>,
    t_last: Option<f64>,
    samples: u64,
    rejected: u64,
    gc_counts: GcCounts,
    rss: Option<u64>,
    heap_limit: Option<u64>,
    memory_limit: Option<u64>,
    heap_after_minor_min: Option<u64>,
    gc_request: bool,
    heap: SignalTracker,
    external: SignalTracker,
    rss_tracker: SignalTracker,
}

impl Default for Detector {
    fn default() -> Self {
        Self::new(Config::default()).expect("the default configuration is valid")
    }
}

impl Detector {
    /// A detector with the given settings.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        config.validate()?;
        let plain = SignalRules {
            threshold_factor: 1.0,
            allowance_factor: 1.0,
            long_min_span_ms: config.long.min_span_ms,
            short: config.short,
            fast_path: true,
        };
        let external = SignalRules {
            allowance_factor: config.growth_allowance.external_factor,
            ..plain
        };
        let rss = SignalRules {
            threshold_factor: config.rss.threshold_factor,
            allowance_factor: config.rss.allowance_factor,
            long_min_span_ms: config.rss.long_min_span_ms,
            short: config.rss.short,
            // RSS is read once a second and drifts for minutes; its fast leaks show in the heap
            // or off-heap memory first.
            fast_path: false,
        };
        Ok(Self {
            z: normal::quantile(1.0 - config.alpha),
            t_first: None,
            t_last: None,
            samples: 0,
            rejected: 0,
            gc_counts: GcCounts::default(),
            rss: None,
            heap_limit: None,
            memory_limit: None,
            heap_after_minor_min: None,
            gc_request: false,
            heap: SignalTracker::new(Signal::Heap, &config, plain),
            external: SignalTracker::new(Signal::External, &config, external),
            rss_tracker: SignalTracker::new(Signal::Rss, &config, rss),
            config,
        })
    }

    /// The settings in use.
    #[must_use]
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// Feeds one sample; returns the state changes it caused (usually none).
    ///
    /// Samples whose time is not finite or earlier than the previous sample's are ignored.
    pub fn push(&mut self, sample: &Sample) -> Vec<Event> {
        let t = sample.t_ms;
        if !t.is_finite() || self.t_last.is_some_and(|last| t < last) {
            self.rejected += 1;
            return Vec::new();
        }
        let t_first = *self.t_first.get_or_insert(t);
        self.t_last = Some(t);
        self.samples += 1;
        let counter = match sample.gc_kind {
            GcKind::Minor => &mut self.gc_counts.minor,
            GcKind::Major => &mut self.gc_counts.major,
            GcKind::Incremental => &mut self.gc_counts.incremental,
            GcKind::WeakCallbacks => &mut self.gc_counts.weak_callbacks,
            GcKind::Other(_) => &mut self.gc_counts.other,
        };
        *counter += 1;
        if sample.rss.is_some() {
            self.rss = sample.rss;
        }
        self.heap_limit = sample.heap_limit;
        self.memory_limit = sample.memory_limit;
        // What the container has left: its limit minus RSS (or, before RSS was read, minus
        // the heap and off-heap memory, which RSS includes).
        let container = sample.memory_limit.map(|limit| {
            let used = self
                .rss
                .unwrap_or_else(|| sample.heap_total.saturating_add(sample.off_heap()));
            Room::below(limit as f64, used as f64)
        });

        let mut events = Vec::new();
        match sample.gc_kind {
            GcKind::Major => {
                self.heap_after_minor_min = None;
                let v = sample.heap_used as f64;
                let heap_room = sample.heap_limit.map(|l| Room::below(l as f64, v));
                let room = Room::tighter(heap_room, container);
                self.heap.add(t, v, room, &self.config, self.z, &mut events);
                if self.config.external_enabled {
                    let v = sample.off_heap() as f64;
                    self.external
                        .add(t, v, container, &self.config, self.z, &mut events);
                }
            }
            GcKind::Minor => {
                let m = self.heap_after_minor_min.get_or_insert(sample.heap_used);
                *m = (*m).min(sample.heap_used);
                // Upper bounds of the live set: the fast path's baseline (O(1)).
                let v = sample.heap_used as f64;
                self.heap.observe(t, v);
                if self.heap.wants_gc(t, v, &self.config) {
                    self.gc_request = true;
                }
                if self.config.external_enabled {
                    self.external.observe(t, sample.off_heap() as f64);
                }
            }
            _ => {}
        }
        if let Some(rss) = sample.rss
            && self.config.rss.enabled
            && t - t_first >= self.config.rss.ignore_first_ms
        {
            self.rss_tracker
                .add(t, rss as f64, container, &self.config, self.z, &mut events);
        }
        events
    }

    /// Whether a confirmation GC was requested since the last call (see
    /// [`crate::config::ConfirmGcConfig`]): the caller should run a full GC soon, whose sample
    /// then shows the floor. Clears the request.
    pub fn take_gc_request(&mut self) -> bool {
        std::mem::take(&mut self.gc_request)
    }

    /// Feeds every sample of `samples` and collects the events.
    pub fn push_all<'a>(&mut self, samples: impl IntoIterator<Item = &'a Sample>) -> Vec<Event> {
        samples.into_iter().flat_map(|s| self.push(s)).collect()
    }

    fn tracker(&self, signal: Signal) -> &SignalTracker {
        match signal {
            Signal::Heap => &self.heap,
            Signal::External => &self.external,
            Signal::Rss => &self.rss_tracker,
        }
    }

    /// Current state of `signal`.
    #[must_use]
    pub fn state(&self, signal: Signal) -> State {
        self.tracker(signal).state()
    }

    /// Current headline growth rate of `signal` in bytes/ms (0 before the first fit); see
    /// [`SignalStatus::slope`].
    #[must_use]
    pub fn slope(&self, signal: Signal) -> f64 {
        self.tracker(signal).status().slope
    }

    /// Status of one signal.
    #[must_use]
    pub fn signal_status(&self, signal: Signal) -> SignalStatus {
        self.tracker(signal).status()
    }

    /// Status of everything.
    #[must_use]
    pub fn status(&self) -> DetectorStatus {
        DetectorStatus {
            t_ms: self.t_last,
            samples: self.samples,
            rejected_samples: self.rejected,
            gc_counts: self.gc_counts,
            rss: self.rss,
            heap_limit: self.heap_limit,
            memory_limit: self.memory_limit,
            heap_after_minor_min: self.heap_after_minor_min,
            signals: Signal::ALL.iter().map(|&s| self.signal_status(s)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_time_going_backwards() {
        let mut d = Detector::default();
        d.push(&Sample::new(10.0, GcKind::Major, 1));
        d.push(&Sample::new(5.0, GcKind::Major, 1));
        d.push(&Sample::new(f64::NAN, GcKind::Major, 1));
        let st = d.status();
        assert_eq!(st.samples, 1);
        assert_eq!(st.rejected_samples, 2);
    }

    const MB: u64 = 1_000_000;

    fn leaking_at(d: &mut Detector, samples: &[(f64, GcKind, u64)]) -> Option<Event> {
        samples
            .iter()
            .flat_map(|&(t, kind, heap)| d.push(&Sample::new(t, kind, heap)))
            .find(|e| e.state == State::Leaking)
    }

    /// A leak of ~2.5 MB/s seen through four major GCs 7–12 s apart.
    const FOUR_SPARSE_MAJORS: [(f64, GcKind, u64); 5] = [
        (100.0, GcKind::Minor, 5 * MB),
        (1_000.0, GcKind::Major, 10 * MB),
        (8_000.0, GcKind::Major, 30 * MB),
        (18_000.0, GcKind::Major, 55 * MB),
        (30_000.0, GcKind::Major, 85 * MB),
    ];

    #[test]
    fn fast_path_declares_a_leak_from_four_sparse_majors() {
        // Too few points for the short-window rule (5), and no confirmations; but every step
        // rises ~2.5 MB/s, over more than 15 s, and by more than 64 MiB in all.
        let mut d = Detector::new(Config::with_threshold(256.0)).unwrap();
        let e = leaking_at(&mut d, &FOUR_SPARSE_MAJORS).expect("declared");
        assert!((e.t_ms - 30_000.0).abs() < 1e-9, "{e:#?}");
        let run = e.evidence.fast_path.unwrap();
        assert!(run.qualifies && run.points == 5, "{run:#?}");
        assert!((run.baseline_bytes - 5e6).abs() < 1.0);
        assert!((e.evidence.growth_bytes.unwrap() - 80e6).abs() < 1.0);
        assert!(e.slope > 2_000.0 && e.slope < 3_500.0, "{e:#?}");
        assert_eq!(d.state(Signal::Heap), State::Leaking);
    }

    #[test]
    fn fast_path_sees_a_leak_on_top_of_a_warm_up_ramp_in_adaptive_mode() {
        // 2.5 MB/s plus a 40 MB warm-up in the first 10 s, majors as V8 ran them in two
        // recorded runs (then none for over a minute). The floors bend where the warm-up ends,
        // which inflates the short window's noise estimate and so its adaptive threshold.
        // First run: noise 5.9 MB, threshold 854 B/ms; held to 3x that rate, the 41 s step at
        // 2.5 MB/s would not count, leaving the signal suspect until the next major.
        let first = [
            (100.0, GcKind::Minor, 5 * MB),
            (400.0, GcKind::Major, 6_600_000),
            (2_800.0, GcKind::Major, 22_200_000),
            (5_000.0, GcKind::Major, 36_500_000),
            (15_000.0, GcKind::Major, 81_500_000),
            (56_000.0, GcKind::Major, 184 * MB),
        ];
        // Second run: noise 18.6 MB at the 22 s major; held to 3x that noise, its 25 MB step
        // would not count either (the old rate rule asked for 198 MB).
        let second = [
            (1_000.0, GcKind::Major, 4 * MB),
            (2_900.0, GcKind::Major, 15 * MB),
            (6_000.0, GcKind::Major, 47 * MB),
            (12_700.0, GcKind::Major, 90 * MB),
            (22_000.0, GcKind::Major, 115 * MB),
        ];
        for (samples, at, noise) in [
            (&first[..], 56_000.0, 5.9e6),
            (&second[..], 22_000.0, 18.6e6),
        ] {
            let mut d = Detector::default();
            let e = leaking_at(&mut d, samples).expect("declared");
            assert!((e.t_ms - at).abs() < 1e-9, "{e:#?}");
            let short = d.signal_status(Signal::Heap).short.unwrap();
            assert!((short.noise_bytes - noise).abs() < 0.1e6, "{short:#?}");
            let run = e.evidence.fast_path.unwrap();
            assert!(run.qualifies && run.points >= 3, "{run:#?}");
        }
    }

    #[test]
    fn a_reading_after_a_minor_gc_is_the_baseline_of_a_run() {
        // The minor GC at 0.1 s proves the live set was at most 5 MB then: with it the run is
        // declared at the second major, without it only at the third.
        let majors = [
            (20_000.0, GcKind::Major, 60 * MB),
            (35_000.0, GcKind::Major, 95 * MB),
            (50_000.0, GcKind::Major, 130 * MB),
        ];
        let mut with = vec![(100.0, GcKind::Minor, 5 * MB)];
        with.extend(majors);
        let mut d = Detector::new(Config::with_threshold(256.0)).unwrap();
        let t = leaking_at(&mut d, &with).unwrap().t_ms;
        assert!((t - 35_000.0).abs() < 1e-9, "{t}");
        let mut d = Detector::new(Config::with_threshold(256.0)).unwrap();
        let t = leaking_at(&mut d, &majors).unwrap().t_ms;
        assert!((t - 50_000.0).abs() < 1e-9, "{t}");
    }

    #[test]
    fn fast_path_ignores_a_short_burst_and_a_sawtooth() {
        // 70 MB loaded in 4 s at start-up, then flat; between majors the heap climbs 40 MB of
        // garbage that each major removes.
        let mut d = Detector::new(Config::with_threshold(256.0)).unwrap();
        let mut samples = vec![
            (100.0, GcKind::Minor, 5 * MB),
            (1_000.0, GcKind::Major, 10 * MB),
            (3_000.0, GcKind::Major, 45 * MB),
            (5_000.0, GcKind::Major, 80 * MB),
        ];
        for i in 1..200_u32 {
            let t = 5_000.0 + f64::from(i) * 10_000.0;
            for k in 1..10_u32 {
                samples.push((
                    t - 10_000.0 + f64::from(k) * 1_000.0,
                    GcKind::Minor,
                    (80 + 4 * u64::from(k)) * MB,
                ));
            }
            samples.push((t, GcKind::Major, 80 * MB + u64::from(i % 3) * MB / 2));
        }
        assert!(leaking_at(&mut d, &samples).is_none());
        let run = d.signal_status(Signal::Heap).fast_path.unwrap();
        assert!(!run.qualifies && run.points <= 2, "{run:#?}");
    }

    #[test]
    fn fast_path_can_be_turned_off() {
        let mut config = Config::with_threshold(256.0);
        config.fast_path.enabled = false;
        let mut d = Detector::new(config).unwrap();
        let e = leaking_at(&mut d, &FOUR_SPARSE_MAJORS);
        assert!(e.is_none(), "{e:#?}");
        assert!(d.signal_status(Signal::Heap).fast_path.is_none());
    }

    const MIB: u64 = 1024 * 1024;

    /// A rise of `rise` bytes over 30 s from 20 MB (a major every 3 s, two minors between),
    /// then flat for 10 minutes; every sample carries `heap_limit`.
    fn rise_then_flat(rise: u64, heap_limit: u64) -> Vec<Sample> {
        let mut out = Vec::new();
        for i in 0..210_u32 {
            let t = f64::from(i) * 3_000.0;
            let grown = (u64::from(i) * rise / 10).min(rise);
            let floor = 20 * MB + grown;
            for k in 1..3_u32 {
                let minor = Sample::new(
                    t - 3_000.0 + f64::from(k) * 1_000.0,
                    GcKind::Minor,
                    floor + u64::from(k) * MB,
                );
                out.push(minor.with_limits(Some(heap_limit), None));
            }
            out.push(Sample::new(t, GcKind::Major, floor).with_limits(Some(heap_limit), None));
        }
        out
    }

    fn states(d: &mut Detector, samples: &[Sample]) -> Vec<Event> {
        samples.iter().flat_map(|s| d.push(s)).collect()
    }

    #[test]
    fn the_same_growth_is_healthy_in_a_big_heap_and_a_risk_in_a_small_one() {
        // 120 MiB in 30 s, then flat: a cache filling. Against 4 GiB the allowance is 4% of the
        // headroom (~164 MiB) and nothing fires; against 256 MiB it is 64 MiB, and at that rate
        // the heap would be full within the hour.
        let big = states(
            &mut Detector::default(),
            &rise_then_flat(120 * MIB, 4096 * MIB),
        );
        assert!(big.iter().all(|e| !e.state.is_leak()), "{big:#?}");
        let small = states(
            &mut Detector::default(),
            &rise_then_flat(120 * MIB, 256 * MIB),
        );
        let risk = small
            .iter()
            .find(|e| e.state == State::OomRisk)
            .expect("oom_risk in a 256 MiB heap");
        let left = risk.exhaustion_ms.unwrap();
        assert!(left > 0.0 && left < 3_600_000.0, "{risk:#?}");
        assert!((risk.limit_bytes.unwrap() - (256 * MIB) as f64).abs() < 1.0);
        assert!(
            (risk.headroom_bytes.unwrap()
                - (risk.limit_bytes.unwrap() - risk.evidence.trend.floor_bytes))
                .abs()
                < 8.0 * MB as f64,
            "{risk:#?}"
        );
        // It stopped growing: the risk passes (back to leaking), then the leak resolves.
        let after: Vec<_> = small
            .iter()
            .skip_while(|e| e.state != State::OomRisk)
            .collect();
        assert!(
            after
                .iter()
                .any(|e| e.from == State::OomRisk && e.state == State::Leaking),
            "{after:#?}"
        );
        assert!(
            after.iter().any(|e| e.state == State::Resolved),
            "{after:#?}"
        );
    }

    #[test]
    fn without_a_limit_the_allowance_is_the_fixed_one() {
        // No limit known (an old trace): 120 MiB is over the 64 MiB allowance, so it is a leak,
        // but with no projection there is no oom_risk.
        let mut samples = rise_then_flat(120 * MIB, 1);
        for s in &mut samples {
            s.heap_limit = None;
        }
        let events = states(&mut Detector::default(), &samples);
        assert!(
            events.iter().any(|e| e.state == State::Leaking),
            "{events:#?}"
        );
        assert!(
            events
                .iter()
                .all(|e| e.state != State::OomRisk && e.exhaustion_ms.is_none())
        );
    }

    #[test]
    fn the_container_limit_binds_the_heap_when_it_is_closer() {
        // V8 may use 4 GiB, but the container has 300 MiB and RSS is already 200 MiB.
        let mut samples = rise_then_flat(120 * MIB, 4096 * MIB);
        for s in &mut samples {
            s.memory_limit = Some(300 * MIB);
            s.rss = Some(200 * MIB);
        }
        let events = states(&mut Detector::default(), &samples);
        let risk = events
            .iter()
            .find(|e| e.state == State::OomRisk)
            .expect("oom_risk");
        assert!(
            (risk.limit_bytes.unwrap() - (300 * MIB) as f64).abs() < 1.0,
            "{risk:#?}"
        );
        assert!(
            (risk.headroom_bytes.unwrap() - (100 * MIB) as f64).abs() < 1.0,
            "{risk:#?}"
        );
    }

    #[test]
    fn a_stale_floor_under_a_steep_rise_asks_for_a_confirmation_gc() {
        // Majors at 0, 3, 6 s show 2 MB/s; then V8 runs only minors, whose readings climb.
        let limit = Some(4096 * MIB);
        let mut samples = Vec::new();
        for i in 0..3_u32 {
            let t = f64::from(i) * 3_000.0;
            samples.push(
                Sample::new(t, GcKind::Major, 20 * MB + u64::from(i) * 6 * MB)
                    .with_limits(limit, None),
            );
        }
        let mut asked = Vec::new();
        let mut d = Detector::default();
        for s in &samples {
            d.push(s);
            assert!(!d.take_gc_request());
        }
        for i in 1..=120_u32 {
            let t = 6_000.0 + f64::from(i) * 1_000.0;
            // Readings after minor GCs: the live set is at most this.
            let v = 32 * MB + u64::from(i) * 2_500_000;
            d.push(&Sample::new(t, GcKind::Minor, v).with_limits(limit, None));
            if d.take_gc_request() {
                asked.push(t);
            }
        }
        // First once the reading is above the baseline by the allowance (~164 MiB ≈ 172 MB,
        // from 20 MB: 32 + 2.5 i ≥ 192, i ≥ 64) and the floor is stale; then every 15 s.
        assert!(!asked.is_empty());
        assert!((69_000.0..=72_000.0).contains(&asked[0]), "{asked:?}");
        for pair in asked.windows(2) {
            assert!(pair[1] - pair[0] >= 15_000.0, "{asked:?}");
        }
        // Off: never.
        let mut config = Config::default();
        config.confirm_gc.enabled = false;
        let mut d = Detector::new(config).unwrap();
        for s in &samples {
            d.push(s);
        }
        for i in 1..=120_u32 {
            let t = 6_000.0 + f64::from(i) * 1_000.0;
            d.push(
                &Sample::new(t, GcKind::Minor, 32 * MB + u64::from(i) * 2_500_000)
                    .with_limits(limit, None),
            );
            assert!(!d.take_gc_request());
        }
    }

    #[test]
    fn flat_heap_stays_normal() {
        let mut d = Detector::new(Config::with_threshold(1.0)).unwrap();
        for i in 0..5000_u32 {
            let t = f64::from(i) * 3000.0;
            let wobble = u64::from((i * 3) % 7) * 100_000;
            let events = d.push(&Sample::new(t, GcKind::Major, 40_000_000 + wobble));
            assert!(
                events.iter().all(|e| e.state != State::Leaking),
                "{events:?}"
            );
        }
        assert_eq!(d.state(Signal::Heap), State::Normal);
        assert!(d.slope(Signal::Heap).abs() < 1.0);
    }
}
