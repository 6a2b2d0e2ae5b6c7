//! [`Machine`]: the in-process watchdog's decisions, as a pure state machine.
//!
//! A GC sample goes in; the machine runs the detector, updates the metrics registry (plain
//! atomics) and queues [`Effect`]s: events for JS, alerts for Alertmanager, log lines, and
//! the request to analyze a snapshot pair. Snapshot checks, written snapshots, taken
//! profiles and finished background work come in through their own calls, with whatever
//! the caller read from the machine (memory, a file's header) passed as plain values. Nothing
//! here touches a file, a socket, a thread or the clock: [`crate::Watchdog`] does, and carries
//! out the effects.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use memwatchdog_detect::{Detector, Event as StateChange, Sample, Signal, SignalStatus, State};
use memwatchdog_exporter::{DetectorState, GcKind, Metrics, Signal as ExportSignal};
use memwatchdog_snapguard::MemoryInfo;

use crate::alerts::{Alerts, Projection};
use crate::analysis::Outcome;
use crate::effect::{Effect, Event};
use crate::profiles::{ProfileDone, ProfileKind};
use crate::settings::Settings;
use crate::snapshots::{
    SnapshotBook, SnapshotCheck, SnapshotKind, SnapshotVerdict, SnapshotWritten, WrittenFile,
};

/// How often the container memory limit is read again (ms of sample time): limits rarely
/// change, and reading cgroup files costs a few microseconds.
pub const MEMORY_LIMIT_REFRESH_MS: f64 = 30_000.0;

/// One GC event as JS observed it.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    /// The detector's sample; its `memory_limit` is filled in by the machine.
    pub sample: Sample,
    /// Node's `kind` of the GC (`perf_hooks` constants), for the duration histogram.
    pub node_kind: u32,
    /// How long the GC took (ms).
    pub duration_ms: f64,
    /// Wall-clock time, which dates the projected exhaustion in alerts.
    pub wall: SystemTime,
}

/// The watchdog's state between samples.
pub struct Machine {
    detector: Detector,
    metrics: Arc<Metrics>,
    alerts: Alerts,
    snapshots: SnapshotBook,
    /// This process's baseline snapshot, once written.
    baseline_path: Option<PathBuf>,
    /// Largest leak snapshot analyzed in the background (0: never).
    analyze_max_bytes: u64,
    /// An analysis was requested and its outcome has not come back.
    analysis_pending: bool,
    /// The container memory limit and when it was read (sample time, ms).
    memory_limit: Option<u64>,
    memory_limit_read_ms: Option<f64>,
    warmed_up: bool,
    stopped: bool,
    effects: Vec<Effect>,
}

fn export_signal(signal: Signal) -> ExportSignal {
    match signal {
        Signal::Heap => ExportSignal::Heap,
        Signal::External => ExportSignal::External,
        Signal::Rss => ExportSignal::Rss,
    }
}

fn export_state(state: State) -> DetectorState {
    match state {
        State::Normal => DetectorState::Normal,
        State::Suspect => DetectorState::Suspect,
        State::Leaking => DetectorState::Leaking,
        State::Resolved => DetectorState::Resolved,
        State::OomRisk => DetectorState::OomRisk,
    }
}

impl Machine {
    /// A machine with a validated detector configuration, reporting into `metrics`.
    pub fn new(
        settings: &Settings,
        metrics: Arc<Metrics>,
    ) -> Result<Machine, memwatchdog_detect::ConfigError> {
        let detector = Detector::new(settings.detector)?;
        for signal in Signal::ALL {
            metrics.set_detector_state(export_signal(signal), DetectorState::Normal);
        }
        // Nothing is known to grow yet.
        metrics.set_exhaustion_seconds(None, None);
        Ok(Machine {
            detector,
            metrics,
            alerts: Alerts::new(settings.service.clone()),
            snapshots: SnapshotBook::new(
                settings.snapshot_policy,
                settings.snapshot_cooldown_ms,
                settings.snapshot_memory_limit_bytes,
                settings.snapshot_allow_unknown_memory,
            ),
            baseline_path: None,
            analyze_max_bytes: settings.analyze_max_bytes,
            analysis_pending: false,
            memory_limit: None,
            memory_limit_read_ms: None,
            warmed_up: false,
            stopped: false,
            effects: Vec::new(),
        })
    }

    /// The effects queued since the last call, in order.
    pub fn drain(&mut self) -> std::vec::Drain<'_, Effect> {
        self.effects.drain(..)
    }

    /// Whether the container memory limit should be read again before the sample at `t_ms`.
    #[must_use]
    pub fn memory_limit_due(&self, t_ms: f64) -> bool {
        self.memory_limit_read_ms
            .is_none_or(|at| t_ms - at >= MEMORY_LIMIT_REFRESH_MS || t_ms < at)
    }

    /// One GC event. `read_memory_limit` is called when the container limit is due to be
    /// read again (every [`MEMORY_LIMIT_REFRESH_MS`] of sample time). Returns the sample as
    /// the detector saw it (with the memory limit).
    pub fn sample(
        &mut self,
        reading: Reading,
        read_memory_limit: impl FnOnce() -> Option<u64>,
    ) -> Sample {
        if self.stopped {
            return reading.sample;
        }
        let t_ms = reading.sample.t_ms;
        if self.memory_limit_due(t_ms) {
            self.memory_limit = read_memory_limit();
            self.memory_limit_read_ms = Some(t_ms);
            self.metrics.set_memory_limit_bytes(self.memory_limit);
        }
        let sample = Sample {
            memory_limit: self.memory_limit,
            ..reading.sample
        };
        let m = &self.metrics;
        if let Some(k) = GcKind::from_node_kind(reading.node_kind) {
            m.observe_gc_seconds(k, reading.duration_ms / 1000.0);
        }
        m.set_heap_used_bytes(sample.heap_used);
        m.set_heap_total_bytes(sample.heap_total);
        m.set_external_bytes(sample.external);
        m.set_array_buffers_bytes(sample.array_buffers);
        if let Some(rss) = sample.rss {
            m.set_rss_bytes(rss);
        }
        if let Some(limit) = sample.heap_limit {
            m.set_heap_limit_bytes(limit);
        }
        let major = sample.gc_kind.is_major();
        if major {
            m.set_heap_floor_bytes(sample.heap_used);
        }
        for change in self.detector.push(&sample) {
            self.on_state_change(&change, &sample, reading.wall);
        }
        if self.detector.take_gc_request() {
            self.effects.push(Effect::Event(Event::GcRequest {
                t_ms,
                heap_used: sample.heap_used,
            }));
        }
        if major {
            self.on_major(&sample, reading.wall);
        }
        sample
    }

    /// After a major GC: the slope and projections in the metrics and on the firing alerts,
    /// and the end of warm-up. One status per signal (heap, external, rss).
    fn on_major(&mut self, sample: &Sample, wall: SystemTime) {
        let statuses = Signal::ALL.map(|signal| self.detector.signal_status(signal));
        let heap = &statuses[0];
        let fitted = heap.short.is_some() || heap.long.is_some();
        self.metrics
            .set_heap_slope_bytes_per_ms(if fitted { heap.slope } else { f64::NAN });
        let seconds = |st: &SignalStatus| st.exhaustion_ms.map(|ms| ms / 1000.0);
        let memory = match (seconds(&statuses[1]), seconds(&statuses[2])) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.metrics.set_exhaustion_seconds(seconds(heap), memory);
        for st in &statuses {
            self.alerts.update_projection(
                st.signal,
                Projection::of_status(st),
                wall,
                &mut self.effects,
            );
        }
        if !self.warmed_up && heap.warmed_up {
            self.warmed_up = true;
            self.effects.push(Effect::Event(Event::WarmedUp {
                t_ms: sample.t_ms,
                heap_used: sample.heap_used,
            }));
        }
    }

    fn on_state_change(&mut self, change: &StateChange, sample: &Sample, wall: SystemTime) {
        let value = match change.signal {
            Signal::Heap => sample.heap_used,
            Signal::External => sample.off_heap(),
            Signal::Rss => sample.rss.or(self.detector.status().rss).unwrap_or(0),
        };
        self.metrics
            .set_detector_state(export_signal(change.signal), export_state(change.state));
        let out = &mut self.effects;
        match (change.from, change.state) {
            // Back from `oom_risk`: only the critical alert ends.
            (State::OomRisk, State::Leaking) => self.alerts.resolve_oom_risk(change.signal, out),
            (_, State::Leaking) => {
                self.metrics.inc_leak_alert();
                self.alerts.fire(change, sample.heap_used, value, wall, out);
            }
            (_, State::OomRisk) => self.alerts.fire(change, sample.heap_used, value, wall, out),
            (from, _) if from.is_leak() => self.alerts.resolve(change.signal, out),
            _ => {}
        }
        out.push(Effect::Event(Event::State {
            change: Box::new(*change),
            heap_used: sample.heap_used,
            value,
        }));
    }

    /// The background analysis of the snapshot pair finished: its outcome goes into the
    /// firing alerts, the log and the JS events. Ignored after [`stop`](Self::stop).
    pub fn analysis_done(&mut self, outcome: Outcome, t_ms: f64) {
        self.analysis_pending = false;
        if self.stopped {
            return;
        }
        let out = &mut self.effects;
        let line = match &outcome {
            Outcome::TopSuspect(line) => {
                self.alerts
                    .annotate("top_suspect", line, "analysis_skipped", out);
                format!("snapshot pair analyzed: top suspect {line}")
            }
            Outcome::NothingFound => format!("snapshot pair analyzed: {}", outcome.detail()),
            Outcome::Skipped(reason) => {
                self.alerts
                    .annotate("analysis_skipped", reason, "top_suspect", out);
                format!("snapshot pair not analyzed: {reason}")
            }
        };
        out.push(Effect::Log(line));
        out.push(Effect::Event(Event::Analysis { t_ms, outcome }));
    }

    /// A stored (and diffed) profile: into the metrics, the log, the firing alerts
    /// (`top_allocation_site`, `allocation_profile`, kept for alerts that fire later) and the
    /// JS events. Ignored after [`stop`](Self::stop).
    pub fn profile_done(&mut self, done: ProfileDone, t_ms: f64) {
        if self.stopped {
            return;
        }
        let out = &mut self.effects;
        for path in &done.deleted {
            out.push(Effect::Log(format!(
                "deleted old heap profile {}",
                path.display()
            )));
        }
        if let Some((reason, message)) = &done.error {
            self.metrics.record_heap_profile_failure(reason);
            out.push(Effect::Log(format!(
                "heap profile ({}): {message}",
                done.kind
            )));
        }
        if let Some(path) = &done.path {
            out.push(Effect::Log(format!("wrote heap profile {path}")));
        }
        if let Some(top) = done.sites.first() {
            let summary = &top.summary;
            out.push(Effect::Log(format!(
                "allocation profile ({}): top allocation site {summary}",
                done.kind
            )));
            self.alerts
                .annotate_sticky("top_allocation_site", summary, out);
            if let Some(report) = &done.report_path {
                self.alerts
                    .annotate_sticky("allocation_profile", report, out);
            }
        } else if done.kind != ProfileKind::Baseline && done.error.is_none() {
            out.push(Effect::Log(format!(
                "allocation profile ({}): no allocation site grew since the baseline",
                done.kind
            )));
        }
        out.push(Effect::Event(Event::Profile { t_ms, done }));
    }

    /// A profile JS took: counted (the runtime stores and diffs it). Ignored after
    /// [`stop`](Self::stop); returns whether it was accepted.
    pub fn profile_taken(&mut self) -> bool {
        if !self.stopped {
            self.metrics.inc_heap_profile();
        }
        !self.stopped
    }

    /// Counts an allocation-profiling failure on the JS side (`inspector`).
    pub fn profile_failed(&self, reason: &str) {
        self.metrics.record_heap_profile_failure(reason);
    }

    /// Counts a snapshot that failed (`memwatchdog_snapshot_failures_total{reason}`).
    pub fn snapshot_failed(&self, reason: &str) {
        self.metrics.record_snapshot_failure(reason);
    }

    /// Whether writing a snapshot is safe now, given the machine's `memory` as just read. A
    /// refusal is counted in `memwatchdog_snapshot_refused_total{reason}` and, for a leak
    /// snapshot, added to the firing alerts as `snapshot_refused`.
    pub fn check_snapshot(&mut self, check: &SnapshotCheck, memory: MemoryInfo) -> SnapshotVerdict {
        let verdict = self.snapshots.check(check, memory);
        if let Some(refusal) = &verdict.refusal {
            self.metrics.record_snapshot_refused(refusal.reason());
            if check.kind == SnapshotKind::Leak {
                self.alerts.annotate(
                    "snapshot_refused",
                    &refusal.to_string(),
                    "snapshot",
                    &mut self.effects,
                );
            }
        }
        verdict
    }

    /// Records a written snapshot (its node count and size, when its header could be read):
    /// metrics, cooldown, the next object estimate, the path in the firing alerts, and for a
    /// leak snapshot with a baseline, an [`Effect::Analyze`] unless one is pending or analysis
    /// is off.
    pub fn snapshot_written(&mut self, written: &SnapshotWritten, file: Option<WrittenFile>) {
        self.metrics
            .record_snapshot_written(std::time::Duration::from_secs_f64(
                (written.duration_ms / 1000.0).max(0.0),
            ));
        self.snapshots.written(written, file);
        if written.kind == SnapshotKind::Leak && self.alerts.any_firing() {
            self.alerts.annotate(
                "snapshot",
                &written.path,
                "snapshot_refused",
                &mut self.effects,
            );
        }
        match (written.kind, &self.baseline_path) {
            (SnapshotKind::Baseline, _) => self.baseline_path = Some(PathBuf::from(&written.path)),
            (SnapshotKind::Leak, Some(baseline))
                if self.analyze_max_bytes > 0 && !self.analysis_pending && !self.stopped =>
            {
                self.analysis_pending = true;
                self.effects.push(Effect::Analyze {
                    baseline: baseline.clone(),
                    leak: PathBuf::from(&written.path),
                });
            }
            _ => {}
        }
    }

    /// The largest leak snapshot analyzed in the background.
    #[must_use]
    pub fn analyze_max_bytes(&self) -> u64 {
        self.analyze_max_bytes
    }

    /// The current state of `signal`.
    #[must_use]
    pub fn state(&self, signal: Signal) -> State {
        self.detector.state(signal)
    }

    /// Whether an analysis was requested and has not come back.
    #[must_use]
    pub fn analysis_pending(&self) -> bool {
        self.analysis_pending
    }

    /// No more samples, events or alerts; outcomes that arrive later are dropped.
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// Whether [`stop`](Self::stop) was called.
    #[must_use]
    pub fn stopped(&self) -> bool {
        self.stopped
    }
}
