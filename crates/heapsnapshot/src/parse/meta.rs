//! The `snapshot` header: field layout and type names from `meta`, plus the counts.
//!
//! ```text
//! {"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],
//!          "node_types":[["hidden","array",...],"string","number",...],
//!          "edge_fields":["type","name_or_index","to_node"],
//!          "edge_types":[["context","element",...],"string_or_number","node"],
//!          "location_fields":["object_index","script_id","line","column"], ...},
//!  "node_count":39887,"edge_count":181022,"trace_function_count":0}
//! ```
//!
//! Nothing is hard-coded: the column of each field and the meaning of each type number
//! come from the snapshot itself, because they differ between V8 versions.

use serde_json::Value;

use crate::error::ParseError;
use crate::graph::EdgeEnd;
use crate::kind::{EdgeKind, NodeKind};

/// Node fields the parser reads, in role order; see [`Layout::node_roles`].
pub(crate) const NODE_FIELDS: [&str; 5] = ["type", "name", "id", "self_size", "edge_count"];
/// The optional node field V8 writes since 2021 (0 unknown, 1 attached, 2 detached): its
/// role comes after [`NODE_FIELDS`]', and columns the parser ignores take the next slot.
pub(crate) const DETACHEDNESS: &str = "detachedness";
/// Edge fields the parser reads, in role order.
pub(crate) const EDGE_FIELDS: [&str; 3] = ["type", "name_or_index", "to_node"];
/// Location fields the parser reads, in role order.
pub(crate) const LOCATION_FIELDS: [&str; 4] = ["object_index", "script_id", "line", "column"];

/// Everything the array scanners need to know, read from the header.
#[derive(Debug)]
pub(crate) struct Layout {
    /// Per node column: its index in [`NODE_FIELDS`], `NODE_FIELDS.len()` for
    /// [`DETACHEDNESS`], or `NODE_FIELDS.len() + 1` when unused.
    pub node_roles: Vec<u8>,
    /// Whether the nodes have a [`DETACHEDNESS`] column.
    pub detachedness: bool,
    /// Per edge column: its index in [`EDGE_FIELDS`], or `EDGE_FIELDS.len()`.
    pub edge_roles: Vec<u8>,
    /// Per location column: its index in [`LOCATION_FIELDS`], or `LOCATION_FIELDS.len()`.
    pub location_roles: Vec<u8>,
    /// Node type number → kind.
    pub node_kinds: Vec<NodeKind>,
    /// Edge type number → kind.
    pub edge_kinds: Vec<EdgeKind>,
    /// `snapshot.node_count`.
    pub node_count: u32,
    /// `snapshot.edge_count`.
    pub edge_count: u32,
}

impl Layout {
    /// Reads the header from the bytes of the `snapshot` object, found at byte `offset`.
    pub(crate) fn from_header(bytes: &[u8], offset: u64) -> Result<Self, ParseError> {
        let header: Value = serde_json::from_slice(bytes).map_err(|e| ParseError::Meta {
            detail: format!("the \"snapshot\" object at byte {offset} is not valid JSON ({e})"),
        })?;
        let meta = header
            .get("meta")
            .ok_or_else(|| meta_err("snapshot.meta is missing"))?;
        let mut node_roles = roles(meta, "node_fields", &NODE_FIELDS, true)?;
        let detachedness = optional_role(
            meta,
            "node_fields",
            DETACHEDNESS,
            &mut node_roles,
            NODE_FIELDS.len() as u8,
        );
        let edge_roles = roles(meta, "edge_fields", &EDGE_FIELDS, true)?;
        let location_roles = roles(meta, "location_fields", &LOCATION_FIELDS, false)?;
        let node_kinds = type_names(meta, "node_types")?
            .into_iter()
            .map(NodeKind::from_meta_name)
            .collect();
        let edge_kinds = type_names(meta, "edge_types")?
            .into_iter()
            .map(EdgeKind::from_meta_name)
            .collect();
        let node_count = count(&header, "node_count", EdgeEnd::MAX_NODES)?;
        if node_count == 0 {
            return Err(meta_err(
                "snapshot.node_count is 0, but a V8 snapshot always has a root node",
            ));
        }
        let edge_count = count(&header, "edge_count", u32::MAX)?;
        Ok(Self {
            node_roles,
            detachedness,
            edge_roles,
            location_roles,
            node_kinds,
            edge_kinds,
            node_count,
            edge_count,
        })
    }
}

fn meta_err(detail: impl Into<String>) -> ParseError {
    ParseError::Meta {
        detail: detail.into(),
    }
}

/// Maps each column listed in `meta[key]` to its role among `wanted`. A missing optional
/// list means the columns are exactly `wanted`.
fn roles(meta: &Value, key: &str, wanted: &[&str], required: bool) -> Result<Vec<u8>, ParseError> {
    let Some(list) = meta.get(key) else {
        if required {
            return Err(meta_err(format!("meta.{key} is missing")));
        }
        return Ok((0..wanted.len() as u8).collect());
    };
    let names = list
        .as_array()
        .ok_or_else(|| meta_err(format!("meta.{key} is not an array")))?;
    if names.len() > 256 {
        return Err(meta_err(format!("meta.{key} lists {} fields", names.len())));
    }
    let skip = wanted.len() as u8;
    let mut roles = vec![skip; names.len()];
    for (role, want) in wanted.iter().enumerate() {
        let col = names
            .iter()
            .position(|n| n.as_str() == Some(want))
            .ok_or_else(|| meta_err(format!("meta.{key} has no \"{want}\" (it is {list})")))?;
        roles[col] = role as u8;
    }
    Ok(roles)
}

/// Gives the column of `meta[key]` named `name`, when there is one, role `skip` (the slot of
/// the columns [`roles`] left unused), and moves the unused columns one slot up.
fn optional_role(meta: &Value, key: &str, name: &str, roles: &mut [u8], skip: u8) -> bool {
    let names = meta.get(key).and_then(Value::as_array);
    let Some(col) = names.and_then(|names| names.iter().position(|n| n.as_str() == Some(name)))
    else {
        return false;
    };
    for role in roles.iter_mut().filter(|r| **r == skip) {
        *role = skip + 1;
    }
    roles[col] = skip;
    true
}

/// Reads `meta[key][0]`, the list of type names.
fn type_names<'a>(meta: &'a Value, key: &str) -> Result<Vec<&'a str>, ParseError> {
    let list = meta
        .get(key)
        .ok_or_else(|| meta_err(format!("meta.{key} is missing")))?
        .get(0)
        .and_then(Value::as_array)
        .ok_or_else(|| meta_err(format!("meta.{key}[0] is not a list of type names")))?;
    list.iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| meta_err(format!("meta.{key}[0] holds {v}, not a type name")))
        })
        .collect()
}

/// Reads `header[key]` as a count of at most `max` (what the graph's indices can hold).
fn count(header: &Value, key: &str, max: u32) -> Result<u32, ParseError> {
    let v = header
        .get(key)
        .ok_or_else(|| meta_err(format!("snapshot.{key} is missing")))?;
    let n = v
        .as_u64()
        .ok_or_else(|| meta_err(format!("snapshot.{key} is {v}, not a count")))?;
    u32::try_from(n)
        .ok()
        .filter(|&n| n <= max)
        .ok_or_else(|| ParseError::TooLarge {
            detail: format!("snapshot.{key} is {n}; at most {max} are supported"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODE20: &str = r#"{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape","wasm object"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],"location_fields":["object_index","script_id","line","column"]},"node_count":3,"edge_count":2,"trace_function_count":0}"#;

    #[test]
    fn reads_node20_header() {
        let l = Layout::from_header(NODE20.as_bytes(), 12).unwrap();
        assert_eq!(l.node_roles, [0, 1, 2, 3, 4, 6, 5]);
        assert!(l.detachedness);
        assert_eq!(l.edge_roles, [0, 1, 2]);
        assert_eq!(l.location_roles, [0, 1, 2, 3]);
        assert_eq!(l.node_kinds.len(), 16);
        assert_eq!(l.node_kinds[9], NodeKind::Synthetic);
        assert_eq!(l.node_kinds[15], NodeKind::WasmObject);
        assert_eq!(l.edge_kinds[6], EdgeKind::Weak);
        assert_eq!((l.node_count, l.edge_count), (3, 2));
    }

    #[test]
    fn reordered_fields_and_defaults() {
        let h = r#"{"meta":{"node_fields":["edge_count","id","name","type","self_size"],"node_types":[["synthetic","object"]],"edge_fields":["to_node","type","name_or_index","extra"],"edge_types":[["weak"]]},"node_count":1,"edge_count":0}"#;
        let l = Layout::from_header(h.as_bytes(), 0).unwrap();
        assert_eq!(l.node_roles, [4, 2, 1, 0, 3]);
        assert!(!l.detachedness);
        assert_eq!(l.edge_roles, [2, 0, 1, 3]);
        assert_eq!(l.location_roles, [0, 1, 2, 3]);
        assert_eq!(l.node_kinds, [NodeKind::Synthetic, NodeKind::Object]);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("{", "not valid JSON"),
            ("{}", "snapshot.meta is missing"),
            (r#"{"meta":{}}"#, "meta.node_fields is missing"),
            (
                r#"{"meta":{"node_fields":3}}"#,
                "meta.node_fields is not an array",
            ),
            (
                r#"{"meta":{"node_fields":["type"]}}"#,
                "meta.node_fields has no \"name\"",
            ),
        ];
        for (h, want) in cases {
            let err = Layout::from_header(h.as_bytes(), 0).unwrap_err();
            assert!(err.to_string().contains(want), "{h}: {err}");
        }
        // Edits of a good header, and the message each must produce.
        let edits = [
            (
                r#""node_types":[["#,
                r#""node_types":["x",["#,
                "meta.node_types[0] is not a list",
            ),
            (
                r#""node_count":3"#,
                r#""node_count":-3"#,
                "snapshot.node_count is -3, not a count",
            ),
            (
                r#""edge_count":2"#,
                r#""edgecount":2"#,
                "snapshot.edge_count is missing",
            ),
            (
                r#""node_count":3"#,
                r#""node_count":0"#,
                "snapshot.node_count is 0",
            ),
            (
                r#""node_count":3"#,
                r#""node_count":5000000000"#,
                "snapshot.node_count is 5000000000; at most 536870912 are supported",
            ),
            // Node indices share 32 bits with the edge kind: 2^29 nodes at most.
            (
                r#""node_count":3"#,
                r#""node_count":536870913"#,
                "snapshot.node_count is 536870913; at most 536870912 are supported",
            ),
        ];
        for (from, to, want) in edits {
            let h = NODE20.replace(from, to);
            let err = Layout::from_header(h.as_bytes(), 0).unwrap_err();
            assert!(err.to_string().contains(want), "{to}: {err}");
        }
        let most = NODE20.replace(r#""node_count":3"#, r#""node_count":536870912"#);
        assert_eq!(
            Layout::from_header(most.as_bytes(), 0).unwrap().node_count,
            EdgeEnd::MAX_NODES
        );
    }
}
