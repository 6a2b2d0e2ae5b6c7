//! [`Watchdog`]: the running watchdog — the pure [`Machine`] plus everything it cannot do
//! itself: the `/metrics` server and Alertmanager client threads, the trace file, the
//! analysis and profile threads, and the `/proc` and cgroup reads. It carries out the
//! machine's [`Effect`]s in order and feeds finished background work back into it.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use memwatchdog_detect::{ConfigError, Sample, Signal, State};
use memwatchdog_exporter::{
    Alerter, ExporterError, Family, LogFn, Metrics, MetricsOptions, MetricsServer,
};
use memwatchdog_snapguard::system::{read_cgroup_limit, read_memory_info, read_snapshot_counts};
use memwatchdog_units::HumanBytes;

use crate::alerts::AlertRequest;
use crate::analyzer::Analyzer;
use crate::effect::{Effect, Event};
use crate::machine::{Machine, Reading};
use crate::profiles::{ProfileTaken, Profiles};
use crate::settings::Settings;
use crate::snapshots::{SnapshotCheck, SnapshotVerdict, SnapshotWritten, WrittenFile};
use crate::trace::{Trace, TraceStop};

/// Why a watchdog could not start. Nothing it started is left running.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The detector settings are not usable.
    #[error("invalid detector settings")]
    Detector(#[source] ConfigError),
    /// The metrics registry rejected its constant labels.
    #[error("invalid metric labels")]
    Labels(#[source] ExporterError),
    /// The trace file could not be created.
    #[error("cannot create the trace file {}", path.display())]
    Trace {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The Alertmanager client's configuration is not usable.
    #[error("cannot start the Alertmanager client")]
    Alerter(#[source] ExporterError),
    /// The `/metrics` server could not listen.
    #[error("cannot start the metrics server")]
    Server(#[source] ExporterError),
}

/// One running watchdog.
pub struct Watchdog {
    machine: Machine,
    metrics: Arc<Metrics>,
    server: Option<MetricsServer>,
    alerter: Option<Alerter>,
    trace: Option<Trace>,
    trace_flushed_ms: f64,
    analyzer: Option<Analyzer>,
    profiles: Profiles,
    events: Vec<Event>,
    system_root: PathBuf,
    log: LogFn,
}

impl Watchdog {
    /// Starts the metrics server and the Alertmanager client (each only if configured) and
    /// creates the trace file. `log` receives log lines, from this thread and the others.
    pub fn start(settings: Settings, log: LogFn) -> Result<Watchdog, StartError> {
        let metrics = Arc::new(
            Metrics::new(MetricsOptions {
                version: settings.version.clone(),
                const_labels: const_labels(&settings),
                process_metrics: settings.process_metrics,
            })
            .map_err(StartError::Labels)?,
        );
        let machine =
            Machine::new(&settings, Arc::clone(&metrics)).map_err(StartError::Detector)?;
        let trace =
            match &settings.trace {
                Some((path, max_bytes)) => Some(Trace::create(path, *max_bytes).map_err(
                    |source| StartError::Trace {
                        path: path.clone(),
                        source,
                    },
                )?),
                None => None,
            };
        let alerter = match settings.alerter {
            Some(mut config) => {
                config.metrics = Some(Arc::clone(&metrics));
                config.on_log = Some(Arc::clone(&log));
                Some(Alerter::start(config).map_err(StartError::Alerter)?)
            }
            None => None,
        };
        // Last, so that a failure above leaves no port bound.
        let server = match &settings.prometheus {
            Some((host, port)) => Some(
                MetricsServer::start_with_log(
                    host,
                    *port,
                    Arc::clone(&metrics),
                    Some(Arc::clone(&log)),
                )
                .map_err(StartError::Server)?,
            ),
            None => None,
        };
        Ok(Watchdog {
            machine,
            metrics,
            server,
            alerter,
            trace,
            trace_flushed_ms: 0.0,
            analyzer: None,
            profiles: Profiles::default(),
            events: Vec::new(),
            system_root: settings.system_root,
            log,
        })
    }

    /// One GC event (`sample.memory_limit` is filled in here): the machine decides, its
    /// effects are carried out, finished background work is picked up, and the sample is
    /// appended to the trace. Returns how many events [`take_events`](Self::take_events)
    /// has (usually 0).
    pub fn sample(&mut self, sample: Sample, node_kind: u32, duration_ms: f64) -> usize {
        if self.machine.stopped() {
            return 0;
        }
        let root = &self.system_root;
        let reading = Reading {
            sample,
            node_kind,
            duration_ms,
            wall: SystemTime::now(),
        };
        let sample = self.machine.sample(reading, || read_cgroup_limit(root));
        let t_ms = sample.t_ms;
        if let Some(outcome) = self.analyzer.as_mut().and_then(Analyzer::take) {
            self.analyzer = None;
            self.machine.analysis_done(outcome, t_ms);
        }
        for done in self.profiles.take() {
            self.machine.profile_done(done, t_ms);
        }
        self.run_effects();
        self.write_trace(&sample);
        self.events.len()
    }

    /// Carries out the machine's effects, in order.
    fn run_effects(&mut self) {
        let max_bytes = self.machine.analyze_max_bytes();
        for effect in self.machine.drain() {
            match effect {
                Effect::Event(event) => self.events.push(event),
                Effect::Alert(request) => {
                    if let Some(alerter) = &self.alerter {
                        match request {
                            AlertRequest::Fire {
                                key,
                                labels,
                                annotations,
                            } => alerter.fire_labelled(&key, labels, annotations),
                            AlertRequest::Resolve { key } => alerter.resolve(&key),
                        }
                    }
                }
                Effect::Log(line) => (self.log)(&line),
                Effect::Analyze { baseline, leak } => {
                    self.analyzer = Some(Analyzer::start(
                        baseline,
                        leak,
                        max_bytes,
                        self.system_root.clone(),
                    ));
                }
            }
        }
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
                    trace.path().display(),
                    HumanBytes(trace.max_bytes())
                ),
                TraceStop::Io(e) => format!(
                    "trace {}: write failed ({e}); recording stopped",
                    trace.path().display()
                ),
            };
            (self.log)(&line);
            self.trace = None;
        }
    }

    /// The events collected since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// The address `/metrics` listens on, if it runs.
    #[must_use]
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.server.as_ref().map(MetricsServer::local_addr)
    }

    /// The text exposition, as `/metrics` serves it.
    #[must_use]
    pub fn render_metrics(&self) -> String {
        self.metrics.render()
    }

    /// The same metrics as data, for a registry that renders them itself.
    #[must_use]
    pub fn metric_families(&self) -> Vec<Family> {
        self.metrics.families()
    }

    /// The current state of `signal`.
    #[must_use]
    pub fn state(&self, signal: Signal) -> State {
        self.machine.state(signal)
    }

    /// Whether writing a snapshot is safe now (reads `/proc` and cgroup files: a few small
    /// reads, only when a snapshot is wanted).
    pub fn check_snapshot(&mut self, check: &SnapshotCheck) -> SnapshotVerdict {
        let verdict = self
            .machine
            .check_snapshot(check, read_memory_info(&self.system_root));
        self.run_effects();
        verdict
    }

    /// Records a written snapshot; returns its node count when its header could be read.
    pub fn snapshot_written(&mut self, written: &SnapshotWritten) -> Option<u64> {
        let path = Path::new(&written.path);
        let nodes = read_snapshot_counts(path).map(|(nodes, _edges)| nodes);
        let file = nodes
            .zip(std::fs::metadata(path).ok())
            .map(|(node_count, meta)| WrittenFile {
                node_count,
                file_bytes: meta.len(),
            });
        self.machine.snapshot_written(written, file);
        self.run_effects();
        nodes
    }

    /// A sampling heap profile JS took: counted, then written, rotated and (unless it is the
    /// baseline) diffed against the baseline on the `memwd-profile` thread; the outcome comes
    /// back as an [`Event::Profile`] on a later [`sample`](Self::sample).
    pub fn profile_taken(&mut self, taken: ProfileTaken) {
        if self.machine.profile_taken() {
            self.profiles.submit(taken);
        }
    }

    /// Counts an allocation-profiling failure on the JS side (`inspector`).
    pub fn profile_failed(&self, reason: &str) {
        self.machine.profile_failed(reason);
    }

    /// Counts a snapshot that failed (`memwatchdog_snapshot_failures_total{reason}`).
    pub fn snapshot_failed(&self, reason: &str) {
        self.machine.snapshot_failed(reason);
    }

    /// Stops the metrics server (the port is free when this returns), the alert and profile
    /// threads, and flushes the trace. An analysis still running finishes on its own thread
    /// and its outcome is dropped. Idempotent.
    pub fn stop(&mut self) {
        self.machine.stop();
        if let Some(server) = &mut self.server {
            server.stop();
        }
        self.server = None;
        if let Some(alerter) = &mut self.alerter {
            alerter.stop();
        }
        self.alerter = None;
        self.profiles.stop();
        if let Some(trace) = &mut self.trace {
            let _ = trace.flush();
        }
        self.trace = None;
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The labels on every metric sample: the user's, and the service under its label name.
fn const_labels(settings: &Settings) -> std::collections::BTreeMap<String, String> {
    let mut labels = settings.metric_labels.clone();
    if let Some(name) = &settings.service_label
        && !settings.service.is_empty()
    {
        labels.insert(name.clone(), settings.service.clone());
    }
    labels
}
