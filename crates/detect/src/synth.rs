//! Deterministic synthetic GC traces for tests, the corpus report and benchmarks.
//!
//! A [`Scenario`] describes a service: its GC cadence, its heap floor (base, warm-up, caches, load
//! levels, leaks), the noise on the floor, off-heap memory and RSS. [`Scenario::samples`] turns it
//! into the stream of [`Sample`]s the Node side would send, driven by a seeded [`Rng`] (the
//! workspace's one PRNG, `memwatchdog-rng`), so the same scenario and seed always give the
//! same trace.
//!
//! The noise follows what was measured on Node 20 (see `docs/detection.md`): the live heap at each
//! major GC moves up and down like a coin toss; the value read in the GC callback is above V8's
//! post-GC figure by ~0.2 MB median and now and then by several MB; between majors, scavenges
//! promote garbage, so `heap_used` after minor GCs climbs until the next major (sawtooth).

pub use memwatchdog_rng::Rng;

use crate::sample::{GcKind, Sample};

const MB: f64 = 1_000_000.0;

/// A linear rise of `bytes` over `[start_ms, start_ms + duration_ms]`, flat after.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ramp {
    /// When it starts (ms after the trace start).
    pub start_ms: f64,
    /// How long it rises.
    pub duration_ms: f64,
    /// Total rise in bytes.
    pub bytes: f64,
}

impl Ramp {
    /// A leak of `rate` bytes/ms from `start_ms` until `stop_ms`.
    #[must_use]
    pub fn leak(rate: f64, start_ms: f64, stop_ms: f64) -> Self {
        Self {
            start_ms,
            duration_ms: stop_ms - start_ms,
            bytes: rate * (stop_ms - start_ms),
        }
    }

    fn at(&self, t: f64) -> f64 {
        if t <= self.start_ms {
            0.0
        } else if t >= self.start_ms + self.duration_ms {
            self.bytes
        } else {
            self.bytes * (t - self.start_ms) / self.duration_ms
        }
    }
}

/// Load that steps between levels, moving the live heap with the requests in flight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    /// Live bytes added per load level.
    pub bytes_per_level: f64,
    /// Highest level (levels are `0..=max_level`).
    pub max_level: u32,
    /// Mean time between level changes (exponential).
    pub mean_dwell_ms: f64,
    /// How long a change takes (linear).
    pub transition_ms: f64,
}

/// GC cadence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cadence {
    /// Mean interval between minor GCs (uniform in ±50%).
    pub minor_ms: f64,
    /// Shortest interval between major GCs.
    pub major_min_ms: f64,
    /// Longest interval between major GCs.
    pub major_max_ms: f64,
    /// Probability that a major is followed by a second one 0.1 s later.
    pub pair_probability: f64,
    /// V8-like limit-driven majors instead of a timetable: after a major at floor `F`, the next
    /// one comes when floor plus promoted garbage reach `F × g`, `g` uniform in this range (V8
    /// sets its old-generation limit from the live size), or `major_max_ms` after the last one.
    /// A fast leak then sees majors at growing intervals (measured: 0.4, 2.8, 5, 10, 51 s).
    pub limit_growth: Option<(f64, f64)>,
}

/// Noise on the floor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Noise {
    /// Standard deviation of the live heap at a major, independent per major (bytes).
    pub live_sd: f64,
    /// Median of the read-back excess over V8's post-GC figure (exponential, bytes).
    pub read_median: f64,
    /// Probability of a large read-back excess.
    pub tail_probability: f64,
    /// Largest read-back excess (uniform from 1 MB to this).
    pub tail_max: f64,
}

/// A synthetic service; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Short name for reports.
    pub name: &'static str,
    /// What it models.
    pub description: &'static str,
    /// Trace length.
    pub duration_ms: f64,
    /// GC cadence.
    pub cadence: Cadence,
    /// Heap floor before anything else.
    pub base_heap: f64,
    /// Rises of the heap floor (warm-up, caches, leaks).
    pub heap_ramps: Vec<Ramp>,
    /// Load levels moving the heap floor, if any.
    pub load: Option<Load>,
    /// Floor noise.
    pub noise: Noise,
    /// Garbage promoted to old space between majors (bytes/ms): the sawtooth.
    pub promotion_rate: f64,
    /// Off-heap memory before anything else.
    pub base_external: f64,
    /// Rises of off-heap memory (Buffer leaks).
    pub external_ramps: Vec<Ramp>,
    /// Mean of in-flight I/O buffers at a major (exponential, bytes).
    pub external_io_mean: f64,
    /// Native memory outside heap and external.
    pub base_native: f64,
    /// Rises of RSS beyond heap and external (allocator growth after warm-up).
    pub rss_ramps: Vec<Ramp>,
}

/// The V8 heap limit of every synthetic trace: Node's default on a 64-bit host with 16 GB of
/// memory or more (`heap_size_limit` = 4,144 MiB). No container limit.
pub const HEAP_LIMIT: u64 = 4_144 * 1024 * 1024;

/// The warm-up every scenario starts with: 40 MB of code, caches and connection state in 30 s.
#[must_use]
pub const fn warmup() -> Ramp {
    Ramp {
        start_ms: 0.0,
        duration_ms: 30_000.0,
        bytes: 40.0 * MB,
    }
}

impl Scenario {
    /// A healthy service: majors every 2–10 s, minors every ~60 ms, warm-up then a flat floor.
    #[must_use]
    pub fn healthy(name: &'static str, description: &'static str, duration_ms: f64) -> Self {
        Self {
            name,
            description,
            duration_ms,
            cadence: Cadence {
                minor_ms: 60.0,
                major_min_ms: 2_000.0,
                major_max_ms: 10_000.0,
                pair_probability: 0.3,
                limit_growth: None,
            },
            base_heap: 12.0 * MB,
            heap_ramps: vec![warmup()],
            load: None,
            noise: Noise {
                live_sd: 0.4 * MB,
                read_median: 0.2 * MB,
                tail_probability: 0.03,
                tail_max: 5.0 * MB,
            },
            promotion_rate: 1_500.0,
            base_external: 2.0 * MB,
            external_ramps: Vec::new(),
            external_io_mean: 0.5 * MB,
            base_native: 30.0 * MB,
            rss_ramps: vec![Ramp {
                start_ms: 0.0,
                duration_ms: 60_000.0,
                bytes: 20.0 * MB,
            }],
        }
    }

    /// The samples of this scenario for `seed`, lazily.
    #[must_use]
    pub fn samples(&self, seed: u64) -> Samples<'_> {
        let mut rng = Rng::new(seed ^ fnv(self.name));
        let first_major = rng.uniform(self.cadence.major_min_ms, self.cadence.major_max_ms);
        let first_level = self
            .load
            .map_or(0, |l| rng.uniform(0.0, f64::from(l.max_level) + 1.0) as u32);
        let next_change = self
            .load
            .map_or(f64::INFINITY, |l| rng.exp(l.mean_dwell_ms));
        let (first_major, limit) = match self.cadence.limit_growth {
            Some((lo, hi)) => (
                self.cadence.major_max_ms,
                self.base_heap * rng.uniform(lo, hi),
            ),
            None => (first_major, f64::INFINITY),
        };
        Samples {
            s: self,
            rng,
            t: 0.0,
            next_minor: 0.0,
            next_major: first_major,
            pending: Vec::new(),
            last_major: 0.0,
            next_rss: 0.0,
            level_from: f64::from(first_level),
            level_to: f64::from(first_level),
            change_at: -1.0,
            next_change,
            limit,
            done: false,
        }
    }

    fn floor(&self, t: f64, load: f64) -> f64 {
        self.base_heap
            + self.heap_ramps.iter().map(|r| r.at(t)).sum::<f64>()
            + self.load.map_or(0.0, |l| load * l.bytes_per_level)
    }

    fn external(&self, t: f64) -> f64 {
        self.base_external + self.external_ramps.iter().map(|r| r.at(t)).sum::<f64>()
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Iterator over a scenario's samples; see [`Scenario::samples`].
#[derive(Debug, Clone)]
pub struct Samples<'a> {
    s: &'a Scenario,
    rng: Rng,
    t: f64,
    next_minor: f64,
    next_major: f64,
    pending: Vec<Sample>,
    last_major: f64,
    next_rss: f64,
    level_from: f64,
    level_to: f64,
    change_at: f64,
    next_change: f64,
    /// Old-generation limit that triggers the next major (limit-driven cadence).
    limit: f64,
    done: bool,
}

impl Samples<'_> {
    fn load_level(&mut self, t: f64) -> f64 {
        let Some(load) = self.s.load else { return 0.0 };
        while t >= self.next_change {
            let current = self.level_at(self.next_change, load);
            self.level_from = current;
            // Mean-reverting (Ehrenfest): the higher the load, the likelier the next step is down.
            let up = self.rng.unit() < 1.0 - current / f64::from(load.max_level.max(1));
            let target = if up { current + 1.0 } else { current - 1.0 };
            self.level_to = target.clamp(0.0, f64::from(load.max_level));
            self.change_at = self.next_change;
            self.next_change += self.rng.exp(load.mean_dwell_ms);
        }
        self.level_at(t, load)
    }

    fn level_at(&self, t: f64, load: Load) -> f64 {
        if t >= self.change_at + load.transition_ms {
            self.level_to
        } else {
            let f = ((t - self.change_at) / load.transition_ms).clamp(0.0, 1.0);
            self.level_from + (self.level_to - self.level_from) * f
        }
    }

    fn rss(&mut self, t: f64, heap_total: f64, external: f64) -> Option<u64> {
        if t < self.next_rss {
            return None;
        }
        self.next_rss = t + 1_000.0;
        let s = self.s;
        let drift: f64 = s.rss_ramps.iter().map(|r| r.at(t)).sum();
        let v = heap_total + external + s.base_native + drift + self.rng.normal() * 0.5 * MB;
        Some(v.max(0.0) as u64)
    }

    fn make(&mut self, t: f64, kind: GcKind) -> Sample {
        let s = self.s;
        let load = self.load_level(t);
        let floor = s.floor(t, load);
        let promoted = s.promotion_rate * (t - self.last_major).max(0.0);
        let external_base = s.external(t);
        let (heap_used, external) = match kind {
            GcKind::Major => {
                let n = s.noise;
                let mut read = self.rng.exp(n.read_median / std::f64::consts::LN_2);
                if self.rng.unit() < n.tail_probability {
                    read += self.rng.uniform(MB, n.tail_max.max(MB));
                }
                let live = self.rng.normal() * n.live_sd;
                let io = self.rng.exp(s.external_io_mean);
                (floor + live + read, external_base + io)
            }
            GcKind::Incremental => (floor + promoted + self.rng.exp(2.0 * MB), external_base),
            _ => {
                let young = self.rng.exp(1.0 * MB);
                let io = self.rng.exp(2.0 * s.external_io_mean);
                (floor + promoted + young, external_base + io)
            }
        };
        let heap_used = heap_used.max(1.0);
        let heap_total = ((floor + promoted) * 1.15 / MB).ceil() * MB + 4.0 * MB;
        let rss = self.rss(t, heap_total, external);
        Sample {
            t_ms: t,
            gc_kind: kind,
            heap_used: heap_used as u64,
            heap_total: heap_total as u64,
            external: external.max(0.0) as u64,
            array_buffers: (external.max(0.0) * 0.8) as u64,
            rss,
            heap_limit: Some(HEAP_LIMIT),
            memory_limit: None,
        }
    }
}

impl Samples<'_> {
    /// Runs a major GC at `t` (a confirmation GC), unless one is due sooner.
    pub fn request_major(&mut self, t: f64) {
        self.next_major = self.next_major.min(t.max(self.t));
    }
}

impl Iterator for Samples<'_> {
    type Item = Sample;

    fn next(&mut self) -> Option<Sample> {
        if let Some(s) = self.pending.pop() {
            return Some(s);
        }
        if self.done {
            return None;
        }
        let c = self.s.cadence;
        if self.next_minor < self.next_major {
            let t = self.next_minor;
            if t > self.s.duration_ms {
                self.done = true;
                return None;
            }
            let at_limit = self.limit.is_finite() && {
                let load = self.load_level(t);
                self.s.floor(t, load) + self.s.promotion_rate * (t - self.last_major) >= self.limit
            };
            if at_limit {
                // The old generation reached its limit: a major instead of this minor.
                self.next_major = t;
            } else {
                self.t = t;
                self.next_minor = t + self.rng.uniform(0.5, 1.5) * c.minor_ms;
                return Some(self.make(t, GcKind::Minor));
            }
        }
        let t = self.next_major;
        if t > self.s.duration_ms {
            self.done = true;
            return None;
        }
        self.t = t;
        // incremental marking, the major itself, sometimes a second major, weak callbacks.
        let incremental = self.make(t, GcKind::Incremental);
        let major = self.make(t + 5.0, GcKind::Major);
        self.last_major = t + 5.0;
        let mut out = vec![incremental, major];
        if self.rng.unit() < c.pair_probability {
            out.push(self.make(t + 105.0, GcKind::Major));
            self.last_major = t + 105.0;
        }
        let last_t = out.last().map_or(t, |s| s.t_ms);
        out.push(self.make(last_t + 1.0, GcKind::WeakCallbacks));
        out.reverse();
        self.pending = out;
        self.next_major = match c.limit_growth {
            Some((lo, hi)) => {
                let load = self.load_level(last_t);
                self.limit = self.s.floor(last_t, load) * self.rng.uniform(lo, hi);
                last_t + c.major_max_ms
            }
            None => last_t + self.rng.uniform(c.major_min_ms, c.major_max_ms),
        };
        self.next_minor = self.next_minor.max(last_t + 2.0);
        self.pending.pop()
    }
}

/// Replays `scenario` for `seed` through a fresh detector with `config`; returns all events.
///
/// # Panics
/// If `config` is invalid.
#[must_use]
pub fn replay(
    scenario: &Scenario,
    seed: u64,
    config: crate::config::Config,
) -> Vec<crate::signal::Event> {
    replay_until(scenario, seed, config, |_| false)
}

/// Like [`replay`], but stops after the first event for which `stop` returns `true`.
///
/// # Panics
/// If `config` is invalid.
#[must_use]
pub fn replay_until(
    scenario: &Scenario,
    seed: u64,
    config: crate::config::Config,
    mut stop: impl FnMut(&crate::signal::Event) -> bool,
) -> Vec<crate::signal::Event> {
    let mut d = crate::detector::Detector::new(config).expect("valid config");
    let mut events = Vec::new();
    let mut samples = scenario.samples(seed);
    while let Some(s) = samples.next() {
        for e in d.push(&s) {
            let done = stop(&e);
            events.push(e);
            if done {
                return events;
            }
        }
        // The loop the watchdog closes: a requested full GC runs right after the sample.
        if d.take_gc_request() {
            samples.request_major(s.t_ms + CONFIRMATION_DELAY_MS);
        }
    }
    events
}

/// How long after the sample that asked for it a confirmation GC's major comes, in replay
/// (the watchdog runs it from `setImmediate`).
pub const CONFIRMATION_DELAY_MS: f64 = 50.0;

/// Minutes to milliseconds.
#[must_use]
pub fn minutes(m: f64) -> f64 {
    m * 60_000.0
}

/// Hours to milliseconds.
#[must_use]
pub fn hours(h: f64) -> f64 {
    h * 3_600_000.0
}

/// The healthy scenarios: none of them may ever reach "leaking".
#[must_use]
pub fn healthy_corpus(duration_ms: f64) -> Vec<Scenario> {
    let base = |name, description| Scenario::healthy(name, description, duration_ms);
    let mut v = Vec::new();

    v.push(base(
        "warmup_plateau",
        "floor rises 40 MB in the first 30 s, then flat for hours",
    ));

    let mut s = base(
        "sawtooth",
        "8 MB/s of garbage promoted between majors (heap climbs up to 80 MB, drops at each major)",
    );
    s.promotion_rate = 8_000.0;
    v.push(s);

    let mut s = base(
        "cache_fill",
        "a cache fills 40 MB over 5 minutes (from minute 3), then stays flat",
    );
    s.heap_ramps.push(Ramp {
        start_ms: minutes(3.0),
        duration_ms: minutes(5.0),
        bytes: 40.0 * MB,
    });
    v.push(s);

    let mut s = base(
        "bursty_traffic",
        "load steps up/down between 5 levels (6 MB of live requests each, mean dwell 4 min, 20 s transitions), mean-reverting",
    );
    s.load = Some(Load {
        bytes_per_level: 6.0 * MB,
        max_level: 4,
        mean_dwell_ms: minutes(4.0),
        transition_ms: 20_000.0,
    });
    s.noise.live_sd = 1.0 * MB;
    s.external_io_mean = 3.0 * MB;
    v.push(s);

    let mut s = base(
        "rss_drift",
        "RSS drifts up 60 MB over 10 minutes after warm-up (allocator arenas), no leak",
    );
    s.rss_ramps.push(Ramp {
        start_ms: minutes(2.0),
        duration_ms: minutes(10.0),
        bytes: 60.0 * MB,
    });
    v.push(s);

    let mut s = base(
        "long_gaps",
        "batch job: majors only every 15–60 s, heap climbs between them",
    );
    s.cadence.major_min_ms = 15_000.0;
    s.cadence.major_max_ms = 60_000.0;
    s.cadence.pair_probability = 0.05;
    s.promotion_rate = 1_000.0;
    v.push(s);

    let mut s = base(
        "sparse_majors",
        "majors only when the old generation reaches 1.5–3× the last floor (V8-like; every 30–90 s here), 1.5 MB/s promoted",
    );
    s.cadence.limit_growth = Some((1.5, 3.0));
    s.cadence.major_max_ms = 120_000.0;
    v.push(s);

    let mut s = base(
        "heavy_churn",
        "minors every 20 ms, majors every 0.7–3 s, 3x the floor noise, 20 MB/s promoted",
    );
    s.cadence = Cadence {
        minor_ms: 20.0,
        major_min_ms: 700.0,
        major_max_ms: 3_000.0,
        pair_probability: 0.5,
        limit_growth: None,
    };
    s.noise.live_sd *= 3.0;
    s.noise.read_median *= 3.0;
    s.noise.tail_probability = 0.1;
    s.noise.tail_max = 10.0 * MB;
    s.promotion_rate = 20_000.0;
    s.external_io_mean = 2.0 * MB;
    v.push(s);
    v
}

/// A leaking scenario and when its leak starts (and stops, if it does).
#[derive(Debug, Clone, PartialEq)]
pub struct LeakCase {
    /// The trace.
    pub scenario: Scenario,
    /// Which signal leaks first-hand.
    pub signal: crate::state::Signal,
    /// When the leak starts (ms).
    pub leak_start_ms: f64,
    /// When it stops, if it does (ms).
    pub leak_stop_ms: Option<f64>,
}

/// The leaking scenarios: each must reach "leaking".
#[must_use]
pub fn leak_corpus() -> Vec<LeakCase> {
    use crate::state::Signal;
    let mut v = Vec::new();

    let mut s = Scenario::healthy(
        "slow_leak",
        "50 KB/min (0.85 B/ms) heap leak from the start, 8 h",
        hours(8.0),
    );
    let rate = 50.0 * 1024.0 / 60_000.0;
    s.heap_ramps.push(Ramp::leak(rate, 0.0, hours(8.0)));
    v.push(LeakCase {
        scenario: s,
        signal: Signal::Heap,
        leak_start_ms: 0.0,
        leak_stop_ms: None,
    });

    let mut s = Scenario::healthy(
        "medium_leak",
        "1 MB/min (16.7 B/ms) heap leak from minute 10, 4 h",
        hours(4.0),
    );
    s.heap_ramps
        .push(Ramp::leak(MB / 60_000.0, minutes(10.0), hours(4.0)));
    v.push(LeakCase {
        scenario: s,
        signal: Signal::Heap,
        leak_start_ms: minutes(10.0),
        leak_stop_ms: None,
    });

    let mut s = Scenario::healthy(
        "fast_leak",
        "2.5 MB/s heap leak from the start (on top of warm-up)",
        minutes(5.0),
    );
    s.heap_ramps.push(Ramp::leak(2_500.0, 0.0, minutes(5.0)));
    v.push(LeakCase {
        scenario: s,
        signal: Signal::Heap,
        leak_start_ms: 0.0,
        leak_stop_ms: None,
    });

    let mut s = Scenario::healthy(
        "fast_leak_sparse",
        "2 MB/s heap leak from the start; majors only when the old generation reaches 1.5–2.5× the last floor (V8-like), so they thin out as the heap grows",
        minutes(5.0),
    );
    s.heap_ramps.push(Ramp::leak(2_000.0, 0.0, minutes(5.0)));
    s.cadence.limit_growth = Some((1.5, 2.5));
    s.cadence.major_max_ms = 120_000.0;
    s.promotion_rate = 300.0;
    v.push(LeakCase {
        scenario: s,
        signal: Signal::Heap,
        leak_start_ms: 0.0,
        leak_stop_ms: None,
    });

    let mut s = Scenario::healthy(
        "fast_leak_late",
        "2.5 MB/s heap leak starting after 2 h of healthy running",
        hours(2.0) + minutes(5.0),
    );
    s.heap_ramps
        .push(Ramp::leak(2_500.0, hours(2.0), hours(2.0) + minutes(5.0)));
    v.push(LeakCase {
        scenario: s,
        signal: Signal::Heap,
        leak_start_ms: hours(2.0),
        leak_stop_ms: None,
    });

    let mut s = Scenario::healthy(
        "external_leak",
        "1 MiB/s of Buffers retained from minute 2, heap flat",
        minutes(20.0),
    );
    s.external_ramps
        .push(Ramp::leak(1.048_576 * 1_000.0, minutes(2.0), minutes(20.0)));
    v.push(LeakCase {
        scenario: s,
        signal: Signal::External,
        leak_start_ms: minutes(2.0),
        leak_stop_ms: None,
    });

    let mut s = Scenario::healthy(
        "leak_then_stop",
        "500 B/ms heap leak from minute 5 to minute 15, then flat for 3 h",
        hours(3.0),
    );
    s.heap_ramps
        .push(Ramp::leak(500.0, minutes(5.0), minutes(15.0)));
    v.push(LeakCase {
        scenario: s,
        signal: Signal::Heap,
        leak_start_ms: minutes(5.0),
        leak_stop_ms: Some(minutes(15.0)),
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_ordered() {
        let s = Scenario::healthy("x", "", minutes(2.0));
        let a: Vec<Sample> = s.samples(7).collect();
        let b: Vec<Sample> = s.samples(7).collect();
        assert_eq!(a, b);
        assert!(a.windows(2).all(|w| w[0].t_ms <= w[1].t_ms));
        let majors = a.iter().filter(|s| s.gc_kind == GcKind::Major).count();
        let minors = a.iter().filter(|s| s.gc_kind == GcKind::Minor).count();
        assert!((12..=90).contains(&majors), "{majors}");
        assert!(minors > 1500, "{minors}");
        assert!(a.iter().filter(|s| s.rss.is_some()).count() >= 100);
        let c: Vec<Sample> = s.samples(8).collect();
        assert_ne!(a, c);
    }
}
