//! What a file in the artifact directory is, from its name alone.
//!
//! The in-process watchdog names its files `<service>-<pid>-<ISO time>-<kind>.<ext>`
//! (`checkout-1-2026-12-05T10-11-12.345Z-leak.heapsnapshot`); V8's near-heap-limit snapshot is
//! `Heap.<date>.<time>.<pid>.<tid>.<seq>.heapsnapshot`; the agent's own analysis of a snapshot is
//! `<snapshot stem>.analysis.json` (and `.analysis.html`). Everything else — temporary files
//! (`.partial`, `.mw-tmp`), hidden files, whatever else shares the volume — is not an artifact
//! and is never touched.
//!
//! ```
//! use memwatchdog_agent::artifact::{Artifact, Kind, Role};
//! let a = Artifact::parse("checkout-1-2026-12-05T10-11-12.345Z-leak.heapsnapshot").unwrap();
//! assert_eq!(a.kind, Kind::Snapshot(Role::Leak));
//! assert_eq!(a.process.as_deref(), Some("checkout-1"));
//! assert_eq!(a.analysis_name(), "checkout-1-2026-12-05T10-11-12.345Z-leak.analysis.json");
//! assert!(Artifact::parse("checkout-1-2026-12-05T10-11-12.345Z-leak.heapsnapshot.partial").is_none());
//! ```

use memwatchdog_profstore::{PROFILE_SUFFIX, ProfileFile, REPORT_SUFFIX};

/// Ending of a heap snapshot.
pub const SNAPSHOT_SUFFIX: &str = ".heapsnapshot";
/// Ending of the agent's JSON analysis of a snapshot (`mw analyze --json`).
pub const ANALYSIS_SUFFIX: &str = ".analysis.json";
/// Ending of the agent's HTML analysis of a snapshot (`mw analyze --html`).
pub const ANALYSIS_HTML_SUFFIX: &str = ".analysis.html";

/// Why a heap snapshot was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The watchdog's reference snapshot, taken when warm-up ends.
    Baseline,
    /// The watchdog's snapshot taken when a leak was declared.
    Leak,
    /// V8's own snapshot near the heap limit (`Heap.….heapsnapshot`): often all that is left
    /// of a process that ran out of memory.
    NearLimit,
    /// Any other heap snapshot in the directory.
    Other,
}

/// The kinds of artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A `.heapsnapshot`.
    Snapshot(Role),
    /// A sampling heap profile of the watchdog's.
    Profile,
    /// The watchdog's allocation report of a profile diff (`.allocation-report.json`).
    AllocationReport,
    /// The agent's JSON analysis of a snapshot.
    Analysis,
    /// The agent's HTML analysis of a snapshot.
    AnalysisPage,
}

impl Kind {
    /// The `kind` label of the agent's metrics.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Kind::Snapshot(_) => "snapshot",
            Kind::Profile => "profile",
            Kind::AllocationReport | Kind::Analysis | Kind::AnalysisPage => "report",
        }
    }
}

/// One artifact file, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The file name.
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// `<service>-<pid>` for the watchdog's files: the snapshots of one process, which are
    /// the ones that can be diffed.
    pub process: Option<String>,
    /// The ISO time in the watchdog's file names (`2026-12-05T10-11-12.345Z`), which sorts
    /// chronologically.
    pub time: Option<String>,
}

impl Artifact {
    /// Recognizes an artifact by its file name; `None` for anything else.
    #[must_use]
    pub fn parse(name: &str) -> Option<Artifact> {
        if name.starts_with('.') {
            return None;
        }
        let (kind, stem) = if let Some(stem) = name.strip_suffix(ANALYSIS_SUFFIX) {
            (Kind::Analysis, stem)
        } else if let Some(stem) = name.strip_suffix(ANALYSIS_HTML_SUFFIX) {
            (Kind::AnalysisPage, stem)
        } else if let Some(stem) = name.strip_suffix(REPORT_SUFFIX) {
            (Kind::AllocationReport, stem)
        } else if name.ends_with(PROFILE_SUFFIX) {
            let profile = ProfileFile::parse(name)?;
            return Some(Artifact::of_stem(name, Kind::Profile, &profile.stem));
        } else if let Some(stem) = name.strip_suffix(SNAPSHOT_SUFFIX) {
            let role = if stem.ends_with("-baseline") {
                Role::Baseline
            } else if stem.ends_with("-leak") {
                Role::Leak
            } else if stem.starts_with("Heap.") {
                Role::NearLimit
            } else {
                Role::Other
            };
            (Kind::Snapshot(role), stem)
        } else {
            return None;
        };
        if stem.is_empty() {
            return None;
        }
        Some(Artifact::of_stem(name, kind, stem))
    }

    fn of_stem(name: &str, kind: Kind, stem: &str) -> Artifact {
        let (process, time) = split_stem(stem).map_or((None, None), |(p, t)| {
            (Some(p.to_owned()), Some(t.to_owned()))
        });
        Artifact {
            name: name.to_owned(),
            kind,
            process,
            time,
        }
    }

    /// The name without its ending (`….heapsnapshot`, `….analysis.json`, ...).
    #[must_use]
    pub fn stem(&self) -> &str {
        [
            ANALYSIS_SUFFIX,
            ANALYSIS_HTML_SUFFIX,
            REPORT_SUFFIX,
            PROFILE_SUFFIX,
            SNAPSHOT_SUFFIX,
        ]
        .iter()
        .find_map(|s| self.name.strip_suffix(s))
        .unwrap_or(&self.name)
    }

    /// The name of the JSON analysis of this snapshot.
    #[must_use]
    pub fn analysis_name(&self) -> String {
        format!("{}{ANALYSIS_SUFFIX}", self.stem())
    }

    /// The name of the HTML analysis of this snapshot.
    #[must_use]
    pub fn analysis_page_name(&self) -> String {
        format!("{}{ANALYSIS_HTML_SUFFIX}", self.stem())
    }

    /// True for a snapshot the agent analyzes when it is ready: a leak snapshot (against its
    /// process's baseline) and a near-heap-limit one (alone: what holds the memory).
    #[must_use]
    pub fn wants_analysis(&self) -> bool {
        matches!(self.kind, Kind::Snapshot(Role::Leak | Role::NearLimit))
    }
}

/// Splits `<service>-<pid>-<ISO time>-<kind>` into `<service>-<pid>` and the ISO time.
fn split_stem(stem: &str) -> Option<(&str, &str)> {
    let (head, _kind) = stem.rsplit_once('-')?;
    let split = head.len().checked_sub(FILE_ISO.len())?;
    let (process, time) = (head.get(..split)?.strip_suffix('-')?, head.get(split..)?);
    let (service, pid) = process.rsplit_once('-')?;
    let is_pid = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    (is_file_iso(time) && !service.is_empty() && is_pid).then_some((process, time))
}

/// The shape of the time in the watchdog's file names: `toISOString()` with `:` → `-`.
const FILE_ISO: &[u8] = b"0000-00-00T00-00-00.000Z";

fn is_file_iso(time: &str) -> bool {
    time.len() == FILE_ISO.len()
        && time.bytes().zip(FILE_ISO).all(|(b, &p)| {
            if p == b'0' {
                b.is_ascii_digit()
            } else {
                b == p
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "2026-12-05T10-11-12.345Z";

    #[test]
    fn the_watchdogs_files_are_recognized_with_their_process_and_time() {
        let cases = [
            (
                format!("shop-api-7-{T}-baseline.heapsnapshot"),
                Kind::Snapshot(Role::Baseline),
            ),
            (
                format!("shop-api-7-{T}-leak.heapsnapshot"),
                Kind::Snapshot(Role::Leak),
            ),
            (format!("shop-api-7-{T}-suspect.heapprofile"), Kind::Profile),
            (
                format!("shop-api-7-{T}-leak.allocation-report.json"),
                Kind::AllocationReport,
            ),
            (format!("shop-api-7-{T}-leak.analysis.json"), Kind::Analysis),
            (
                format!("shop-api-7-{T}-leak.analysis.html"),
                Kind::AnalysisPage,
            ),
        ];
        for (name, kind) in cases {
            let a = Artifact::parse(&name).unwrap();
            assert_eq!(a.kind, kind, "{name}");
            assert_eq!(a.process.as_deref(), Some("shop-api-7"), "{name}");
            assert_eq!(a.time.as_deref(), Some(T), "{name}");
        }
    }

    #[test]
    fn temporary_hidden_and_foreign_files_are_not_artifacts() {
        for name in [
            format!("s-1-{T}-leak.heapsnapshot.partial"),
            format!("s-1-{T}-leak.analysis.json.mw-tmp"),
            format!(".s-1-{T}-leak.heapsnapshot"),
            "notes.txt".to_owned(),
            "x.heapprofile".to_owned(),
            ".heapsnapshot".to_owned(),
        ] {
            assert_eq!(Artifact::parse(&name), None, "{name}");
        }
    }

    #[test]
    fn other_snapshots_are_artifacts_of_no_process() {
        let v8 = Artifact::parse("Heap.20261205.101112.1.0.001.heapsnapshot").unwrap();
        assert_eq!(v8.kind, Kind::Snapshot(Role::NearLimit));
        assert!(v8.wants_analysis());
        assert_eq!(v8.process, None);
        assert_eq!(
            v8.analysis_name(),
            "Heap.20261205.101112.1.0.001.analysis.json"
        );
        let mine = Artifact::parse("by-hand.heapsnapshot").unwrap();
        assert_eq!(mine.kind, Kind::Snapshot(Role::Other));
        assert!(!mine.wants_analysis());
        // A name that only looks like the watchdog's: no pid.
        let odd = Artifact::parse(&format!("svc-x-{T}-leak.heapsnapshot")).unwrap();
        assert_eq!(odd.process, None);
    }
}
