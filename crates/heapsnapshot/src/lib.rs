//! Sans-IO V8 heap snapshot engine: parse `.heapsnapshot` JSON from any `Read`, build a
//! compact graph, and compute what DevTools computes (dominators, retained sizes,
//! distances, retainer paths) plus the snapshot diff that names leak suspects.
//!
//! See `ARCHITECTURE.md` at the repository root for how the pieces fit.

mod error;
mod graph;
mod kind;
mod parse;
mod strings;

pub use error::{ParseError, ParseErrorKind, Section};
pub use graph::{EdgeIdx, EdgeLabel, GraphBuilder, HeapGraph, Location, NodeIdx};
pub use kind::{EdgeKind, NodeKind};
pub use parse::{ParseOptions, parse};
pub use strings::{StrIdx, StringTable};
