//! [`sniff`] and [`Sniffer`]: tell a heap snapshot from a sampling heap profile by content,
//! not file name.
//!
//! Both are one JSON object. A snapshot's first key is `"snapshot"` (V8 and DevTools always
//! write it first); a profile has a top-level `"head"`, which V8 writes first but a profile
//! re-serialized by another tool may put after its `samples`, an array of tens of bytes per
//! sample that can run to megabytes. So the top-level keys are read as the bytes stream by:
//! each value between them is skipped with a scanner that holds only a bracket depth and
//! whether it is inside a string, so memory stays constant however long the value.
//! [`Sniffer`] takes the input in pieces and says what it is once the first decisive key
//! has gone by (`head`, or one only a snapshot has); the caller bounds how many bytes it
//! feeds ([`SNIFF_LIMIT`]). [`sniff`] judges a prefix it is given whole.
//!
//! ```
//! use memwatchdog_heapprofile::{FileKind, Sniffer, sniff};
//!
//! assert_eq!(sniff(b"\xEF\xBB\xBF {\"snapshot\":{\"meta\":"), FileKind::HeapSnapshot);
//! assert_eq!(sniff(b"{\"head\":{\"callFrame\":"), FileKind::HeapProfile);
//! assert_eq!(sniff(b"hello"), FileKind::Unknown);
//!
//! let mut sniffer = Sniffer::new();
//! assert_eq!(sniffer.feed(b"{\"samples\":[{\"size\":32,"), None);
//! assert_eq!(sniffer.feed(b"\"nodeId\":2}],\"head\":{"), Some(FileKind::HeapProfile));
//! ```

use crate::parse::MAX_BYTES;

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

/// The most bytes worth feeding a [`Sniffer`]: [`parse`](crate::parse) refuses a longer
/// profile, so a `head` after this many bytes would not make the input one `mw` can read.
/// A snapshot is told by its first key, a dozen bytes in.
pub const SNIFF_LIMIT: u64 = MAX_BYTES;

/// Top-level keys only a snapshot has.
const SNAPSHOT_KEYS: [&[u8]; 4] = [b"snapshot", b"nodes", b"edges", b"strings"];

/// The longest key [`Sniffer`] compares; longer keys decide nothing.
const KEY_CAP: usize = 8;

const BOM: &[u8; 3] = b"\xEF\xBB\xBF";

/// Judges `prefix`, the first bytes of a file (or all of them): skips a UTF-8 byte-order
/// mark and white space, then reads the top-level keys of the JSON object as far as the
/// prefix goes. [`FileKind::Unknown`] when they do not tell.
#[must_use]
pub fn sniff(prefix: &[u8]) -> FileKind {
    let mut sniffer = Sniffer::new();
    sniffer.feed(prefix);
    sniffer.verdict()
}

/// Tells a snapshot from a profile from bytes given in pieces, in constant memory; see the
/// module docs. The verdict does not depend on where the pieces end.
#[derive(Debug, Clone, Default)]
pub struct Sniffer {
    state: State,
    decided: Option<FileKind>,
}

/// Where in the input the next byte is.
#[derive(Debug, Clone, Copy, Default)]
enum State {
    /// At the first byte, where a byte-order mark may start.
    #[default]
    Start,
    /// After the first `n` bytes of a byte-order mark.
    Bom(u8),
    /// After the mark or white space, before the `{`.
    BeforeObject,
    /// In the top-level object, before a key.
    BeforeKey,
    /// In a top-level key.
    Key(Key),
    /// After a key, before its `:`.
    AfterKey,
    /// After a `:`, before the value.
    BeforeValue,
    /// In a string, array or object value, skipped: `depth` brackets open.
    Value {
        depth: usize,
        in_string: bool,
        escaped: bool,
    },
    /// In a number or literal value.
    Scalar,
    /// After a value, before `,` or `}`.
    AfterValue,
}

/// A top-level key as far as it has been read, decoded: its first [`KEY_CAP`] bytes.
#[derive(Debug, Clone, Copy, Default)]
struct Key {
    bytes: [u8; KEY_CAP],
    len: u8,
    /// Longer than [`KEY_CAP`], or holding a character that is not ASCII: matches nothing.
    other: bool,
    escape: Escape,
}

/// Where in an escape sequence a key is.
#[derive(Debug, Clone, Copy, Default)]
enum Escape {
    #[default]
    None,
    /// After `\`.
    Backslash,
    /// After `\u` and `digits` hex digits worth `value`.
    Unicode { digits: u8, value: u32 },
}

/// What a byte did to a key.
enum KeyStep {
    More,
    Done,
    Invalid,
}

impl Key {
    fn push(&mut self, c: u32) {
        match u8::try_from(c) {
            Ok(b) if b.is_ascii() && usize::from(self.len) < KEY_CAP => {
                self.bytes[usize::from(self.len)] = b;
                self.len += 1;
            }
            _ => self.other = true,
        }
    }

    fn step(&mut self, b: u8) -> KeyStep {
        match self.escape {
            Escape::None => match b {
                b'"' => return KeyStep::Done,
                b'\\' => self.escape = Escape::Backslash,
                _ => self.push(u32::from(b)),
            },
            Escape::Backslash => {
                self.escape = Escape::None;
                match b {
                    b'"' | b'\\' | b'/' => self.push(u32::from(b)),
                    b'b' | b'f' | b'n' | b'r' | b't' => self.other = true,
                    b'u' => {
                        self.escape = Escape::Unicode {
                            digits: 0,
                            value: 0,
                        };
                    }
                    _ => return KeyStep::Invalid,
                }
            }
            Escape::Unicode { digits, value } => {
                let Some(d) = char::from(b).to_digit(16) else {
                    return KeyStep::Invalid;
                };
                let value = value << 4 | d;
                if digits == 3 {
                    self.escape = Escape::None;
                    self.push(value);
                } else {
                    self.escape = Escape::Unicode {
                        digits: digits + 1,
                        value,
                    };
                }
            }
        }
        KeyStep::More
    }

    fn kind(&self) -> Option<FileKind> {
        if self.other {
            return None;
        }
        let key = &self.bytes[..usize::from(self.len)];
        if key == b"head" {
            Some(FileKind::HeapProfile)
        } else if SNAPSHOT_KEYS.contains(&key) {
            Some(FileKind::HeapSnapshot)
        } else {
            None
        }
    }
}

impl Sniffer {
    /// A sniffer at the start of an input.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the next `bytes` of the input. Returns the verdict once the bytes so far
    /// decide it (later calls return it again without reading), `None` while they do not.
    pub fn feed(&mut self, bytes: &[u8]) -> Option<FileKind> {
        let mut i = 0;
        while self.decided.is_none() && i < bytes.len() {
            if let State::Value { .. } = self.state {
                i = self.skip_value(bytes, i);
            } else {
                self.step(bytes[i]);
                i += 1;
            }
        }
        self.decided
    }

    /// The verdict on the bytes fed so far, the input having ended (or the caller stopped
    /// reading) there: [`FileKind::Unknown`] unless they decided it.
    #[must_use]
    pub fn verdict(&self) -> FileKind {
        self.decided.unwrap_or(FileKind::Unknown)
    }

    /// Skips value bytes from `bytes[i]` on; returns where it stopped (the value's end, or
    /// the end of `bytes`).
    fn skip_value(&mut self, bytes: &[u8], mut i: usize) -> usize {
        let State::Value {
            mut depth,
            mut in_string,
            mut escaped,
        } = self.state
        else {
            return i;
        };
        while i < bytes.len() {
            let b = bytes[i];
            i += 1;
            if in_string {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                    if depth == 0 {
                        self.state = State::AfterValue;
                        return i;
                    }
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        self.state = State::AfterValue;
                        return i;
                    }
                }
                _ => {}
            }
        }
        self.state = State::Value {
            depth,
            in_string,
            escaped,
        };
        i
    }

    /// Reads one byte outside a skipped value.
    fn step(&mut self, b: u8) {
        let ws = b.is_ascii_whitespace();
        self.state = match self.state {
            State::Start if b == BOM[0] => State::Bom(1),
            State::Bom(n) if b == BOM[usize::from(n)] => {
                if usize::from(n) + 1 == BOM.len() {
                    State::BeforeObject
                } else {
                    State::Bom(n + 1)
                }
            }
            State::Start | State::BeforeObject if ws => State::BeforeObject,
            State::Start | State::BeforeObject if b == b'{' => State::BeforeKey,
            State::BeforeKey if ws => State::BeforeKey,
            State::BeforeKey if b == b'"' => State::Key(Key::default()),
            State::Key(mut key) => match key.step(b) {
                KeyStep::More => State::Key(key),
                KeyStep::Done => match key.kind() {
                    Some(kind) => return self.decide(kind),
                    None => State::AfterKey,
                },
                KeyStep::Invalid => return self.decide(FileKind::Unknown),
            },
            State::AfterKey if ws => State::AfterKey,
            State::AfterKey if b == b':' => State::BeforeValue,
            State::BeforeValue if ws => State::BeforeValue,
            State::BeforeValue => match b {
                b'{' | b'[' => State::Value {
                    depth: 1,
                    in_string: false,
                    escaped: false,
                },
                b'"' => State::Value {
                    depth: 0,
                    in_string: true,
                    escaped: false,
                },
                b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => State::Scalar,
                _ => return self.decide(FileKind::Unknown),
            },
            State::Scalar if is_scalar(b) => State::Scalar,
            State::Scalar | State::AfterValue if ws => State::AfterValue,
            State::Scalar | State::AfterValue if b == b',' => State::BeforeKey,
            // Not JSON, not an object, an object that ended (`}`) without a decisive key,
            // or a broken one: nothing more to learn.
            State::Start
            | State::Bom(_)
            | State::BeforeObject
            | State::BeforeKey
            | State::AfterKey
            | State::Scalar
            | State::AfterValue
            | State::Value { .. } => return self.decide(FileKind::Unknown),
        };
    }

    fn decide(&mut self, kind: FileKind) {
        self.decided = Some(kind);
    }
}

/// A byte of a number or of `true`, `false`, `null`.
fn is_scalar(b: u8) -> bool {
    matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'+' | b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verdict on `bytes` fed whole, and (checked to be the same) fed in pieces of
    /// every size from 1 to 40 bytes.
    fn judged(bytes: &[u8]) -> FileKind {
        let whole = sniff(bytes);
        for size in 1..=40 {
            let mut sniffer = Sniffer::new();
            let mut said = None;
            for piece in bytes.chunks(size) {
                let now = sniffer.feed(piece);
                assert!(said.is_none() || now == said, "a verdict changed");
                said = now;
            }
            assert_eq!(
                sniffer.verdict(),
                whole,
                "pieces of {size} bytes: {bytes:?}"
            );
        }
        whole
    }

    #[test]
    fn tells_the_formats_apart() {
        assert_eq!(judged(b"{\"snapshot\":{"), FileKind::HeapSnapshot);
        assert_eq!(judged(b"\n  {\n \"snapshot\""), FileKind::HeapSnapshot);
        assert_eq!(judged(b"\xEF\xBB\xBF{\"nodes\""), FileKind::HeapSnapshot);
        assert_eq!(judged(b"{\"head\":{"), FileKind::HeapProfile);
        // samples first, head later (a profile re-serialised with other key order)
        assert_eq!(
            judged(br#"{"samples":[{"size":1,"nodeId":2}],"head":{}}"#),
            FileKind::HeapProfile
        );
        // a key named like a snapshot's, nested inside the profile, does not count
        assert_eq!(
            judged(br#"{"x":{"nodes":[1],"snapshot":1},"head":{}}"#),
            FileKind::HeapProfile
        );
        // values of every kind are skipped
        assert_eq!(
            judged(br#"{ "a" : -1.5e+3 , "b":true,"c":null,"d":"}]\"{","e":[[],{}] ,"head":1"#),
            FileKind::HeapProfile
        );
    }

    #[test]
    fn keys_are_decoded() {
        assert_eq!(judged(br#"{"h\u0065ad":{"#), FileKind::HeapProfile);
        assert_eq!(judged(br#"{"snap\u0073hot":{"#), FileKind::HeapSnapshot);
        // \u escapes that decode to other characters, longer keys, prefixes of a key
        for prefix in [
            &br#"{"h\u00e9ad":1}"#[..],
            br#"{"headed":1}"#,
            br#"{"snapshots":1}"#,
            br#"{"snapshot\n":1}"#,
            br#"{"hea":1}"#,
        ] {
            assert_eq!(judged(prefix), FileKind::Unknown, "{prefix:?}");
        }
    }

    #[test]
    fn unknown_when_it_cannot_tell() {
        for prefix in [
            &b""[..],
            b"   ",
            b"hello",
            b"[1,2]",
            b"\x1f\x8b\x08",
            b"\xEF\xBB{\"head\":1}",
            b" \xEF\xBB\xBF{\"head\":1}",
            b"{}",
            br#"{"name":"package","version":"1"}"#,
            br#"{"samples":[{"size":1,"node"#,
            br#"{"he"#,
            br#"{"a":"\"head\":""#,
            br#"{"a":"head""#,
            // broken JSON before the key
            br#"{"a" 1,"head":1}"#,
            br#"{"a":1 "head":1}"#,
            br#"{"a":,"head":1}"#,
            br#"{"a":1,,"head":1}"#,
            br#"{"a\x":1,"head":1}"#,
            br#"{"a\u00G0":1,"head":1}"#,
            br#"{"a":[1]}"head""#,
        ] {
            assert_eq!(judged(prefix), FileKind::Unknown, "{prefix:?}");
        }
    }

    #[test]
    fn a_string_value_is_not_a_key() {
        assert_eq!(judged(br#"{"a":"head","b":1}"#), FileKind::Unknown);
        assert_eq!(judged(br#"{"a":"x\"","head":1}"#), FileKind::HeapProfile);
    }

    #[test]
    fn a_long_value_before_the_key_is_skipped_in_constant_memory() {
        // 200,000 samples (9 MB) before `head`, fed 4 KiB at a time.
        let sample = br#"{"size":32,"nodeId":7,"ordinal":1},"#;
        let mut sniffer = Sniffer::new();
        assert_eq!(sniffer.feed(b"{\"samples\":["), None);
        let block = sample.repeat(4096 / sample.len());
        for _ in 0..200_000 / (4096 / sample.len()) {
            assert_eq!(sniffer.feed(&block), None);
        }
        assert_eq!(
            sniffer.feed(br#"{"size":1,"nodeId":7,"ordinal":2}],"head":{"callFrame":"#),
            Some(FileKind::HeapProfile)
        );
    }
}
