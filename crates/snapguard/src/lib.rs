//! Decides whether writing a V8 heap snapshot now is safe.
//!
//! Writing a `.heapsnapshot` stops the JS thread and needs far more memory than the heap
//! itself: V8 builds the whole object graph plus its serialization buffers off-heap, about
//! 270–390 B per heap object plus the text of its strings (a 291 MB heap of 6.6 M
//! service-like objects raised peak RSS by 2.55 GB on Node 20; docs/benchmarks-snapshot-cost.md).
//! In a container that is an OOM kill, so the watchdog asks this crate first.
//!
//! The core is pure: [`decide`] takes a [`Request`] (plain numbers) and returns a
//! [`Decision`] — [`Decision::Allow`] with the [`Estimate`] it used, or
//! [`Decision::Refuse`] with a [`Refusal`] whose [`reason`](Refusal::reason) is the
//! metric label and whose `Display` is the one-line log/alert text. Reading the machine
//! (`/proc/meminfo`, cgroup v2/v1 memory files, a snapshot's header) lives in
//! [`system`], which takes a root directory so tests can use a temporary tree.
//!
//! ```
//! use memwatchdog_snapguard::{decide, Decision, MemoryInfo, Policy, Request};
//!
//! let request = Request {
//!     heap_used_bytes: 400 << 20,
//!     rss_bytes: 600 << 20,
//!     memory: MemoryInfo { mem_available: Some(16 << 30), cgroup_headroom: Some(1 << 30) },
//!     ..Request::new(Policy::default())
//! };
//! // (10 M objects × 336 B + 400 MiB × 1.2 + 16 MiB) × 1.1 ≈ 4.4 GB does not fit in 1 GiB.
//! match decide(&request) {
//!     Decision::Refuse(r) => assert_eq!(r.reason(), "memory_headroom"),
//!     Decision::Allow(_) => unreachable!(),
//! }
//! ```

mod decide;
mod estimate;
mod header;
pub mod system;

pub use decide::{Decision, Estimate, Refusal, Request, decide};
pub use estimate::{ObjectSource, Policy, PreviousSnapshot, estimate_objects};
pub use header::parse_header_counts;
pub use system::MemoryInfo;
