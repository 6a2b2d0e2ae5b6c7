//! [`ProfileError`]: why bytes are not a usable sampling heap profile, with what to do next.

use thiserror::Error;

/// Why a `.heapprofile` could not be read.
#[derive(Debug, Error)]
pub enum ProfileError {
    /// Reading the input failed.
    #[error("cannot read the profile")]
    Io(#[from] std::io::Error),
    /// The input is empty (or only whitespace).
    #[error("file is empty: a sampling heap profile is a JSON object with a \"head\" call tree")]
    Empty,
    /// The input is a V8 heap snapshot, not a sampling heap profile.
    #[error(
        "file is a V8 heap snapshot (.heapsnapshot), not a sampling heap profile (.heapprofile): \
         compare snapshots with snapshots and profiles with profiles"
    )]
    HeapSnapshot,
    /// The input is gzip-compressed.
    #[error("file is gzip-compressed: decompress it first (gunzip)")]
    Gzip,
    /// The input is longer than any sampling heap profile ([`crate::MAX_BYTES`]).
    #[error(
        "file is larger than {} MiB, far more than a sampling heap profile (kilobytes to a few megabytes): not a profile",
        limit >> 20
    )]
    TooLarge {
        /// [`crate::MAX_BYTES`].
        limit: u64,
    },
    /// The input does not start with a JSON object.
    #[error(
        "not a sampling heap profile: expected a JSON object at byte {offset}, found {found:?}"
    )]
    NotProfile {
        /// Byte offset of the first significant character.
        offset: u64,
        /// That character.
        found: char,
    },
    /// The input ends in the middle of the JSON document.
    #[error(
        "profile truncated at byte {offset}: was the process killed or the disk full while it was written?"
    )]
    Truncated {
        /// Length of the input, where the JSON stops.
        offset: u64,
    },
    /// The input is not valid JSON.
    #[error("not valid JSON at byte {offset} (line {line}, column {column}): {message}")]
    NotJson {
        /// Byte offset of the error.
        offset: u64,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// `serde_json`'s description.
        message: String,
    },
    /// A JSON object without the `head` call tree.
    #[error(
        "JSON without a \"head\" call tree: not a sampling heap profile (save one with DevTools' \
         Allocation sampling or HeapProfiler.getSamplingProfile)"
    )]
    MissingHead,
    /// A field is missing or has the wrong type.
    #[error(
        "not a sampling heap profile at byte {offset} (line {line}, column {column}): {message}"
    )]
    WrongType {
        /// Byte offset of the offending value.
        offset: u64,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// `serde_json`'s description (`invalid type: string "x", expected u64`).
        message: String,
    },
    /// A size is negative, above [`crate::MAX_SIZE`], or not finite.
    #[error(
        "node {node_id} has an invalid selfSize {value}: sizes are byte counts of at most 2^53 (8 PiB)"
    )]
    InvalidSize {
        /// V8 id of the node.
        node_id: u64,
        /// The value found.
        value: f64,
    },
    /// The sizes add up to more than [`crate::MAX_SIZE`]: no process has that much memory.
    #[error(
        "the selfSize values add up to more than {limit} bytes (8 PiB) at node {node_id}: not a real profile"
    )]
    TotalTooLarge {
        /// V8 id of the node whose size made the sum too large.
        node_id: u64,
        /// [`crate::MAX_SIZE`].
        limit: u64,
    },
    /// The call tree nests deeper than any V8 profile does (V8 records at most 128 frames).
    #[error(
        "JSON nests {depth} levels deep at byte {offset}, more than a sampling heap profile can (limit {limit})"
    )]
    TooDeep {
        /// The depth reached.
        depth: usize,
        /// Where.
        offset: u64,
        /// [`crate::MAX_DEPTH`].
        limit: usize,
    },
}
