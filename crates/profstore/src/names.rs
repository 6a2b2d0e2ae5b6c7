//! [`ProfileFile`]: the names of the watchdog's profile files,
//! `<service>-<pid>-<ISO time>-<kind>.heapprofile`, and of the allocation report that goes
//! with a profile diffed against the baseline, `<same stem>.allocation-report.json`.

/// Ending of a sampling heap profile (the name Chrome DevTools expects).
pub const PROFILE_SUFFIX: &str = ".heapprofile";
/// Ending of the JSON allocation report next to the profile it describes.
pub const REPORT_SUFFIX: &str = ".allocation-report.json";

/// The kinds of profile the watchdog takes, as they appear in file names.
const KINDS: [&str; 3] = ["baseline", "suspect", "leak"];

/// A profile file name of the watchdog's, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileFile {
    /// `<service>-<pid>-<ISO time>-<kind>` (the name without [`PROFILE_SUFFIX`]).
    pub stem: String,
    /// `baseline`, `suspect` or `leak`.
    pub kind: &'static str,
}

impl ProfileFile {
    /// Recognizes one of the watchdog's profile files by name; `None` for anything else
    /// (other files in a shared directory are never touched).
    #[must_use]
    pub fn parse(name: &str) -> Option<ProfileFile> {
        let stem = name.strip_suffix(PROFILE_SUFFIX)?;
        let kind = KINDS
            .into_iter()
            .find(|k| stem.len() > k.len() + 1 && stem.ends_with(&format!("-{k}")))?;
        Some(ProfileFile {
            stem: stem.to_owned(),
            kind,
        })
    }

    /// The profile's file name.
    #[must_use]
    pub fn name(&self) -> String {
        format!("{}{PROFILE_SUFFIX}", self.stem)
    }

    /// The file name of the allocation report that goes with this profile.
    #[must_use]
    pub fn report_name(&self) -> String {
        format!("{}{REPORT_SUFFIX}", self.stem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_only_the_watchdogs_names() {
        let f =
            ProfileFile::parse("my-api-17-2026-01-02T03-04-05.678Z-suspect.heapprofile").unwrap();
        assert_eq!(f.kind, "suspect");
        assert_eq!(f.stem, "my-api-17-2026-01-02T03-04-05.678Z-suspect");
        assert_eq!(
            f.name(),
            "my-api-17-2026-01-02T03-04-05.678Z-suspect.heapprofile"
        );
        for other in [
            "x-leak.heapsnapshot",
            "leak.heapprofile",
            "-leak.heapprofile",
            "x-other.heapprofile",
            "x-leak.heapprofile.partial",
            "x-leak.allocation-report.json",
        ] {
            assert_eq!(ProfileFile::parse(other), None, "{other}");
        }
    }
}
