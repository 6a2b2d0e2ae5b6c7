//! Keeps the embedded data small whatever the snapshot: a retainer path longer than
//! [`MAX_PATH_STEPS`] hops (a linked list a million nodes long) keeps its first and last
//! hops and says how many were left out.
//!
//! The lists themselves are already bounded by `--top` (suspects, holders, constructors,
//! allocation sites), and a profile's stacks by V8 (128 frames).

use serde_json::{Value, json};

/// The most hops of one retainer path the page carries.
pub const MAX_PATH_STEPS: usize = 64;

/// Cuts every `path` of the rows in `value[list]` (`"suspects"`, `"holders"`) longer than
/// [`MAX_PATH_STEPS`] to its first and last halves, and records the cut as
/// `"path_omitted": {"after": K, "hops": N}` (N hops left out after the K-th).
pub fn bound_paths(value: &mut Value, list: &str) {
    let Some(rows) = value.get_mut(list).and_then(Value::as_array_mut) else {
        return;
    };
    for row in rows {
        let Some(path) = row.get_mut("path").and_then(Value::as_array_mut) else {
            continue;
        };
        if path.len() <= MAX_PATH_STEPS {
            continue;
        }
        let keep = MAX_PATH_STEPS / 2;
        let hops = path.len() - 2 * keep;
        path.drain(keep..keep + hops);
        row["path_omitted"] = json!({ "after": keep, "hops": hops });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_path_keeps_both_ends_and_counts_the_rest() {
        let path: Vec<Value> = (0..1000)
            .map(|i| json!({ "edge": i.to_string() }))
            .collect();
        let mut value = json!({ "suspects": [{ "path": path }, { "path": [{ "edge": "a" }] }] });
        bound_paths(&mut value, "suspects");
        let first = &value["suspects"][0];
        let kept = first["path"].as_array().unwrap();
        assert_eq!(kept.len(), MAX_PATH_STEPS);
        assert_eq!(kept[0]["edge"], "0");
        assert_eq!(kept[MAX_PATH_STEPS / 2 - 1]["edge"], "31");
        assert_eq!(kept[MAX_PATH_STEPS / 2]["edge"], "968");
        assert_eq!(kept[MAX_PATH_STEPS - 1]["edge"], "999");
        assert_eq!(first["path_omitted"], json!({ "after": 32, "hops": 936 }));
        assert!(value["suspects"][1].get("path_omitted").is_none());
    }
}
