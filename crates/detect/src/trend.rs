//! One evaluation of a window: Theil–Sen slope, Sen's lower bound, Mann–Kendall, noise scale,
//! threshold and the verdict "this window exceeds the threshold".
//!
//! A window *exceeds* when all of these hold:
//! - it has at least `min_points` points covering at least `min_span_ms`;
//! - Mann–Kendall finds an upward trend at level `alpha`;
//! - Sen's one-sided lower confidence bound of the slope is above the threshold (so the slope is
//!   significantly *faster* than the threshold, not merely above zero);
//! - the Theil–Sen slope of the newer half of the window is above the threshold too: growth is
//!   still going on now, which rules out a ramp that has already levelled off (warm-up, a cache
//!   that filled, a load step).

use crate::mann_kendall::{self, MannKendall};
use crate::point::Point;
use crate::theil_sen;
use serde::{Deserialize, Serialize};

/// Which of a signal's two windows an evaluation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowKind {
    /// The short window (fast leaks).
    Short,
    /// The long window (slow leaks).
    Long,
}

/// How the threshold of one evaluation is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThresholdRule {
    /// A fixed rate in bytes per millisecond.
    Fixed(f64),
    /// `max(min_rate, k · σ / span)`.
    Adaptive {
        /// Noise multiplier `k`.
        k: f64,
        /// Floor of the threshold (B/ms).
        min_rate: f64,
    },
}

/// What an evaluation needs besides the points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendParams {
    /// Which window this is.
    pub kind: WindowKind,
    /// One-sided significance level.
    pub alpha: f64,
    /// `z(1 - alpha)`.
    pub z: f64,
    /// Minimum number of points for a verdict.
    pub min_points: usize,
    /// Minimum time covered for a verdict.
    pub min_span_ms: f64,
    /// Threshold rule.
    pub threshold: ThresholdRule,
    /// Correct the Mann–Kendall variance for autocorrelation (Hamed & Rao).
    pub autocorrelation: bool,
}

/// The evidence of one window evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// Which window.
    pub window: WindowKind,
    /// Number of floor points in the window.
    pub points: usize,
    /// Time covered, newest minus oldest point (ms).
    pub span_ms: f64,
    /// Theil–Sen slope over the window (bytes/ms).
    pub theil_sen_slope: f64,
    /// Sen's one-sided lower confidence bound at level `alpha`, when the window is big enough.
    pub slope_lower_bound: Option<f64>,
    /// Theil–Sen slope of the newer half of the window (bytes/ms).
    pub recent_slope: f64,
    /// Mann–Kendall statistic `S`.
    pub mann_kendall_s: f64,
    /// Mann–Kendall `Z`.
    pub mann_kendall_z: f64,
    /// One-sided p-value of an upward trend.
    pub p_value: f64,
    /// Factor applied to `Var(S)` for autocorrelation (1 = none).
    pub variance_inflation: f64,
    /// Robust noise scale: 1.4826 × MAD of residuals around the Theil–Sen line (bytes).
    pub noise_bytes: f64,
    /// Threshold used (bytes/ms).
    pub threshold: f64,
    /// Whether the threshold was derived from the noise (`true`) or fixed.
    pub adaptive: bool,
    /// Fitted floor at the newest point (bytes).
    pub floor_bytes: f64,
    /// Fitted floor at the oldest point (bytes).
    pub start_floor_bytes: f64,
    /// Time of the newest point (ms).
    pub t_ms: f64,
    /// The verdict: see the module docs.
    pub exceeds: bool,
}

/// Reusable buffers so that evaluations do not allocate.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    a: Vec<f64>,
    b: Vec<f64>,
}

impl Trend {
    /// Evaluates `points` (oldest first). Returns `None` with fewer than three points or fewer than
    /// two distinct times.
    pub fn evaluate(points: &[Point], p: &TrendParams, scratch: &mut Scratch) -> Option<Self> {
        let n = points.len();
        if n < 3 {
            return None;
        }
        let (first, last) = (points[0], points[n - 1]);
        let span_ms = last.t - first.t;
        if span_ms.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        let var0 = mann_kendall::null_variance(points, &mut scratch.a);
        let mut inflation = 1.0;
        let ranks = &mut scratch.b;
        let (slope, lower, mk_s) = theil_sen::slope_with_bound(
            points,
            p.z,
            |median| {
                if p.autocorrelation {
                    inflation = mann_kendall::variance_inflation(points, median, ranks);
                }
                var0 * inflation
            },
            &mut scratch.a,
        )?;
        let mk = MannKendall::from_s(mk_s, var0 * inflation);
        scratch.a.clear();
        scratch
            .a
            .extend(points.iter().map(|q| q.v - slope * (q.t - last.t)));
        let level_at_last = theil_sen::median_in_place(&mut scratch.a)?;
        let level_at_first = level_at_last + slope * (first.t - last.t);
        let recent_from = n / 2;
        let recent = &points[recent_from.min(n - 3)..];
        let recent_slope = theil_sen::slope(recent, &mut scratch.a).unwrap_or(slope);

        scratch.a.clear();
        scratch.a.extend(
            points
                .iter()
                .map(|q| (q.v - (level_at_last + slope * (q.t - last.t))).abs()),
        );
        let mad = theil_sen::median_in_place(&mut scratch.a).unwrap_or(0.0);
        let noise_bytes = 1.4826 * mad;

        let (threshold, adaptive) = match p.threshold {
            ThresholdRule::Fixed(t) => (t, false),
            ThresholdRule::Adaptive { k, min_rate } => {
                (min_rate.max(k * noise_bytes / span_ms), true)
            }
        };
        let exceeds = n >= p.min_points
            && span_ms >= p.min_span_ms
            && mk.p_value < p.alpha
            && lower.is_some_and(|lb| lb > threshold)
            && recent_slope > threshold;
        let t = Self {
            window: p.kind,
            points: n,
            span_ms,
            theil_sen_slope: slope,
            slope_lower_bound: lower,
            recent_slope,
            mann_kendall_s: mk.s,
            mann_kendall_z: mk.z,
            p_value: mk.p_value,
            variance_inflation: inflation,
            noise_bytes,
            threshold,
            adaptive,
            floor_bytes: level_at_last,
            start_floor_bytes: level_at_first,
            t_ms: last.t,
            exceeds,
        };
        t.is_finite().then_some(t)
    }

    /// A placeholder evaluation with no data (all numbers zero, not exceeding).
    #[must_use]
    pub const fn empty(window: WindowKind, t_ms: f64) -> Self {
        Self {
            window,
            points: 0,
            span_ms: 0.0,
            theil_sen_slope: 0.0,
            slope_lower_bound: None,
            recent_slope: 0.0,
            mann_kendall_s: 0.0,
            mann_kendall_z: 0.0,
            p_value: 1.0,
            variance_inflation: 1.0,
            noise_bytes: 0.0,
            threshold: 0.0,
            adaptive: false,
            floor_bytes: 0.0,
            start_floor_bytes: 0.0,
            t_ms,
            exceeds: false,
        }
    }

    fn is_finite(&self) -> bool {
        self.theil_sen_slope.is_finite()
            && self.recent_slope.is_finite()
            && self.floor_bytes.is_finite()
            && self.start_floor_bytes.is_finite()
            && self.noise_bytes.is_finite()
            && self.threshold.is_finite()
    }

    /// The growth rate to project forward (bytes/ms): the smaller of the whole window's slope
    /// and its newer half's. A leak that started with the process rides on the start-up ramp
    /// at first; the newer half is closer to the rate that will go on, and the smaller of the
    /// two never brings a projected exhaustion forward on the strength of an old burst.
    #[must_use]
    pub fn projection_slope(&self) -> f64 {
        self.theil_sen_slope.min(self.recent_slope)
    }

    /// Whether growth in this window has (nearly) stopped: it does not exceed, and its current
    /// rate is at most `quiet_fraction` of the threshold. The current rate is the whole-window slope
    /// for the short window, and the newer half's slope for the long window (whose older half may
    /// still hold the leak that has just stopped).
    #[must_use]
    pub fn is_quiet(&self, quiet_fraction: f64) -> bool {
        let rate = match self.window {
            WindowKind::Short => self.theil_sen_slope,
            WindowKind::Long => self.recent_slope,
        };
        !self.exceeds && rate <= quiet_fraction * self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(threshold: f64) -> TrendParams {
        TrendParams {
            kind: WindowKind::Short,
            alpha: 0.05,
            z: 1.644_853_6,
            min_points: 5,
            min_span_ms: 0.0,
            threshold: ThresholdRule::Fixed(threshold),
            autocorrelation: false,
        }
    }

    #[test]
    fn steady_growth_exceeds() {
        let pts: Vec<Point> = (0..10)
            .map(|i| Point::new(f64::from(i) * 1000.0, 1e6 + f64::from(i) * 1e6))
            .collect();
        let t = Trend::evaluate(&pts, &params(256.0), &mut Scratch::default()).unwrap();
        assert!(t.exceeds, "{t:?}");
        assert!((t.theil_sen_slope - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn levelled_off_ramp_does_not_exceed() {
        let pts: Vec<Point> = (0..12)
            .map(|i| {
                let v = if i < 6 { f64::from(i) * 1e6 } else { 6e6 };
                Point::new(f64::from(i) * 1000.0, v)
            })
            .collect();
        let t = Trend::evaluate(&pts, &params(256.0), &mut Scratch::default()).unwrap();
        assert!(!t.exceeds, "{t:?}");
        assert!(t.recent_slope.abs() < 1e-9);
    }

    #[test]
    fn adaptive_threshold_scales_with_noise() {
        let pts: Vec<Point> = (0..20)
            .map(|i| {
                let noise = if i % 2 == 0 { 5e5 } else { -5e5 };
                Point::new(f64::from(i) * 1000.0, 1e7 + noise)
            })
            .collect();
        let mut p = params(0.0);
        p.threshold = ThresholdRule::Adaptive {
            k: 4.0,
            min_rate: 1.0,
        };
        let t = Trend::evaluate(&pts, &p, &mut Scratch::default()).unwrap();
        assert!(t.threshold > 100.0, "{t:?}");
        assert!(!t.exceeds);
    }
}
