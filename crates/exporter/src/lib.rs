//! MemWatchdog exporter (WIP).
mod atomic;
mod encode;
mod error;
mod histogram;
mod labels;
mod log;
mod metrics;

pub use encode::CONTENT_TYPE;
pub use error::ExporterError;
pub use labels::{DetectorState, GcKind, Signal};
pub use log::LogFn;
pub use metrics::{Metrics, MetricsOptions};
pub struct MetricsServer;
pub struct Alerter;
