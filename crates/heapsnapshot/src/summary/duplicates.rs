//! Strings whose value is stored more than once, and the bytes one copy each would save.
//!
//! V8 writes every distinct text once in the snapshot's `strings` array and names each
//! string node by its index there, so two string nodes with the same name index hold the
//! same value (as far as V8 writes it: the first 1,024 characters — longer strings also
//! need the same size to count as copies). Only flat strings count: a concatenated or
//! sliced string does not hold its characters.
//!
//! Values are left out of the report unless asked for (`show_strings`): they may be
//! passwords, tokens or personal data.

use std::collections::HashMap;

use super::report::{DuplicatedString, DuplicatedStrings};
use crate::path::{path_steps, path_text};
use crate::{HeapGraph, NodeIdx, NodeKind, Retention};

/// Characters of a value shown in the report.
const SHOWN_CHARS: usize = 80;

/// One value: its name index and the size of each copy.
type Value = (u32, u32);

/// The duplicated strings of `g`, the `top` wasting most first.
#[must_use]
pub(super) fn duplicated_strings(
    g: &HeapGraph,
    ret: &Retention,
    top: usize,
    show_strings: bool,
) -> DuplicatedStrings {
    let copies = count_copies(g, ret);
    let mut duplicated: Vec<(u64, Value, u64)> = copies
        .into_iter()
        .filter(|&(_, count)| count > 1)
        .map(|(value, count)| ((count - 1) * u64::from(value.1), value, count))
        .collect();
    let wasted_bytes = duplicated.iter().map(|&(wasted, ..)| wasted).sum();
    let values = duplicated.len() as u64;
    duplicated.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    duplicated.truncate(top);
    let examples = first_copies(g, ret, &duplicated);
    let top = duplicated
        .iter()
        .zip(examples)
        .enumerate()
        .map(|(i, (&(wasted, (_, size), count), example))| {
            let text = g.name(example);
            DuplicatedString {
                rank: i + 1,
                wasted_bytes: wasted,
                copies: count,
                bytes_each: u64::from(size),
                length: text.chars().count() as u64,
                value: show_strings.then(|| shown(text)),
                example_id: g.id(example),
                path_text: path_text(&path_steps(g, &ret.retainer_path(g, example))),
            }
        })
        .collect();
    DuplicatedStrings {
        wasted_bytes,
        values,
        top,
    }
}

/// Copies per value among the reachable flat strings. A column per name index holds the
/// count and size of the first size seen; other sizes of the same name (long strings that
/// V8 cut at the same prefix) go to a map.
fn count_copies(g: &HeapGraph, ret: &Retention) -> Vec<(Value, u64)> {
    let mut count = vec![0u32; g.strings.len()];
    let mut size = vec![0u32; g.strings.len()];
    let mut other_sizes: HashMap<Value, u64> = HashMap::new();
    for n in g.nodes() {
        if g.kind(n) != NodeKind::String || !ret.is_reachable(n) {
            continue;
        }
        let (name, bytes) = (g.node_name[n.ix()].0, g.self_size[n.ix()]);
        let i = name as usize;
        if count[i] == 0 || size[i] == bytes {
            count[i] = count[i].saturating_add(1);
            size[i] = bytes;
        } else {
            *other_sizes.entry((name, bytes)).or_default() += 1;
        }
    }
    count
        .iter()
        .zip(&size)
        .enumerate()
        .filter(|(_, (count, _))| **count > 0)
        .map(|(name, (&count, &size))| ((name as u32, size), u64::from(count)))
        .chain(other_sizes)
        .collect()
}

/// The first reachable copy of each value of `duplicated`, in its order.
fn first_copies(g: &HeapGraph, ret: &Retention, duplicated: &[(u64, Value, u64)]) -> Vec<NodeIdx> {
    let wanted: HashMap<Value, usize> = duplicated
        .iter()
        .enumerate()
        .map(|(i, &(_, value, _))| (value, i))
        .collect();
    let mut first = vec![None; duplicated.len()];
    for n in g.nodes() {
        if g.kind(n) != NodeKind::String || !ret.is_reachable(n) {
            continue;
        }
        let value = (g.node_name[n.ix()].0, g.self_size[n.ix()]);
        if let Some(&i) = wanted.get(&value) {
            first[i].get_or_insert(n);
        }
    }
    first
        .into_iter()
        .map(|n| n.expect("every duplicated value has copies"))
        .collect()
}

/// The first [`SHOWN_CHARS`] characters of `text`, with `…` when there is more.
fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EdgeKind;

    #[test]
    fn copies_of_one_value_waste_all_but_one_and_values_stay_hidden() {
        let (mut b, _, global) = crate::testing::with_global(10);
        let list = b.node(NodeKind::Object, "Array", 16);
        b.edge(global, EdgeKind::Property, "tokens", list);
        let values = ["secret-0", "secret-1", "secret-0", "secret-0", "unique"];
        for (i, value) in values.iter().enumerate() {
            let s = b.node(NodeKind::String, value, 32);
            b.element(list, EdgeKind::Element, i as u32, s);
        }
        // Same text, other size (V8 cut a long string): not a copy of the others.
        let long = b.node(NodeKind::String, "secret-0", 4096);
        b.element(list, EdgeKind::Element, 9, long);
        // Unreachable copies do not count.
        b.node(NodeKind::String, "secret-1", 32);
        let g = b.build();
        let ret = Retention::compute(&g);
        let hidden = duplicated_strings(&g, &ret, 10, false);
        assert_eq!((hidden.wasted_bytes, hidden.values), (64, 1));
        let row = &hidden.top[0];
        assert_eq!((row.copies, row.bytes_each, row.length), (3, 32, 8));
        assert_eq!(row.value, None);
        assert_eq!(row.path_text, "global > tokens > [] > (string)");
        let shown = duplicated_strings(&g, &ret, 10, true);
        assert_eq!(shown.top[0].value.as_deref(), Some("secret-0"));
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(100);
        assert_eq!(shown(&long).chars().count(), SHOWN_CHARS + 1);
        assert_eq!(shown("short"), "short");
    }
}
