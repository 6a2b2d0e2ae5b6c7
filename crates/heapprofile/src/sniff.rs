//! [`sniff`]: tells a heap snapshot from a sampling heap profile by content, not file name.
//!
//! Both are one JSON object. A snapshot's first key is `"snapshot"` (V8 and DevTools always
//! write it first); a profile has a top-level `"head"`. Only the first bytes are needed: the
//! caller reads a prefix (4 KiB is plenty) and passes it in.
//!
//! ```
//! use memwatchdog_heapprofile::{FileKind, sniff};
//!
//! assert_eq!(sniff(b"\xEF\xBB\xBF {\"snapshot\":{\"meta\":"), FileKind::HeapSnapshot);
//! assert_eq!(sniff(b"{\"head\":{\"callFrame\":"), FileKind::HeapProfile);
//! assert_eq!(sniff(b"hello"), FileKind::Unknown);
//! ```

/// What a file holds, judged from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A V8 heap snapshot (`.heapsnapshot`).
    HeapSnapshot,
    /// A V8 sampling heap profile (`.heapprofile`).
    HeapProfile,
    /// Neither, or the prefix does not tell.
    Unknown,
}

/// Top-level keys only a snapshot has.
const SNAPSHOT_KEYS: [&[u8]; 4] = [b"snapshot", b"nodes", b"edges", b"strings"];

/// Judges `prefix`, the first bytes of a file: skips a UTF-8 byte-order mark and white
/// space, then reads the top-level keys of the JSON object as far as the prefix goes.
#[must_use]
pub fn sniff(prefix: &[u8]) -> FileKind {
    let bytes = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    let start = skip_ws(bytes, 0);
    if bytes.get(start) != Some(&b'{') {
        return FileKind::Unknown;
    }
    let mut keys = TopLevelKeys {
        bytes,
        pos: start + 1,
        depth: 1,
        expect_key: true,
    };
    while let Some(key) = keys.next_key() {
        if key == b"head" {
            return FileKind::HeapProfile;
        }
        if SNAPSHOT_KEYS.contains(&key) {
            return FileKind::HeapSnapshot;
        }
    }
    FileKind::Unknown
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while bytes.get(pos).is_some_and(u8::is_ascii_whitespace) {
        pos += 1;
    }
    pos
}

/// A scanner over the keys at depth 1 of a JSON object, tolerant of a prefix that stops anywhere.
struct TopLevelKeys<'a> {
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    expect_key: bool,
}

impl<'a> TopLevelKeys<'a> {
    /// The next key of the top-level object (raw, escapes not decoded), or `None` at the
    /// end of the object or of the prefix.
    fn next_key(&mut self) -> Option<&'a [u8]> {
        // At depth 1, the string after `{` or `,` is a key; deeper strings are skipped.
        while self.pos < self.bytes.len() {
            match self.bytes[self.pos] {
                b'"' => {
                    let (start, end) = self.string()?;
                    if self.depth == 1 && std::mem::take(&mut self.expect_key) {
                        return Some(&self.bytes[start..end]);
                    }
                }
                b'{' | b'[' => {
                    self.depth += 1;
                    self.pos += 1;
                }
                b'}' | b']' => {
                    self.depth -= 1;
                    self.pos += 1;
                    if self.depth == 0 {
                        return None;
                    }
                }
                b',' => {
                    self.expect_key = self.depth == 1;
                    self.pos += 1;
                }
                _ => self.pos += 1,
            }
        }
        None
    }

    /// Skips the string at `pos`; returns the range of its contents.
    fn string(&mut self) -> Option<(usize, usize)> {
        let start = self.pos + 1;
        let mut pos = start;
        loop {
            match self.bytes.get(pos)? {
                b'\\' => pos += 2,
                b'"' => {
                    self.pos = pos + 1;
                    return Some((start, pos));
                }
                _ => pos += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_the_formats_apart() {
        assert_eq!(sniff(b"{\"snapshot\":{"), FileKind::HeapSnapshot);
        assert_eq!(sniff(b"\n  {\n \"snapshot\""), FileKind::HeapSnapshot);
        assert_eq!(sniff(b"{\"head\":{"), FileKind::HeapProfile);
        // samples first, head later (a profile re-serialised with other key order)
        assert_eq!(
            sniff(br#"{"samples":[{"size":1,"nodeId":2}],"head":{}}"#),
            FileKind::HeapProfile
        );
        // a key named like a snapshot's, nested inside the profile, does not count
        assert_eq!(
            sniff(br#"{"x":{"nodes":[1],"snapshot":1},"head":{}}"#),
            FileKind::HeapProfile
        );
    }

    #[test]
    fn unknown_when_it_cannot_tell() {
        for prefix in [
            &b""[..],
            b"   ",
            b"hello",
            b"[1,2]",
            b"\x1f\x8b\x08",
            br#"{"name":"package","version":"1"}"#,
            br#"{"samples":[{"size":1,"node"#,
            br#"{"he"#,
            br#"{"a":"\"head\":""#,
            br#"{"a":"head""#,
        ] {
            assert_eq!(sniff(prefix), FileKind::Unknown, "{prefix:?}");
        }
    }

    #[test]
    fn a_string_value_is_not_a_key() {
        assert_eq!(sniff(br#"{"a":"head","b":1}"#), FileKind::Unknown);
        assert_eq!(sniff(br#"{"a":"x\"","head":1}"#), FileKind::HeapProfile);
    }
}
