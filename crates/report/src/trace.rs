//! [`TraceChart`]: a recorded trace (`mw detect`'s CSV) replayed through the leak detector,
//! kept as the points of the heap floor chart and the detector's state changes.
//!
//! The heap floor is `heap_used` after each major GC (what the detector's heap signal reads);
//! beside it the detector's fitted floor after that sample. A trace of days has millions of
//! GCs, so the chart keeps at most [`MAX_POINTS`] points (the lowest and highest reading of
//! each stretch of time) and [`MAX_EVENTS`] state changes; the counts say how many there were.

use memwatchdog_detect::{Detector, Event, GcKind, Sample, Signal};
use serde::Serialize;

/// The most floor points a chart keeps.
pub const MAX_POINTS: usize = 2000;

/// The most state changes a chart keeps (the first ones).
pub const MAX_EVENTS: usize = 500;

/// One floor reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FloorPoint {
    /// Milliseconds since the trace's first sample.
    pub t_ms: f64,
    /// `heap_used` after the major GC.
    pub heap_used: u64,
    /// The detector's fitted heap floor after this sample (none before its first fit).
    pub fitted_bytes: Option<f64>,
}

/// The heap floor over time and the detector's state changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceChart {
    /// Samples (GC events) in the trace.
    pub samples: u64,
    /// Major GCs among them: the floor readings.
    pub major_gcs: u64,
    /// Time of the first sample as recorded (ms); chart times count from it.
    pub start_ms: f64,
    /// Time of the last sample since the first (ms).
    pub span_ms: f64,
    /// V8's heap limit in the last sample that had one.
    pub heap_limit: Option<u64>,
    /// Floor points in time order, at most [`MAX_POINTS`].
    pub points: Vec<FloorPoint>,
    /// Whether `points` was thinned from `major_gcs` readings.
    pub thinned: bool,
    /// State changes of every signal (heap, external, rss), times since the first sample,
    /// at most [`MAX_EVENTS`].
    pub events: Vec<Event>,
    /// State changes in all (more than `events` holds when it was cut).
    pub event_count: u64,
}

impl TraceChart {
    /// Replays `samples` (in time order, as `TraceReader` yields them) through `detector`,
    /// one at a time; the first error ends the replay.
    pub fn replay<E>(
        samples: impl IntoIterator<Item = Result<Sample, E>>,
        mut detector: Detector,
    ) -> Result<Self, E> {
        let mut chart = Self {
            samples: 0,
            major_gcs: 0,
            start_ms: 0.0,
            span_ms: 0.0,
            heap_limit: None,
            points: Vec::new(),
            thinned: false,
            events: Vec::new(),
            event_count: 0,
        };
        let mut start = None;
        let mut all_points = Vec::new();
        for sample in samples {
            let sample = sample?;
            let start = *start.get_or_insert(sample.t_ms);
            chart.samples += 1;
            chart.span_ms = sample.t_ms - start;
            chart.heap_limit = sample.heap_limit.or(chart.heap_limit);
            let events = detector.push(&sample);
            chart.event_count += events.len() as u64;
            for mut event in events {
                if chart.events.len() < MAX_EVENTS {
                    event.t_ms -= start;
                    chart.events.push(event);
                }
            }
            if sample.gc_kind == GcKind::Major {
                chart.major_gcs += 1;
                all_points.push(FloorPoint {
                    t_ms: sample.t_ms - start,
                    heap_used: sample.heap_used,
                    fitted_bytes: detector.signal_status(Signal::Heap).floor_bytes,
                });
            }
        }
        chart.start_ms = start.unwrap_or(0.0);
        chart.thinned = all_points.len() > MAX_POINTS;
        chart.points = thin(all_points, chart.span_ms);
        Ok(chart)
    }
}

/// At most [`MAX_POINTS`] of `points`: for each of `MAX_POINTS / 2` equal stretches of time,
/// its lowest and highest reading (in time order), so a spike or a dip is never lost.
fn thin(points: Vec<FloorPoint>, span_ms: f64) -> Vec<FloorPoint> {
    if points.len() <= MAX_POINTS {
        return points;
    }
    let buckets = MAX_POINTS / 2;
    let width = (span_ms / buckets as f64).max(f64::MIN_POSITIVE);
    let mut out = Vec::with_capacity(MAX_POINTS);
    let mut current: Option<(usize, FloorPoint, FloorPoint)> = None;
    let flush = |out: &mut Vec<FloorPoint>, (_, lo, hi): (usize, FloorPoint, FloorPoint)| {
        if lo.t_ms <= hi.t_ms {
            out.push(lo);
            if hi != lo {
                out.push(hi);
            }
        } else {
            out.push(hi);
            out.push(lo);
        }
    };
    for p in points {
        let bucket = ((p.t_ms / width) as usize).min(buckets - 1);
        match &mut current {
            Some((b, lo, hi)) if *b == bucket => {
                if p.heap_used < lo.heap_used {
                    *lo = p;
                }
                if p.heap_used > hi.heap_used {
                    *hi = p;
                }
            }
            _ => {
                if let Some(done) = current.take() {
                    flush(&mut out, done);
                }
                current = Some((bucket, p, p));
            }
        }
    }
    if let Some(done) = current {
        flush(&mut out, done);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use memwatchdog_detect::{Config, State};

    fn replay(samples: Vec<Sample>, detector: Detector) -> TraceChart {
        TraceChart::replay(
            samples.into_iter().map(Ok::<_, std::convert::Infallible>),
            detector,
        )
        .unwrap()
    }

    fn leak(majors: u32) -> Vec<Sample> {
        (0..majors)
            .flat_map(|i| {
                let t = 5_000.0 + f64::from(i) * 1000.0;
                let floor = 50_000_000 + u64::from(i) * 2_500_000;
                [
                    Sample::new(t, GcKind::Minor, floor + 3_000_000),
                    Sample::new(t + 500.0, GcKind::Major, floor),
                ]
            })
            .collect()
    }

    #[test]
    fn a_leak_shows_its_floor_and_the_state_changes_from_the_first_sample() {
        let chart = replay(
            leak(120),
            Detector::new(Config::with_threshold(256.0)).unwrap(),
        );
        assert_eq!((chart.samples, chart.major_gcs), (240, 120));
        assert!((chart.start_ms - 5_000.0).abs() < 1e-9);
        assert_eq!(chart.points.len(), 120);
        assert!(!chart.thinned);
        assert!((chart.points[0].t_ms - 500.0).abs() < 1e-9);
        assert_eq!(chart.points[1].heap_used, 52_500_000);
        assert!(chart.points.last().unwrap().fitted_bytes.is_some());
        let leaking = chart
            .events
            .iter()
            .find(|e| e.state == State::Leaking)
            .expect("declared");
        assert!(leaking.t_ms < 60_000.0, "{leaking:?}");
        assert_eq!(chart.event_count as usize, chart.events.len());
    }

    #[test]
    fn a_long_trace_is_thinned_keeping_the_extremes() {
        let mut samples: Vec<Sample> = (0..20_000u32)
            .map(|i| Sample::new(f64::from(i) * 10.0, GcKind::Major, 100_000_000))
            .collect();
        samples[7_777].heap_used = 900_000_000;
        samples[12_345].heap_used = 1;
        let chart = replay(samples, Detector::default());
        assert!(chart.thinned);
        assert!(chart.points.len() <= MAX_POINTS, "{}", chart.points.len());
        assert!(chart.points.iter().any(|p| p.heap_used == 900_000_000));
        assert!(chart.points.iter().any(|p| p.heap_used == 1));
        assert!(chart.points.windows(2).all(|w| w[0].t_ms <= w[1].t_ms));
    }
}
