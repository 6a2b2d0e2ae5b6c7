//! Detector settings and their defaults.
//!
//! Every field has a default (see [`Config::default`] and `docs/detection.md`); a partial JSON
//! object deserialises with the remaining fields at their defaults. Times are milliseconds, rates
//! bytes per millisecond (1 B/ms ≈ 3.4 MiB/h ≈ 58.6 KiB/min).

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A sliding window of floor points and what it takes to act on it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindowConfig {
    /// Length of one time bucket; each bucket keeps the minimum reading in it.
    pub bucket_ms: f64,
    /// At most this many buckets are kept (bounds the O(n²) Theil–Sen cost).
    pub max_points: usize,
    /// Buckets older than this (relative to the newest) are dropped.
    pub max_span_ms: f64,
    /// No verdict with fewer points than this.
    pub min_points: usize,
    /// No verdict before the window covers at least this much time.
    pub min_span_ms: f64,
    /// Evaluations that must exceed the threshold within one suspect episode before "leaking".
    pub confirm_evaluations: u32,
    /// Correct the trend test for autocorrelated points (Hamed & Rao 1998).
    pub autocorrelation_correction: bool,
}

impl WindowConfig {
    /// The short window: 2 s buckets over the last minute; catches fast leaks within a minute.
    #[must_use]
    pub const fn short_default() -> Self {
        Self {
            bucket_ms: 2_000.0,
            max_points: 64,
            max_span_ms: 60_000.0,
            min_points: 5,
            min_span_ms: 20_000.0,
            confirm_evaluations: 3,
            autocorrelation_correction: false,
        }
    }

    /// The long window: 2 minute buckets over the last 4 hours; catches slow leaks.
    #[must_use]
    pub const fn long_default() -> Self {
        Self {
            bucket_ms: 120_000.0,
            max_points: 128,
            max_span_ms: 4.0 * 3_600_000.0,
            min_points: 20,
            min_span_ms: 60.0 * 60_000.0,
            confirm_evaluations: 3,
            autocorrelation_correction: true,
        }
    }
}

impl Default for WindowConfig {
    fn default() -> Self {
        Self::short_default()
    }
}

/// How the threshold is derived when [`Config::threshold`] is `None`.
///
/// `threshold = max(min_rate, noise_multiplier · σ / span)`, where `σ` is the robust scale
/// (1.4826 × MAD) of the window's residuals around its Theil–Sen line and `span` the window's
/// length: the slope must move the floor by several noise widths across the window, and be above a
/// rate nobody cares about.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdaptiveConfig {
    /// `k` in the formula above.
    pub noise_multiplier: f64,
    /// Lowest adaptive threshold of the short window (B/ms).
    pub short_min_rate: f64,
    /// Lowest adaptive threshold of the long window (B/ms).
    pub long_min_rate: f64,
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        Self {
            noise_multiplier: 8.0,
            short_min_rate: 64.0,
            long_min_rate: 0.2,
        }
    }
}

/// How much growth a short-window episode may show before it counts as a leak.
///
/// Warm-up, caches and load changes raise the floor by a bounded amount; a leak does not stop.
/// The allowance is `max(bytes, fraction × floor at the start of the episode,
/// headroom_fraction × headroom)`, where the headroom is what is left below the signal's limit
/// (see [`crate::Detector`]): growth that is small against what the process has left is not a
/// leak worth a page, the same growth in a nearly full container is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrowthAllowance {
    /// Absolute allowance in bytes.
    pub bytes: f64,
    /// Allowance relative to the floor level at the start of the episode.
    pub fraction: f64,
    /// Allowance relative to the headroom left below the limit now (0 when no limit is known).
    pub headroom_fraction: f64,
    /// A short-window episode becomes "suspect" once it has grown by this share of the allowance
    /// (during warm-up: by all of it).
    pub suspect_fraction: f64,
    /// The long window may decide before `long.min_span_ms` once the rise across it exceeds the
    /// allowance *and* its slope reaches the limit within [`OomConfig::horizon_ms`], but not
    /// before it covers this span.
    pub long_early_span_ms: f64,
    /// The allowance of off-heap (`external`) memory is multiplied by this. Off-heap memory of a
    /// healthy service is mostly in-flight I/O buffers; it rarely rises by tens of MB and stays.
    pub external_factor: f64,
}

impl Default for GrowthAllowance {
    fn default() -> Self {
        Self {
            bytes: 64.0 * 1024.0 * 1024.0,
            fraction: 0.25,
            headroom_fraction: 0.04,
            suspect_fraction: 0.25,
            long_early_span_ms: 20.0 * 60_000.0,
            external_factor: 0.5,
        }
    }
}

/// When a leak becomes `oom_risk`: the projected time until the limit.
///
/// While a signal is `leaking`, the time until it reaches its limit at the deciding window's
/// slope is `headroom / slope`. Within `horizon_ms` the signal is `oom_risk` (the page); it goes
/// back to `leaking` once the projection is beyond `clear_factor × horizon_ms` (or unknown).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OomConfig {
    /// Projections within this long are `oom_risk` (default 1 hour).
    pub horizon_ms: f64,
    /// Hysteresis: `oom_risk` ends once the projection exceeds this multiple of the horizon.
    pub clear_factor: f64,
}

impl Default for OomConfig {
    fn default() -> Self {
        Self {
            horizon_ms: 3_600_000.0,
            clear_factor: 2.0,
        }
    }
}

/// Confirmation GCs: asking V8 for a full GC when the heap floor is stale and a fast-path run
/// could already have grown by the allowance at a rate that reaches the limit within the horizon.
///
/// V8 runs fewer major GCs the faster the heap grows (one every 70 s was recorded during a 2 MiB/s
/// leak with a 4 GiB heap limit), and only a major GC shows the floor. The detector cannot run a
/// GC; it raises a request ([`crate::Detector::take_gc_request`]) that the watchdog carries out
/// (`HeapProfiler.collectGarbage` through the in-process inspector session). The request is
/// raised after a minor GC when all of these hold:
/// - the newest fast-path run has at least one steep step (a floor rise is in progress), the
///   signal is not `leaking` or `oom_risk` yet, and the floor is older than `stale_ms`;
/// - the reading after the minor GC (an upper bound of the live set) is above the run's baseline
///   by the whole allowance: a full GC could confirm it;
/// - the run's slope reaches the heap limit within [`OomConfig::horizon_ms`];
/// - the previous request is at least `interval_ms` old.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfirmGcConfig {
    /// Raise requests at all.
    pub enabled: bool,
    /// The floor must be at least this old.
    pub stale_ms: f64,
    /// At most one request per this interval.
    pub interval_ms: f64,
}

impl Default for ConfirmGcConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            stale_ms: 10_000.0,
            interval_ms: 15_000.0,
        }
    }
}

/// The fast path: a leak so fast that a few major GCs are enough to be sure of it.
///
/// V8 raises the old-generation limit as the heap grows, so a fast leak may see only three to
/// five major GCs in its first minute (measured: majors at 0.4, 2.8, 5 and 10 s, then none until
/// 51 s). The regular short-window rule needs `short.min_points` points and
/// `short.confirm_evaluations` exceeding evaluations, which such a leak may not supply within a
/// minute. The fast path declares a leak at a single evaluation when the evidence is
/// overwhelming instead:
///
/// - a *run*: the newest `min_points` or more short-window floor points each rise above the one
///   before by at least `rate_multiple` × threshold × Δt (the fixed threshold, or the adaptive
///   minimum rate), by at least `min_step_bytes` and, in adaptive mode after warm-up, by
///   `noise_multiple` × the short window's noise,
/// - the run covers at least `min_span_ms` (a sustained rise, not a warm-up burst),
/// - the floor has grown by the whole growth allowance, measured from the lowest reading (after
///   a minor or a major GC; each is an upper bound of the live heap at its time) since the point
///   before the run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FastPathConfig {
    /// Use the fast path at all.
    pub enabled: bool,
    /// Floor points in the run (the first one included).
    pub min_points: usize,
    /// Time the run must cover (ms).
    pub min_span_ms: f64,
    /// Each step must rise by this multiple of the threshold times its duration.
    pub rate_multiple: f64,
    /// Each step must rise by at least this many bytes (above the read-back noise).
    pub min_step_bytes: f64,
    /// With the adaptive threshold and after warm-up, each step must also rise by this multiple
    /// of the short window's noise (`noise_bytes`), once that window has `short.min_points`
    /// points.
    pub noise_multiple: f64,
    /// How far back the fast path remembers floor points and readings (ms); longer than the
    /// short window, because V8 may run no major GC for a minute while a fast leak grows.
    pub max_span_ms: f64,
}

impl Default for FastPathConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            min_points: 3,
            min_span_ms: 15_000.0,
            rate_multiple: 3.0,
            min_step_bytes: 1024.0 * 1024.0,
            noise_multiple: 3.0,
            max_span_ms: 120_000.0,
        }
    }
}

/// When the start-up period ends.
///
/// During warm-up only the short window (with its growth allowance) can declare a leak; the long
/// window starts collecting when the floor has settled, so the start-up ramp never enters it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WarmupConfig {
    /// Warm-up ends after this long even if the floor never settles.
    pub max_ms: f64,
    /// Consecutive quiet short-window evaluations that mean "settled".
    pub settle_evaluations: u32,
}

impl Default for WarmupConfig {
    fn default() -> Self {
        Self {
            max_ms: 10.0 * 60_000.0,
            settle_evaluations: 5,
        }
    }
}

/// State-machine timing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HysteresisConfig {
    /// A window is quiet when its recent slope is at most this fraction of its threshold.
    pub quiet_fraction: f64,
    /// Leaking → resolved after every window has been quiet this long.
    pub resolve_ms: f64,
    /// Resolved → normal after this long without a new suspicion.
    pub resolved_hold_ms: f64,
    /// Suspect → normal after this many consecutive evaluations without exceedance.
    pub clear_evaluations: u32,
}

impl Default for HysteresisConfig {
    fn default() -> Self {
        Self {
            quiet_fraction: 0.5,
            resolve_ms: 5.0 * 60_000.0,
            resolved_hold_ms: 30.0 * 60_000.0,
            clear_evaluations: 3,
        }
    }
}

/// The stricter rule for RSS, which drifts upward for minutes after warm-up without any leak and
/// also moves with the allocator's own caching.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RssConfig {
    /// Watch RSS at all.
    pub enabled: bool,
    /// RSS readings in the first this-many ms after the first sample are ignored.
    pub ignore_first_ms: f64,
    /// Thresholds (fixed or adaptive) are multiplied by this for RSS.
    pub threshold_factor: f64,
    /// The growth allowance is multiplied by this for RSS.
    pub allowance_factor: f64,
    /// Minimum long-window span for RSS (replaces `long.min_span_ms`).
    pub long_min_span_ms: f64,
    /// The short window for RSS (replaces `short`): RSS carries the heap's sawtooth (the heap
    /// grows between majors, for a minute or more in a batch job), so its short window is longer.
    pub short: WindowConfig,
}

impl Default for RssConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            ignore_first_ms: 15.0 * 60_000.0,
            threshold_factor: 2.0,
            allowance_factor: 2.0,
            long_min_span_ms: 120.0 * 60_000.0,
            short: WindowConfig {
                bucket_ms: 10_000.0,
                max_points: 64,
                max_span_ms: 10.0 * 60_000.0,
                min_points: 10,
                min_span_ms: 3.0 * 60_000.0,
                confirm_evaluations: 3,
                autocorrelation_correction: false,
            },
        }
    }
}

/// Everything the detector can be told.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Growth (bytes/ms) that counts as a leak; `None` derives it from the service's own noise.
    pub threshold: Option<f64>,
    /// One-sided significance level of the trend tests.
    pub alpha: f64,
    /// The short window (fast leaks).
    pub short: WindowConfig,
    /// The long window (slow leaks).
    pub long: WindowConfig,
    /// Adaptive threshold settings (used when `threshold` is `None`).
    pub adaptive: AdaptiveConfig,
    /// Growth a short-window episode must reach before "leaking".
    pub growth_allowance: GrowthAllowance,
    /// When a leak is projected to exhaust its limit soon (`oom_risk`).
    pub oom: OomConfig,
    /// Declaring a fast leak from a few major GCs.
    pub fast_path: FastPathConfig,
    /// Asking for a full GC when the floor is stale and a fast leak may be urgent.
    pub confirm_gc: ConfirmGcConfig,
    /// Start-up handling.
    pub warmup: WarmupConfig,
    /// State-machine timing.
    pub hysteresis: HysteresisConfig,
    /// RSS rule.
    pub rss: RssConfig,
    /// Watch off-heap (external / ArrayBuffer) memory.
    pub external_enabled: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            threshold: None,
            alpha: 0.05,
            short: WindowConfig::short_default(),
            long: WindowConfig::long_default(),
            adaptive: AdaptiveConfig::default(),
            growth_allowance: GrowthAllowance::default(),
            oom: OomConfig::default(),
            fast_path: FastPathConfig::default(),
            confirm_gc: ConfirmGcConfig::default(),
            warmup: WarmupConfig::default(),
            hysteresis: HysteresisConfig::default(),
            rss: RssConfig::default(),
            external_enabled: true,
        }
    }
}

impl Config {
    /// The defaults with a fixed threshold in bytes per millisecond.
    #[must_use]
    pub fn with_threshold(threshold: f64) -> Self {
        Self {
            threshold: Some(threshold),
            ..Self::default()
        }
    }

    /// Settings from a JSON object holding any subset of the fields (the rest default), as
    /// `mw detect --config` and the watchdog's `native.detector` take them; validated.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let config: Self =
            serde_json::from_str(text).map_err(|e| ConfigError::Json(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks that every value is usable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        fn positive(name: &'static str, v: f64) -> Result<(), ConfigError> {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(ConfigError::NotPositive { name, value: v })
            }
        }
        fn non_negative(name: &'static str, v: f64) -> Result<(), ConfigError> {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(ConfigError::Negative { name, value: v })
            }
        }
        fn window(prefix: &'static str, w: &WindowConfig) -> Result<(), ConfigError> {
            positive(prefix, w.bucket_ms)?;
            positive(prefix, w.max_span_ms)?;
            non_negative(prefix, w.min_span_ms)?;
            if w.min_points < 3 || w.max_points < w.min_points || w.max_points > 1024 {
                return Err(ConfigError::Points {
                    window: prefix,
                    min: w.min_points,
                    max: w.max_points,
                });
            }
            Ok(())
        }
        if let Some(t) = self.threshold {
            positive("threshold", t)?;
        }
        if !(self.alpha > 0.0 && self.alpha < 0.5) {
            return Err(ConfigError::Alpha(self.alpha));
        }
        window("short", &self.short)?;
        window("long", &self.long)?;
        positive("adaptive.noise_multiplier", self.adaptive.noise_multiplier)?;
        non_negative("adaptive.short_min_rate", self.adaptive.short_min_rate)?;
        non_negative("adaptive.long_min_rate", self.adaptive.long_min_rate)?;
        non_negative("growth_allowance.bytes", self.growth_allowance.bytes)?;
        non_negative("growth_allowance.fraction", self.growth_allowance.fraction)?;
        non_negative(
            "growth_allowance.headroom_fraction",
            self.growth_allowance.headroom_fraction,
        )?;
        positive("oom.horizon_ms", self.oom.horizon_ms)?;
        if !(self.oom.clear_factor.is_finite() && self.oom.clear_factor >= 1.0) {
            return Err(ConfigError::NotPositive {
                name: "oom.clear_factor (at least 1)",
                value: self.oom.clear_factor,
            });
        }
        non_negative(
            "growth_allowance.suspect_fraction",
            self.growth_allowance.suspect_fraction,
        )?;
        non_negative(
            "growth_allowance.long_early_span_ms",
            self.growth_allowance.long_early_span_ms,
        )?;
        non_negative(
            "growth_allowance.external_factor",
            self.growth_allowance.external_factor,
        )?;
        if self.fast_path.min_points < 3 {
            return Err(ConfigError::Points {
                window: "fast_path",
                min: self.fast_path.min_points,
                max: self.short.max_points,
            });
        }
        non_negative("fast_path.min_span_ms", self.fast_path.min_span_ms)?;
        non_negative("fast_path.rate_multiple", self.fast_path.rate_multiple)?;
        non_negative("fast_path.min_step_bytes", self.fast_path.min_step_bytes)?;
        non_negative("fast_path.noise_multiple", self.fast_path.noise_multiple)?;
        positive("fast_path.max_span_ms", self.fast_path.max_span_ms)?;
        if self.fast_path.max_span_ms / self.short.bucket_ms > 1000.0 {
            return Err(ConfigError::NotPositive {
                name: "fast_path.max_span_ms / short.bucket_ms (at most 1000)",
                value: self.fast_path.max_span_ms / self.short.bucket_ms,
            });
        }
        non_negative("confirm_gc.stale_ms", self.confirm_gc.stale_ms)?;
        non_negative("confirm_gc.interval_ms", self.confirm_gc.interval_ms)?;
        non_negative("warmup.max_ms", self.warmup.max_ms)?;
        non_negative("hysteresis.quiet_fraction", self.hysteresis.quiet_fraction)?;
        non_negative("hysteresis.resolve_ms", self.hysteresis.resolve_ms)?;
        non_negative(
            "hysteresis.resolved_hold_ms",
            self.hysteresis.resolved_hold_ms,
        )?;
        non_negative("rss.ignore_first_ms", self.rss.ignore_first_ms)?;
        positive("rss.threshold_factor", self.rss.threshold_factor)?;
        non_negative("rss.allowance_factor", self.rss.allowance_factor)?;
        non_negative("rss.long_min_span_ms", self.rss.long_min_span_ms)?;
        window("rss.short", &self.rss.short)?;
        if self.long.bucket_ms < self.short.bucket_ms.max(self.rss.short.bucket_ms) {
            return Err(ConfigError::Buckets);
        }
        Ok(())
    }
}

/// A [`Config`] value that cannot work.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConfigError {
    /// A value that must be a positive finite number is not.
    #[error("{name} must be a positive number, got {value}")]
    NotPositive {
        /// Field name.
        name: &'static str,
        /// Offending value.
        value: f64,
    },
    /// A value that must be zero or more is not.
    #[error("{name} must be zero or a positive number, got {value}")]
    Negative {
        /// Field name.
        name: &'static str,
        /// Offending value.
        value: f64,
    },
    /// The significance level is outside (0, 0.5).
    #[error("alpha must be between 0 and 0.5 (one-sided significance level), got {0}")]
    Alpha(f64),
    /// The long window's buckets are shorter than the short window's.
    #[error("long.bucket_ms must be at least short.bucket_ms and rss.short.bucket_ms")]
    Buckets,
    /// Window point limits are inconsistent.
    #[error("{window} window: need 3 <= min_points <= max_points <= 1024, got {min} and {max}")]
    Points {
        /// Which window.
        window: &'static str,
        /// `min_points`.
        min: usize,
        /// `max_points`.
        max: usize,
    },
    /// The settings are not a JSON object of known fields with the right types.
    #[error("not valid detector settings: {0}")]
    Json(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_overlays_the_defaults_and_names_what_is_wrong() {
        let c =
            Config::from_json(r#"{"threshold": 8, "growth_allowance": {"bytes": 1024}}"#).unwrap();
        assert_eq!(c.threshold, Some(8.0));
        assert!((c.growth_allowance.bytes - 1024.0).abs() < f64::EPSILON);
        assert_eq!(c.short, Config::default().short);
        assert_eq!(Config::from_json("{}").unwrap(), Config::default());
        let typo = Config::from_json(r#"{"growth_alowance": {}}"#).unwrap_err();
        assert!(typo.to_string().contains("growth_alowance"), "{typo}");
        let bad = Config::from_json(r#"{"alpha": 2}"#).unwrap_err();
        assert!(matches!(bad, ConfigError::Alpha(_)), "{bad}");
        let syntax = Config::from_json("{").unwrap_err();
        assert!(syntax.to_string().contains("line 1"), "{syntax}");
    }

    #[test]
    fn defaults_are_valid() {
        Config::default().validate().unwrap();
        Config::with_threshold(256.0).validate().unwrap();
    }

    #[test]
    fn rejects_bad_values() {
        assert!(Config::with_threshold(0.0).validate().is_err());
        assert!(Config::with_threshold(f64::NAN).validate().is_err());
        let c = Config {
            alpha: 0.7,
            ..Config::default()
        };
        assert!(matches!(c.validate(), Err(ConfigError::Alpha(_))));
        let mut c = Config::default();
        c.long.max_points = 2;
        assert!(c.validate().is_err());
    }
}
