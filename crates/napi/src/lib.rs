//! The `MemWatchdog` Node addon: thin napi-rs glue between `@memwatchdog/core` (TypeScript)
//! and the Rust crates that do the work.
//!
//! - [`memwatchdog_detect`]: the pure leak detector, run synchronously on every GC sample;
//! - [`memwatchdog_exporter`]: the metrics registry, the `/metrics` thread and the
//!   Alertmanager client thread;
//! - [`memwatchdog_snapguard`]: whether a heap snapshot may be written now;
//! - `memwatchdog_heapprofile` and [`memwatchdog_profstore`]: the sampling heap profiles
//!   JS takes, diffed and stored on a background thread (`profile.rs`).
//!
//! JS makes one [`NativeWatchdog`] per `MemWatchdog.start()`. Its hot path is
//! [`NativeWatchdog::sample`]: eight plain numbers per GC event in, the number of pending
//! state-change events out (usually 0, so nothing is allocated on the JS heap); JS fetches
//! them with [`NativeWatchdog::take_events`] only when there are some. Everything that can
//! block (sockets, Alertmanager) runs on the exporter's own threads, which do not keep
//! Node's event loop alive.
//!
//! No logic lives here that a plain Rust test could not reach in the crates above; this
//! crate is tested through Node (`packages/core/test`).

// `#[napi]` expands to `unsafe` FFI registration code (N-API callbacks and `ctor`
// constructors). The workspace denies `unsafe_code`; this glue crate is the one place
// that has to allow it, and it writes no `unsafe` block of its own.
#![allow(unsafe_code)]

mod alerts;
mod analysis;
mod events;
mod log;
mod options;
mod profile;
mod snapshot;
mod trace;
mod watchdog;

pub use events::NativeEvent;
pub use options::{NativeOptions, detector_settings_error};
pub use profile::{NativeAllocationSite, NativeFrame, ProfileTaken};
pub use snapshot::{SnapshotCheck, SnapshotVerdict, SnapshotWritten};
pub use watchdog::{NativeWatchdog, format_bytes};
