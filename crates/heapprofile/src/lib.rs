//! Sans-IO V8 sampling heap profile engine: parse `.heapprofile` JSON from any `Read` and
//! diff two or three profiles of one process into a ranking of the allocation sites
//! (call stacks) whose live sampled bytes grew.
//!
//! A sampling heap profile is what Chrome DevTools' "Allocation sampling" saves and what
//! `HeapProfiler.getSamplingProfile` returns (`node:inspector`): a call tree whose nodes
//! carry `selfSize`, the estimated bytes still alive that were allocated with exactly that
//! stack. Unlike a heap snapshot it names *where* memory was allocated, not what retains it,
//! and it is cheap to take in production.
//!
//! ```
//! use memwatchdog_heapprofile::{DiffOptions, FileKind, diff, parse, sniff};
//!
//! let json = br#"{"head": {"callFrame": {"functionName": "(root)", "scriptId": "0",
//!   "url": "", "lineNumber": -1, "columnNumber": -1}, "selfSize": 0, "id": 1, "children": [
//!   {"callFrame": {"functionName": "pushEntry", "scriptId": "7", "url": "/srv/app.js",
//!    "lineNumber": 40, "columnNumber": 17}, "selfSize": 4096, "id": 2, "children": []}]},
//!   "samples": [{"size": 4096, "nodeId": 2, "ordinal": 1}]}"#;
//! assert_eq!(sniff(json), FileKind::HeapProfile);
//! let empty = br#"{"head": {"callFrame": {"functionName": "(root)", "scriptId": "0",
//!   "url": "", "lineNumber": -1, "columnNumber": -1}, "selfSize": 0, "id": 1, "children": []}}"#;
//! let base = parse(&empty[..]).unwrap();
//! let leak = parse(&json[..]).unwrap();
//! let report = diff(&base, &leak, None, &DiffOptions::default());
//! assert_eq!(report.sites[0].summary, "+4.1 kB in pushEntry (app.js:41:18)");
//! ```
//!
//! See `ARCHITECTURE.md` at the repository root for how this fits the rest of MemWatchdog.

mod diff;
mod error;
mod frame;
mod parse;
mod profile;
pub mod report;
mod sniff;
mod stacks;

pub use diff::{DiffOptions, diff};
pub use error::ProfileError;
pub use frame::{Frame, FrameKind};
pub use memwatchdog_sourcemap::Original;
pub use parse::{MAX_BYTES, MAX_DEPTH, MAX_SIZE, parse};
pub use profile::{CallFrame, FrameIdx, HeapProfile, Node, NodeIdx};
pub use report::{AllocationSite, FunctionGrowth, ProfileReport, ProfileStats};
pub use sniff::{FileKind, SNIFF_LIMIT, Sniffer, sniff};
