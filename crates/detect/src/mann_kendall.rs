//! Mann–Kendall trend test with the tie correction.
//!
//! `S = Σ_{i<j} sign(v_j - v_i)` over points in time order; under "no trend" `S` has mean 0 and
//! `Var(S) = [n(n-1)(2n+5) - Σ_g t_g(t_g-1)(2t_g+5)] / 18`, where `t_g` is the size of each group of
//! tied values. `Z = (S - sign(S)) / sqrt(Var(S))` (continuity correction) is compared with the
//! normal distribution; the detector wants the one-sided p-value of an *upward* trend.
//!
//! Floor series are often autocorrelated (load levels last minutes), which makes the plain test
//! far too eager. [`variance_inflation`] implements the correction of Hamed & Rao (1998): the
//! variance of `S` is multiplied by `n/n*`, computed from the significant autocorrelations of the
//! ranks of the detrended series, and [`MannKendall::with_inflation`] re-derives `Z` and `p`.
//!
//! The test only asks "is there a monotone trend?", not "how fast?": a step in the level is as
//! significant as a leak. That is why the detector never uses it alone (see `docs/detection.md`).

use crate::normal;
use crate::point::Point;
use serde::{Deserialize, Serialize};

/// Result of the Mann–Kendall test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MannKendall {
    /// The statistic `S`.
    pub s: f64,
    /// Variance of `S` under the null hypothesis, with the tie correction.
    pub var_s: f64,
    /// Standardised statistic with continuity correction.
    pub z: f64,
    /// One-sided p-value for an upward trend: `P(Z ≥ z)`.
    pub p_value: f64,
}

/// Runs the test on `points` (in time order). `scratch` is reused to count ties.
///
/// Returns `None` for fewer than three points.
pub fn test(points: &[Point], scratch: &mut Vec<f64>) -> Option<MannKendall> {
    if points.len() < 3 {
        return None;
    }
    let mut s: i64 = 0;
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            s += match b.v.total_cmp(&a.v) {
                std::cmp::Ordering::Greater => 1,
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
            };
        }
    }
    Some(MannKendall::from_s(
        s as f64,
        null_variance(points, scratch),
    ))
}

/// `Var(S)` under "no trend", with the tie correction. O(n log n).
pub fn null_variance(points: &[Point], scratch: &mut Vec<f64>) -> f64 {
    scratch.clear();
    scratch.extend(points.iter().map(|p| p.v));
    scratch.sort_unstable_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut run = 1.0_f64;
    for w in scratch.windows(2) {
        if w[0].total_cmp(&w[1]).is_eq() {
            run += 1.0;
        } else {
            ties += run * (run - 1.0) * (2.0 * run + 5.0);
            run = 1.0;
        }
    }
    ties += run * (run - 1.0) * (2.0 * run + 5.0);
    let nf = points.len() as f64;
    (nf * (nf - 1.0) * (2.0 * nf + 5.0) - ties) / 18.0
}

impl MannKendall {
    /// The test result for statistic `s` with variance `var_s`.
    #[must_use]
    pub fn from_s(s: f64, var_s: f64) -> Self {
        let z = if var_s > 0.0 {
            (s - s.signum()) / var_s.sqrt()
        } else {
            0.0
        };
        Self {
            s,
            var_s,
            z,
            p_value: normal::upper_tail(z),
        }
    }

    /// The same test with `Var(S)` multiplied by `factor` (≥ 1), as from [`variance_inflation`].
    #[must_use]
    pub fn with_inflation(self, factor: f64) -> Self {
        Self::from_s(self.s, self.var_s * factor.max(1.0))
    }
}

/// Hamed & Rao's variance correction factor `n/n*` for autocorrelated data (never below 1).
///
/// The series is detrended with `slope`, its values replaced by ranks, and the rank
/// autocorrelations `ρ(k)` at every lag computed; only those outside the 95% band `±1.96/√n`
/// count: `n/n* = 1 + 2/(n(n-1)(n-2)) · Σ_k (n-k)(n-k-1)(n-k-2) ρ(k)`. O(n²).
pub fn variance_inflation(points: &[Point], slope: f64, scratch: &mut Vec<f64>) -> f64 {
    let n = points.len();
    if n < 10 {
        return 1.0;
    }
    let t0 = points[0].t;
    // Ranks of the detrended values (ties broken by position; exact ties are rare in byte counts).
    let mut order: Vec<(f64, usize)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| (p.v - slope * (p.t - t0), i))
        .collect();
    order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    scratch.clear();
    scratch.resize(n, 0.0);
    for (rank, &(_, i)) in order.iter().enumerate() {
        scratch[i] = rank as f64;
    }
    let nf = n as f64;
    let mean = (nf - 1.0) / 2.0;
    let denom: f64 = scratch.iter().map(|r| (r - mean) * (r - mean)).sum();
    if denom <= 0.0 {
        return 1.0;
    }
    let band = 1.96 / nf.sqrt();
    let mut sum = 0.0;
    for k in 1..n - 2 {
        let num: f64 = (0..n - k)
            .map(|i| (scratch[i] - mean) * (scratch[i + k] - mean))
            .sum();
        let rho = num / denom;
        if rho.abs() > band {
            let m = (n - k) as f64;
            sum += m * (m - 1.0) * (m - 2.0) * rho;
        }
    }
    let factor = 1.0 + 2.0 * sum / (nf * (nf - 1.0) * (nf - 2.0));
    if factor.is_finite() {
        factor.max(1.0)
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(vs: &[f64]) -> Vec<Point> {
        vs.iter()
            .enumerate()
            .map(|(i, &v)| Point::new(i as f64, v))
            .collect()
    }

    #[test]
    fn monotone_increasing() {
        let mk = test(&series(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), &mut Vec::new()).unwrap();
        assert!((mk.s - 15.0).abs() < f64::EPSILON);
        assert!((mk.var_s - 6.0 * 5.0 * 17.0 / 18.0).abs() < 1e-9);
        assert!((mk.z - 14.0 / mk.var_s.sqrt()).abs() < 1e-12);
        assert!(mk.p_value < 0.01);
    }

    #[test]
    fn ties_reduce_the_variance() {
        // Known example: values with one tie group of 3 and one of 2.
        let mk = test(
            &series(&[1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 4.0]),
            &mut Vec::new(),
        )
        .unwrap();
        let expected = (7.0 * 6.0 * 19.0 - 3.0 * 2.0 * 11.0 - 2.0 * 1.0 * 9.0) / 18.0;
        assert!((mk.var_s - expected).abs() < 1e-9);
        // Pairs: 21 total, 4 tied (3 + 1), the other 17 all increasing.
        assert!((mk.s - 17.0).abs() < f64::EPSILON);
    }

    #[test]
    fn flat_series_is_not_significant() {
        let mk = test(&series(&[5.0; 10]), &mut Vec::new()).unwrap();
        assert!(mk.s.abs() < f64::EPSILON);
        assert!(mk.var_s.abs() < 1e-9);
        assert!((mk.p_value - 0.5).abs() < 1e-6);
    }

    #[test]
    fn inflation_is_one_for_white_noise_and_large_for_a_staircase() {
        let mut rng = memwatchdog_rng::Rng::new(3);
        let noise: Vec<Point> = (0..120)
            .map(|i| Point::new(f64::from(i), rng.normal()))
            .collect();
        let f = variance_inflation(&noise, 0.0, &mut Vec::new());
        assert!(f < 1.5, "{f}");
        let stairs: Vec<Point> = (0..120)
            .map(|i| Point::new(f64::from(i), f64::from(i / 20) + 0.01 * rng.normal()))
            .collect();
        let mk = test(&stairs, &mut Vec::new()).unwrap();
        let f = variance_inflation(&stairs, 0.0, &mut Vec::new());
        assert!(f > 5.0, "{f}");
        assert!(mk.with_inflation(f).p_value > mk.p_value);
    }

    #[test]
    fn decreasing_has_large_p() {
        let mk = test(&series(&[6.0, 5.0, 4.0, 3.0, 2.0, 1.0]), &mut Vec::new()).unwrap();
        assert!(mk.p_value > 0.99);
    }
}
