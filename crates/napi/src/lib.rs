//! The `MemWatchdog` Node addon: napi-rs bindings between `@memwatchdog/core` (TypeScript)
//! and [`memwatchdog_watchdog`], which holds the watchdog's logic and runtime.
//!
//! Every item here translates JS values into the watchdog crate's types and back:
//! [`NativeOptions`] into its `Settings` (with errors that name the option JS was given),
//! the snapshot and profile shapes, and its events into [`NativeEvent`]. JS makes one
//! [`NativeWatchdog`] per `MemWatchdog.start()`. Its hot path is [`NativeWatchdog::sample`]:
//! nine plain numbers per GC event in, the number of pending events out (usually 0, so
//! nothing is allocated on the JS heap); JS fetches them with
//! [`NativeWatchdog::take_events`] only when there are some.
//!
//! The logic is unit-tested in `crates/watchdog`; this translation is tested through Node
//! (`packages/core/test`).

// `#[napi]` expands to `unsafe` FFI registration code (N-API callbacks and `ctor`
// constructors). The workspace denies `unsafe_code`; this glue crate is the one place
// that has to allow it, and it writes no `unsafe` block of its own.
#![allow(unsafe_code)]

mod events;
mod families;
mod log;
mod options;
mod profile;
mod snapshot;
mod watchdog;

pub use events::NativeEvent;
pub use families::{NativeFamily, NativeSample};
pub use options::{
    NativeOptions, alert_url_error, detector_settings_error, label_name_error, parse_size,
};
pub use profile::{NativeAllocationSite, NativeFrame, NativeOriginal, ProfileTaken};
pub use snapshot::{SnapshotCheck, SnapshotVerdict, SnapshotWritten};
pub use watchdog::{NativeWatchdog, format_bytes};
