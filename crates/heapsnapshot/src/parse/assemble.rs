//! Turns the rows of the `nodes`, `edges` and `locations` arrays into [`HeapGraph`] columns,
//! validating each row as it goes.
//!
//! Columns are sized once from `node_count` / `edge_count`. Each row is gathered into a
//! tiny fixed array by role (so the field order of `meta` does not matter) and checked:
//! type numbers against the `meta` enums, `to_node` / `object_index` against the node
//! count. String indices are checked in [`Assembler::finish`], once the string table is
//! known: only the largest index of each kind is remembered while scanning.

use super::ParseOptions;
use super::edges::{EdgeCheck, EdgeColumns, read_edges};
use super::input::Input;
use super::meta::{LOCATION_FIELDS, Layout, NODE_FIELDS};
use super::refill::Refill;
use super::rows::Rows;
use crate::error::{ParseError, Section};
use crate::graph::{HeapGraph, Location, NodeIdx};
use crate::kind::NodeKind;
use crate::strings::{StrIdx, StringTable};

/// Columns are pre-sized for at most this many rows; bigger snapshots grow as needed, so a
/// corrupt count cannot make the parser reserve absurd amounts of memory up front.
const PRESIZE_CAP: usize = 1 << 26;

/// Snapshots with fewer edges are parsed on one thread (a helper would not pay).
const HELPER_MIN_EDGES: u64 = 1 << 20;

/// The largest string index seen in a column, and where.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MaxName {
    pub(crate) value: u64,
    pub(crate) row: u64,
    pub(crate) offset: u64,
}

/// Remembers the row with the largest string index.
#[inline]
pub(crate) fn see(max: &mut Option<MaxName>, value: u64, row: u64, offset: u64) {
    match max {
        Some(m) if m.value >= value => {}
        _ => *max = Some(MaxName { value, row, offset }),
    }
}

/// Fails when the remembered index is outside `strings`.
fn check(
    max: Option<MaxName>,
    what: &'static str,
    strings: &StringTable,
) -> Result<(), ParseError> {
    match max {
        Some(m) if m.value >= strings.len() as u64 => Err(ParseError::StringIndex {
            what,
            index: m.row,
            offset: m.offset,
            value: m.value,
            len: strings.len(),
        }),
        _ => Ok(()),
    }
}

/// Collects the graph columns. See the module docs.
pub(crate) struct Assembler {
    layout: Layout,
    /// What to keep.
    opts: ParseOptions,
    nodes_read: bool,
    edges_read: bool,
    locations_read: bool,
    node_kind: Vec<NodeKind>,
    node_name: Vec<StrIdx>,
    node_id: Vec<u32>,
    self_size: Vec<u32>,
    /// Nodes of `u32::MAX` bytes or more, with their size ([`HeapGraph::big_self_size`]).
    big_self_size: Vec<(NodeIdx, u64)>,
    first_edge: Vec<u32>,
    /// Sum of the nodes' `edge_count` fields.
    edge_sum: u64,
    max_node_name: Option<MaxName>,
    edges: EdgeColumns,
    locations: Vec<(NodeIdx, Location)>,
    detached: Vec<NodeIdx>,
}

/// Reserves `n` (capped) elements, reporting failure as [`ParseError::TooLarge`].
fn presized<T>(n: u32, extra: usize) -> Result<Vec<T>, ParseError> {
    let want = (n as usize).min(PRESIZE_CAP) + extra;
    let mut v = Vec::new();
    v.try_reserve_exact(want)
        .map_err(|_| ParseError::TooLarge {
            detail: format!("cannot allocate memory for {n} rows"),
        })?;
    Ok(v)
}

/// `v / width` when `v` is an exact multiple of `width`; constant divisors for V8's widths.
#[inline]
pub(crate) fn exact_div(v: u64, width: u64) -> Option<u64> {
    let q = match width {
        7 => v / 7,
        6 => v / 6,
        _ => v / width,
    };
    (q * width == v).then_some(q)
}

/// Saturating `u64` → `u32`.
#[inline]
pub(crate) fn sat32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

impl Assembler {
    pub(crate) fn new(layout: Layout, opts: ParseOptions) -> Result<Self, ParseError> {
        let n = layout.node_count;
        let e = if opts.edges { layout.edge_count } else { 0 };
        Ok(Self {
            opts,
            nodes_read: false,
            edges_read: false,
            locations_read: false,
            node_kind: presized(n, 0)?,
            node_name: presized(n, 0)?,
            node_id: presized(n, 0)?,
            self_size: presized(n, 0)?,
            big_self_size: Vec::new(),
            first_edge: if opts.edges {
                presized(n, 1)?
            } else {
                Vec::new()
            },
            edge_sum: 0,
            max_node_name: None,
            edges: EdgeColumns {
                end: presized(e, 0)?,
                name: presized(e, 0)?,
                max_name: None,
            },
            locations: Vec::new(),
            detached: Vec::new(),
            layout,
        })
    }

    /// Reads the `nodes` array.
    pub(crate) fn read_nodes<S: Refill>(
        &mut self,
        input: &mut Input<'_, S>,
        key_offset: u64,
    ) -> Result<(), ParseError> {
        const TYPE: usize = 0;
        const NAME: usize = 1;
        const ID: usize = 2;
        const SIZE: usize = 3;
        const EDGES: usize = 4;
        const DETACHEDNESS: usize = 5;
        const N: usize = NODE_FIELDS.len() + 2;
        const _: () = assert!(N == 7);
        /// V8's `detachedness` value of a detached object.
        const DETACHED: u64 = 2;
        if std::mem::replace(&mut self.nodes_read, true) {
            return Err(duplicate("nodes", key_offset));
        }
        let kinds = &self.layout.node_kinds;
        let node_count = u64::from(self.layout.node_count);
        let edge_count = u64::from(self.layout.edge_count);
        let mut rows = Rows::new(&self.layout.node_roles, |vals: &[u64; N], n, at| {
            if n == node_count {
                return Err(ParseError::CountMismatch {
                    detail: format!(
                        "the nodes array has more than snapshot.node_count = {node_count} rows (extra row at byte {at})"
                    ),
                });
            }
            let Some(&kind) = kinds.get(vals[TYPE] as usize) else {
                return Err(ParseError::TypeIndex {
                    what: "node",
                    index: n,
                    offset: at,
                    value: vals[TYPE],
                    len: kinds.len(),
                });
            };
            self.node_kind.push(kind);
            see(&mut self.max_node_name, vals[NAME], n, at);
            self.node_name.push(StrIdx(sat32(vals[NAME])));
            self.node_id.push(sat32(vals[ID]));
            if vals[SIZE] >= u64::from(u32::MAX) {
                self.big_self_size.push((NodeIdx(n as u32), vals[SIZE]));
            }
            self.self_size.push(sat32(vals[SIZE]));
            if vals[DETACHEDNESS] == DETACHED {
                self.detached.push(NodeIdx(n as u32));
            }
            if self.opts.edges {
                self.first_edge.push(self.edge_sum as u32);
            }
            self.edge_sum = self.edge_sum.saturating_add(vals[EDGES]);
            if self.edge_sum > edge_count {
                return Err(ParseError::CountMismatch {
                    detail: format!(
                        "the nodes' edge_count fields add up to more than snapshot.edge_count = {edge_count} at node {n} (byte {at})"
                    ),
                });
            }
            Ok(())
        });
        input.scan_uint_array(Section::Nodes, &mut rows)?;
        rows.check_complete("nodes")?;
        if rows.count != node_count {
            return Err(ParseError::CountMismatch {
                detail: format!(
                    "the nodes array has {} rows, but snapshot.node_count is {node_count}",
                    rows.count
                ),
            });
        }
        Ok(())
    }

    /// Reads the `edges` array (see [`super::edges`]).
    pub(crate) fn read_edges<S: Refill>(
        &mut self,
        input: &mut Input<'_, S>,
        key_offset: u64,
    ) -> Result<(), ParseError> {
        if std::mem::replace(&mut self.edges_read, true) {
            return Err(duplicate("edges", key_offset));
        }
        if !self.opts.edges {
            return input.skip_uint_array(Section::Edges);
        }
        let edge_count = u64::from(self.layout.edge_count);
        let check = EdgeCheck {
            kinds: &self.layout.edge_kinds,
            node_width: self.layout.node_roles.len() as u64,
            node_count: u64::from(self.layout.node_count),
            edge_count,
        };
        let helper = edge_count >= HELPER_MIN_EDGES
            && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
        let count = read_edges(
            input,
            &self.layout.edge_roles,
            check,
            &mut self.edges,
            helper,
        )?;
        if count != edge_count {
            return Err(ParseError::CountMismatch {
                detail: format!(
                    "the edges array has {count} rows, but snapshot.edge_count is {edge_count}"
                ),
            });
        }
        Ok(())
    }

    /// Reads the `locations` array.
    pub(crate) fn read_locations<S: Refill>(
        &mut self,
        input: &mut Input<'_, S>,
        key_offset: u64,
    ) -> Result<(), ParseError> {
        const OBJECT: usize = 0;
        const SCRIPT: usize = 1;
        const LINE: usize = 2;
        const COLUMN: usize = 3;
        const N: usize = LOCATION_FIELDS.len() + 1;
        const _: () = assert!(N == 5);
        if std::mem::replace(&mut self.locations_read, true) {
            return Err(duplicate("locations", key_offset));
        }
        if !self.opts.locations {
            return input.skip_uint_array(Section::Locations);
        }
        let node_width = self.layout.node_roles.len() as u64;
        let node_count = u64::from(self.layout.node_count);
        let keep = self.opts.locations;
        let mut rows = Rows::new(&self.layout.location_roles, |vals: &[u64; N], n, at| {
            let node = match exact_div(vals[OBJECT], node_width) {
                Some(node) if node < node_count => node,
                _ => {
                    return Err(ParseError::NodeRef {
                        what: "location",
                        index: n,
                        offset: at,
                        value: vals[OBJECT],
                        node_count,
                    });
                }
            };
            if keep {
                self.locations.push((
                    NodeIdx(node as u32),
                    Location {
                        script_id: sat32(vals[SCRIPT]),
                        line: sat32(vals[LINE]),
                        column: sat32(vals[COLUMN]),
                    },
                ));
            }
            Ok(())
        });
        input.scan_uint_array(Section::Locations, &mut rows)?;
        rows.check_complete("locations")
    }

    /// Checks what needs the whole file and returns the graph.
    pub(crate) fn finish(mut self, mut strings: StringTable) -> Result<HeapGraph, ParseError> {
        if !self.nodes_read {
            return Err(ParseError::MissingSection { key: "nodes" });
        }
        if !self.edges_read {
            return Err(ParseError::MissingSection { key: "edges" });
        }
        let edge_count = u64::from(self.layout.edge_count);
        if self.edge_sum != edge_count {
            return Err(ParseError::CountMismatch {
                detail: format!(
                    "the nodes' edge_count fields add up to {}, but snapshot.edge_count is {edge_count}",
                    self.edge_sum
                ),
            });
        }
        check(self.max_node_name, "node", &strings)?;
        check(self.edges.max_name, "edge", &strings)?;
        if self.opts.edges {
            self.first_edge.push(self.edge_sum as u32);
        } else {
            self.first_edge = vec![0; self.node_kind.len() + 1];
        }
        if !self.locations.is_sorted_by_key(|(n, _)| *n) {
            self.locations.sort_unstable_by_key(|(n, _)| *n);
        }
        self.locations.shrink_to_fit();
        strings.shrink_to_fit();
        Ok(HeapGraph {
            node_kind: self.node_kind,
            node_name: self.node_name,
            node_id: self.node_id,
            self_size: self.self_size,
            big_self_size: self.big_self_size,
            first_edge: self.first_edge,
            edge_end: self.edges.end,
            edge_name: self.edges.name,
            strings,
            locations: self.locations,
            detachedness: self.layout.detachedness.then_some(self.detached),
        })
    }
}

fn duplicate(key: &str, offset: u64) -> ParseError {
    ParseError::DuplicateKey {
        key: key.to_owned(),
        offset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_division() {
        assert_eq!(exact_div(14, 7), Some(2));
        assert_eq!(exact_div(15, 7), None);
        assert_eq!(exact_div(12, 6), Some(2));
        assert_eq!(exact_div(10, 5), Some(2));
        assert_eq!(exact_div(u64::MAX, 7), None);
        assert_eq!(exact_div(0, 9), Some(0));
    }

    #[test]
    fn saturation() {
        assert_eq!(sat32(5), 5);
        assert_eq!(sat32(u64::from(u32::MAX) + 1), u32::MAX);
    }
}
