//! A bounded sliding window of floor points, bucketed in time.
//!
//! Readings (post-major-GC heap, off-heap memory, RSS) are grouped into fixed-length time buckets and
//! each bucket keeps its **minimum**: the read-back noise on the floor is one-sided (the value read in
//! the GC callback is *above* V8's own post-GC figure), so the minimum of a few readings is the best
//! floor estimate, and pairs of majors 0.1 s apart merge into one point. Bucketing also bounds the
//! number of points, and so the cost of a trend fit, whatever the GC rate.
//!
//! Adding a reading is O(1) (amortised); the window never holds more than `max_points` closed
//! buckets nor more than `max_span_ms` of time.

use crate::point::Point;
use std::collections::VecDeque;

/// What a reading did to the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// The reading was not below its bucket's minimum: the points are unchanged.
    Unchanged,
    /// The reading lowered the open bucket's minimum (or opened the first bucket).
    Updated,
    /// The reading opened a new bucket, closing the previous one.
    Closed,
}

/// Bucketed sliding window; see the module docs.
#[derive(Debug, Clone)]
pub struct BucketWindow {
    bucket_ms: f64,
    max_points: usize,
    max_span_ms: f64,
    closed: VecDeque<Point>,
    open: Option<(i64, Point)>,
}

impl BucketWindow {
    /// An empty window.
    #[must_use]
    pub fn new(bucket_ms: f64, max_points: usize, max_span_ms: f64) -> Self {
        Self {
            bucket_ms: bucket_ms.max(f64::MIN_POSITIVE),
            max_points: max_points.max(2),
            max_span_ms,
            closed: VecDeque::with_capacity(max_points.max(2) + 1),
            open: None,
        }
    }

    /// Adds a reading.
    pub fn push(&mut self, t: f64, v: f64) -> Pushed {
        let idx = (t / self.bucket_ms).floor() as i64;
        match &mut self.open {
            Some((open_idx, p)) if idx <= *open_idx => {
                // Same bucket (or time went backwards across a boundary: fold it in).
                if v < p.v {
                    p.v = v;
                    if idx == *open_idx {
                        p.t = t;
                    }
                    Pushed::Updated
                } else {
                    Pushed::Unchanged
                }
            }
            _ => {
                let closed = self.open.replace((idx, Point::new(t, v)));
                if let Some((_, p)) = closed {
                    self.closed.push_back(p);
                    self.evict(t);
                    Pushed::Closed
                } else {
                    Pushed::Updated
                }
            }
        }
    }

    fn evict(&mut self, now: f64) {
        while self.closed.len() > self.max_points {
            self.closed.pop_front();
        }
        while let Some(front) = self.closed.front() {
            if now - front.t > self.max_span_ms {
                self.closed.pop_front();
            } else {
                break;
            }
        }
    }

    /// Copies the closed buckets (and, with `include_open`, the open one) into `out`, oldest first,
    /// limited to the last `max_span_ms` before the newest point.
    pub fn collect(&self, include_open: bool, out: &mut Vec<Point>) {
        out.clear();
        out.extend(self.closed.iter().copied());
        if include_open && let Some((_, p)) = self.open {
            out.push(p);
        }
        if let Some(last) = out.last().copied() {
            let keep_from = out
                .iter()
                .position(|p| last.t - p.t <= self.max_span_ms)
                .unwrap_or(0);
            out.drain(..keep_from);
        }
    }

    /// The lowest bucket minimum (the open bucket included) among buckets whose minimum was read
    /// after `t0`, within `max_span_ms` of the newest bucket; the earliest of equal ones.
    /// O(number of buckets).
    #[must_use]
    pub fn min_after(&self, t0: f64) -> Option<Point> {
        let newest = self.open.map(|(_, p)| p.t)?;
        self.closed
            .iter()
            .chain(self.open.as_ref().map(|(_, p)| p))
            .filter(|p| p.t > t0 && newest - p.t <= self.max_span_ms)
            .copied()
            .reduce(|a, b| if b.v < a.v { b } else { a })
    }

    /// Number of closed buckets held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.closed.len()
    }

    /// Whether no bucket has been closed yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.closed.is_empty()
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.closed.clear();
        self.open = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_bucket_minimum_and_bounds() {
        let mut w = BucketWindow::new(10.0, 3, 1000.0);
        assert_eq!(w.push(1.0, 5.0), Pushed::Updated);
        assert_eq!(w.push(2.0, 3.0), Pushed::Updated);
        assert_eq!(w.push(3.0, 4.0), Pushed::Unchanged);
        assert_eq!(w.push(11.0, 7.0), Pushed::Closed);
        let mut out = Vec::new();
        w.collect(false, &mut out);
        assert_eq!(out, vec![Point::new(2.0, 3.0)]);
        w.collect(true, &mut out);
        assert_eq!(out.len(), 2);
        for i in 2..10 {
            w.push(f64::from(i) * 10.0 + 1.0, f64::from(i));
        }
        assert_eq!(w.len(), 3);
    }

    #[test]
    fn evicts_by_span() {
        let mut w = BucketWindow::new(10.0, 100, 25.0);
        for i in 0..10 {
            w.push(f64::from(i) * 10.0, f64::from(i));
        }
        let mut out = Vec::new();
        w.collect(true, &mut out);
        assert!(out.len() <= 3, "{out:?}");
        assert!((out.last().unwrap().t - 90.0).abs() < f64::EPSILON);
    }
}
