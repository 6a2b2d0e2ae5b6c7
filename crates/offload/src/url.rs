//! [`StoreUrl`]: the store URL the agent is given (`s3://bucket[/prefix]` or
//! `file:///absolute/dir`), read and checked before anything connects. Pure.

use std::path::PathBuf;

use crate::error::OffloadError;
use crate::key::ObjectKey;

/// Where a store is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreUrl {
    /// A bucket, and the prefix (no leading or trailing `/`, maybe empty) every key goes under.
    S3 { bucket: String, prefix: String },
    /// A local directory (absolute); keys are paths below it.
    Local { dir: PathBuf },
}

const EXPECTED: &str = "expected s3://bucket[/prefix] or file:///absolute/dir";

impl StoreUrl {
    pub(crate) fn parse(url: &str) -> Result<StoreUrl, OffloadError> {
        let bad = |problem: String| OffloadError::Config {
            url: memwatchdog_exporter::redact_url(url),
            problem,
        };
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.contains('@') {
                return Err(bad(
                    "credentials do not go in the URL: set AWS_ACCESS_KEY_ID and \
                     AWS_SECRET_ACCESS_KEY (or use the pod's role)"
                        .to_owned(),
                ));
            }
            if let Some(problem) = bucket_problem(bucket) {
                return Err(bad(format!("the bucket {bucket:?} {problem} ({EXPECTED})")));
            }
            if prefix.contains(['?', '#']) {
                return Err(bad(format!(
                    "a query or fragment is not allowed ({EXPECTED})"
                )));
            }
            let prefix = prefix.trim_end_matches('/');
            if !prefix.is_empty() {
                ObjectKey::parse(prefix).map_err(|e| match e {
                    OffloadError::Key { problem, .. } => bad(format!(
                        "the prefix {prefix:?} is not a valid key: {problem}"
                    )),
                    other => other,
                })?;
            }
            Ok(StoreUrl::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.to_owned(),
            })
        } else if let Some(path) = url.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(bad(format!(
                    "a file:// URL needs an absolute directory, file:///dir ({EXPECTED})"
                )));
            }
            if path.contains(['?', '#', '%']) || path.chars().any(char::is_control) {
                return Err(bad(format!(
                    "the directory may not contain '?', '#', '%' or control characters ({EXPECTED})"
                )));
            }
            Ok(StoreUrl::Local {
                dir: PathBuf::from(path),
            })
        } else {
            Err(bad(EXPECTED.to_owned()))
        }
    }
}

/// Why `bucket` is not an S3 bucket name (3–63 of `a-z 0-9 . -`, a letter or digit at
/// both ends), or `None`.
fn bucket_problem(bucket: &str) -> Option<&'static str> {
    if bucket.is_empty() {
        return Some("is missing");
    }
    if !(3..=63).contains(&bucket.len()) {
        return Some("must be 3 to 63 characters long");
    }
    if !bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Some("may only contain lowercase letters, digits, '.' and '-'");
    }
    let alnum = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    if !alnum(bucket.as_bytes().first()) || !alnum(bucket.as_bytes().last()) {
        return Some("must start and end with a letter or digit");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::StoreUrl;

    fn s3(bucket: &str, prefix: &str) -> StoreUrl {
        StoreUrl::S3 {
            bucket: bucket.into(),
            prefix: prefix.into(),
        }
    }

    #[test]
    fn s3_urls() {
        assert_eq!(StoreUrl::parse("s3://heaps").unwrap(), s3("heaps", ""));
        assert_eq!(StoreUrl::parse("s3://heaps/").unwrap(), s3("heaps", ""));
        assert_eq!(
            StoreUrl::parse("s3://my.heaps-1/a/b/").unwrap(),
            s3("my.heaps-1", "a/b")
        );
    }

    #[test]
    fn file_urls() {
        assert_eq!(
            StoreUrl::parse("file:///var/lib/heaps").unwrap(),
            StoreUrl::Local {
                dir: "/var/lib/heaps".into()
            }
        );
    }

    #[test]
    fn bad_urls_say_what_is_expected_and_hide_credentials() {
        for (url, says) in [
            (
                "heaps",
                "expected s3://bucket[/prefix] or file:///absolute/dir",
            ),
            ("https://s3.amazonaws.com/heaps", "expected s3://"),
            ("s3://", "is missing"),
            ("s3://Heaps", "lowercase"),
            ("s3://ab", "3 to 63"),
            ("s3://-heaps", "start and end"),
            ("s3://heaps/a//b", "empty"),
            ("s3://heaps/a/../b", "\"..\""),
            ("s3://heaps/a?x=1", "query"),
            ("s3://AKID:s3cret@heaps", "AWS_ACCESS_KEY_ID"),
            ("file://relative/dir", "absolute"),
            ("file:///a%20b", "'%'"),
        ] {
            let e = StoreUrl::parse(url).unwrap_err();
            assert_eq!(e.reason(), "config");
            let text = e.to_string();
            assert!(text.contains(says), "{url}: {text}");
            assert!(!text.contains("s3cret"), "{text}");
        }
    }
}
