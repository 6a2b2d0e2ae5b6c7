//! The files a GitHub Actions runner reads after a step: the job summary
//! (`$GITHUB_STEP_SUMMARY`, Markdown) and the step outputs (`$GITHUB_OUTPUT`, `key=value`
//! lines). Both are appended to, as the runner expects: other commands of the same step may
//! have written there before.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A runner file could not be written (exit code 5, like the report).
#[derive(Debug, Error)]
#[error("cannot append the {what} to {path}")]
pub struct AppendError {
    what: &'static str,
    path: PathBuf,
    source: std::io::Error,
}

/// Appends `text` to `path` (created when missing); `what` names it in the error.
pub fn append(path: &Path, what: &'static str, text: &str) -> Result<(), AppendError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|source| AppendError {
            what,
            path: path.to_owned(),
            source,
        })
}

/// `key=value` lines for `$GITHUB_OUTPUT`. A value on several lines (none of `mw check`'s
/// should be) is flattened to one, so no value can inject another key.
pub fn output_lines(pairs: &[(&str, String)]) -> String {
    pairs.iter().fold(String::new(), |mut out, (key, value)| {
        let value = value.replace(['\n', '\r'], " ");
        let _ = writeln!(out, "{key}={value}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_on_their_line() {
        let text = output_lines(&[("passed", "true".into()), ("top", "a\nb=c\r\n".into())]);
        assert_eq!(text, "passed=true\ntop=a b=c  \n");
    }

    #[test]
    fn appending_keeps_what_was_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        std::fs::write(&path, "before=1\n").unwrap();
        append(&path, "outputs", "after=2\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "before=1\nafter=2\n"
        );
        let err = append(&dir.path().join("no/such/dir"), "outputs", "x").unwrap_err();
        assert!(err.to_string().starts_with("cannot append the outputs to "));
    }
}
