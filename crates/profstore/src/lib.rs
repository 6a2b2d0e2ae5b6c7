//! Where the in-process watchdog keeps its sampling heap profiles and allocation reports.
//!
//! `@memwatchdog/core` takes V8 sampling heap profiles (a baseline when warm-up ends,
//! another on `suspect`/`leaking`); the napi addon diffs them with
//! `memwatchdog-heapprofile` on a background thread and stores what it got here:
//!
//! - [`write_private`]: a file written as `<name>.partial` (mode 0600, in a directory
//!   created 0700) and renamed when complete, so a reader never sees half a file and
//!   nobody else can read the heap's strings;
//! - [`ProfileFile`] and [`rotate`]: the file names the watchdog uses and which old ones
//!   to delete to stay within `profile.maxFiles` (this process's baseline is kept, and a
//!   leak profile goes together with its report);
//! - [`ReportFile`]: the JSON allocation report, i.e. the profile diff (whatever
//!   `memwatchdog-heapprofile` serializes) plus the paths of the two profiles it compares.
//!
//! ```
//! use memwatchdog_profstore::ProfileFile;
//!
//! let f = ProfileFile::parse("api-4242-2026-11-25T12-00-00.000Z-leak.heapprofile").unwrap();
//! assert_eq!(f.report_name(), "api-4242-2026-11-25T12-00-00.000Z-leak.allocation-report.json");
//! ```

mod error;
mod names;
mod report;
mod rotate;
mod write;

pub use error::StoreError;
pub use names::{PROFILE_SUFFIX, ProfileFile, REPORT_SUFFIX};
pub use report::{ProfilePaths, ReportFile};
pub use rotate::{rotate, to_delete};
pub use write::write_private;
