//! Theil–Sen slope: the median of all pairwise slopes, with Sen's confidence bound.
//!
//! For `n` points there are `n(n-1)/2` pairwise slopes; windows here hold at most a few hundred
//! points, so computing them all (≤ 32,640 for 256 points) and selecting the median in linear time
//! is cheap and exact. The estimator ignores up to ~29% of arbitrarily bad points, which is what a
//! GC floor with occasional multi-megabyte outliers needs.
//!
//! Sen (1968) gives a distribution-free confidence interval from the same slopes: with
//! `C = z(1-α)·sqrt(Var(S))` (Mann–Kendall variance, ties included) and `N` slopes, the one-sided
//! lower bound is the `⌊(N - C)/2⌋`-th smallest slope (Gilbert 1987, §16.4.3).

use crate::point::Point;

/// Result of a Theil–Sen fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TheilSen {
    /// Median pairwise slope (value units per ms).
    pub slope: f64,
    /// Fitted value at the newest point's time: `median(v_i - slope·(t_i - t_last))`.
    pub level_at_last: f64,
    /// Fitted value at the oldest point's time.
    pub level_at_first: f64,
    /// Number of pairwise slopes used (pairs with distinct times).
    pub pairs: usize,
}

/// Fits a Theil–Sen line to `points` (in time order). `scratch` is reused to avoid allocation.
///
/// Returns `None` with fewer than two distinct times.
pub fn fit(points: &[Point], scratch: &mut Vec<f64>) -> Option<TheilSen> {
    fill_slopes(points, scratch);
    let pairs = scratch.len();
    let slope = median_in_place(scratch)?;
    let (first, last) = (points.first()?, points.last()?);
    scratch.clear();
    scratch.extend(points.iter().map(|p| p.v - slope * (p.t - last.t)));
    let level_at_last = median_in_place(scratch)?;
    let level_at_first = level_at_last + slope * (first.t - last.t);
    Some(TheilSen {
        slope,
        level_at_last,
        level_at_first,
        pairs,
    })
}

/// Sen's one-sided lower confidence bound for the slope.
///
/// `var_s` is the Mann–Kendall variance of `S` for the same points and `z` the standard normal
/// quantile of the confidence level (1.645 for 95%). Returns `None` when the window is too small
/// for the requested confidence (the bound would be below the smallest slope).
pub fn lower_bound(points: &[Point], var_s: f64, z: f64, scratch: &mut Vec<f64>) -> Option<f64> {
    fill_slopes(points, scratch);
    let n = scratch.len();
    if n == 0 || !var_s.is_finite() || var_s <= 0.0 {
        return None;
    }
    let c = z * var_s.sqrt();
    let rank = ((n as f64 - c) / 2.0).floor();
    if rank < 1.0 {
        return None;
    }
    let idx = (rank as usize - 1).min(n - 1);
    let (_, v, _) = scratch.select_nth_unstable_by(idx, f64::total_cmp);
    Some(*v)
}

/// Theil–Sen slope and Sen's lower bound in one pass over the pairwise slopes.
///
/// Also returns the Mann–Kendall `S` (the sum of the signs of the value differences over the same
/// pairs), which costs nothing extra. `var_s` must be the (possibly inflated) variance of `S`,
/// which depends on the values only; see [`crate::mann_kendall`].
pub fn slope_with_bound(
    points: &[Point],
    z: f64,
    var_s: impl FnOnce(f64) -> f64,
    scratch: &mut Vec<f64>,
) -> Option<(f64, Option<f64>, f64)> {
    scratch.clear();
    let mut s: i64 = 0;
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            s += match b.v.total_cmp(&a.v) {
                std::cmp::Ordering::Greater => 1,
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
            };
            let dt = b.t - a.t;
            if dt > 0.0 {
                let slope = (b.v - a.v) / dt;
                if slope.is_finite() {
                    scratch.push(slope);
                }
            }
        }
    }
    let n = scratch.len();
    let median = median_in_place(scratch)?;
    let var = var_s(median);
    let mut lower = None;
    if var.is_finite() && var > 0.0 {
        let rank = ((n as f64 - z * var.sqrt()) / 2.0).floor();
        if rank >= 1.0 {
            // After the median selection every slope left of n/2 is ≤ the median, and the bound's
            // rank is below n/2, so selecting within the left part is enough.
            let idx = (rank as usize - 1).min(n - 1);
            let mid = n / 2;
            let part = if idx < mid {
                &mut scratch[..mid]
            } else {
                &mut scratch[..]
            };
            let (_, v, _) = part.select_nth_unstable_by(idx, f64::total_cmp);
            lower = Some(*v);
        }
    }
    Some((median, lower, s as f64))
}

/// The plain Theil–Sen slope of `points`, or `None` with fewer than two distinct times.
pub fn slope(points: &[Point], scratch: &mut Vec<f64>) -> Option<f64> {
    fill_slopes(points, scratch);
    median_in_place(scratch)
}

fn fill_slopes(points: &[Point], out: &mut Vec<f64>) {
    out.clear();
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            let dt = b.t - a.t;
            if dt > 0.0 {
                let s = (b.v - a.v) / dt;
                if s.is_finite() {
                    out.push(s);
                }
            }
        }
    }
}

/// Median of `values` (reordered), averaging the two middle values for an even count.
pub fn median_in_place(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    let (lower, upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        return Some(upper);
    }
    let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(0.5 * (below + upper))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(vs: &[(f64, f64)]) -> Vec<Point> {
        vs.iter().map(|&(t, v)| Point::new(t, v)).collect()
    }

    #[test]
    fn exact_line() {
        let p: Vec<Point> = (0..10)
            .map(|i| Point::new(f64::from(i) * 10.0, 5.0 + 2.0 * f64::from(i) * 10.0))
            .collect();
        let fit = fit(&p, &mut Vec::new()).unwrap();
        assert!((fit.slope - 2.0).abs() < 1e-12);
        assert!((fit.level_at_last - 185.0).abs() < 1e-9);
        assert!((fit.level_at_first - 5.0).abs() < 1e-9);
        assert_eq!(fit.pairs, 45);
    }

    #[test]
    fn robust_to_an_outlier() {
        let p = pts(&[
            (0.0, 0.0),
            (1.0, 1.0),
            (2.0, 2.0),
            (3.0, 1000.0),
            (4.0, 4.0),
            (5.0, 5.0),
        ]);
        let fit = fit(&p, &mut Vec::new()).unwrap();
        assert!((fit.slope - 1.0).abs() < 1e-12);
    }

    #[test]
    fn median_even_and_odd() {
        assert_eq!(median_in_place(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median_in_place(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median_in_place(&mut []), None);
    }

    #[test]
    fn degenerate_inputs() {
        assert!(fit(&[], &mut Vec::new()).is_none());
        assert!(fit(&pts(&[(1.0, 1.0)]), &mut Vec::new()).is_none());
        assert!(fit(&pts(&[(1.0, 1.0), (1.0, 2.0)]), &mut Vec::new()).is_none());
    }

    #[test]
    fn lower_bound_needs_enough_points() {
        let p: Vec<Point> = (0..4)
            .map(|i| Point::new(f64::from(i), f64::from(i)))
            .collect();
        // n = 4: Var(S) = 4·3·13/18 = 8.67, C = 4.84 at 95%, N = 6 → rank 0 → no bound.
        assert!(lower_bound(&p, 8.667, 1.645, &mut Vec::new()).is_none());
        let p: Vec<Point> = (0..12)
            .map(|i| Point::new(f64::from(i), f64::from(i * i)))
            .collect();
        let lb = lower_bound(&p, 12.0 * 11.0 * 29.0 / 18.0, 1.645, &mut Vec::new()).unwrap();
        let s = slope(&p, &mut Vec::new()).unwrap();
        assert!(lb < s && lb > 0.0);
    }
}
