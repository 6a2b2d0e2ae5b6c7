//! One object's story: the stable, serialisable answer to "why is this object alive".
//!
//! `mw analyze FILE --node ID` (or `--class NAME`) `--json` prints exactly this structure;
//! docs/cli.md documents it, and [`SCHEMA_VERSION`] changes whenever a field is removed or
//! changes meaning.

use serde::Serialize;

use crate::leak::report::PathStep;

/// Version of the JSON schema of [`RetainersReport`].
pub const SCHEMA_VERSION: u32 = 1;

/// The stories of one object, or of a sample of a class's objects.
#[derive(Debug, Clone, Serialize)]
pub struct RetainersReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always `"retainers"`.
    pub kind: &'static str,
    /// With `--class`: the class and how many objects it has; `None` with `--node`.
    pub class: Option<ClassSample>,
    /// One story per object: the object asked for, or the class's objects with the largest
    /// retained sizes.
    pub objects: Vec<ObjectStory>,
}

/// A class and the sample of its objects told.
#[derive(Debug, Clone, Serialize)]
pub struct ClassSample {
    /// DevTools class name.
    pub class_name: String,
    /// Objects of the class in the snapshot.
    pub count: u64,
    /// Their shallow sizes.
    pub bytes: u64,
    /// How many are told (the largest by retained size).
    pub sampled: usize,
}

/// Why one object is alive.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectStory {
    /// V8 object id.
    pub id: u32,
    /// DevTools class name.
    pub class_name: String,
    /// V8 node name (a string's value only when string values are shown).
    pub name: String,
    /// V8 node type.
    pub node_type: String,
    /// Shallow size.
    pub self_bytes: u64,
    /// Bytes freed if it were gone.
    pub retained_bytes: u64,
    /// Whether the roots reach it through retaining edges (if not, V8 frees it at the next
    /// garbage collection).
    pub reachable: bool,
    /// Its dominators, nearest first (at most 20): each of them, once gone, frees it.
    pub dominators: Vec<Dominator>,
    /// The objects that point at it through retaining edges (at most 20).
    pub retainers: Vec<Retainer>,
    /// Retainer paths from the roots (see docs/cli.md for their order).
    pub paths: Vec<RetainerPath>,
    /// True when there may be more paths than listed.
    pub paths_truncated: bool,
}

/// One dominator of an object.
#[derive(Debug, Clone, Serialize)]
pub struct Dominator {
    /// DevTools class name.
    pub class_name: String,
    /// V8 node name (truncated; string values only when shown).
    pub name: String,
    /// V8 object id.
    pub id: u32,
    /// Its retained size.
    pub retained_bytes: u64,
}

/// One edge that keeps an object alive, and where it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct Retainer {
    /// Edge label: property or variable name, or `[N]` for elements.
    pub edge: String,
    /// Edge type.
    pub edge_type: String,
    /// DevTools class name of the retaining object.
    pub class_name: String,
    /// Its V8 node name (truncated; string values only when shown).
    pub name: String,
    /// Its V8 object id.
    pub id: u32,
}

/// One retainer path.
#[derive(Debug, Clone, Serialize)]
pub struct RetainerPath {
    /// Where it starts: `user` (the global object), `system` (V8's root groups) or
    /// `handles` (a handle scope or the stack: only while native code runs).
    pub via: &'static str,
    /// Its number of edges.
    pub length: usize,
    /// Its steps, root side first.
    pub path: Vec<PathStep>,
    /// The path as one line, with every edge's own name or index.
    pub path_text: String,
}
