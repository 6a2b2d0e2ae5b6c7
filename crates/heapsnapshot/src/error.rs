//! Errors of the snapshot parser.
//!
//! Every message is one line that says where the problem is (a byte offset when there is
//! one) and what to do next, e.g.
//! `snapshot truncated at byte 81234567 inside the edges array: was the process killed while writing it?`.
//! [`ParseError::kind`] sorts the variants into a few groups for exit codes.

use std::fmt;

/// The part of a snapshot an error was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Section {
    /// The top-level object, its keys and punctuation.
    TopLevel,
    /// The `snapshot` object (`meta`, `node_count`, `edge_count`).
    Header,
    /// The `nodes` array.
    Nodes,
    /// The `edges` array.
    Edges,
    /// The `locations` array.
    Locations,
    /// The `strings` array.
    Strings,
    /// A value the parser skips (`trace_tree`, `samples`, unknown keys).
    Skipped,
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TopLevel => "the top-level object",
            Self::Header => "the snapshot header",
            Self::Nodes => "the nodes array",
            Self::Edges => "the edges array",
            Self::Locations => "the locations array",
            Self::Strings => "the strings array",
            Self::Skipped => "a skipped value",
        })
    }
}

/// Coarse groups of [`ParseError`], e.g. to choose an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Reading failed (the operating system reported an error).
    Io,
    /// The input is something else: not JSON, gzip, a `.heapprofile`, another JSON document.
    NotHeapSnapshot,
    /// The input ends early: the writer was probably killed.
    Truncated,
    /// The input is a snapshot but damaged or inconsistent.
    Corrupt,
    /// The snapshot exceeds what the compact graph can index (more than 2^32 - 1 nodes or edges).
    TooLarge,
}

/// Why a snapshot could not be parsed. See the module docs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The reader returned an error.
    #[error("cannot read the snapshot (at byte {offset})")]
    Io {
        /// Bytes successfully read before the error.
        offset: u64,
        /// The reader's error.
        source: std::io::Error,
    },
    /// The input is not a heap snapshot at all.
    #[error(
        "file does not look like a V8 .heapsnapshot (expected it to start with {{\"snapshot\":...): {}",
        escaped(detail, DETAIL)
    )]
    NotHeapSnapshot {
        /// What was found instead.
        detail: String,
    },
    /// The input starts with the gzip magic bytes.
    #[error(
        "file is gzip-compressed, not a V8 .heapsnapshot: decompress it first (e.g. `gunzip -k FILE`) and pass the result"
    )]
    Gzip,
    /// The input is a sampling heap profile (`{"head": ...}`), not a snapshot.
    #[error(
        "file is a sampling heap profile (.heapprofile), not a V8 .heapsnapshot: pass it where heap profiles are accepted, or take a snapshot with v8.writeHeapSnapshot()"
    )]
    HeapProfile,
    /// The input ends before the snapshot is complete.
    #[error(
        "snapshot truncated at byte {offset} inside {section}: was the process killed while writing it?"
    )]
    Truncated {
        /// Length of the input.
        offset: u64,
        /// Where the input ended.
        section: Section,
    },
    /// A byte that is not allowed where it was found.
    #[error(
        "snapshot is corrupt: syntax error at byte {offset} in {section}: expected {expected}, found {found}"
    )]
    Syntax {
        /// Offset of the offending byte.
        offset: u64,
        /// Where it was found.
        section: Section,
        /// What the parser expected.
        expected: &'static str,
        /// What it found (a quoted character or a byte value).
        found: String,
    },
    /// The `snapshot.meta` object lacks a field or has an unusable one.
    #[error(
        "snapshot meta is unusable: {} (written by an unsupported V8 version, or damaged?)",
        escaped(detail, DETAIL)
    )]
    Meta {
        /// Which field and what is wrong with it.
        detail: String,
    },
    /// An array that needs the field layout came before the `snapshot` object.
    #[error(
        "key \"{}\" at byte {offset} comes before \"snapshot\": the snapshot header must come first, as V8 and DevTools write it; was the file re-serialized by another tool?",
        quoted(key)
    )]
    MetaNotFirst {
        /// The key found first.
        key: String,
        /// Offset of the key.
        offset: u64,
    },
    /// A top-level key appears twice.
    #[error(
        "snapshot is corrupt: key \"{}\" appears a second time at byte {offset}",
        quoted(key)
    )]
    DuplicateKey {
        /// The repeated key.
        key: String,
        /// Offset of the second occurrence.
        offset: u64,
    },
    /// A required top-level array is absent.
    #[error(
        "snapshot has no \"{key}\" array: the file is incomplete or was not written by V8 or DevTools"
    )]
    MissingSection {
        /// The missing key.
        key: &'static str,
    },
    /// Array lengths disagree with `node_count`, `edge_count` or each other.
    #[error("snapshot is corrupt: {detail}")]
    CountMismatch {
        /// Which counts disagree.
        detail: String,
    },
    /// An edge's `to_node` or a location's `object_index` is not a node's offset.
    #[error(
        "snapshot is corrupt: {what} {index} at byte {offset} refers to node offset {value}, which is not the start of one of the {node_count} nodes"
    )]
    NodeRef {
        /// `"edge"` or `"location"`.
        what: &'static str,
        /// Ordinal of the edge or location.
        index: u64,
        /// Offset of the row in the file.
        offset: u64,
        /// The offending value.
        value: u64,
        /// Number of nodes.
        node_count: u64,
    },
    /// A node or edge type number outside the `meta` type list.
    #[error(
        "snapshot is corrupt: {what} {index} at byte {offset} has type {value}, but meta lists only {len} {what} types"
    )]
    TypeIndex {
        /// `"node"` or `"edge"`.
        what: &'static str,
        /// Ordinal of the node or edge.
        index: u64,
        /// Offset of the row in the file.
        offset: u64,
        /// The offending value.
        value: u64,
        /// Number of types in `meta`.
        len: usize,
    },
    /// A node name or edge name outside the string table.
    #[error(
        "snapshot is corrupt: {what} {index} at byte {offset} names string {value}, but the strings array holds only {len} strings"
    )]
    StringIndex {
        /// `"node"` or `"edge"`.
        what: &'static str,
        /// Ordinal of the node or edge.
        index: u64,
        /// Offset of the row in the file.
        offset: u64,
        /// The offending value.
        value: u64,
        /// Number of strings.
        len: usize,
    },
    /// The snapshot is bigger than the graph's `u32` indices allow, or memory ran out.
    #[error("snapshot is too large to analyze: {detail}")]
    TooLarge {
        /// What exceeded which limit.
        detail: String,
    },
}

impl ParseError {
    /// The group this error belongs to.
    #[must_use]
    pub fn kind(&self) -> ParseErrorKind {
        match self {
            Self::Io { .. } => ParseErrorKind::Io,
            Self::NotHeapSnapshot { .. } | Self::Gzip | Self::HeapProfile => {
                ParseErrorKind::NotHeapSnapshot
            }
            Self::Truncated { .. } => ParseErrorKind::Truncated,
            Self::TooLarge { .. } => ParseErrorKind::TooLarge,
            Self::Syntax { .. }
            | Self::Meta { .. }
            | Self::MetaNotFirst { .. }
            | Self::DuplicateKey { .. }
            | Self::MissingSection { .. }
            | Self::CountMismatch { .. }
            | Self::NodeRef { .. }
            | Self::TypeIndex { .. }
            | Self::StringIndex { .. } => ParseErrorKind::Corrupt,
        }
    }

    /// The byte offset the error refers to, when it has one.
    #[must_use]
    pub fn offset(&self) -> Option<u64> {
        match self {
            Self::Io { offset, .. }
            | Self::Truncated { offset, .. }
            | Self::Syntax { offset, .. }
            | Self::MetaNotFirst { offset, .. }
            | Self::DuplicateKey { offset, .. }
            | Self::NodeRef { offset, .. }
            | Self::TypeIndex { offset, .. }
            | Self::StringIndex { offset, .. } => Some(*offset),
            Self::NotHeapSnapshot { .. }
            | Self::Gzip
            | Self::HeapProfile
            | Self::Meta { .. }
            | Self::MissingSection { .. }
            | Self::CountMismatch { .. }
            | Self::TooLarge { .. } => None,
        }
    }
}

/// The most bytes of a key (or other text from the input) a message quotes.
pub(crate) const QUOTED: usize = 60;

/// Text from the input as a message quotes it: at most [`QUOTED`] bytes (`…` where it
/// was cut), control characters escaped (`\u{1b}`), so a hostile key can neither make a
/// message as long as itself nor drive the terminal that shows it.
pub(crate) fn quoted(text: &str) -> String {
    escaped(text, QUOTED)
}

/// The most bytes of a detail (which may quote a `meta` list) a message shows.
pub(crate) const DETAIL: usize = 300;

/// `text` with control characters escaped (`\u{1b}`), cut to at most `max` bytes (`…` where
/// cut, at a character boundary).
pub(crate) fn escaped(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let before = out.len();
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        if out.len() > max {
            out.truncate(before);
            out.push('…');
            break;
        }
    }
    out
}

/// Describes a byte for "found ..." in messages: `'x'` when printable ASCII, else its value.
pub(crate) fn describe_byte(b: u8) -> String {
    if b.is_ascii_graphic() || b == b' ' {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `snapshot` fuzz target: a first key of NUL bytes (written as `\u0000`)
    /// went into the message raw, and a key can be 1 KiB long.
    #[test]
    fn quoted_keys_are_short_and_escaped() {
        let e = ParseError::DuplicateKey {
            key: format!("s\0\u{1b}[31m{}", "k".repeat(1000)),
            offset: 7,
        };
        let message = e.to_string();
        assert!(!message.chars().any(char::is_control), "{message:?}");
        assert!(message.contains("s\\u{0}\\u{1b}[31mkkk"), "{message}");
        assert!(message.contains("k…\" appears"), "{message}");
        assert!(message.len() < 200, "{message}");
        assert_eq!(quoted("snapshot"), "snapshot");
    }

    /// Found by the `snapshot` fuzz target: a `meta` field list quoted in a `Meta` detail
    /// carried DEL characters (JSON does not escape them) into the message, at any length.
    #[test]
    fn meta_details_are_escaped_and_bounded() {
        let detail = format!(
            "meta.location_fields has no \"script_id\" (it is [\"s{}\"])",
            "\u{7f}".repeat(2000)
        );
        let message = ParseError::Meta { detail }.to_string();
        assert!(!message.chars().any(char::is_control), "{message:?}");
        assert!(message.contains("[\"s\\u{7f}\\u{7f}"), "{message}");
        assert!(message.len() < 512, "{} bytes", message.len());
    }
}
