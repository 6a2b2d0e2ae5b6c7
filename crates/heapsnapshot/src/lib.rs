//! Sans-IO V8 heap snapshot engine: parse `.heapsnapshot` JSON from any `Read` (or from
//! windows of it the caller has in memory, such as a mapped file), build a
//! compact graph, and compute what DevTools computes (dominators, retained sizes,
//! distances, retainer paths), the snapshot diff that names leak suspects, and the
//! summary of one snapshot alone (what holds its memory), and the scrubbed copy of a
//! snapshot whose string values are replaced ([`scrub`]).
//!
//! See `ARCHITECTURE.md` at the repository root for how the pieces fit.

mod bitset;
mod class;
pub mod distance;
pub mod dominators;
pub mod ephemeron;
mod error;
pub mod essential;
mod graph;
mod idset;
mod kind;
pub mod leak;
mod order;
mod parse;
mod path;
mod prefetch;
pub mod retainers;
pub mod retention;
pub mod scrub;
mod shape;
mod source;
mod strings;
pub mod summary;
mod tally;
#[cfg(test)]
mod testing;

pub use class::{class_name, kind_class, kind_name};
pub use distance::BASE_SYSTEM_DISTANCE;
pub use ephemeron::{WeakMapEdgeName, parse_weak_map_edge_name};
pub use error::{ParseError, ParseErrorKind, Section};
pub use essential::EssentialEdges;
pub use graph::{EdgeEnd, EdgeIdx, EdgeLabel, GraphBuilder, HeapGraph, Location, NodeIdx};
pub use idset::IdSet;
pub use kind::{EdgeKind, NodeKind};
pub use leak::{AnalyzeOptions, DiffError, analyze, report};
pub use order::{chronological, newest_object_id};
pub use parse::{MIN_WINDOW, ParseOptions, Windows, parse, parse_windows};
pub use retainers::{LookupError, RetainerOptions, Target, retainers};
pub use retention::Retention;
pub use strings::{StrIdx, StringTable};
pub use summary::{SummaryOptions, summarize};
