//! Memory budgets of `mw check`: what may grow, read from the command line and a budgets
//! file, and judged against what a diff measured (pure: no IO here but the caller's text).
//!
//! Three kinds, each a limit in bytes:
//! - **total**: the growth of the whole diff (snapshots: the bytes of new objects still alive,
//!   `new_bytes`; profiles: the growth of live sampled bytes, `growth_bytes`);
//! - **class** `NAME`: the net shallow growth of one constructor (snapshots only: the
//!   Comparison row's `delta_bytes`);
//! - **path** `TEXT`: the growth of the leak suspects whose retainer path contains `TEXT`
//!   (snapshots), or of the allocation sites with a frame that contains `TEXT` (profiles).
//!
//! The budgets file is JSON (`{"total": "5MB", "classes": {"Name": "1MB"}, "paths":
//! {"text": "2MB"}}`, sizes as `parse_size` reads them or whole numbers of bytes); flags
//! override its entries of the same kind and name.

use std::collections::BTreeMap;
use std::path::PathBuf;

use memwatchdog_units::{SizeError, parse_size};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The budgets of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Budgets {
    /// Growth of the whole diff, at most.
    pub total: Option<u64>,
    /// Net growth per class name, at most.
    pub classes: BTreeMap<String, u64>,
    /// Growth of the suspects (sites) whose path (stack) contains the text, at most.
    pub paths: BTreeMap<String, u64>,
}

/// A budget that could not be read (exit code 2: it is part of how `mw check` was asked).
#[derive(Debug, Error)]
pub enum BudgetError {
    /// The budgets file could not be read.
    #[error("cannot read the budgets file {path}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The budgets file is not the JSON docs/cli.md describes.
    #[error(
        "{path} is not a budgets file: {message} (expected e.g. {{\"total\": \"5MB\", \"classes\": {{\"AuditEntry\": \"1MB\"}}, \"paths\": {{\"cache\": \"2MB\"}}}})"
    )]
    Format {
        /// The file.
        path: PathBuf,
        /// What serde said, with the line and column.
        message: String,
    },
    /// A size in the budgets file is not a size.
    #[error("{path}: {place}: {source}")]
    Size {
        /// The file.
        path: PathBuf,
        /// Which entry (`total`, `classes."Name"`).
        place: String,
        /// Why.
        source: SizeError,
    },
    /// `mw check` on snapshots or profiles without any budget.
    #[error(
        "no budget given: mw check needs --budget SIZE, --budget-class NAME=SIZE, --budget-path TEXT=SIZE or --budgets FILE"
    )]
    None,
    /// Budgets given for a trace, which is judged by the detector's verdict.
    #[error(
        "budgets apply to snapshots and profiles; a trace is judged by the leak detector's verdict (tune it with --config, see docs/detection.md)"
    )]
    ForTrace,
    /// Class budgets given for heap profiles, which have no classes.
    #[error(
        "--budget-class (or \"classes\") applies to heap snapshots; sampling heap profiles have allocation sites, budget them with --budget-path TEXT=SIZE"
    )]
    ClassForProfiles,
}

/// `NAME=SIZE` (the name may contain `=`: the size is after the last one).
///
/// # Errors
/// A message for clap (exit code 2) when there is no `=`, no name, or no size.
pub fn parse_named(text: &str) -> Result<(String, u64), String> {
    let Some((name, size)) = text.rsplit_once('=') else {
        return Err(format!(
            "{text:?} has no `=`: write NAME=SIZE, e.g. AuditEntry=1MB"
        ));
    };
    if name.trim().is_empty() {
        return Err(format!(
            "{text:?} has no name before `=`: write NAME=SIZE, e.g. AuditEntry=1MB"
        ));
    }
    let bytes = parse_size(size).map_err(|e| format!("{size:?} after `=`: {e}"))?;
    Ok((name.to_owned(), bytes))
}

/// A size in the budgets file: text for `parse_size` or a whole number of bytes.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FileSize {
    Bytes(u64),
    Text(String),
}

/// The budgets file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    total: Option<FileSize>,
    #[serde(default)]
    classes: BTreeMap<String, FileSize>,
    #[serde(default)]
    paths: BTreeMap<String, FileSize>,
}

impl Budgets {
    /// Reads a budgets file's `text` (`path` names it in errors).
    ///
    /// # Errors
    /// [`BudgetError::Format`] for anything but the documented JSON object,
    /// [`BudgetError::Size`] for a size `parse_size` refuses.
    pub fn from_json(path: &std::path::Path, text: &str) -> Result<Self, BudgetError> {
        let format = |message: String| BudgetError::Format {
            path: path.to_owned(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format(e.to_string()))?;
        // serde would read a struct from an array too ([1] as a total of 1 byte).
        if !value.is_object() {
            return Err(format("not a JSON object".to_owned()));
        }
        let file: File = serde_json::from_value(value).map_err(|e| format(e.to_string()))?;
        let size = |place: String, size: FileSize| match size {
            FileSize::Bytes(bytes) => Ok(bytes),
            FileSize::Text(text) => parse_size(&text).map_err(|source| BudgetError::Size {
                path: path.to_owned(),
                place,
                source,
            }),
        };
        let mut budgets = Self {
            total: file.total.map(|s| size("total".into(), s)).transpose()?,
            ..Self::default()
        };
        for (name, s) in file.classes {
            let bytes = size(format!("classes.{name:?}"), s)?;
            budgets.classes.insert(name, bytes);
        }
        for (text, s) in file.paths {
            let bytes = size(format!("paths.{text:?}"), s)?;
            budgets.paths.insert(text, bytes);
        }
        Ok(budgets)
    }

    /// These budgets with `other`'s entries put over them (the flags over the file).
    #[must_use]
    pub fn overridden_by(mut self, other: Self) -> Self {
        self.total = other.total.or(self.total);
        self.classes.extend(other.classes);
        self.paths.extend(other.paths);
        self
    }

    /// Whether no budget is set.
    pub fn is_empty(&self) -> bool {
        self.total.is_none() && self.classes.is_empty() && self.paths.is_empty()
    }
}

/// What one budget limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Scope {
    /// The whole diff.
    Total,
    /// One class.
    Class(String),
    /// The suspects (sites) whose path (stack) contains the text.
    Path(String),
}

/// One budget judged: what grew against what may.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// What the budget limits.
    pub scope: Scope,
    /// The limit in bytes.
    pub budget_bytes: u64,
    /// What grew, in bytes (net shrinking counts as 0).
    pub growth_bytes: u64,
    /// How many suspects, sites or classes matched (0: the name or text matched nothing,
    /// which is worth a look for a typo).
    pub matched: usize,
    /// `growth_bytes > budget_bytes`.
    pub exceeded: bool,
}

/// What a diff measured, in the terms the budgets use.
pub trait Measured {
    /// Growth of the whole diff.
    fn total_growth(&self) -> u64;
    /// Net growth of a class and whether the class was seen, `None` when the kind of input
    /// has no classes.
    fn class_growth(&self, name: &str) -> (u64, usize);
    /// Growth of the suspects (sites) whose path (stack) contains `text`, and how many.
    fn path_growth(&self, text: &str) -> (u64, usize);
}

/// Judges every budget (total first, then classes and paths by name).
pub fn judge(budgets: &Budgets, measured: &impl Measured) -> Vec<Verdict> {
    let verdict = |scope, budget_bytes, (growth_bytes, matched): (u64, usize)| Verdict {
        scope,
        budget_bytes,
        growth_bytes,
        matched,
        exceeded: growth_bytes > budget_bytes,
    };
    let mut out = Vec::new();
    if let Some(total) = budgets.total {
        out.push(verdict(Scope::Total, total, (measured.total_growth(), 1)));
    }
    for (name, &bytes) in &budgets.classes {
        out.push(verdict(
            Scope::Class(name.clone()),
            bytes,
            measured.class_growth(name),
        ));
    }
    for (text, &bytes) in &budgets.paths {
        out.push(verdict(
            Scope::Path(text.clone()),
            bytes,
            measured.path_growth(text),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    struct Fake;

    impl Measured for Fake {
        fn total_growth(&self) -> u64 {
            5_000_001
        }
        fn class_growth(&self, name: &str) -> (u64, usize) {
            if name == "AuditEntry" {
                (2_000, 1)
            } else {
                (0, 0)
            }
        }
        fn path_growth(&self, text: &str) -> (u64, usize) {
            if text == "cache" { (3_000, 2) } else { (0, 0) }
        }
    }

    #[test]
    fn named_budgets_split_at_the_last_equals_sign() {
        assert_eq!(
            parse_named("AuditEntry=1MB"),
            Ok(("AuditEntry".into(), 1_000_000))
        );
        assert_eq!(parse_named("a=b=2Ki"), Ok(("a=b".into(), 2048)));
        assert!(parse_named("AuditEntry").unwrap_err().contains("no `=`"));
        assert!(parse_named("=1MB").unwrap_err().contains("no name"));
        let err = parse_named("AuditEntry=lots").unwrap_err();
        assert!(err.contains("\"lots\" after `=`"), "{err}");
        assert!(parse_named("X=512m").unwrap_err().contains("512Mi"));
    }

    #[test]
    fn the_file_takes_texts_and_numbers_and_refuses_unknown_keys() {
        let path = Path::new("budgets.json");
        let b = Budgets::from_json(
            path,
            r#"{"total": "5MB", "classes": {"AuditEntry": 1024}, "paths": {"cache": "2Ki"}}"#,
        )
        .unwrap();
        assert_eq!(b.total, Some(5_000_000));
        assert_eq!(b.classes["AuditEntry"], 1024);
        assert_eq!(b.paths["cache"], 2048);
        let err = Budgets::from_json(path, r#"{"totl": "5MB"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `totl`"), "{err}");
        let err = Budgets::from_json(path, r#"{"classes": {"A": "5 apples"}}"#).unwrap_err();
        assert!(
            err.to_string().starts_with("budgets.json: classes.\"A\": "),
            "{err}"
        );
        assert!(matches!(
            Budgets::from_json(path, "[1]"),
            Err(BudgetError::Format { .. })
        ));
    }

    #[test]
    fn flags_override_the_file_entry_by_entry() {
        let file = Budgets {
            total: Some(1),
            classes: [("A".into(), 1), ("B".into(), 1)].into(),
            paths: BTreeMap::new(),
        };
        let flags = Budgets {
            total: None,
            classes: [("B".into(), 2)].into(),
            paths: [("p".into(), 3)].into(),
        };
        let both = file.overridden_by(flags);
        assert_eq!(both.total, Some(1));
        assert_eq!(both.classes["A"], 1);
        assert_eq!(both.classes["B"], 2);
        assert_eq!(both.paths["p"], 3);
    }

    #[test]
    fn growth_above_the_budget_exceeds_it_and_equal_growth_does_not() {
        let budgets = Budgets {
            total: Some(5_000_000),
            classes: [("AuditEntry".into(), 2_000), ("Typo".into(), 1)].into(),
            paths: [("cache".into(), 2_999)].into(),
        };
        let v = judge(&budgets, &Fake);
        assert_eq!(v.len(), 4);
        assert_eq!(v[0].scope, Scope::Total);
        assert!(v[0].exceeded);
        assert!(!v[1].exceeded, "2000 of 2000 is within the budget");
        assert_eq!((v[2].matched, v[2].exceeded), (0, false));
        assert_eq!(v[3].scope, Scope::Path("cache".into()));
        assert!(v[3].exceeded);
    }
}
