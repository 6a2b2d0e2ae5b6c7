//! [`NativeOptions`]: the settings JS resolved (options + env vars + defaults), flattened
//! into plain fields, and their translation into [`Settings`].
//!
//! JS validates and names user-facing errors (`prometheus.port` / `MEMWATCHDOG_...`);
//! this side only re-checks what the crates themselves reject, and lends JS the crates' own
//! readers and checks: detector settings, the Alertmanager URL, sizes ([`parse_size`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use memwatchdog_detect::Config;
use memwatchdog_exporter::{
    AlerterConfig, RESERVED_LABELS, check_alertmanager_url, check_label_name,
};
use memwatchdog_watchdog::Settings;
use napi::{Error, Result, Status};
use napi_derive::napi;

/// Resolved settings of one watchdog.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct NativeOptions {
    /// Fixed leak threshold in bytes/ms; absent: adaptive. Wins over `detector`'s.
    pub threshold: Option<f64>,
    /// Detector settings as JSON text (any subset; `mw detect --config` takes the same).
    pub detector: Option<String>,
    /// Port of `/metrics` (0: any free port); absent: no metrics server.
    pub prometheus_port: Option<u32>,
    /// Address `/metrics` listens on.
    pub prometheus_host: String,
    /// `false`: leave out what prom-client's default metrics also export (default `true`).
    pub prometheus_process_metrics: Option<bool>,
    /// Alertmanager base URL; absent: no alerts.
    pub alert_url: Option<String>,
    /// How often a firing alert is re-sent (ms).
    pub alert_resend_interval_ms: Option<f64>,
    /// `service` label (metrics and alerts).
    pub service: String,
    /// Name of the service label on metrics; absent: `service`; empty: no service label.
    pub prometheus_service_label: Option<String>,
    /// Constant labels on every metric sample.
    pub prometheus_labels: Option<HashMap<String, String>>,
    /// Constant labels on every alert the watchdog sends.
    pub alert_labels: Option<HashMap<String, String>>,
    /// `instance` label (alerts).
    pub instance: String,
    /// Version of `@memwatchdog/core` (`memwatchdog_info{version}`).
    pub version: String,
    /// CSV trace file of the samples; absent: no trace.
    pub trace_path: Option<String>,
    /// Size cap of the trace file (bytes).
    pub trace_max_bytes: Option<f64>,
    /// Minimum time between leak snapshots (ms).
    pub snapshot_cooldown_ms: f64,
    /// User-set memory limit that replaces the cgroup limit in the headroom check.
    pub snapshot_memory_limit_bytes: Option<f64>,
    /// Write snapshots where no memory figure can be read, instead of refusing them.
    pub snapshot_allow_unknown_memory: Option<bool>,
    /// Largest leak snapshot analyzed in the background for the alert (bytes; 0: never).
    pub snapshot_analyze_max_bytes: Option<f64>,
    /// Root of `/proc` and `/sys` for the headroom check (default `/`).
    pub system_root: Option<String>,
}

pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, message.into())
}

/// Non-negative finite `f64` to `u64` (saturating), for byte counts from JS.
pub(crate) fn bytes(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v as u64
    } else {
        0
    }
}

impl NativeOptions {
    /// The watchdog's settings; errors name the option JS was given.
    pub(crate) fn into_settings(self) -> Result<Settings> {
        let detector = self.detector_config()?;
        let alerter = match &self.alert_url {
            Some(url) => Some(self.alerter_config(url)?),
            None => None,
        };
        let prometheus = match self.prometheus_port {
            Some(port) => Some((
                self.prometheus_host.clone(),
                u16::try_from(port).map_err(|_| {
                    invalid(format!(
                        "prometheus.port must be between 0 and 65535, got {port}"
                    ))
                })?,
            )),
            None => None,
        };
        let defaults = Settings::default();
        Ok(Settings {
            detector,
            service_label: match self.prometheus_service_label.as_deref() {
                None => Some("service".to_owned()),
                Some("") => None,
                Some(name) => Some(name.to_owned()),
            },
            metric_labels: self
                .prometheus_labels
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect(),
            service: self.service,
            version: self.version,
            prometheus,
            process_metrics: self.prometheus_process_metrics.unwrap_or(true),
            alerter,
            trace: self.trace_path.map(|path| {
                (
                    PathBuf::from(path),
                    self.trace_max_bytes.map_or(u64::MAX, bytes),
                )
            }),
            snapshot_cooldown_ms: bytes(self.snapshot_cooldown_ms),
            snapshot_memory_limit_bytes: self.snapshot_memory_limit_bytes.map(bytes),
            snapshot_allow_unknown_memory: self.snapshot_allow_unknown_memory.unwrap_or(false),
            analyze_max_bytes: self
                .snapshot_analyze_max_bytes
                .map_or(defaults.analyze_max_bytes, bytes),
            system_root: self
                .system_root
                .map_or(defaults.system_root.clone(), PathBuf::from),
            ..defaults
        })
    }

    fn detector_config(&self) -> Result<Config> {
        let mut config = match &self.detector {
            Some(json) => {
                Config::from_json(json).map_err(|e| invalid(format!("native.detector: {e}")))?
            }
            None => Config::default(),
        };
        if self.threshold.is_some() {
            config.threshold = self.threshold;
        }
        config
            .validate()
            .map_err(|e| invalid(format!("native.threshold: {e}")))?;
        Ok(config)
    }

    fn alerter_config(&self, url: &str) -> Result<AlerterConfig> {
        let mut config = AlerterConfig::new(url);
        for (name, value) in self.alert_labels.iter().flatten() {
            if let Some(problem) = label_name_error(name.clone(), "alert".to_owned()) {
                return Err(invalid(format!("alert.labels: {problem}")));
            }
            config.labels.insert(name.clone(), value.clone());
        }
        for (name, value) in [("service", &self.service), ("instance", &self.instance)] {
            config.labels.insert(name.to_owned(), value.clone());
        }
        if let Some(ms) = self.alert_resend_interval_ms {
            if !(ms.is_finite() && ms >= 1.0) {
                return Err(invalid(format!(
                    "alert.resendIntervalMs must be a positive number of milliseconds, got {ms}"
                )));
            }
            config.resend_interval = Duration::from_millis(ms as u64);
        }
        Ok(config)
    }
}

/// Why `json` is not usable detector settings, or `None` when it is: lets JS report a bad
/// `native.detector` as a configuration error naming the option, before anything starts.
#[napi]
#[must_use]
#[allow(clippy::needless_pass_by_value)] // napi hands JS strings over as owned `String`s
pub fn detector_settings_error(json: String) -> Option<String> {
    Config::from_json(&json).err().map(|e| e.to_string())
}

/// Why `url` is not a usable Alertmanager base URL, or `None` when it is: the exporter's own
/// check, so JS reports a bad `alert.url` naming the option before anything starts.
#[napi]
#[must_use]
#[allow(clippy::needless_pass_by_value)] // napi hands JS strings over as owned `String`s
pub fn alert_url_error(url: String) -> Option<String> {
    check_alertmanager_url(&url).err().map(|e| e.to_string())
}

/// The labels the watchdog's alerts set themselves, which `alert.labels` must not reuse:
/// `alertname`, `severity` and `signal` (the watchdog crate's alerts), `service` and `instance`.
const ALERT_LABELS: [&str; 5] = ["alertname", "severity", "signal", "service", "instance"];

/// Why `name` cannot be a label the user adds, or `None` when it can: a valid Prometheus label
/// name that is not one of the watchdog's own — on alerts (`target` `"alert"`: `alert.labels`)
/// or on metrics (otherwise: `prometheus.labels`, `prometheus.serviceLabel`).
#[napi]
#[must_use]
#[allow(clippy::needless_pass_by_value)] // napi hands JS strings over as owned `String`s
pub fn label_name_error(name: String, target: String) -> Option<String> {
    if let Err(e) = check_label_name(&name) {
        return Some(e.to_string());
    }
    let own: &[&str] = if target == "alert" {
        &ALERT_LABELS
    } else {
        &RESERVED_LABELS
    };
    own.contains(&name.as_str()).then(|| {
        format!(
            "label name {name:?} is one the watchdog sets itself ({})",
            own.join(", ")
        )
    })
}

/// The bytes in a size as people write it (`512Mi`, `1G`, `0.5Gi`, `536870912`): the units
/// crate's one reader, shared with `mw`'s byte flags, so JS reads the `bytes` options and
/// variables with it. Throws an `Error` whose message says what is wrong and what to write
/// instead (JS puts the option's name in front). A JS number: exact up to 2⁵³ bytes (8 PiB).
#[napi]
#[allow(clippy::needless_pass_by_value)] // napi hands JS strings over as owned `String`s
pub fn parse_size(text: String) -> Result<f64> {
    memwatchdog_units::parse_size(&text)
        .map(|bytes| bytes as f64)
        .map_err(|e| Error::new(Status::InvalidArg, e.to_string()))
}
