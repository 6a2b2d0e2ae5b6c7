//! Pure leak detection for MemWatchdog: GC samples in, verdicts out.
//!
//! The Node side sends one [`Sample`] per V8 GC event; [`Detector::push`] returns the
//! [`Event`]s (state changes) it caused. No clock, no IO, no threads: the same samples always give
//! the same events, so `mw detect TRACE.csv` replays a recorded trace ([`trace`]) through exactly
//! the detector that runs in production.
//!
//! The method — the post-major-GC floor, Theil–Sen slope, Mann–Kendall test, warm-up, growth
//! allowance, adaptive threshold and hysteresis — is described in `docs/detection.md`.
//!
//! The feature `synth` adds [`synth`], the seeded synthetic-trace generator of the tests,
//! examples and benchmarks (off by default: nothing that runs in production needs it).

pub mod config;
pub mod detector;
pub mod mann_kendall;
pub mod normal;
pub mod point;
pub mod sample;
pub mod signal;
pub mod state;
#[cfg(feature = "synth")]
pub mod synth;
pub mod theil_sen;
pub mod trace;
pub mod trend;
pub mod window;

pub use config::{
    AdaptiveConfig, Config, ConfigError, ConfirmGcConfig, FastPathConfig, GrowthAllowance,
    HysteresisConfig, OomConfig, RssConfig, WarmupConfig, WindowConfig,
};
pub use detector::{Detector, DetectorStatus, GcCounts};
pub use sample::{GcKind, Sample};
pub use signal::{Event, Evidence, FastRun, Room, SignalStatus};
pub use state::{Signal, State};
pub use trace::{TraceError, TraceReader, TraceWriter};
pub use trend::{Trend, WindowKind};
