//! [`Settle`]: when a file in the artifact directory is finished.
//!
//! The watchdog writes under a temporary name and renames when complete, so its files are
//! finished when they appear; V8's near-heap-limit snapshot and files copied in by hand are
//! written in place. A file is taken as finished once its size and modification time have
//! not changed for the settle time (seen the same on scans at least that far apart) — and
//! its modification time is that old too, so a file first seen when the agent starts is
//! not taken in the middle of being written. Pure: the caller passes the clock.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// What a scan saw of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stat {
    /// Size in bytes.
    pub size: u64,
    /// Modification time.
    pub modified: SystemTime,
}

/// Remembers each file's last [`Stat`] and since when it has not changed.
#[derive(Debug)]
pub struct Settle {
    settle: Duration,
    seen: HashMap<PathBuf, (Stat, Instant)>,
}

impl Settle {
    /// A tracker that takes files as finished after `settle` without a change.
    #[must_use]
    pub fn new(settle: Duration) -> Settle {
        Settle {
            settle,
            seen: HashMap::new(),
        }
    }

    /// Records what a scan at `now` (`wall` on the wall clock) saw of `path`; true when the
    /// file is finished.
    pub fn observe(&mut self, path: &Path, stat: Stat, now: Instant, wall: SystemTime) -> bool {
        let since = match self.seen.get(path) {
            Some(&(old, since)) if old == stat => since,
            _ => {
                self.seen.insert(path.to_owned(), (stat, now));
                now
            }
        };
        let quiet = now.duration_since(since) >= self.settle;
        let old_enough = wall
            .duration_since(stat.modified)
            .is_ok_and(|age| age >= self.settle);
        quiet && old_enough
    }

    /// Forgets files the last scan did not see (deleted, renamed, or handled and removed).
    pub fn retain_seen(&mut self, mut present: impl FnMut(&Path) -> bool) {
        self.seen.retain(|p, _| present(p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(5);

    fn stat(size: u64, modified: SystemTime) -> Stat {
        Stat { size, modified }
    }

    #[test]
    fn a_file_is_finished_after_the_settle_time_without_change() {
        let mut settle = Settle::new(S);
        let (t0, w0) = (Instant::now(), SystemTime::now());
        let p = Path::new("/a/x.heapsnapshot");
        assert!(!settle.observe(p, stat(10, w0), t0, w0));
        assert!(!settle.observe(p, stat(10, w0), t0 + S / 2, w0 + S / 2));
        assert!(settle.observe(p, stat(10, w0), t0 + S, w0 + S));
    }

    #[test]
    fn a_growing_file_is_not_finished() {
        let mut settle = Settle::new(S);
        let (t0, w0) = (Instant::now(), SystemTime::now());
        let p = Path::new("/a/Heap.1.heapsnapshot");
        for i in 0..10u32 {
            let w = w0 + S * i;
            assert!(!settle.observe(p, stat(u64::from(i), w), t0 + S * i, w));
        }
    }

    #[test]
    fn a_file_found_at_start_still_needs_an_old_modification_time() {
        let mut settle = Settle::new(S);
        let (t0, w0) = (Instant::now(), SystemTime::now());
        let p = Path::new("/a/x.heapsnapshot");
        // Seen unchanged for 5 s of the agent's clock, but modified 1 s before the first scan
        // and the wall clock says only 6 s have passed: finished. Modified "in the future"
        // (clock skew between containers): not until the wall clock passes it.
        assert!(!settle.observe(p, stat(1, w0 - S / 5), t0, w0));
        assert!(settle.observe(p, stat(1, w0 - S / 5), t0 + S, w0 + S));
        let q = Path::new("/a/y.heapsnapshot");
        let future = w0 + S * 3;
        assert!(!settle.observe(q, stat(1, future), t0, w0));
        assert!(!settle.observe(q, stat(1, future), t0 + S, w0 + S));
        assert!(settle.observe(q, stat(1, future), t0 + S * 4, w0 + S * 4));
    }

    #[test]
    fn forgotten_files_start_over() {
        let mut settle = Settle::new(S);
        let (t0, w0) = (Instant::now(), SystemTime::now());
        let p = Path::new("/a/x.heapsnapshot");
        settle.observe(p, stat(1, w0), t0, w0);
        settle.retain_seen(|_| false);
        assert!(!settle.observe(p, stat(1, w0), t0 + S, w0 + S));
    }
}
