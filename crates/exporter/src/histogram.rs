//! [`Histogram`]: a lock-free classic Prometheus histogram with fixed bucket bounds.
//!
//! Buckets are stored non-cumulative (one atomic add per observation) and summed at
//! scrape time; `_count` is derived from the same bucket reads so a scrape is always
//! self-consistent (`_count` equals the `+Inf` bucket).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::atomic::AtomicF64;

/// Upper bounds (seconds) for V8 GC pause durations: scavenges take ~0.1–5 ms,
/// mark-compacts up to hundreds of ms on big heaps.
pub(crate) const GC_DURATION_BOUNDS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A histogram over fixed upper bounds (plus the implicit `+Inf` bucket).
#[derive(Debug)]
pub(crate) struct Histogram {
    bounds: &'static [f64],
    /// `bounds.len() + 1` counters; the last one is `+Inf`.
    buckets: Box<[AtomicU64]>,
    sum: AtomicF64,
}

/// What a scrape reads from a [`Histogram`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HistogramSnapshot {
    /// `(upper bound, cumulative count)` for each finite bound.
    pub(crate) buckets: Vec<(f64, u64)>,
    /// Number of observations (also the `+Inf` bucket).
    pub(crate) count: u64,
    /// Sum of observations.
    pub(crate) sum: f64,
}

impl Histogram {
    pub(crate) fn new(bounds: &'static [f64]) -> Self {
        debug_assert!(bounds.windows(2).all(|w| w[0] < w[1]));
        Histogram {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicF64::new(0.0),
        }
    }

    /// Records one observation. `NaN` is ignored.
    pub(crate) fn observe(&self, v: f64) {
        if v.is_nan() {
            return;
        }
        let i = self.bounds.partition_point(|&b| b < v);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum.add(v);
    }

    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = 0u64;
        let mut buckets = Vec::with_capacity(self.bounds.len());
        for (bound, counter) in self.bounds.iter().zip(self.buckets.iter()) {
            cumulative += counter.load(Ordering::Relaxed);
            buckets.push((*bound, cumulative));
        }
        cumulative += self.buckets[self.bounds.len()].load(Ordering::Relaxed);
        HistogramSnapshot {
            buckets,
            count: cumulative,
            sum: self.sum.load(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_le_inclusive() {
        let h = Histogram::new(&[0.1, 1.0]);
        for v in [0.05, 0.1, 0.5, 2.0, f64::NAN] {
            h.observe(v);
        }
        let s = h.snapshot();
        assert_eq!(s.buckets, vec![(0.1, 2), (1.0, 3)]);
        assert_eq!(s.count, 4);
        assert!((s.sum - 2.65).abs() < 1e-12);
    }
}
