//! Property tests: any sample sequence, however odd, is handled without panicking and every
//! published number stays finite.

use memwatchdog_detect::trace::{TraceWriter, read_trace};
use memwatchdog_detect::{Config, Detector, GcKind, Sample, Signal};
use proptest::prelude::*;

/// Time step, GC kind, heap, external, array buffers, RSS.
type Raw = (f64, u32, u64, u64, u64, Option<u64>);

fn sample() -> impl Strategy<Value = Raw> {
    (
        prop_oneof![
            8 => 0.0..5_000.0f64,
            1 => Just(0.0),
            1 => prop_oneof![Just(-1.0), Just(f64::NAN), Just(f64::INFINITY), Just(1e12)],
        ],
        prop_oneof![Just(1u32), Just(4), Just(8), Just(16), any::<u32>()],
        prop_oneof![0u64..200_000_000, Just(0), Just(u64::MAX)],
        0u64..1_000_000_000,
        prop_oneof![0u64..100_000_000, Just(u64::MAX)],
        proptest::option::of(0u64..u64::MAX),
    )
}

fn build(raw: &[Raw]) -> Vec<Sample> {
    let mut t = 0.0;
    raw.iter()
        .map(|&(dt, kind, heap, ext, ab, rss)| {
            // Mostly increasing time, with the odd bad value passed through unchanged.
            let t_ms = if dt.is_finite() && dt >= 0.0 {
                t += dt;
                t
            } else {
                dt
            };
            Sample {
                t_ms,
                gc_kind: GcKind::from(kind),
                heap_used: heap,
                heap_total: heap,
                external: ext,
                array_buffers: ab,
                rss,
                heap_limit: None,
                memory_limit: None,
            }
        })
        .collect()
}

fn check(config: &Config, samples: &[Sample]) {
    let mut d = Detector::new(*config).unwrap();
    for s in samples {
        for e in d.push(s) {
            assert!(e.slope.is_finite(), "{e:?}");
            assert!(e.evidence.trend.threshold.is_finite());
            assert!(e.evidence.trend.floor_bytes.is_finite());
        }
        for signal in Signal::ALL {
            assert!(d.slope(signal).is_finite());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn push_never_panics_and_slopes_are_finite(raw in proptest::collection::vec(sample(), 0..600)) {
        let samples = build(&raw);
        let mut small = Config::with_threshold(1.0);
        small.short.min_span_ms = 0.0;
        small.long.bucket_ms = 2_000.0;
        small.long.min_span_ms = 0.0;
        small.growth_allowance.long_early_span_ms = 0.0;
        small.rss.ignore_first_ms = 0.0;
        small.rss.short.bucket_ms = 2_000.0;
        small.rss.short.min_span_ms = 0.0;
        small.rss.long_min_span_ms = 0.0;
        check(&small, &samples);
        check(&Config::default(), &samples);
    }

    #[test]
    fn csv_round_trips(raw in proptest::collection::vec(sample(), 0..50)) {
        // A trace is in time order (the reader rejects time going backwards) and has rows.
        let mut samples: Vec<Sample> = build(&raw).into_iter().filter(|s| s.t_ms.is_finite()).collect();
        samples.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
        let mut w = TraceWriter::new(Vec::new()).unwrap();
        for s in &samples {
            w.write(s).unwrap();
        }
        let bytes = w.into_inner().unwrap();
        if samples.is_empty() {
            prop_assert!(read_trace(bytes.as_slice()).is_err(), "a header without rows is an error");
        } else {
            prop_assert_eq!(read_trace(bytes.as_slice()).unwrap(), samples);
        }
    }
}

#[test]
fn a_steep_ramp_of_identical_times_is_handled() {
    let mut d = Detector::new(Config::with_threshold(1.0)).unwrap();
    for i in 0..1000u64 {
        d.push(&Sample::new(5.0, GcKind::Major, i * 1_000_000));
    }
    assert!(d.slope(Signal::Heap).is_finite());
}
