//! The in-process watchdog behind `@memwatchdog/core`, without Node.
//!
//! - [`Machine`] is pure: a GC sample in; metric updates (the exporter's atomic registry)
//!   and [`Effect`]s out — events for JS, [`AlertRequest`]s for Alertmanager, log lines, and
//!   the request to analyze a snapshot pair. The snapshot guard's bookkeeping, the analysis
//!   admission policy ([`analysis::admit`]) and the alert lifecycle (warning on `leaking`,
//!   critical on `oom_risk`, projections kept current, findings added as annotations) are
//!   all here and unit-tested.
//! - [`Watchdog`] is the runtime around it: the `/metrics` server and Alertmanager client
//!   threads ([`memwatchdog_exporter`]), the opt-in CSV trace file, the background snapshot
//!   analysis (`memwd-analyze`) and profile (`memwd-profile`) threads, and the `/proc` and
//!   cgroup reads. It is tested in Rust against real files and threads.
//!
//! `crates/napi` only translates JS values into these types and back.

pub mod alerts;
pub mod analysis;
mod analyzer;
mod chain;
mod effect;
mod machine;
pub mod profiles;
mod settings;
pub mod snapshots;
mod trace;
mod watchdog;

pub use alerts::AlertRequest;
pub use chain::error_chain;
pub use effect::{Effect, Event};
pub use machine::{MEMORY_LIMIT_REFRESH_MS, Machine, Reading};
pub use settings::Settings;
pub use watchdog::{StartError, Watchdog};
