//! The heap summary: the stable, serialisable result of analysing one snapshot alone.
//!
//! `mw analyze FILE --json` prints exactly this structure; docs/cli.md documents it field
//! by field, and [`SCHEMA_VERSION`] changes whenever a field is removed or changes meaning.

use memwatchdog_sourcemap::Original;
use memwatchdog_units::{HumanBytes, grouped};
use serde::Serialize;

use crate::leak::report::{ClassBytes, Example, FunctionInfo};

/// Version of the JSON schema of [`HeapSummary`].
pub const SCHEMA_VERSION: u32 = 1;

/// What holds the memory of one snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct HeapSummary {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always `"heap_summary"`: tells this report from a diff or a retainers report.
    pub kind: &'static str,
    /// Size figures of the snapshot.
    pub snapshot: Totals,
    /// Groups of the objects that hold the memory, largest retained size first.
    pub holders: Vec<Holder>,
    /// The collections whose entries hold the most, largest first.
    pub collections: Vec<Collection>,
    /// Strings whose value is stored more than once.
    pub duplicated_strings: DuplicatedStrings,
    /// Closures grouped by function, largest retained size first.
    pub closures: Vec<ClosureGroup>,
    /// Memory outside the JS heap, as V8 records it.
    pub native: NativeMemory,
    /// Objects V8 marked detached; `None` when the snapshot does not record detachedness.
    pub detached: Option<Detached>,
}

impl HeapSummary {
    /// Maps the closures' definition sites (the closure groups' and the holders' examples)
    /// through `map` (for example `memwatchdog_sourcemap::Resolver::resolve`).
    pub fn map_sources(&mut self, mut map: impl FnMut(&str, u32, u32) -> Option<Original>) {
        let holders = self
            .holders
            .iter_mut()
            .filter_map(|h| h.example.function.as_mut());
        for f in holders.chain(self.closures.iter_mut().map(|c| &mut c.function)) {
            f.map_source(&mut map);
        }
    }
}

/// Size figures of one snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    /// Number of nodes.
    pub nodes: u64,
    /// Number of edges.
    pub edges: u64,
    /// Sum of all shallow sizes, in bytes.
    pub total_bytes: u64,
    /// Sum of the shallow sizes of the nodes reachable from the roots.
    pub reachable_bytes: u64,
    /// Nodes not reachable from the roots (garbage V8 had not collected).
    pub unreachable_nodes: u64,
    /// Sum of shallow sizes of native nodes (outside the JS heap), in bytes.
    pub native_bytes: u64,
}

/// Objects that share a retainer path shape and class and hold memory.
#[derive(Debug, Clone, Serialize)]
pub struct Holder {
    /// 1-based rank.
    pub rank: usize,
    /// The group as one line, as the HTML report's verdict and alerts name it:
    /// `Map ×1 retains 9.1 MB, via global > … > sessionCache > Map`.
    pub summary: String,
    /// Sum of the group's retained sizes (no byte counted twice).
    pub retained_bytes: u64,
    /// Number of objects in the group.
    pub count: u64,
    /// The group's class and its example, the object with the largest retained size (its
    /// fields are the holder's in JSON).
    #[serde(flatten)]
    pub example: Example,
    /// What the group's objects keep alive besides themselves, largest first (≤ 3).
    pub holds: Vec<ClassBytes>,
}

impl Holder {
    /// The text of [`summary`](Self::summary): class, count (grouped by thousands), retained
    /// size and the example's retainer path.
    pub(crate) fn summary_text(example: &Example, count: u64, retained_bytes: u64) -> String {
        format!(
            "{} ×{} retains {}, via {}",
            example.class_name,
            grouped(count),
            HumanBytes(retained_bytes),
            example.path_text
        )
    }
}

/// What kind of collection an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CollectionKind {
    /// A `Map` (or a subclass).
    Map,
    /// A `Set` (or a subclass).
    Set,
    /// A `WeakMap`.
    WeakMap,
    /// A `WeakSet`.
    WeakSet,
    /// An `Array`.
    Array,
    /// A plain object used as a dictionary: V8 keeps its properties in a hash table, or
    /// it has indexed properties without being an array.
    Dictionary,
}

/// One collection.
#[derive(Debug, Clone, Serialize)]
pub struct Collection {
    /// 1-based rank.
    pub rank: usize,
    /// Its kind.
    pub kind: CollectionKind,
    /// DevTools class name (`Map`, or the subclass's constructor).
    pub class_name: String,
    /// Entries: for maps and sets decoded from the hash table; for arrays and dictionaries
    /// the entries that reference heap objects (small integers and numbers stored inline
    /// are not in a snapshot).
    pub entries: u64,
    /// What its entries hold: its backing store and the retained size of each entry. The
    /// list is ranked by this: it is the retained size, unless something else holds the
    /// entries too (V8 growing the collection's table near the heap limit); entries held by
    /// several collections count in each.
    pub entries_bytes: u64,
    /// Retained size in bytes: what would be freed without the collection.
    pub retained_bytes: u64,
    /// The variable or property that holds it: the last named edge of its retainer path,
    /// `None` when that edge is an index (an entry of another collection).
    pub variable: Option<String>,
    /// Its retainer path as one line.
    pub path_text: String,
    /// V8 object id.
    pub id: u32,
}

/// Strings stored more than once.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicatedStrings {
    /// Bytes that one copy of each value would save.
    pub wasted_bytes: u64,
    /// Distinct values stored more than once.
    pub values: u64,
    /// The values that waste the most, largest first.
    pub top: Vec<DuplicatedString>,
}

/// One string value stored more than once.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicatedString {
    /// 1-based rank.
    pub rank: usize,
    /// `(copies - 1) * bytes_each`.
    pub wasted_bytes: u64,
    /// Number of string objects with this value.
    pub copies: u64,
    /// Shallow size of each copy.
    pub bytes_each: u64,
    /// Length of the value in characters, as far as V8 records it (at most 1,024).
    pub length: u64,
    /// The value (first 80 characters), only when asked for: strings may be secrets.
    pub value: Option<String>,
    /// V8 object id of one copy.
    pub example_id: u32,
    /// Retainer path of that copy as one line.
    pub path_text: String,
}

/// The closures of one function.
#[derive(Debug, Clone, Serialize)]
pub struct ClosureGroup {
    /// 1-based rank.
    pub rank: usize,
    /// Sum of the closures' retained sizes.
    pub retained_bytes: u64,
    /// Number of closures.
    pub count: u64,
    /// The function and where it is defined.
    pub function: FunctionInfo,
    /// V8 object id of the closure with the largest retained size.
    pub example_id: u32,
    /// Its retainer path as one line.
    pub path_text: String,
}

/// Memory V8 records outside the JS heap (ArrayBuffer backing stores, Node's native
/// objects).
#[derive(Debug, Clone, Serialize)]
pub struct NativeMemory {
    /// Sum of the native nodes' sizes.
    pub bytes: u64,
    /// Number of native nodes.
    pub count: u64,
    /// Native classes with the most bytes, largest first.
    pub classes: Vec<NativeClass>,
}

/// One native class.
#[derive(Debug, Clone, Serialize)]
pub struct NativeClass {
    /// Class name (`system / JSArrayBufferData`, `Node / FSReqCallback`).
    pub class_name: String,
    /// Number of nodes.
    pub count: u64,
    /// Sum of their sizes.
    pub bytes: u64,
    /// V8 object id of the largest.
    pub example_id: u32,
    /// Its retainer path as one line.
    pub path_text: String,
}

/// Objects V8 marked detached (the embedder says they left their document or context).
#[derive(Debug, Clone, Serialize)]
pub struct Detached {
    /// Number of detached objects.
    pub count: u64,
    /// Sum of their shallow sizes.
    pub bytes: u64,
    /// Sum of the retained sizes of the detached objects no other detached object
    /// dominates.
    pub retained_bytes: u64,
    /// Detached classes with the most bytes, largest first.
    pub classes: Vec<ClassBytes>,
}
