//! Mann–Kendall trend test with the tie correction.
//!
//! `S = Σ_{i<j} sign(v_j - v_i)` over points in time order; under "no trend" `S` has mean 0 and
//! `Var(S) = [n(n-1)(2n+5) - Σ_g t_g(t_g-1)(2t_g+5)] / 18`, where `t_g` is the size of each group of
//! tied values. `Z = (S - sign(S)) / sqrt(Var(S))` (continuity correction) is compared with the
//! normal distribution; the detector wants the one-sided p-value of an *upward* trend.
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
    let n = points.len();
    if n < 3 {
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
    let nf = n as f64;
    let var_s = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - ties) / 18.0;
    let s = s as f64;
    let z = if var_s > 0.0 {
        (s - s.signum()) / var_s.sqrt()
    } else {
        0.0
    };
    Some(MannKendall {
        s,
        var_s,
        z,
        p_value: normal::upper_tail(z),
    })
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
    fn decreasing_has_large_p() {
        let mk = test(&series(&[6.0, 5.0, 4.0, 3.0, 2.0, 1.0]), &mut Vec::new()).unwrap();
        assert!(mk.p_value > 0.99);
    }
}
