//! The leak report: the stable, serialisable result of a snapshot diff.
//!
//! `mw analyze --json` prints exactly this structure; docs/cli.md documents it field by
//! field, and `SCHEMA_VERSION` changes whenever a field is removed or changes meaning.

use memwatchdog_sourcemap::Original;
use memwatchdog_units::{HumanBytes, grouped};
use serde::Serialize;

/// Version of the JSON schema of [`LeakReport`].
pub const SCHEMA_VERSION: u32 = 1;

/// Everything `mw analyze` found in a set of snapshots.
#[derive(Debug, Clone, Serialize)]
pub struct LeakReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The snapshots oldest first, as compared (base, target, and final when present).
    pub snapshots: Vec<SnapshotStats>,
    /// True when the snapshots were not given oldest first and were put in order by
    /// their contents (see [`crate::chronological`]).
    pub reordered: bool,
    /// Objects allocated after the base snapshot that are still alive in the newest one
    /// (with a final snapshot: allocated between base and target, alive in final).
    pub new_objects: u64,
    /// Total shallow size of those objects.
    pub new_bytes: u64,
    /// Leak suspects, largest growth first.
    pub suspects: Vec<Suspect>,
    /// Per-constructor comparison of the newest snapshot against the base (DevTools' Comparison view).
    pub constructors: Vec<ConstructorDelta>,
    /// Memory outside the JS heap (ArrayBuffer backing stores, Node's native objects).
    pub native: NativeGrowth,
}

impl LeakReport {
    /// Maps the closures' definition sites through `map` (for example
    /// `memwatchdog_sourcemap::Resolver::resolve`): see [`FunctionInfo::map_source`].
    pub fn map_sources(&mut self, mut map: impl FnMut(&str, u32, u32) -> Option<Original>) {
        for f in self
            .suspects
            .iter_mut()
            .filter_map(|s| s.example.function.as_mut())
        {
            f.map_source(&mut map);
        }
    }

    /// Records where each snapshot (oldest first) was among the inputs as given:
    /// `positions[i]` is the 0-based input position of `snapshots[i]`.
    pub fn given_as(&mut self, positions: &[usize]) {
        for (stats, &position) in self.snapshots.iter_mut().zip(positions) {
            stats.given = position + 1;
        }
        self.reordered = positions.iter().enumerate().any(|(i, &p)| i != p);
    }
}

/// Size figures of one snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotStats {
    /// 1-based position of this snapshot among the snapshots as given.
    pub given: usize,
    /// Number of nodes.
    pub nodes: u64,
    /// Number of edges (0 for snapshots read without edges).
    pub edges: u64,
    /// Sum of all shallow sizes, in bytes.
    pub total_bytes: u64,
    /// Sum of shallow sizes of native nodes (outside the JS heap), in bytes.
    pub native_bytes: u64,
}

/// One group of new objects that share a retainer path: a leak suspect.
#[derive(Debug, Clone, Serialize)]
pub struct Suspect {
    /// 1-based rank.
    pub rank: usize,
    /// The suspect as one line, as alerts, logs and `mw check` name it:
    /// `AuditEntry ×36,609 (+16.4 MB) held by global > … > auditLog > [] > AuditEntry`.
    pub summary: String,
    /// Growth in bytes: shallow sizes of the group's new objects and of the new objects they dominate.
    pub delta_bytes: u64,
    /// Number of new objects in the group.
    pub delta_count: u64,
    /// Sum of the retained sizes of the group's objects in the newest snapshot.
    pub retained_bytes: u64,
    /// The group's class and one example object (its fields are the suspect's in JSON).
    #[serde(flatten)]
    pub example: Example,
    /// What the group's objects hold on to, largest first (other classes among the new objects they dominate).
    pub holds: Vec<ClassBytes>,
}

impl Suspect {
    /// The text of [`summary`](Self::summary): class, count (grouped by thousands), growth
    /// and the example's retainer path.
    pub(crate) fn summary_text(example: &Example, delta_count: u64, delta_bytes: u64) -> String {
        format!(
            "{} ×{} (+{}) held by {}",
            example.class_name,
            grouped(delta_count),
            HumanBytes(delta_bytes),
            example.path_text
        )
    }
}

/// What a group of objects is and where one of them, its example, is held: the fields a
/// leak suspect and a heap summary's holder share.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    /// DevTools class name of the group's objects (`AuditEntry`, `(closure)`).
    pub class_name: String,
    /// V8 node type (`object`, `closure`, `string`, ...).
    pub node_type: String,
    /// Retainer path from a GC root to the example object, root first.
    pub path: Vec<PathStep>,
    /// The path as one line, with element indices abstracted to `[]`.
    pub path_text: String,
    /// V8 object id of the example object (look it up in DevTools with `@id`).
    pub example_id: u32,
    /// For closures: the function and where it is defined.
    pub function: Option<FunctionInfo>,
}

/// One edge of a retainer path and the node it leads to.
#[derive(Debug, Clone, Serialize)]
pub struct PathStep {
    /// Edge label: property or variable name, or `[N]` for elements.
    pub edge: String,
    /// Edge type (`property`, `context`, `element`, `internal`, `hidden`, `shortcut`).
    pub edge_type: String,
    /// DevTools class name of the node reached.
    pub class_name: String,
    /// Raw V8 name of the node reached (function name for closures, text for strings, truncated).
    pub name: String,
    /// V8 node type of the node reached.
    pub node_type: String,
    /// V8 object id of the node reached.
    pub id: u32,
}

/// A JS function and its definition site.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionInfo {
    /// Function name (`(anonymous)` when it has none).
    pub name: String,
    /// Script file or URL, when the snapshot links it.
    pub file: Option<String>,
    /// 1-based line of the definition, when the snapshot recorded it.
    pub line: Option<u32>,
    /// 1-based column of the definition, when the snapshot recorded it.
    pub column: Option<u32>,
    /// The definition's position in the original source, when the script has a source map
    /// and the report was mapped (`map_sources`); `file`, `line` and `column` stay the
    /// generated position. Absent from the JSON when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<Original>,
}

impl FunctionInfo {
    /// Sets [`original`](Self::original) from `map` (script, 1-based generated line and
    /// column), when the definition site is known.
    pub fn map_source(&mut self, map: &mut impl FnMut(&str, u32, u32) -> Option<Original>) {
        if let (Some(file), Some(line), Some(column)) = (&self.file, self.line, self.column) {
            self.original = map(file, line, column);
        }
    }
}

/// Count and bytes of one class.
#[derive(Debug, Clone, Serialize)]
pub struct ClassBytes {
    /// DevTools class name.
    pub class_name: String,
    /// Number of objects.
    pub count: u64,
    /// Their total shallow size in bytes.
    pub bytes: u64,
}

/// One row of the per-constructor comparison.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConstructorDelta {
    /// DevTools class name.
    pub class_name: String,
    /// Objects in the newest snapshot that were not in the base.
    pub new_count: u64,
    /// Objects in the base that are gone from the newest snapshot.
    pub deleted_count: u64,
    /// `new_count - deleted_count`.
    pub delta_count: i64,
    /// Shallow bytes of the new objects.
    pub alloc_bytes: u64,
    /// Shallow bytes of the deleted objects.
    pub freed_bytes: u64,
    /// `alloc_bytes - freed_bytes`.
    pub delta_bytes: i64,
}

/// Growth of memory held outside the JS heap.
#[derive(Debug, Clone, Serialize)]
pub struct NativeGrowth {
    /// Native bytes in the base snapshot.
    pub base_bytes: u64,
    /// Native bytes in the newest snapshot.
    pub newest_bytes: u64,
    /// `newest_bytes - base_bytes`.
    pub delta_bytes: i64,
    /// The native classes that changed most.
    pub classes: Vec<ConstructorDelta>,
}
