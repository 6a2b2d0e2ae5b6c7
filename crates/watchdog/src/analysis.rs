//! The background analysis of a baseline/leak snapshot pair, so the alert can name the
//! leak's retainer path without anyone running `mw analyze`: what it found ([`Outcome`]) and
//! whether it may run at all ([`admit`]). The thread that runs it is [`crate::analyzer`].
//!
//! It is skipped when the leak snapshot is larger than `snapshot.analyzeMaxBytes` or when
//! the memory it needs (about 1.2 times the file, measured) is not available, because the
//! service's own memory comes first.

use std::path::Path;

use memwatchdog_heapsnapshot::report::LeakReport;
use memwatchdog_snapguard::MemoryInfo;
use memwatchdog_units::HumanBytes;

/// Peak memory of an analysis relative to the leak snapshot's file size (measured by the
/// analyzer benchmark: 1.06–1.12), with a margin.
pub const MEMORY_PER_FILE_BYTE: f64 = 1.3;

/// Default of `snapshot.analyzeMaxBytes`: leak snapshots up to 1 GiB are analyzed.
pub const DEFAULT_ANALYZE_MAX_BYTES: u64 = 1 << 30;

/// What the analysis found, or why it did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The top suspect, as one line for the alert and the log.
    TopSuspect(String),
    /// No object allocated after the baseline is retained.
    NothingFound,
    /// Not run or failed, with the reason.
    Skipped(String),
}

impl Outcome {
    /// `found`, `nothing` or `skipped`.
    #[must_use]
    pub fn state(&self) -> &'static str {
        match self {
            Outcome::TopSuspect(_) => "found",
            Outcome::NothingFound => "nothing",
            Outcome::Skipped(_) => "skipped",
        }
    }

    /// The top suspect, or what was found instead, or why it did not run.
    #[must_use]
    pub fn detail(&self) -> &str {
        match self {
            Outcome::TopSuspect(line) | Outcome::Skipped(line) => line,
            Outcome::NothingFound => "no object allocated after the baseline is retained",
        }
    }
}

/// Whether a leak snapshot of `size` bytes may be analyzed in the service's process: `Err`
/// with the reason (and the `mw analyze` command to run elsewhere) when it is larger than
/// `max_bytes` or needs more memory than `memory` says is available.
pub fn admit(
    size: u64,
    max_bytes: u64,
    memory: MemoryInfo,
    baseline: &Path,
    leak: &Path,
) -> Result<(), String> {
    let elsewhere = || {
        format!(
            "run `mw analyze {} {}` elsewhere",
            baseline.display(),
            leak.display()
        )
    };
    if size > max_bytes {
        return Err(format!(
            "the leak snapshot is {}, above snapshot.analyzeMaxBytes ({}); {}",
            HumanBytes(size),
            HumanBytes(max_bytes),
            elsewhere()
        ));
    }
    let needed = (size as f64 * MEMORY_PER_FILE_BYTE) as u64;
    let available = [memory.mem_available, memory.cgroup_headroom]
        .into_iter()
        .flatten()
        .min();
    match available {
        Some(available) if available < needed => Err(format!(
            "analyzing needs about {} of memory and {} is available; {}",
            HumanBytes(needed),
            HumanBytes(available),
            elsewhere()
        )),
        _ => Ok(()),
    }
}

/// The one-line outcome of a finished diff.
#[must_use]
pub fn outcome_of(report: &LeakReport) -> Outcome {
    report.suspects.first().map_or(Outcome::NothingFound, |s| {
        Outcome::TopSuspect(s.summary.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1_000_000_000;

    fn check(
        size: u64,
        max: u64,
        available: Option<u64>,
        headroom: Option<u64>,
    ) -> Result<(), String> {
        let memory = MemoryInfo {
            mem_available: available,
            cgroup_headroom: headroom,
        };
        admit(
            size,
            max,
            memory,
            Path::new("/s/base.heapsnapshot"),
            Path::new("/s/leak.heapsnapshot"),
        )
    }

    #[test]
    fn a_snapshot_above_the_size_cap_is_skipped_with_the_command_to_run() {
        let reason = check(2 * GB, GB, Some(100 * GB), None).unwrap_err();
        assert_eq!(
            reason,
            "the leak snapshot is 2.0 GB, above snapshot.analyzeMaxBytes (1.0 GB); \
             run `mw analyze /s/base.heapsnapshot /s/leak.heapsnapshot` elsewhere"
        );
    }

    #[test]
    fn the_tighter_of_available_memory_and_cgroup_headroom_decides() {
        // 500 MB needs 650 MB.
        assert!(check(GB / 2, GB, Some(10 * GB), Some(GB)).is_ok());
        let reason = check(GB / 2, GB, Some(10 * GB), Some(600_000_000)).unwrap_err();
        assert!(
            reason.starts_with("analyzing needs about 650 MB of memory and 600 MB is available"),
            "{reason}"
        );
        assert!(check(GB / 2, GB, Some(600_000_000), None).is_err());
    }

    #[test]
    fn unknown_memory_does_not_block_the_analysis() {
        assert!(check(GB / 2, GB, None, None).is_ok());
    }

    #[test]
    fn a_zero_cap_skips_every_snapshot() {
        assert!(check(1, 0, None, None).is_err());
    }
}
