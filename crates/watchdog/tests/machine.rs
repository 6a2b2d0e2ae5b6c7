//! The watchdog's decisions, driven sample by sample without Node: alerts, events, snapshot
//! and analysis requests, and the sequences that used to be reachable only from JS.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use memwatchdog_detect::{GcKind, Sample, Signal, State};
use memwatchdog_exporter::{Metrics, MetricsOptions};
use memwatchdog_heapprofile::{AllocationSite, Frame, FrameKind};
use memwatchdog_snapguard::MemoryInfo;
use memwatchdog_watchdog::analysis::Outcome;
use memwatchdog_watchdog::profiles::{ProfileDone, ProfileKind};
use memwatchdog_watchdog::snapshots::{SnapshotCheck, SnapshotKind, SnapshotWritten, WrittenFile};
use memwatchdog_watchdog::{AlertRequest, Effect, Event, Machine, Reading, Settings};

const MB: f64 = 1e6;
/// Node's `kind` of a major (mark-sweep-compact) and a minor (scavenge) GC.
const MAJOR: u32 = 4;
const MINOR: u32 = 1;
const HEAP_LIMIT: u64 = 400_000_000;

/// A machine with the default settings, its metrics, and the time of its next sample.
struct Harness {
    machine: Machine,
    metrics: Arc<Metrics>,
    t_ms: f64,
    effects: Vec<Effect>,
}

impl Harness {
    fn new() -> Harness {
        Harness::with(&Settings {
            service: "checkout".to_owned(),
            ..Settings::default()
        })
    }

    fn with(settings: &Settings) -> Harness {
        let metrics = Arc::new(Metrics::new(MetricsOptions::default()).unwrap());
        Harness {
            machine: Machine::new(settings, Arc::clone(&metrics)).unwrap(),
            metrics,
            t_ms: 0.0,
            effects: Vec::new(),
        }
    }

    /// One GC reading at the current time.
    fn gc(&mut self, kind: u32, heap_used: f64) {
        let sample = Sample {
            t_ms: self.t_ms,
            gc_kind: GcKind::from(kind),
            heap_used: heap_used as u64,
            heap_total: (heap_used * 1.2) as u64,
            external: 2_000_000,
            array_buffers: 100_000,
            rss: Some((heap_used + 50.0 * MB) as u64),
            heap_limit: Some(HEAP_LIMIT),
            memory_limit: None,
        };
        let reading = Reading {
            sample,
            node_kind: kind,
            duration_ms: 2.0,
            wall: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        };
        self.machine.sample(reading, || None);
        self.effects.extend(self.machine.drain());
    }

    /// `seconds` of a service whose post-GC floor is `floor(t in s)`: a major GC every
    /// second, with nine minors and 5 MB of garbage between them.
    fn run(&mut self, seconds: u32, floor: impl Fn(f64) -> f64) {
        for _ in 0..seconds {
            let f = floor(self.t_ms / 1000.0);
            for i in 1..10 {
                self.t_ms += 100.0;
                self.gc(MINOR, f + f64::from(i) * 0.5 * MB);
            }
            self.t_ms += 100.0;
            self.gc(MAJOR, f);
        }
    }

    /// Warm-up and a flat minute at 30 MB, then a 1.5 MB/s leak until the heap signal's
    /// state passes `reached`; returns the floor it got to.
    fn leak_until(&mut self, reached: impl Fn(State) -> bool) -> f64 {
        self.run(120, |_| 30.0 * MB);
        let start = self.t_ms / 1000.0;
        let floor = |t: f64| 30.0 * MB + (t - start) * 1.5 * MB;
        for _ in 0..600 {
            if reached(self.machine.state(Signal::Heap)) {
                return floor(self.t_ms / 1000.0);
            }
            self.run(1, floor);
        }
        panic!("not there after 10 minutes of a 1.5 MB/s leak");
    }

    fn take(&mut self) -> Vec<Effect> {
        self.effects.extend(self.machine.drain());
        std::mem::take(&mut self.effects)
    }
}

fn alerts(effects: &[Effect]) -> Vec<&AlertRequest> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Alert(a) => Some(a),
            _ => None,
        })
        .collect()
}

fn fired<'a>(effects: &'a [Effect], key: &str) -> Vec<&'a AlertRequest> {
    alerts(effects)
        .into_iter()
        .filter(|a| matches!(a, AlertRequest::Fire { key: k, .. } if k == key))
        .collect()
}

fn annotations(a: &AlertRequest) -> &std::collections::BTreeMap<String, String> {
    match a {
        AlertRequest::Fire { annotations, .. } => annotations,
        AlertRequest::Resolve { .. } => panic!("a resolve has no annotations"),
    }
}

fn state_changes(effects: &[Effect]) -> Vec<(State, State)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Event(Event::State { change, .. }) if change.signal == Signal::Heap => {
                Some((change.from, change.state))
            }
            _ => None,
        })
        .collect()
}

fn written(kind: SnapshotKind, path: &str) -> SnapshotWritten {
    SnapshotWritten {
        kind,
        path: path.to_owned(),
        now_ms: 1_800_000_000_000,
        duration_ms: 1500.0,
        heap_used_bytes: 60_000_000,
    }
}

/// A written snapshot file of `node_count` nodes (about 100 bytes each).
fn file(node_count: u64) -> WrittenFile {
    WrittenFile {
        node_count,
        file_bytes: node_count * 100,
    }
}

fn leak_check(rss: u64, available: u64) -> (SnapshotCheck, MemoryInfo) {
    (
        SnapshotCheck {
            kind: SnapshotKind::Leak,
            now_ms: 1_800_000_000_000,
            heap_used_bytes: 100_000_000,
            large_object_bytes: 0,
            rss_bytes: rss,
            disk_free_bytes: Some(100_000_000_000),
        },
        MemoryInfo {
            mem_available: Some(available),
            cgroup_headroom: None,
        },
    )
}

fn site(summary_site: &str) -> AllocationSite {
    AllocationSite {
        rank: 1,
        summary: format!("+12 MB in {summary_site}"),
        delta_bytes: 12_000_000,
        bytes: vec![1_000_000, 13_000_000],
        delta_samples: None,
        frames: vec![Frame {
            function: "pushEntry".to_owned(),
            url: "/srv/app/cache.js".to_owned(),
            line: Some(41),
            column: Some(18),
            kind: FrameKind::User,
            original: None,
        }],
        user_frame: Some(0),
        site: summary_site.to_owned(),
    }
}

#[test]
fn a_leak_fires_the_warning_then_the_page_and_a_flat_floor_resolves_both() {
    let mut h = Harness::new();
    let top = h.leak_until(|s| s == State::OomRisk);
    let effects = h.take();
    assert_eq!(
        state_changes(&effects),
        [
            (State::Normal, State::Suspect),
            (State::Suspect, State::Leaking),
            (State::Leaking, State::OomRisk)
        ],
        "{effects:#?}"
    );
    let warning = fired(&effects, "heap");
    let AlertRequest::Fire { labels, .. } = warning[0] else {
        unreachable!()
    };
    assert_eq!(labels["severity"], "warning");
    assert_eq!(labels["signal"], "heap");
    assert!(
        annotations(warning[0])["summary"].starts_with("checkout is leaking memory: heap grows")
    );
    let page = fired(&effects, "heap/oom_risk");
    let AlertRequest::Fire {
        labels,
        annotations: a,
        ..
    } = page[0]
    else {
        unreachable!()
    };
    assert_eq!(labels["severity"], "critical");
    assert!(
        a["summary"].starts_with("checkout runs out of memory in ~"),
        "{a:?}"
    );
    assert!(
        a["summary"].ends_with("towards its limit of 400 MB"),
        "{a:?}"
    );
    let seconds: f64 = a["exhaustion_seconds"].parse().unwrap();
    // The floor is ~30 MB + growth; 400 MB at 1.5 MB/s is a few minutes away.
    assert!((60.0..400.0).contains(&seconds), "{seconds}");
    assert!(a["exhaustion_at"].starts_with("2027-01-15T08:"), "{a:?}");
    let text = h.metrics.render();
    assert!(text.contains("memwatchdog_leak_alert_total 1"), "{text}");
    assert!(
        text.contains("memwatchdog_detector_state{signal=\"heap\"} 4"),
        "{text}"
    );

    // The leak stops: the floor stays where it got to.
    h.run(900, |_| top);
    let effects = h.take();
    assert_eq!(
        state_changes(&effects).last().map(|c| c.1),
        Some(State::Resolved),
        "{:?}",
        state_changes(&effects)
    );
    let resolved: Vec<_> = alerts(&effects)
        .into_iter()
        .filter_map(|a| match a {
            AlertRequest::Resolve { key } => Some(key.as_str()),
            AlertRequest::Fire { .. } => None,
        })
        .collect();
    assert!(resolved.contains(&"heap/oom_risk"), "{effects:#?}");
    assert!(resolved.contains(&"heap"), "{effects:#?}");
}

#[test]
fn suspect_then_a_refused_snapshot_leaves_the_profile_as_the_only_finding() {
    let mut h = Harness::new();
    h.leak_until(|s| s == State::Suspect);
    // JS takes the suspect profile; its diff comes back before the leak is declared.
    assert!(h.machine.profile_taken());
    let mut done = ProfileDone::new(ProfileKind::Suspect);
    done.sites.push(site("pushEntry (/srv/app/cache.js:41:18)"));
    done.report_path = Some("/p/suspect.allocation-report.json".to_owned());
    h.machine.profile_done(done, h.t_ms);
    let effects = h.take();
    assert!(
        alerts(&effects).is_empty(),
        "nothing fires yet: {effects:#?}"
    );
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Event(Event::Profile { .. })))
    );

    h.leak_until(State::is_leak);
    let effects = h.take();
    let warning = annotations(fired(&effects, "heap")[0]);
    assert!(
        warning["top_allocation_site"].contains("pushEntry"),
        "{warning:?}"
    );
    assert_eq!(
        warning["allocation_profile"],
        "/p/suspect.allocation-report.json"
    );

    // 1.2 GB of RSS cannot be doubled in 500 MB of available memory.
    let (check, memory) = leak_check(1_200_000_000, 500_000_000);
    let verdict = h.machine.check_snapshot(&check, memory);
    assert_eq!(verdict.refusal.map(|r| r.reason()), Some("memory_headroom"));
    let effects = h.take();
    let refired = annotations(fired(&effects, "heap")[0]);
    assert!(refired.contains_key("snapshot_refused"), "{refired:?}");
    assert!(refired.contains_key("top_allocation_site"), "{refired:?}");
    assert!(!effects.iter().any(|e| matches!(e, Effect::Analyze { .. })));
    assert!(
        h.metrics
            .render()
            .contains("memwatchdog_snapshot_refused_total{reason=\"memory_headroom\"} 1")
    );
}

#[test]
fn one_analysis_runs_at_a_time_and_its_late_outcome_reaches_the_alert() {
    let mut h = Harness::new();
    h.machine.snapshot_written(
        &written(SnapshotKind::Baseline, "/s/base.heapsnapshot"),
        Some(file(400_000)),
    );
    let top = h.leak_until(|s| s == State::OomRisk);
    h.take();
    h.machine.snapshot_written(
        &written(SnapshotKind::Leak, "/s/leak1.heapsnapshot"),
        Some(file(900_000)),
    );
    let effects = h.take();
    let analyze: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Analyze { baseline, leak } => Some((baseline.clone(), leak.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        analyze,
        [(
            "/s/base.heapsnapshot".into(),
            "/s/leak1.heapsnapshot".into()
        )]
    );
    assert_eq!(
        annotations(fired(&effects, "heap")[0])["snapshot"],
        "/s/leak1.heapsnapshot"
    );
    assert!(h.machine.analysis_pending());

    // A second leak snapshot while the first pair is analyzed starts nothing.
    h.machine
        .snapshot_written(&written(SnapshotKind::Leak, "/s/leak2.heapsnapshot"), None);
    assert!(!h.take().iter().any(|e| matches!(e, Effect::Analyze { .. })));

    // A minute later, the leak going on, the outcome arrives.
    let t0 = h.t_ms / 1000.0;
    h.run(60, |t| top + (t - t0) * 1.5 * MB);
    assert_eq!(h.machine.state(Signal::Heap), State::OomRisk);
    h.take();
    let line = "Entry ×120,000 (+48 MB) held by (global) → cache → entries[]".to_owned();
    h.machine
        .analysis_done(Outcome::TopSuspect(line.clone()), h.t_ms);
    let effects = h.take();
    for key in ["heap", "heap/oom_risk"] {
        let a = annotations(fired(&effects, key)[0]);
        assert_eq!(a["top_suspect"], line, "{key}");
    }
    assert!(effects.iter().any(
        |e| matches!(e, Effect::Log(l) if l == &format!("snapshot pair analyzed: top suspect {line}"))
    ));
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Event(Event::Analysis {
            outcome: Outcome::TopSuspect(_),
            ..
        })
    )));
    assert!(!h.machine.analysis_pending());

    // The next leak snapshot is analyzed again.
    h.machine
        .snapshot_written(&written(SnapshotKind::Leak, "/s/leak3.heapsnapshot"), None);
    assert!(h.take().iter().any(|e| matches!(e, Effect::Analyze { .. })));
}

#[test]
fn a_skipped_analysis_replaces_the_suspect_on_the_alert() {
    let mut h = Harness::new();
    h.leak_until(State::is_leak);
    h.machine.analysis_done(
        Outcome::TopSuspect("Entry ×1 (+1 kB) held by x".to_owned()),
        h.t_ms,
    );
    h.machine
        .analysis_done(Outcome::Skipped("too big".to_owned()), h.t_ms);
    let effects = h.take();
    let last = annotations(fired(&effects, "heap").last().unwrap());
    assert_eq!(last["analysis_skipped"], "too big");
    assert!(!last.contains_key("top_suspect"), "{last:?}");
}

#[test]
fn stop_during_a_pending_analysis_drops_its_outcome_and_later_samples() {
    let mut h = Harness::new();
    h.machine.snapshot_written(
        &written(SnapshotKind::Baseline, "/s/base.heapsnapshot"),
        None,
    );
    h.leak_until(State::is_leak);
    h.machine
        .snapshot_written(&written(SnapshotKind::Leak, "/s/leak.heapsnapshot"), None);
    assert!(h.take().iter().any(|e| matches!(e, Effect::Analyze { .. })));
    h.machine.stop();
    h.machine.analysis_done(Outcome::NothingFound, h.t_ms);
    let mut done = ProfileDone::new(ProfileKind::Leak);
    done.sites.push(site("pushEntry (/srv/app/cache.js:41:18)"));
    h.machine.profile_done(done, h.t_ms);
    assert!(!h.machine.profile_taken());
    h.run(60, |t| 30.0 * MB + t * 3.0 * MB);
    assert!(h.take().is_empty());
    assert!(!h.machine.analysis_pending());
}

#[test]
fn no_analysis_without_a_baseline_or_when_it_is_off() {
    let mut h = Harness::with(&Settings {
        analyze_max_bytes: 0,
        ..Settings::default()
    });
    h.machine.snapshot_written(
        &written(SnapshotKind::Baseline, "/s/base.heapsnapshot"),
        None,
    );
    h.machine
        .snapshot_written(&written(SnapshotKind::Leak, "/s/leak.heapsnapshot"), None);
    assert!(h.take().is_empty());

    let mut h = Harness::new();
    h.machine
        .snapshot_written(&written(SnapshotKind::Leak, "/s/leak.heapsnapshot"), None);
    assert!(h.take().is_empty());
}

#[test]
fn leak_snapshots_are_spaced_by_the_cooldown_and_the_baseline_is_not() {
    let mut h = Harness::with(&Settings {
        snapshot_cooldown_ms: 600_000,
        ..Settings::default()
    });
    let (check, memory) = leak_check(100_000_000, 50_000_000_000);
    assert!(h.machine.check_snapshot(&check, memory).refusal.is_none());
    h.machine.snapshot_written(
        &written(SnapshotKind::Leak, "/s/leak.heapsnapshot"),
        Some(file(500_000)),
    );
    let later = SnapshotCheck {
        now_ms: check.now_ms + 60_000,
        ..check
    };
    let refusal = h.machine.check_snapshot(&later, memory).refusal.unwrap();
    assert_eq!(refusal.reason(), "cooldown");
    let baseline = SnapshotCheck {
        kind: SnapshotKind::Baseline,
        ..later
    };
    assert!(
        h.machine
            .check_snapshot(&baseline, memory)
            .refusal
            .is_none()
    );
    // No alert fires, so refusals annotate nothing.
    assert!(alerts(&h.take()).is_empty());
}

#[test]
fn the_container_limit_is_read_again_every_30_s_of_sample_time() {
    let mut h = Harness::new();
    let mut reads = 0;
    for i in 0..=120 {
        h.t_ms = f64::from(i) * 1000.0;
        let reading = Reading {
            sample: Sample {
                t_ms: h.t_ms,
                gc_kind: GcKind::from(MINOR),
                heap_used: 10_000_000,
                heap_total: 12_000_000,
                external: 0,
                array_buffers: 0,
                rss: None,
                heap_limit: None,
                memory_limit: None,
            },
            node_kind: MINOR,
            duration_ms: 1.0,
            wall: SystemTime::UNIX_EPOCH,
        };
        let seen = h.machine.sample(reading, || {
            reads += 1;
            Some(512 << 20)
        });
        assert_eq!(seen.memory_limit, Some(512 << 20));
    }
    // At 0, 30, 60, 90 and 120 s.
    assert_eq!(reads, 5);
    assert!(
        h.metrics
            .render()
            .contains("memwatchdog_memory_limit_bytes 536870912")
    );
}

#[test]
fn warm_up_ends_once_and_the_slope_is_nan_until_the_first_fit() {
    let mut h = Harness::new();
    h.run(2, |_| 30.0 * MB);
    assert!(
        h.metrics
            .render()
            .contains("memwatchdog_heap_slope_bytes_per_ms NaN")
    );
    h.run(300, |_| 30.0 * MB);
    let warmed = h
        .take()
        .iter()
        .filter(|e| matches!(e, Effect::Event(Event::WarmedUp { .. })))
        .count();
    assert_eq!(warmed, 1);
    assert!(
        !h.metrics
            .render()
            .contains("memwatchdog_heap_slope_bytes_per_ms NaN")
    );
}
