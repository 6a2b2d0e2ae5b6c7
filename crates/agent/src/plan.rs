//! Pure decisions over the artifacts of one directory: which baseline a leak snapshot is
//! diffed against, and which files stay on the volume after their upload.
//!
//! The watchdog takes one baseline per process and diffs every later leak snapshot of that
//! process against it, so the newest baseline of each process (`<service>-<pid>`) stays on
//! the volume after its upload even with `--delete-after-upload`: the agent's own analysis
//! of the next leak snapshot needs it, and so does the watchdog's. Every other artifact can
//! go once it is safely in the store.

use crate::artifact::{Artifact, Kind, Role};

/// The baseline `leak` is diffed against: the newest baseline of the same process taken
/// before it. `None` for a leak snapshot whose baseline is gone (rotated away): it is then
/// analyzed alone, as `mw analyze ONE.heapsnapshot` does.
#[must_use]
pub fn baseline_for<'a>(leak: &Artifact, all: &'a [Artifact]) -> Option<&'a Artifact> {
    let (process, time) = (leak.process.as_ref()?, leak.time.as_ref()?);
    all.iter()
        .filter(|a| a.kind == Kind::Snapshot(Role::Baseline))
        .filter(|a| a.process.as_ref() == Some(process))
        .filter(|a| a.time.as_ref().is_some_and(|t| t < time))
        .max_by(|a, b| a.time.cmp(&b.time))
}

/// True when `artifact` must stay on the volume after its upload: it is the newest baseline
/// of its process.
#[must_use]
pub fn keep_after_upload(artifact: &Artifact, all: &[Artifact]) -> bool {
    artifact.kind == Kind::Snapshot(Role::Baseline)
        && artifact.process.is_some()
        && !all.iter().any(|a| {
            a.kind == Kind::Snapshot(Role::Baseline)
                && a.process == artifact.process
                && a.time > artifact.time
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(name: &str) -> Artifact {
        Artifact::parse(name).unwrap()
    }

    fn dir() -> Vec<Artifact> {
        [
            "api-1-2026-12-05T10-00-00.000Z-baseline.heapsnapshot",
            "api-1-2026-12-05T10-05-00.000Z-leak.heapsnapshot",
            "api-1-2026-12-05T11-00-00.000Z-baseline.heapsnapshot",
            "api-1-2026-12-05T11-30-00.000Z-leak.heapsnapshot",
            "api-2-2026-12-05T11-10-00.000Z-baseline.heapsnapshot",
            "web-1-2026-12-05T11-20-00.000Z-leak.heapsnapshot",
        ]
        .into_iter()
        .map(a)
        .collect()
    }

    #[test]
    fn a_leak_snapshot_is_diffed_against_the_last_baseline_of_its_process_before_it() {
        let all = dir();
        let base = |leak: &str| baseline_for(&a(leak), &all).map(|b| b.name.clone());
        assert_eq!(
            base("api-1-2026-12-05T10-05-00.000Z-leak.heapsnapshot").as_deref(),
            Some("api-1-2026-12-05T10-00-00.000Z-baseline.heapsnapshot")
        );
        assert_eq!(
            base("api-1-2026-12-05T11-30-00.000Z-leak.heapsnapshot").as_deref(),
            Some("api-1-2026-12-05T11-00-00.000Z-baseline.heapsnapshot")
        );
        // Another process (pid 2), or no baseline at all: analyzed alone.
        assert_eq!(
            base("web-1-2026-12-05T11-20-00.000Z-leak.heapsnapshot"),
            None
        );
        assert_eq!(base("Heap.20261205.1.heapsnapshot"), None);
    }

    #[test]
    fn only_the_newest_baseline_of_each_process_is_kept() {
        let all = dir();
        let kept: Vec<_> = all
            .iter()
            .filter(|x| keep_after_upload(x, &all))
            .map(|x| x.name.as_str())
            .collect();
        assert_eq!(
            kept,
            [
                "api-1-2026-12-05T11-00-00.000Z-baseline.heapsnapshot",
                "api-2-2026-12-05T11-10-00.000Z-baseline.heapsnapshot"
            ]
        );
    }
}
