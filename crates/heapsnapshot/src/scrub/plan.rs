//! The first pass: reads a whole snapshot, checks it as the parser does, and collects the
//! string-table indices used as names ([`Plan`]).

use std::io::Read;

use serde_json::Value;

use super::ScrubError;
use super::kept::Kept;
use crate::error::{ParseError, Section};
use crate::parse::assemble::{MaxName, see};
use crate::parse::input::Input;
use crate::parse::json_str::STRING_LIMIT;
use crate::parse::meta::Layout;
use crate::parse::refill::Refill;
use crate::parse::rows::Rows;
use crate::parse::windows::{InPlace, Windows};
use crate::parse::{HEADER_LIMIT, SNAPSHOT_KEYS, sniff};

/// What the second pass needs to know about a snapshot: which string-table entries to
/// keep, and where the table is.
#[derive(Debug)]
pub struct Plan {
    pub(crate) kept: Kept,
    /// Entries of the string table.
    pub(crate) strings: u64,
    /// Offset of the string table's `[`.
    pub(crate) strings_open: u64,
    /// Bytes of the input.
    pub(crate) len: u64,
}

impl Plan {
    /// Entries of the snapshot's string table.
    #[must_use]
    pub fn strings(&self) -> u64 {
        self.strings
    }

    /// Bytes of the snapshot.
    #[must_use]
    pub fn input_len(&self) -> u64 {
        self.len
    }
}

/// Reads the snapshot from `reader` (its first pass). `progress` receives the bytes read
/// so far, every few MB.
///
/// # Errors
/// [`ScrubError::Parse`] for input that is not a valid snapshot, [`ScrubError::UnknownKey`]
/// for a top-level key V8 does not write.
pub fn plan<R: Read>(reader: R, progress: &mut dyn FnMut(u64)) -> Result<Plan, ScrubError> {
    let mut input = Input::new(reader, progress);
    plan_input(&mut input)
}

/// [`plan`] for a snapshot in memory, window by window (a mapped file).
///
/// # Errors
/// As [`plan`].
pub fn plan_windows<W: Windows>(
    windows: W,
    progress: &mut dyn FnMut(u64),
) -> Result<Plan, ScrubError> {
    let mut input = Input::over(InPlace::new(windows), progress);
    plan_input(&mut input)
}

/// The header's layout and the columns of `trace_function_infos` that name strings.
struct Header {
    layout: Layout,
    /// Per `trace_function_infos` column: 0 `name`, 1 `script_name`, 2 neither; `None`
    /// when `meta` does not say.
    trace_roles: Option<Vec<u8>>,
    trace_function_count: u64,
}

/// What the arrays have shown so far.
struct Scan {
    header: Header,
    kept: Kept,
    nodes_read: bool,
    edges_read: bool,
    traces_read: bool,
    edge_sum: u64,
    max_node_name: Option<MaxName>,
    max_edge_name: Option<MaxName>,
}

pub(crate) fn plan_input<S: Refill>(input: &mut Input<'_, S>) -> Result<Plan, ScrubError> {
    const TOP: Section = Section::TopLevel;
    sniff(input)?;
    input.expect(b'{', TOP, "'{'")?;
    let mut top = Top::default();
    if input.peek_required(TOP)? == b'}' {
        input.pos += 1;
    } else {
        let first_key_offset = input.offset();
        loop {
            input.peek_required(TOP)?;
            let key_offset = input.offset();
            let key = input.read_key(&mut top.scratch)?;
            input.expect(b':', TOP, "':' after a key")?;
            top.value(input, key, key_offset, key_offset == first_key_offset)?;
            match input.peek_required(TOP)? {
                b',' => input.pos += 1,
                b'}' => {
                    input.pos += 1;
                    break;
                }
                b => return Err(input.syntax(TOP, "',' or '}' after a value", b).into()),
            }
        }
    }
    if let Some(b) = input.peek_non_ws()? {
        return Err(input.syntax(TOP, "nothing after the closing '}'", b).into());
    }
    let Some(scan) = top.scan else {
        return Err(ParseError::NotHeapSnapshot {
            detail: "its top-level object has no \"snapshot\" key".to_owned(),
        }
        .into());
    };
    let Some((count, open)) = top.strings else {
        return Err(ParseError::MissingSection { key: "strings" }.into());
    };
    scan.finish(count)?;
    Ok(Plan {
        kept: scan.kept,
        strings: count,
        strings_open: open,
        len: input.offset(),
    })
}

/// The top-level object as read so far.
#[derive(Default)]
struct Top {
    /// From the `snapshot` header on.
    scan: Option<Scan>,
    /// The string count and the offset of the table's `[`.
    strings: Option<(u64, u64)>,
    scratch: Vec<u8>,
}

impl Top {
    /// Reads the value of `key`, found at `key_offset`.
    fn value<S: Refill>(
        &mut self,
        input: &mut Input<'_, S>,
        key: String,
        key_offset: u64,
        first: bool,
    ) -> Result<(), ScrubError> {
        let duplicate = |key: String| ParseError::DuplicateKey {
            key,
            offset: key_offset,
        };
        match key.as_str() {
            "snapshot" => {
                if self.scan.is_some() {
                    return Err(duplicate(key).into());
                }
                self.scan = Some(Scan::new(read_header(input)?));
            }
            "nodes" | "edges" | "trace_function_infos" => {
                let Some(scan) = self.scan.as_mut() else {
                    return Err(ParseError::MetaNotFirst {
                        key,
                        offset: key_offset,
                    }
                    .into());
                };
                let seen = match key.as_str() {
                    "nodes" => &mut scan.nodes_read,
                    "edges" => &mut scan.edges_read,
                    _ => &mut scan.traces_read,
                };
                if std::mem::replace(seen, true) {
                    return Err(duplicate(key).into());
                }
                match key.as_str() {
                    "nodes" => scan.nodes(input)?,
                    "edges" => scan.edges(input)?,
                    _ => scan.traces(input)?,
                }
            }
            "locations" => input.skip_uint_array(Section::Locations)?,
            "strings" => {
                if self.strings.is_some() {
                    return Err(duplicate(key).into());
                }
                input.peek_required(Section::Strings)?;
                let open = input.offset();
                self.strings = Some((count_strings(input, &mut self.scratch)?, open));
            }
            "head" if self.scan.is_none() => return Err(ParseError::HeapProfile.into()),
            _ if first && !SNAPSHOT_KEYS.contains(&key.as_str()) => {
                return Err(ParseError::NotHeapSnapshot {
                    detail: format!("its first key is \"{}\"", crate::error::quoted(&key)),
                }
                .into());
            }
            "trace_tree" | "samples" => input.skip_value(Section::Skipped, None, 0)?,
            _ => {
                return Err(ScrubError::UnknownKey {
                    key,
                    offset: key_offset,
                });
            }
        }
        Ok(())
    }
}

/// Reads the `snapshot` object: the layout, and what `trace_function_infos` holds.
fn read_header<S: Refill>(input: &mut Input<'_, S>) -> Result<Header, ParseError> {
    let b = input.peek_required(Section::Header)?;
    let offset = input.offset();
    if b != b'{' {
        return Err(input.syntax(Section::Header, "'{' (the snapshot header object)", b));
    }
    let mut bytes = Vec::new();
    input.skip_value(Section::Header, Some(&mut bytes), HEADER_LIMIT)?;
    let layout = Layout::from_header(&bytes, offset)?;
    // Valid JSON: from_header parsed it.
    let header: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let trace_roles = header["meta"]["trace_function_info_fields"]
        .as_array()
        .filter(|fields| !fields.is_empty() && fields.len() <= 256)
        .map(|fields| {
            fields
                .iter()
                .map(|f| match f.as_str() {
                    Some("name") => 0,
                    Some("script_name") => 1,
                    _ => 2,
                })
                .collect()
        });
    let trace_function_count = header["trace_function_count"]
        .as_u64()
        .unwrap_or(0)
        .min(u64::from(u32::MAX));
    Ok(Header {
        layout,
        trace_roles,
        trace_function_count,
    })
}

/// Reads the `strings` array, checking every string as the parser does, and counts them.
fn count_strings<S: Refill>(
    input: &mut Input<'_, S>,
    scratch: &mut Vec<u8>,
) -> Result<u64, ParseError> {
    const S: Section = Section::Strings;
    input.expect(b'[', S, "'['")?;
    if input.peek_required(S)? == b']' {
        input.pos += 1;
        return Ok(0);
    }
    let mut count = 0;
    loop {
        let b = input.peek_required(S)?;
        if b != b'"' {
            return Err(input.syntax(S, "a string", b));
        }
        input.pos += 1;
        input.read_string_body(S, STRING_LIMIT, scratch, |_| ())?;
        count += 1;
        match input.peek_required(S)? {
            b',' => input.pos += 1,
            b']' => {
                input.pos += 1;
                return Ok(count);
            }
            b => return Err(input.syntax(S, "',' or ']' after a string", b)),
        }
    }
}

impl Scan {
    fn new(header: Header) -> Self {
        let layout = &header.layout;
        let dense = 1
            + u64::from(layout.node_count)
            + u64::from(layout.edge_count)
            + 2 * header.trace_function_count;
        Self {
            kept: Kept::new(dense),
            header,
            nodes_read: false,
            edges_read: false,
            traces_read: false,
            edge_sum: 0,
            max_node_name: None,
            max_edge_name: None,
        }
    }

    /// The `nodes` array: names of nodes that are not strings are kept.
    fn nodes<S: Refill>(&mut self, input: &mut Input<'_, S>) -> Result<(), ParseError> {
        const TYPE: usize = 0;
        const NAME: usize = 1;
        const EDGES: usize = 4;
        let layout = &self.header.layout;
        let kinds = &layout.node_kinds;
        let node_count = u64::from(layout.node_count);
        let edge_count = u64::from(layout.edge_count);
        let (kept, max_name, edge_sum) =
            (&mut self.kept, &mut self.max_node_name, &mut self.edge_sum);
        let mut rows = Rows::new(&layout.node_roles, |vals: &[u64; 7], n, at| {
            if n == node_count {
                return Err(ParseError::CountMismatch {
                    detail: format!(
                        "the nodes array has more than snapshot.node_count = {node_count} rows (extra row at byte {at})"
                    ),
                });
            }
            let Some(kind) = kinds.get(vals[TYPE] as usize) else {
                return Err(ParseError::TypeIndex {
                    what: "node",
                    index: n,
                    offset: at,
                    value: vals[TYPE],
                    len: kinds.len(),
                });
            };
            see(max_name, vals[NAME], n, at);
            if !kind.is_string() {
                kept.insert(vals[NAME]);
            }
            *edge_sum = edge_sum.saturating_add(vals[EDGES]);
            if *edge_sum > edge_count {
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

    /// The `edges` array: names of edges that have one (not elements or hidden edges) are
    /// kept.
    fn edges<S: Refill>(&mut self, input: &mut Input<'_, S>) -> Result<(), ParseError> {
        const TYPE: usize = 0;
        const NAME: usize = 1;
        const TO: usize = 2;
        let layout = &self.header.layout;
        let kinds = &layout.edge_kinds;
        let node_width = layout.node_roles.len() as u64;
        let node_count = u64::from(layout.node_count);
        let edge_count = u64::from(layout.edge_count);
        let (kept, max_name) = (&mut self.kept, &mut self.max_edge_name);
        let mut rows = Rows::new(&layout.edge_roles, |vals: &[u64; 4], n, at| {
            if n == edge_count {
                return Err(ParseError::CountMismatch {
                    detail: format!(
                        "the edges array has more than snapshot.edge_count = {edge_count} rows (extra row at byte {at})"
                    ),
                });
            }
            let Some(kind) = kinds.get(vals[TYPE] as usize) else {
                return Err(ParseError::TypeIndex {
                    what: "edge",
                    index: n,
                    offset: at,
                    value: vals[TYPE],
                    len: kinds.len(),
                });
            };
            if !kind.name_is_index() {
                see(max_name, vals[NAME], n, at);
                kept.insert(vals[NAME]);
            }
            if vals[TO] % node_width != 0 || vals[TO] / node_width >= node_count {
                return Err(ParseError::NodeRef {
                    what: "edge",
                    index: n,
                    offset: at,
                    value: vals[TO],
                    node_count,
                });
            }
            Ok(())
        });
        input.scan_uint_array(Section::Edges, &mut rows)?;
        rows.check_complete("edges")?;
        if rows.count != edge_count {
            return Err(ParseError::CountMismatch {
                detail: format!(
                    "the edges array has {} rows, but snapshot.edge_count is {edge_count}",
                    rows.count
                ),
            });
        }
        Ok(())
    }

    /// The `trace_function_infos` array (allocation tracking): function and script names
    /// are kept. Without `meta.trace_function_info_fields` it is skipped, and the entries
    /// it names are scrubbed unless something else names them.
    fn traces<S: Refill>(&mut self, input: &mut Input<'_, S>) -> Result<(), ParseError> {
        let Some(roles) = &self.header.trace_roles else {
            return input.skip_value(Section::Skipped, None, 0);
        };
        let kept = &mut self.kept;
        let mut rows = Rows::new(roles, |vals: &[u64; 3], _, _| {
            kept.insert(vals[0]);
            kept.insert(vals[1]);
            Ok(())
        });
        input.scan_uint_array(Section::Skipped, &mut rows)?;
        rows.check_complete("trace_function_infos")
    }

    /// Checks what needs the whole file: the edge total and the string indices.
    fn finish(&self, strings: u64) -> Result<(), ParseError> {
        if !self.nodes_read {
            return Err(ParseError::MissingSection { key: "nodes" });
        }
        if !self.edges_read {
            return Err(ParseError::MissingSection { key: "edges" });
        }
        let edge_count = u64::from(self.header.layout.edge_count);
        if self.edge_sum != edge_count {
            return Err(ParseError::CountMismatch {
                detail: format!(
                    "the nodes' edge_count fields add up to {}, but snapshot.edge_count is {edge_count}",
                    self.edge_sum
                ),
            });
        }
        for (max, what) in [(self.max_node_name, "node"), (self.max_edge_name, "edge")] {
            if let Some(m) = max
                && m.value >= strings
            {
                return Err(ParseError::StringIndex {
                    what,
                    index: m.row,
                    offset: m.offset,
                    value: m.value,
                    len: strings as usize,
                });
            }
        }
        Ok(())
    }
}
