//! [`NativeWatchdog`]: one running [`Watchdog`], driven by the JS `PerformanceObserver`;
//! every method translates JS values and calls the watchdog crate.

// Arguments of `#[napi]` methods are converted from JS values into owned Rust values.
#![allow(clippy::needless_pass_by_value)]

use std::sync::atomic::{AtomicBool, Ordering};

use memwatchdog_detect::{GcKind, Sample, Signal};
use memwatchdog_exporter::ExporterError;
use memwatchdog_units::HumanBytes;
use memwatchdog_watchdog::{StartError, Watchdog, error_chain};
use napi::bindgen_prelude::Function;
use napi::{Error, Result, Status};
use napi_derive::napi;

use crate::events::NativeEvent;
use crate::families::NativeFamily;
use crate::log;
use crate::options::{NativeOptions, bytes, invalid};
use crate::profile::ProfileTaken;
use crate::snapshot::{SnapshotCheck, SnapshotVerdict, SnapshotWritten};

/// The native half of one `MemWatchdog.start()`.
#[napi]
pub struct NativeWatchdog {
    inner: Watchdog,
    /// Holds this process's one watchdog slot ([`RUNNING`]) until stopped.
    running: bool,
}

/// Whether a watchdog runs in this process. There is one per process: each worker thread
/// loads its own copy of the JS package (and its own `MemWatchdog` singleton), but they all
/// share this addon, the process's memory and its metrics port.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// The error JS sees. Settings JS got wrong are `InvalidArg` (JS throws them as
/// `MemWatchdogConfigError`) and name the option; what the environment refused (a taken
/// port, a thread the OS would not start) is a plain failure. Each cause appears once.
fn start_error(e: StartError) -> napi::Error {
    let failure = |message: String| Error::new(Status::GenericFailure, message);
    match e {
        StartError::Detector(e) => invalid(format!("native.threshold: {}", error_chain(&e))),
        StartError::Labels(e) => invalid(format!("labels.service: {}", error_chain(&e))),
        StartError::Trace { path, source } => invalid(format!(
            "trace.path: cannot create {:?}: {source}",
            path.display().to_string()
        )),
        StartError::Server(e @ ExporterError::PortInUse { .. }) => failure(format!(
            "{e}: set prometheus.port / MEMWATCHDOG_PROMETHEUS_PORT to a free port, or 0 for any"
        )),
        StartError::Server(e @ ExporterError::Bind { .. }) => invalid(format!(
            "prometheus.host: {} (it must be a local address such as 127.0.0.1, 0.0.0.0 or ::)",
            error_chain(&e)
        )),
        StartError::Server(e @ ExporterError::Thread { .. })
        | StartError::Alerter(e @ ExporterError::Thread { .. }) => failure(error_chain(&e)),
        StartError::Server(e) | StartError::Alerter(e) => {
            invalid(format!("alert: {}", error_chain(&e)))
        }
    }
}

#[napi]
impl NativeWatchdog {
    /// Starts the metrics server and alert client (each only if configured) and opens the
    /// trace file. `logger` receives log lines from the Rust threads.
    #[napi(constructor)]
    pub fn new(options: NativeOptions, logger: Option<Function<'_, String, ()>>) -> Result<Self> {
        if RUNNING.swap(true, Ordering::AcqRel) {
            return Err(Error::new(
                Status::GenericFailure,
                "MemWatchdog already runs in this process (started by another thread): there is \
                 one watchdog per process; stop it there first"
                    .to_owned(),
            ));
        }
        let started = log::hook(logger.as_ref())
            .and_then(|log| Watchdog::start(options.into_settings()?, log).map_err(start_error));
        match started {
            Ok(inner) => Ok(NativeWatchdog {
                inner,
                running: true,
            }),
            Err(e) => {
                RUNNING.store(false, Ordering::Release);
                Err(e)
            }
        }
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
        let sample = Sample {
            t_ms,
            gc_kind: GcKind::from(kind),
            heap_used: bytes(heap_used),
            heap_total: bytes(heap_total),
            external: bytes(external),
            array_buffers: bytes(array_buffers),
            rss: (rss >= 0.0).then(|| bytes(rss)),
            heap_limit: (heap_limit > 0.0).then(|| bytes(heap_limit)),
            memory_limit: None,
        };
        self.inner.sample(sample, kind, duration_ms) as u32
    }

    /// The events collected since the last call (state changes, `warmedUp`, ...).
    #[napi]
    pub fn take_events(&mut self) -> Vec<NativeEvent> {
        self.inner
            .take_events()
            .into_iter()
            .map(NativeEvent::from)
            .collect()
    }

    /// The port `/metrics` listens on, if it runs.
    #[napi(getter)]
    pub fn metrics_port(&self) -> Option<u32> {
        self.inner.metrics_addr().map(|a| u32::from(a.port()))
    }

    /// The address `/metrics` listens on (`host:port`), if it runs.
    #[napi(getter)]
    pub fn metrics_address(&self) -> Option<String> {
        self.inner.metrics_addr().map(|a| a.to_string())
    }

    /// The text exposition, as `/metrics` serves it.
    #[napi]
    pub fn render_metrics(&self) -> String {
        self.inner.render_metrics()
    }

    /// The metrics as families, for prom-client's registry (`prometheus.registry`).
    #[napi]
    pub fn metric_families(&self) -> Vec<NativeFamily> {
        self.inner
            .metric_families()
            .into_iter()
            .map(NativeFamily::from)
            .collect()
    }

    /// Current state of a signal (`heap`, `external`, `rss`).
    #[napi]
    pub fn state(&self, signal: String) -> Result<String> {
        let s = Signal::ALL
            .into_iter()
            .find(|s| s.as_str() == signal)
            .ok_or_else(|| invalid(format!("unknown signal {signal:?}")))?;
        Ok(self.inner.state(s).as_str().to_owned())
    }

    /// Whether writing a snapshot is safe now. A refusal is counted in
    /// `memwatchdog_snapshot_refused_total{reason}` and, for a leak snapshot, added to the
    /// firing alerts as `snapshot_refused`.
    #[napi]
    pub fn check_snapshot(&mut self, check: SnapshotCheck) -> Result<SnapshotVerdict> {
        Ok(self.inner.check_snapshot(&check.to_rust()?).into())
    }

    /// Records a written snapshot: metrics, cooldown, the next object estimate, and the
    /// path in the firing alerts. Returns the snapshot's node count when its header
    /// could be read.
    #[napi]
    pub fn snapshot_written(&mut self, written: SnapshotWritten) -> Result<Option<f64>> {
        Ok(self
            .inner
            .snapshot_written(&written.to_rust()?)
            .map(|n| n as f64))
    }

    /// A sampling heap profile JS took: counted, then written, rotated and (unless it is
    /// the baseline) diffed against the baseline on the `memwd-profile` thread; the outcome
    /// comes back as a `profile` event on a later [`sample`](Self::sample).
    #[napi]
    pub fn profile_taken(&mut self, taken: ProfileTaken) -> Result<()> {
        self.inner.profile_taken(taken.into_rust()?);
        Ok(())
    }

    /// Counts an allocation-profiling failure on the JS side (`inspector`).
    #[napi]
    pub fn profile_failed(&mut self, reason: String) {
        self.inner.profile_failed(&reason);
    }

    /// Counts a snapshot that failed (`memwatchdog_snapshot_failures_total{reason}`).
    #[napi]
    pub fn snapshot_failed(&mut self, reason: String) {
        self.inner.snapshot_failed(&reason);
    }

    /// Stops the metrics server (the port is free when this returns) and the alert
    /// thread, and flushes the trace. Idempotent.
    #[napi]
    pub fn stop(&mut self) {
        self.inner.stop();
        self.release();
    }
}

impl NativeWatchdog {
    /// Gives this process's watchdog slot back (once).
    fn release(&mut self) {
        if std::mem::take(&mut self.running) {
            RUNNING.store(false, Ordering::Release);
        }
    }
}

impl Drop for NativeWatchdog {
    /// A watchdog JS dropped without `stop()` (its worker thread ended) stops here.
    fn drop(&mut self) {
        self.inner.stop();
        self.release();
    }
}

/// `1.2 GB`: byte counts formatted like the Rust log lines.
#[napi]
#[must_use]
pub fn format_bytes(bytes: f64) -> String {
    HumanBytes(crate::options::bytes(bytes)).to_string()
}
