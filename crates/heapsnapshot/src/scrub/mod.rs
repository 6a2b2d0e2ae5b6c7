//! Scrubbing: a heap snapshot rewritten with the contents of its strings replaced, so it can
//! leave the machine it was taken on (`mw scrub IN OUT`).
//!
//! A snapshot's text is all in its `strings` table, which the `nodes`, `edges` and
//! `trace_function_infos` arrays point into by index. An entry is **kept** when something
//! uses it as a name: the name of a node that is not a string (a class, function, script,
//! symbol or code name, a regexp's source, V8's labels), the name of an edge (a property,
//! variable or internal name), or a trace function's name or script name; and V8's two
//! constant labels `(concatenated string)` and `(sliced string)`. Every other entry is
//! **scrubbed** — the values of string nodes, and whatever nothing points at. A scrubbed
//! entry becomes as many characters of `[A-Za-z0-9]` as it had (Unicode code points, as
//! `mw analyze` counts them), chosen by a keyed hash ([`ScrubKey`]): equal strings stay
//! equal and without the key nothing can be learnt from a replacement. Everything else —
//! header, node and edge rows (`self_size`, ids, types, edge targets), locations, trace
//! data, the whitespace between values — is copied byte for byte, so `mw analyze` finds
//! the same objects with the same sizes and paths.
//!
//! Two passes over the input, each a stream: [`plan`] (or [`plan_windows`]) reads the
//! whole snapshot and collects the kept indices — a bit per string-table entry, the only
//! memory that grows with the input — and [`rewrite`] copies it to the output, replacing
//! the scrubbed entries as it goes. A top-level key V8 does not write is refused: it
//! could hold text that would be copied unscrubbed.

mod kept;
mod keyed;
mod plan;
mod rewrite;
#[cfg(test)]
mod tests;

use thiserror::Error;

use crate::error::ParseError;

pub use keyed::ScrubKey;
pub use plan::{Plan, plan, plan_windows};
pub use rewrite::{ScrubStats, rewrite};

/// Why a snapshot could not be scrubbed.
#[derive(Debug, Error)]
pub enum ScrubError {
    /// The input is not a valid heap snapshot (truncated, corrupt, not a snapshot).
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A top-level key V8 does not write: it could hold text, so it is not copied.
    #[error(
        "snapshot has a top-level key \"{key}\" (at byte {offset}) that mw scrub does not know: it could hold text, so the snapshot is not copied with it unscrubbed"
    )]
    UnknownKey {
        /// The key.
        key: String,
        /// Where it starts.
        offset: u64,
    },
    /// The input read by [`rewrite`] is not the one [`plan`] read.
    #[error("the snapshot changed while it was scrubbed: {detail}")]
    Changed {
        /// What differs.
        detail: String,
    },
    /// The output could not be written.
    #[error("cannot write the scrubbed snapshot")]
    Write(#[source] std::io::Error),
}
