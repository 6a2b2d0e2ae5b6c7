//! [`ObjectKey`]: where an artifact goes in the store, relative to the store's prefix, and the
//! layout `<namespace>/<pod>/<YYYY-MM-DD>/<file_name>` the agent uploads under. Pure: a key is
//! checked when it is made, so every key the store sees is valid for S3 and for a local
//! directory alike.

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use crate::date::utc_date;
use crate::error::OffloadError;

/// S3's limit on a key's length, in bytes (with the store's prefix it may be a little less).
pub const MAX_KEY_BYTES: usize = 1024;

/// A key relative to the store's prefix: segments separated by `/`, none empty, none `.` or
/// `..`, no control characters, no leading `/`, at most [`MAX_KEY_BYTES`]. A trailing `/`
/// marks a directory ([`ObjectKey::pod_dir`]), which [`Store::list`](crate::Store::list)
/// takes.
#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// The key of one artifact: `<namespace>/<pod>/<YYYY-MM-DD>/<file_name>`, the date being
    /// the UTC date of `modified` (the file's modification time, so a restarted agent
    /// computes the same key). Each part must be one valid segment (no `/`).
    pub fn artifact(
        namespace: &str,
        pod: &str,
        modified: SystemTime,
        file_name: &str,
    ) -> Result<ObjectKey, OffloadError> {
        let date = utc_date(modified);
        for (what, value) in [
            ("namespace", namespace),
            ("pod", pod),
            ("file name", file_name),
        ] {
            check_part(what, value, &[namespace, pod, &date, file_name].join("/"))?;
        }
        ObjectKey::parse(&format!("{namespace}/{pod}/{date}/{file_name}"))
    }

    /// `<namespace>/<pod>/`: the directory of every artifact of one pod.
    pub fn pod_dir(namespace: &str, pod: &str) -> Result<ObjectKey, OffloadError> {
        for (what, value) in [("namespace", namespace), ("pod", pod)] {
            check_part(what, value, &format!("{namespace}/{pod}/"))?;
        }
        ObjectKey::parse(&format!("{namespace}/{pod}/"))
    }

    /// Checks any key (`a/b/c`, or `a/b/` for a directory).
    pub fn parse(key: &str) -> Result<ObjectKey, OffloadError> {
        let bad = |problem: String| OffloadError::Key {
            key: key.to_owned(),
            problem,
        };
        if key.is_empty() {
            return Err(bad("it is empty".to_owned()));
        }
        if key.len() > MAX_KEY_BYTES {
            return Err(bad(format!(
                "it is {} bytes long, more than S3's {MAX_KEY_BYTES}",
                key.len()
            )));
        }
        if key.starts_with('/') {
            return Err(bad(
                "it starts with '/' (keys are relative to the store's prefix)".into(),
            ));
        }
        let body = key.strip_suffix('/').unwrap_or(key);
        for segment in body.split('/') {
            segment_problem(segment).map_or(Ok(()), |p| Err(bad(p)))?;
        }
        Ok(ObjectKey(key.to_owned()))
    }

    /// The key as text (`ns/pod/2026-01-31/heap.heapsnapshot`, or `ns/pod/` for a directory).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a directory key (it ends with `/`).
    #[must_use]
    pub fn is_dir(&self) -> bool {
        self.0.ends_with('/')
    }

    /// The last segment: the file name of an artifact (`heap.heapsnapshot`), the last
    /// directory's name for a directory key (`pod` for `ns/pod/`).
    #[must_use]
    pub fn file_name(&self) -> &str {
        let body = self.0.strip_suffix('/').unwrap_or(&self.0);
        body.rsplit('/').next().unwrap_or(body)
    }

    /// The segments, directory trailer excluded.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.strip_suffix('/').unwrap_or(&self.0).split('/')
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ObjectKey {
    type Err = OffloadError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ObjectKey::parse(s)
    }
}

impl AsRef<str> for ObjectKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// One part of the layout (namespace, pod, file name) must be exactly one valid segment.
fn check_part(what: &str, value: &str, key: &str) -> Result<(), OffloadError> {
    let problem = if value.contains('/') {
        Some("contains '/'".to_owned())
    } else {
        segment_problem(value)
    };
    match problem {
        Some(problem) => Err(OffloadError::Key {
            key: key.to_owned(),
            problem: format!(
                "the {what} {value:?} {}",
                problem.trim_start_matches("a segment ")
            ),
        }),
        None => Ok(()),
    }
}

/// Why `segment` cannot be one segment of a key, or `None`.
fn segment_problem(segment: &str) -> Option<String> {
    if segment.is_empty() {
        return Some("a segment is empty (\"//\", or an empty part)".to_owned());
    }
    if segment == "." || segment == ".." {
        return Some(format!("a segment is {segment:?}"));
    }
    if let Some(c) = segment.chars().find(|c| c.is_control()) {
        return Some(format!("a segment contains the control character {c:?}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{MAX_KEY_BYTES, ObjectKey};
    use crate::OffloadError;
    use std::time::{Duration, UNIX_EPOCH};

    fn problem(r: Result<ObjectKey, OffloadError>) -> String {
        match r {
            Err(e @ OffloadError::Key { .. }) => {
                assert_eq!(e.reason(), "key");
                e.to_string()
            }
            other => panic!("expected a key error, got {other:?}"),
        }
    }

    #[test]
    fn artifact_layout() {
        // 2026-01-31T23:59:59.5Z: still the 31st in UTC.
        let t = UNIX_EPOCH + Duration::from_millis(1_769_903_999_500);
        let key = ObjectKey::artifact("shop", "api-7d9f-x2", t, "Heap-1.heapsnapshot").unwrap();
        assert_eq!(
            key.as_str(),
            "shop/api-7d9f-x2/2026-01-31/Heap-1.heapsnapshot"
        );
        assert_eq!(key.to_string(), key.as_str());
        assert_eq!(key.file_name(), "Heap-1.heapsnapshot");
        assert!(!key.is_dir());
        let next =
            ObjectKey::artifact("shop", "api", t + Duration::from_secs(1), "r.json").unwrap();
        assert_eq!(next.as_str(), "shop/api/2026-02-01/r.json");
        assert_eq!(
            next.segments().collect::<Vec<_>>(),
            ["shop", "api", "2026-02-01", "r.json"]
        );
    }

    #[test]
    fn pod_dir_is_a_directory_and_prefixes_its_artifacts() {
        let dir = ObjectKey::pod_dir("shop", "api").unwrap();
        assert_eq!(dir.as_str(), "shop/api/");
        assert!(dir.is_dir());
        assert_eq!(dir.file_name(), "api");
        let key = ObjectKey::artifact("shop", "api", UNIX_EPOCH, "a.json").unwrap();
        assert!(key.as_str().starts_with(dir.as_str()));
    }

    #[test]
    fn invalid_parts_are_named() {
        let t = UNIX_EPOCH;
        let e = problem(ObjectKey::artifact("shop", "a/b", t, "x"));
        assert!(e.contains("the pod \"a/b\" contains '/'"), "{e}");
        let e = problem(ObjectKey::artifact("", "api", t, "x"));
        assert!(e.contains("the namespace \"\" is empty"), "{e}");
        let e = problem(ObjectKey::artifact("shop", "api", t, ".."));
        assert!(e.contains("the file name \"..\" is \"..\""), "{e}");
        let e = problem(ObjectKey::artifact("shop", "api", t, "a\nb"));
        assert!(e.contains("control character '\\n'"), "{e}");
        let e = problem(ObjectKey::pod_dir("shop", "."));
        assert!(e.contains("the pod \".\""), "{e}");
    }

    #[test]
    fn parse_rules() {
        for ok in [
            "a",
            "a/b",
            "a/b/",
            "ns/pod/2026-01-01/x.heapsnapshot",
            "a/.b/c..d",
            "ü/日本",
        ] {
            assert_eq!(ObjectKey::parse(ok).unwrap().as_str(), ok);
        }
        for (bad, why) in [
            ("", "empty"),
            ("/a", "starts with '/'"),
            ("a//b", "empty"),
            ("a/./b", "\".\""),
            ("a/../b", "\"..\""),
            ("..", "\"..\""),
            ("a/b//", "empty"),
            ("a\u{0}b", "control"),
            ("a\u{7f}", "control"),
            ("a\u{85}", "control"),
            ("a\tb", "control"),
        ] {
            let e = problem(ObjectKey::parse(bad));
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        let long = "a/".repeat(MAX_KEY_BYTES / 2) + "b";
        assert!(problem(ObjectKey::parse(&long)).contains("1024"));
        assert!("x/y".parse::<ObjectKey>().is_ok());
    }
}
