//! [`ReportFile`]: the JSON allocation report the watchdog writes next to a profile it
//! diffed: the diff's own fields (`schema_version`, `kind`, `sites`, ... as the profile
//! engine serializes them, its `profiles` being their figures) and a `files` object naming
//! the two files compared, so the report can be checked with `mw analyze <baseline> <profile>`.

use serde::Serialize;

/// The files a report compares; `null` in JSON when a profile was not written (no
/// `profile.dir`, or writing it failed).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProfilePaths<'a> {
    /// The baseline profile.
    pub baseline: Option<&'a str>,
    /// The profile diffed against it.
    pub profile: Option<&'a str>,
}

/// A diff report with the paths of its profiles.
#[derive(Debug, Serialize)]
pub struct ReportFile<'a, R: Serialize> {
    /// The diff, flattened into the top-level object.
    #[serde(flatten)]
    pub report: &'a R,
    /// The two profiles' files (`files`: the diff has a `profiles` field of its own).
    pub files: ProfilePaths<'a>,
}

impl<'a, R: Serialize> ReportFile<'a, R> {
    /// The report of `report` comparing `baseline` with `profile`.
    pub fn new(report: &'a R, baseline: Option<&'a str>, profile: Option<&'a str>) -> Self {
        ReportFile {
            report,
            files: ProfilePaths { baseline, profile },
        }
    }

    /// Pretty-printed JSON with a final newline.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self).map(|mut s| {
            s.push('\n');
            s
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Diff {
        schema_version: u32,
        kind: &'static str,
        sites: Vec<u32>,
        profiles: Vec<u32>,
    }

    #[test]
    fn the_diff_fields_stay_at_the_top_beside_the_files() {
        let diff = Diff {
            schema_version: 1,
            kind: "heapprofile",
            sites: vec![3, 1],
            profiles: vec![7, 9],
        };
        let json = ReportFile::new(&diff, Some("/d/a-baseline.heapprofile"), None)
            .to_json()
            .unwrap();
        assert!(json.ends_with("}\n"));
        assert_eq!(
            json.matches("\"profiles\"").count(),
            1,
            "no duplicate key: {json}"
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "schema_version": 1,
                "kind": "heapprofile",
                "sites": [3, 1],
                "profiles": [7, 9],
                "files": { "baseline": "/d/a-baseline.heapprofile", "profile": null }
            })
        );
    }
}
