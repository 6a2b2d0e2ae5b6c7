//! `WeakMap` ephemeron edges: how V8 names them and how `DevTools` recognises them.
//!
//! A `WeakMap` entry keeps its value alive only while both the key and the table are
//! alive. V8 (`V8HeapExplorer::ExtractEphemeronHashTableReferences` in
//! `src/profiler/heap-snapshot-generator.cc`) writes this as two `internal` edges to the
//! value, one from the key and one from the table, with the same description:
//!
//! ```text
//! 12 / part of key (Foo @1234) -> value (Bar @5678) pair in WeakMap (table @910)
//! 3 / part of key (Foo @1234) -> value (Bar @5678) pair in WeakMap (table @910)
//! ```
//!
//! The leading number is the edge's position among its source's children (V8's
//! `SetNamedAutoIndexReference`), so it differs between the two edges; the rest — the
//! *pair* text — is identical. Chrome `DevTools` (`HeapSnapshot.tryParseWeakMapEdgeName`
//! in `front_end/entrypoints/heap_snapshot_worker/HeapSnapshot.ts`) matches the names
//! with
//!
//! ```text
//! ^\d+(?<duplicatedPart> \/ part of key \(.*? @\d+\) -> value \(.*? @\d+\) pair in WeakMap \(table @(?<tableId>\d+)\))$
//! ```
//!
//! and uses the match twice: the edge *from the table* is not essential for dominators
//! (see [`crate::essential`]), and the distance BFS skips whichever edge of a pair it
//! meets first (see [`crate::distance`]). [`parse_weak_map_edge_name`] is an exact,
//! regex-free equivalent of that expression (including JavaScript's rule that `.` does
//! not match line terminators).
//!
//! ```
//! use memwatchdog_heapsnapshot::parse_weak_map_edge_name;
//! let m = parse_weak_map_edge_name(
//!     "3 / part of key (Foo @1) -> value (Bar @2) pair in WeakMap (table @7)",
//! )
//! .unwrap();
//! assert_eq!(m.table_id, 7);
//! assert_eq!(m.pair, " / part of key (Foo @1) -> value (Bar @2) pair in WeakMap (table @7)");
//! assert!(parse_weak_map_edge_name("elements").is_none());
//! ```

use std::collections::HashMap;

use crate::{HeapGraph, StrIdx};

/// A parsed `WeakMap` ephemeron edge name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeakMapEdgeName<'a> {
    /// The text shared by the key's and the table's edge (everything after the leading
    /// number, starting with `" / part of key ("`).
    pub pair: &'a str,
    /// The V8 object id of the `WeakMap`'s backing table.
    pub table_id: u64,
}

const KEY_PREFIX: &str = " / part of key (";
const VALUE_SEP: &str = ") -> value (";
const TABLE_SEP: &str = ") pair in WeakMap (table @";

/// Recognises a `WeakMap` ephemeron edge name exactly as `DevTools`' regular expression
/// does; see the module docs.
#[must_use]
pub fn parse_weak_map_edge_name(name: &str) -> Option<WeakMapEdgeName<'_>> {
    // `.` in a JavaScript RegExp matches anything but line terminators, and those could
    // only sit inside the two `.*?` groups.
    if name.contains(['\n', '\r', '\u{2028}', '\u{2029}']) {
        return None;
    }
    let lead = leading_digits(name);
    if lead == 0 {
        return None;
    }
    let pair = &name[lead..];
    let rest = pair.strip_prefix(KEY_PREFIX)?.strip_suffix(')')?;
    let table_digits = trailing_digits(rest);
    if table_digits == 0 {
        return None;
    }
    let (rest, table) = rest.split_at(rest.len() - table_digits);
    let rest = rest.strip_suffix(TABLE_SEP)?;
    let value_id_digits = trailing_digits(rest);
    if value_id_digits == 0 {
        return None;
    }
    // `rest` is now `KEY @<digits>) -> value (VALUE @`: find a separator that follows
    // ` @<digits>`; the key and value names around it may be anything (even contain
    // the separator themselves).
    let rest = rest[..rest.len() - value_id_digits].strip_suffix(" @")?;
    let key_part_ok = rest.match_indices(VALUE_SEP).any(|(at, _)| {
        let before = &rest[..at];
        let id_digits = trailing_digits(before);
        id_digits > 0 && before[..before.len() - id_digits].ends_with(" @")
    });
    if !key_part_ok {
        return None;
    }
    Some(WeakMapEdgeName {
        pair,
        // Digits only; too many for u64 can never equal a node id.
        table_id: table.parse().unwrap_or(u64::MAX),
    })
}

fn leading_digits(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

fn trailing_digits(s: &str) -> usize {
    s.bytes().rev().take_while(u8::is_ascii_digit).count()
}

/// What a string-table entry is, as far as ephemerons go, cached per string so each
/// distinct edge name is parsed once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ephemeron {
    /// Id of the `WeakMap`'s table node.
    pub(crate) table_id: u64,
    /// Dense id of the key/value pair (shared by the key's and the table's edge).
    pub(crate) pair: u32,
}

/// A per-string cache of [`parse_weak_map_edge_name`] results over one graph.
pub(crate) struct EphemeronNames<'g> {
    graph: &'g HeapGraph,
    /// Per string: 0 = not parsed yet, 1 = not an ephemeron name, `k + 2` = `found[k]`.
    state: Vec<u32>,
    found: Vec<Ephemeron>,
    pairs: HashMap<&'g str, u32>,
}

impl<'g> EphemeronNames<'g> {
    pub(crate) fn new(graph: &'g HeapGraph) -> Self {
        Self {
            graph,
            state: vec![0; graph.strings.len()],
            found: Vec::new(),
            pairs: HashMap::new(),
        }
    }

    /// The ephemeron described by string `name`, if it is one.
    pub(crate) fn get(&mut self, name: u32) -> Option<Ephemeron> {
        let &state = self.state.get(name as usize)?;
        match state {
            0 => {
                let text = self.graph.strings.get(StrIdx(name));
                let Some(parsed) = parse_weak_map_edge_name(text) else {
                    self.state[name as usize] = 1;
                    return None;
                };
                let next = self.pairs.len() as u32;
                let pair = *self.pairs.entry(parsed.pair).or_insert(next);
                let e = Ephemeron {
                    table_id: parsed.table_id,
                    pair,
                };
                self.state[name as usize] = self.found.len() as u32 + 2;
                self.found.push(e);
                Some(e)
            }
            1 => None,
            k => Some(self.found[k as usize - 2]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_weak_map_edge_name as parse;

    #[test]
    fn accepts_v8_names() {
        let m = parse("167 / part of key (system / ScopeInfo @67611) -> value (system / Tuple2 @200575) pair in WeakMap (table @2317)").unwrap();
        assert_eq!(m.table_id, 2317);
        assert!(m.pair.starts_with(" / part of key (system / ScopeInfo"));
        // Names may contain parentheses, arrows and even the separators.
        let m = parse(
            "1 / part of key (a) -> value (b @3) @4) -> value (c) @5) pair in WeakMap (table @6)",
        )
        .unwrap();
        assert_eq!(m.table_id, 6);
        // Empty names are fine: `.*?` matches nothing.
        assert!(parse("1 / part of key ( @1) -> value ( @2) pair in WeakMap (table @3)").is_some());
    }

    #[test]
    fn rejects_near_misses() {
        for name in [
            "",
            "elements",
            " / part of key (a @1) -> value (b @2) pair in WeakMap (table @3)",
            "x1 / part of key (a @1) -> value (b @2) pair in WeakMap (table @3)",
            "1 / part of key (a @1) -> value (b @2) pair in WeakMap (table @)",
            "1 / part of key (a @1) -> value (b @2) pair in WeakMap (table @3) ",
            "1 / part of key (a @) -> value (b @2) pair in WeakMap (table @3)",
            "1 / part of key (a @1) -> value (b @x) pair in WeakMap (table @3)",
            "1 / part of key (a @1) -> value (b@2) pair in WeakMap (table @3)",
            "1 / part of key (a\n @1) -> value (b @2) pair in WeakMap (table @3)",
            "1 / part of key (a @1) -> value (b\u{2028} @2) pair in WeakMap (table @3)",
            "part of key (a @1) -> value (b @2) pair in WeakMap (table @3)",
        ] {
            assert!(parse(name).is_none(), "{name:?}");
        }
    }

    #[test]
    fn pair_text_is_shared_by_both_edges() {
        let a = parse("3 / part of key (K @1) -> value (V @2) pair in WeakMap (table @9)").unwrap();
        let b =
            parse("17 / part of key (K @1) -> value (V @2) pair in WeakMap (table @9)").unwrap();
        assert_eq!(a.pair, b.pair);
    }
}
