//! Decides whether writing a V8 heap snapshot now is safe.
//!
//! Writing a `.heapsnapshot` stops the JS thread and needs far more memory than the heap
//! itself: V8 builds the whole object graph plus its serialization buffers off-heap. A
//! 338 MB heap of 8 M small objects raised peak RSS by
//! 4.3–11.6 GB (measurements differ by machine). In a container that is an
//! OOM kill, so the watchdog asks this crate first.
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
//! // ~10 M objects × 1450 B × 1.25 ≈ 19 GB does not fit in 1 GiB of cgroup headroom.
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
