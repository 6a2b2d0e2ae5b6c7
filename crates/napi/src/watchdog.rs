//! [`NativeWatchdog`]: one running watchdog — detector, metrics, `/metrics` server, alert
//! client, trace — driven by the JS `PerformanceObserver`.

// Arguments of `#[napi]` methods are converted from JS values into owned Rust values.
#![allow(clippy::needless_pass_by_value)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use memwatchdog_detect::{Detector, GcKind as DetectGcKind, Sample, Signal, SignalStatus, State};
use memwatchdog_exporter::{
    Alerter, DetectorState, GcKind, LogFn, Metrics, MetricsServer, Signal as ExportSignal,
};
use napi::Result;
use napi::bindgen_prelude::Function;
use napi_derive::napi;

use crate::alerts::{Alerts, Projection};
use crate::analysis::{Analysis, Outcome};
use crate::events::NativeEvent;
use crate::log;
use crate::options::{NativeOptions, bytes, invalid};
use crate::profile::{ProfileDone, ProfileTaken, Profiles};
use crate::snapshot::{SnapshotBook, SnapshotCheck, SnapshotVerdict, SnapshotWritten, human};
use crate::trace::{Trace, TraceStop};

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

/// How often the container memory limit is read again (ms of sample time): limits rarely
/// change, and reading cgroup files costs a few microseconds.
const MEMORY_LIMIT_REFRESH_MS: f64 = 30_000.0;

/// Default of `snapshot.analyzeMaxBytes`: leak snapshots up to 1 GiB are analyzed.
const DEFAULT_ANALYZE_MAX_BYTES: u64 = 1 << 30;

/// The native half of one `MemWatchdog.start()`.
#[napi]
pub struct NativeWatchdog {
    detector: Detector,
    metrics: Arc<Metrics>,
    server: Option<MetricsServer>,
    alerts: Alerts,
    trace: Option<Trace>,
    trace_flushed_ms: f64,
    snapshots: SnapshotBook,
    /// Path of this process's baseline snapshot, once written.
    baseline_path: Option<String>,
    /// Largest leak snapshot analyzed in the background (0: never).
    analyze_max_bytes: u64,
    system_root: PathBuf,
    /// The container memory limit and when it was read (sample time, ms).
    memory_limit: Option<u64>,
    memory_limit_read_ms: Option<f64>,
    /// The background analysis of the last snapshot pair, while it runs.
    analysis: Option<Analysis>,
    /// Sampling heap profiles being stored and diffed in the background.
    profiles: Profiles,
    events: Vec<NativeEvent>,
    warmed_up: bool,
    log: LogFn,
    stopped: bool,
}

#[napi]
impl NativeWatchdog {
    /// Starts the metrics server and alert client (each only if configured) and opens the
    /// trace file. `logger` receives log lines from the Rust threads.
    #[napi(constructor)]
    pub fn new(options: NativeOptions, logger: Option<Function<'_, String, ()>>) -> Result<Self> {
        let log = log::hook(logger.as_ref())?;
        let detector = Detector::new(options.detector_config()?)
            .map_err(|e| invalid(format!("native.threshold: {e}")))?;
        let metrics = Arc::new(
            Metrics::new(options.metrics_options())
                .map_err(|e| invalid(format!("labels.service: {e}")))?,
        );
        for signal in Signal::ALL {
            metrics.set_detector_state(export_signal(signal), DetectorState::Normal);
        }
        // Nothing is known to grow yet.
        metrics.set_exhaustion_seconds(None, None);
        let trace = match &options.trace_path {
            Some(path) => {
                let max = options.trace_max_bytes.map_or(u64::MAX, bytes);
                Some(
                    Trace::create(path, max)
                        .map_err(|e| invalid(format!("trace.path: cannot create {path:?}: {e}")))?,
                )
            }
            None => None,
        };
        let alerter = match &options.alert_url {
            Some(url) => {
                let mut config = options.alerter_config(url)?;
                config.metrics = Some(Arc::clone(&metrics));
                config.on_log = Some(Arc::clone(&log));
                Some(Alerter::start(config).map_err(|e| invalid(e.to_string()))?)
            }
            None => None,
        };
        // Last, so that a failure above leaves no port bound.
        let server = match options.prometheus_port {
            Some(port) => {
                let port = u16::try_from(port).map_err(|_| {
                    invalid(format!(
                        "prometheus.port must be between 0 and 65535, got {port}"
                    ))
                })?;
                Some(
                    MetricsServer::start_with_log(
                        &options.prometheus_host,
                        port,
                        Arc::clone(&metrics),
                        Some(Arc::clone(&log)),
                    )
                    .map_err(|e| invalid(e.to_string()))?,
                )
            }
            None => None,
        };
        let system_root = options.system_root.unwrap_or_else(|| "/".to_owned());
        Ok(NativeWatchdog {
            detector,
            metrics,
            server,
            alerts: Alerts::new(alerter, options.service.clone()),
            trace,
            trace_flushed_ms: 0.0,
            snapshots: SnapshotBook::new(
                NativeOptions::snapshot_policy(),
                bytes(options.snapshot_cooldown_ms),
                options.snapshot_memory_limit_bytes.map(bytes),
                system_root.clone(),
            ),
            baseline_path: None,
            analyze_max_bytes: options
                .snapshot_analyze_max_bytes
                .map_or(DEFAULT_ANALYZE_MAX_BYTES, bytes),
            system_root: PathBuf::from(system_root),
            memory_limit: None,
            memory_limit_read_ms: None,
            analysis: None,
            profiles: Profiles::default(),
            events: Vec::new(),
            warmed_up: false,
            log,
            stopped: false,
        })
    }

    /// One GC event: updates the metrics, runs the detector, appends to the trace.
    /// `rss` is negative when it was not read for this event; `heap_limit` is V8's
    /// `heap_size_limit`. Returns how many events [`take_events`](Self::take_events) has for
    /// JS (usually 0).
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn sample(
        &mut self,
        t_ms: f64,
        kind: u32,
        duration_ms: f64,
        heap_used: f64,
        heap_total: f64,
        external: f64,
        array_buffers: f64,
        rss: f64,
        heap_limit: f64,
    ) -> u32 {
        if self.stopped {
            return 0;
        }
        if self
            .memory_limit_read_ms
            .is_none_or(|at| t_ms - at >= MEMORY_LIMIT_REFRESH_MS || t_ms < at)
        {
            self.memory_limit = memwatchdog_snapguard::system::read_cgroup_limit(&self.system_root);
            self.memory_limit_read_ms = Some(t_ms);
            self.metrics.set_memory_limit_bytes(self.memory_limit);
        }
        let sample = Sample {
            t_ms,
            gc_kind: DetectGcKind::from(kind),
            heap_used: bytes(heap_used),
            heap_total: bytes(heap_total),
            external: bytes(external),
            array_buffers: bytes(array_buffers),
            rss: (rss >= 0.0).then(|| bytes(rss)),
            heap_limit: (heap_limit > 0.0).then(|| bytes(heap_limit)),
            memory_limit: self.memory_limit,
        };
        let m = &self.metrics;
        if let Some(k) = GcKind::from_node_kind(kind) {
            m.observe_gc_seconds(k, duration_ms / 1000.0);
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

        for event in self.detector.push(&sample) {
            self.on_state_change(&event, &sample);
        }
        if self.detector.take_gc_request() {
            self.events
                .push(NativeEvent::gc_request(t_ms, sample.heap_used));
        }
        if let Some(outcome) = self.analysis.as_mut().and_then(Analysis::take) {
            self.analysis = None;
            self.on_analysis(outcome, t_ms);
        }
        for done in self.profiles.take() {
            self.on_profile(done, t_ms);
        }
        if major {
            // One status per signal (heap, external, rss): the metrics and the firing alerts'
            // projections.
            let statuses = Signal::ALL.map(|signal| self.detector.signal_status(signal));
            let status = &statuses[0];
            let fitted = status.short.is_some() || status.long.is_some();
            self.metrics
                .set_heap_slope_bytes_per_ms(if fitted { status.slope } else { f64::NAN });
            let seconds = |st: &SignalStatus| st.exhaustion_ms.map(|ms| ms / 1000.0);
            let memory = match (seconds(&statuses[1]), seconds(&statuses[2])) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            self.metrics.set_exhaustion_seconds(seconds(status), memory);
            for st in &statuses {
                self.alerts
                    .update_projection(st.signal, Projection::of_status(st));
            }
            if !self.warmed_up && status.warmed_up {
                self.warmed_up = true;
                self.events
                    .push(NativeEvent::warmed_up(t_ms, sample.heap_used));
            }
        }
        self.write_trace(&sample);
        self.events.len() as u32
    }

    fn on_state_change(&mut self, event: &memwatchdog_detect::Event, sample: &Sample) {
        let value = match event.signal {
            Signal::Heap => sample.heap_used,
            Signal::External => sample.off_heap(),
            Signal::Rss => sample.rss.or(self.detector.status().rss).unwrap_or(0),
        };
        self.metrics
            .set_detector_state(export_signal(event.signal), export_state(event.state));
        match (event.from, event.state) {
            // Back from `oom_risk`: only the critical alert ends.
            (State::OomRisk, State::Leaking) => self.alerts.resolve_oom_risk(event.signal),
            (_, State::Leaking) => {
                self.metrics.inc_leak_alert();
                self.alerts.fire(event, sample.heap_used, value);
            }
            (_, State::OomRisk) => self.alerts.fire(event, sample.heap_used, value),
            (from, _) if from.is_leak() => self.alerts.resolve(event.signal),
            _ => {}
        }
        self.events
            .push(NativeEvent::state_change(event, sample.heap_used, value));
    }

    /// Puts the analysis outcome into the firing alerts, the log and the JS events.
    fn on_analysis(&mut self, outcome: Outcome, t_ms: f64) {
        let (state, detail) = match outcome {
            Outcome::TopSuspect(line) => {
                self.alerts
                    .annotate("top_suspect", &line, "analysis_skipped");
                (self.log)(&format!("snapshot pair analyzed: top suspect {line}"));
                ("found", line)
            }
            Outcome::NothingFound => {
                let line = "no object allocated after the baseline is retained".to_owned();
                (self.log)(&format!("snapshot pair analyzed: {line}"));
                ("nothing", line)
            }
            Outcome::Skipped(reason) => {
                self.alerts
                    .annotate("analysis_skipped", &reason, "top_suspect");
                (self.log)(&format!("snapshot pair not analyzed: {reason}"));
                ("skipped", reason)
            }
        };
        self.events.push(NativeEvent::analysis(t_ms, state, detail));
    }

    /// Puts a stored (and diffed) profile into the metrics, the log, the firing alerts
    /// (`top_allocation_site`, `allocation_profile`) and the JS events.
    fn on_profile(&mut self, done: ProfileDone, t_ms: f64) {
        for path in &done.deleted {
            (self.log)(&format!("deleted old heap profile {}", path.display()));
        }
        if let Some((reason, message)) = &done.error {
            self.metrics.record_heap_profile_failure(reason);
            (self.log)(&format!("heap profile ({}): {message}", done.kind));
        }
        if let Some(path) = &done.path {
            (self.log)(&format!("wrote heap profile {path}"));
        }
        if let Some(top) = done.sites.first() {
            (self.log)(&format!(
                "allocation profile ({}): top allocation site {}",
                done.kind, top.summary
            ));
            self.alerts
                .annotate_sticky("top_allocation_site", &top.summary);
            if let Some(report) = &done.report_path {
                self.alerts.annotate_sticky("allocation_profile", report);
            }
        } else if done.kind != "baseline" && done.error.is_none() {
            (self.log)(&format!(
                "allocation profile ({}): no allocation site grew since the baseline",
                done.kind
            ));
        }
        self.events.push(NativeEvent::profile(t_ms, done));
    }

    fn write_trace(&mut self, sample: &Sample) {
        let Some(trace) = &mut self.trace else {
            return;
        };
        let result = trace.write(sample).and_then(|()| {
            if sample.t_ms - self.trace_flushed_ms >= 1000.0 {
                self.trace_flushed_ms = sample.t_ms;
                trace.flush().map_err(TraceStop::Io)
            } else {
                Ok(())
            }
        });
        if let Err(stop) = result {
            let line = match stop {
                TraceStop::Full => format!(
                    "trace {} reached trace.maxBytes ({}); recording stopped",
                    trace.path(),
                    human(trace.max_bytes() as f64)
                ),
                TraceStop::Io(e) => {
                    format!(
                        "trace {}: write failed ({e}); recording stopped",
                        trace.path()
                    )
                }
            };
            (self.log)(&line);
            self.trace = None;
        }
    }

    /// The events collected since the last call (state changes, `warmedUp`).
    #[napi]
    pub fn take_events(&mut self) -> Vec<NativeEvent> {
        std::mem::take(&mut self.events)
    }

    /// The port `/metrics` listens on, if it runs.
    #[napi(getter)]
    pub fn metrics_port(&self) -> Option<u32> {
        self.server.as_ref().map(|s| u32::from(s.local_port()))
    }

    /// The address `/metrics` listens on (`host:port`), if it runs.
    #[napi(getter)]
    pub fn metrics_address(&self) -> Option<String> {
        self.server.as_ref().map(|s| s.local_addr().to_string())
    }

    /// The text exposition, as `/metrics` serves it.
    #[napi]
    pub fn render_metrics(&self) -> String {
        self.metrics.render()
    }

    /// Current state of a signal (`heap`, `external`, `rss`).
    #[napi]
    pub fn state(&self, signal: String) -> Result<String> {
        let s = match signal.as_str() {
            "heap" => Signal::Heap,
            "external" => Signal::External,
            "rss" => Signal::Rss,
            _ => return Err(invalid(format!("unknown signal {signal:?}"))),
        };
        Ok(self.detector.state(s).as_str().to_owned())
    }

    /// Whether writing a snapshot is safe now. A refusal is counted in
    /// `memwatchdog_snapshot_refused_total{reason}` and, for a leak snapshot, added to the
    /// firing alerts as `snapshot_refused`.
    #[napi]
    pub fn check_snapshot(&mut self, check: SnapshotCheck) -> SnapshotVerdict {
        let (verdict, refused) = self.snapshots.check(&check);
        if let Some(reason) = refused {
            self.metrics.record_snapshot_refused(reason);
            if check.kind == "leak" {
                let message = verdict.message.clone().unwrap_or_default();
                self.alerts
                    .annotate("snapshot_refused", &message, "snapshot");
            }
        }
        verdict
    }

    /// Records a written snapshot: metrics, cooldown, the next object estimate, and the
    /// path in the firing alerts. Returns the snapshot's node count when its header
    /// could be read.
    #[napi]
    pub fn snapshot_written(&mut self, written: SnapshotWritten) -> Option<f64> {
        self.metrics
            .record_snapshot_written(Duration::from_secs_f64(
                (written.duration_ms / 1000.0).max(0.0),
            ));
        self.snapshots.written(&written);
        if written.kind == "leak" && self.alerts.any_firing() {
            self.alerts
                .annotate("snapshot", &written.path, "snapshot_refused");
        }
        match (written.kind.as_str(), &self.baseline_path) {
            ("baseline", _) => self.baseline_path = Some(written.path.clone()),
            ("leak", Some(baseline)) if self.analyze_max_bytes > 0 && self.analysis.is_none() => {
                self.analysis = Some(Analysis::start(
                    PathBuf::from(baseline),
                    PathBuf::from(&written.path),
                    self.analyze_max_bytes,
                    self.system_root.clone(),
                ));
            }
            _ => {}
        }
        self.snapshots.previous_nodes().map(|n| n as f64)
    }

    /// A sampling heap profile JS took: counted, then written, rotated and (unless it is
    /// the baseline) diffed against the baseline on the `memwd-profile` thread; the outcome
    /// comes back as a `profile` event on a later [`sample`](Self::sample).
    #[napi]
    pub fn profile_taken(&mut self, taken: ProfileTaken) {
        if self.stopped {
            return;
        }
        self.metrics.inc_heap_profile();
        self.profiles.submit(taken);
    }

    /// Counts an allocation-profiling failure on the JS side (`inspector`).
    #[napi]
    pub fn profile_failed(&mut self, reason: String) {
        self.metrics.record_heap_profile_failure(&reason);
    }

    /// Counts a snapshot that failed (`memwatchdog_snapshot_failures_total{reason}`).
    #[napi]
    pub fn snapshot_failed(&mut self, reason: String) {
        self.metrics.record_snapshot_failure(&reason);
    }

    /// Stops the metrics server (the port is free when this returns) and the alert
    /// thread, and flushes the trace. Idempotent.
    #[napi]
    pub fn stop(&mut self) {
        self.stopped = true;
        if let Some(server) = &mut self.server {
            server.stop();
        }
        self.server = None;
        self.alerts.stop();
        self.profiles.stop();
        if let Some(trace) = &mut self.trace {
            let _ = trace.flush();
        }
        self.trace = None;
    }
}

/// `1.2 GB`: byte counts formatted like the Rust log lines.
#[napi]
#[must_use]
pub fn format_bytes(bytes: f64) -> String {
    human(bytes)
}
