//! Streaming parser: V8 `.heapsnapshot` bytes from any [`Read`] ([`parse`]), or from
//! windows of bytes already in memory ([`parse_windows`]) → [`HeapGraph`].
//!
//! The file is read once through a window (a 1 MiB buffer, or the caller's windows),
//! never held whole. The `snapshot` header
//! goes to `serde_json`; the integer arrays go through a hand-written scanner straight
//! into pre-sized columns; the `strings` array through a small JSON string decoder.
//! Unknown keys (`trace_function_infos`, `trace_tree`, `samples`, future ones) are skipped.
//!
//! ```
//! use memwatchdog_heapsnapshot::{parse, ParseOptions, NodeKind};
//! let json = r#"{"snapshot":{"meta":{
//!     "node_fields":["type","name","id","self_size","edge_count"],
//!     "node_types":[["synthetic","object"]],
//!     "edge_fields":["type","name_or_index","to_node"],
//!     "edge_types":[["property","element"]]},
//!   "node_count":2,"edge_count":1},
//!   "nodes":[0,0,1,0,1, 1,1,3,16,0],
//!   "edges":[0,2,5],
//!   "strings":["","Foo","foo"]}"#;
//! let g = parse(json.as_bytes(), &ParseOptions::default(), &mut |_| {}).unwrap();
//! assert_eq!(g.node_count(), 2);
//! assert_eq!(g.kind(g.to(g.edges(g.nodes().next().unwrap()).next().unwrap())), NodeKind::Object);
//! ```

pub(crate) mod assemble;
mod edges;
pub(crate) mod input;
pub(crate) mod json_str;
pub(crate) mod meta;
mod numbers;
pub(crate) mod refill;
pub(crate) mod rows;
mod skip;
pub(crate) mod windows;

use std::io::Read;

use assemble::Assembler;
use input::Input;
use meta::Layout;
use refill::Refill;
use windows::InPlace;
pub use windows::{MIN_WINDOW, Windows};

use crate::error::{ParseError, Section, describe_byte};
use crate::graph::HeapGraph;
use crate::strings::StringTable;

/// The `snapshot` header is a few kilobytes; anything beyond this is not a V8 header.
pub(crate) const HEADER_LIMIT: usize = 16 << 20;

/// What to keep while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Keep the edges. When `false` the `edges` array is skipped at memory speed (only
    /// its end is looked for; its numbers are neither read nor validated),
    /// [`HeapGraph::first_edge`] is all zeros and the edge columns are empty: enough for a
    /// baseline snapshot of a diff, which needs only node ids, names and sizes.
    pub edges: bool,
    /// Keep closure source locations. When `false` the `locations` array is skipped like
    /// the edges (its end found at memory speed, its numbers neither read nor validated).
    pub locations: bool,
}

impl ParseOptions {
    /// Everything: the graph of the snapshot to analyze.
    pub const FULL: Self = Self {
        edges: true,
        locations: true,
    };
    /// Nodes only (ids, names, kinds, sizes): for baseline snapshots of a diff.
    pub const NODES_ONLY: Self = Self {
        edges: false,
        locations: false,
    };
}

impl Default for ParseOptions {
    /// [`ParseOptions::FULL`].
    fn default() -> Self {
        Self::FULL
    }
}

/// Parses a V8 heap snapshot from `reader`.
///
/// `progress` receives the number of bytes read so far, every few MB and once at the end.
/// The reader is read in large chunks; wrapping it in a `BufReader` gains nothing.
///
/// # Errors
/// Every way the input can be wrong is a [`ParseError`] (never a panic): see its variants,
/// and [`ParseError::kind`] to group them.
pub fn parse<R: Read>(
    reader: R,
    opts: &ParseOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<HeapGraph, ParseError> {
    parse_from(Input::new(reader, progress), *opts)
}

/// [`parse`] for a snapshot that is already in memory, such as a file mapped window by
/// window: the bytes are scanned where they are, not copied into a buffer first.
///
/// # Errors
/// As [`parse`]; an error of [`Windows::window`] is [`ParseError::Io`].
pub fn parse_windows<W: Windows>(
    windows: W,
    opts: &ParseOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<HeapGraph, ParseError> {
    parse_from(Input::over(InPlace::new(windows), progress), *opts)
}

fn parse_from<S: Refill>(
    mut input: Input<'_, S>,
    opts: ParseOptions,
) -> Result<HeapGraph, ParseError> {
    let graph = parse_input(&mut input, opts)?;
    input.report_progress();
    Ok(graph)
}

/// The top-level object: dispatches each key to its reader.
pub(crate) fn parse_input<S: Refill>(
    input: &mut Input<'_, S>,
    opts: ParseOptions,
) -> Result<HeapGraph, ParseError> {
    const TOP: Section = Section::TopLevel;
    sniff(input)?;
    input.expect(b'{', TOP, "'{'")?;
    let mut scratch = Vec::new();
    let mut assembler: Option<Assembler> = None;
    let mut strings: Option<StringTable> = None;
    if input.peek_required(TOP)? == b'}' {
        input.pos += 1;
    } else {
        let first_key_offset = input.offset();
        loop {
            input.peek_required(TOP)?;
            let key_offset = input.offset();
            let key = input.read_key(&mut scratch)?;
            input.expect(b':', TOP, "':' after a key")?;
            match key.as_str() {
                "snapshot" => {
                    if assembler.is_some() {
                        return Err(ParseError::DuplicateKey {
                            key,
                            offset: key_offset,
                        });
                    }
                    let layout = read_header(input)?;
                    assembler = Some(Assembler::new(layout, opts)?);
                }
                "nodes" | "edges" | "locations" => {
                    let Some(asm) = assembler.as_mut() else {
                        return Err(header_missing(input, key, key_offset));
                    };
                    match key.as_str() {
                        "nodes" => asm.read_nodes(input, key_offset)?,
                        "edges" => asm.read_edges(input, key_offset)?,
                        _ => asm.read_locations(input, key_offset)?,
                    }
                }
                "strings" => {
                    if strings.is_some() {
                        return Err(ParseError::DuplicateKey {
                            key,
                            offset: key_offset,
                        });
                    }
                    let mut table = StringTable::default();
                    input.scan_string_array(&mut table, &mut scratch)?;
                    strings = Some(table);
                }
                "head" if assembler.is_none() => return Err(ParseError::HeapProfile),
                _ if key_offset == first_key_offset && !SNAPSHOT_KEYS.contains(&key.as_str()) => {
                    return Err(ParseError::NotHeapSnapshot {
                        detail: format!("its first key is \"{}\"", crate::error::quoted(&key)),
                    });
                }
                _ => input.skip_value(Section::Skipped, None, 0)?,
            }
            match input.peek_required(TOP)? {
                b',' => input.pos += 1,
                b'}' => {
                    input.pos += 1;
                    break;
                }
                b => return Err(input.syntax(TOP, "',' or '}' after a value", b)),
            }
        }
    }
    if let Some(b) = input.peek_non_ws()? {
        return Err(input.syntax(TOP, "nothing after the closing '}'", b));
    }
    let Some(assembler) = assembler else {
        return Err(ParseError::NotHeapSnapshot {
            detail: "its top-level object has no \"snapshot\" key".to_owned(),
        });
    };
    let Some(strings) = strings else {
        return Err(ParseError::MissingSection { key: "strings" });
    };
    assembler.finish(strings)
}

/// Top-level keys V8 and DevTools write; a file starting with another key is not a snapshot.
pub(crate) const SNAPSHOT_KEYS: [&str; 8] = [
    "snapshot",
    "nodes",
    "edges",
    "trace_function_infos",
    "trace_tree",
    "samples",
    "locations",
    "strings",
];

/// The error for an array that needs the header before the header: a `.cpuprofile` (whose
/// `nodes` hold objects) is named as such, anything else is told to put `snapshot` first.
fn header_missing<S: Refill>(input: &mut Input<'_, S>, key: String, offset: u64) -> ParseError {
    let looks_like_cpu_profile =
        key == "nodes" && input.peek_non_ws().ok().flatten() == Some(b'[') && {
            input.pos += 1;
            input.peek_non_ws().ok().flatten() == Some(b'{')
        };
    if looks_like_cpu_profile {
        return ParseError::NotHeapSnapshot {
            detail: "it looks like a CPU profile (.cpuprofile): its \"nodes\" hold objects"
                .to_owned(),
        };
    }
    ParseError::MetaNotFirst { key, offset }
}

/// Recognizes gzip files and non-JSON input before anything else; skips a UTF-8 BOM.
pub(crate) fn sniff<S: Refill>(input: &mut Input<'_, S>) -> Result<(), ParseError> {
    input.ensure(3)?;
    let head = &input.src.bytes()[input.pos..input.end];
    if head.starts_with(&[0x1f, 0x8b]) {
        return Err(ParseError::Gzip);
    }
    if head.starts_with(&[0xef, 0xbb, 0xbf]) {
        input.pos += 3;
    }
    match input.peek_non_ws()? {
        None => Err(input.truncated(Section::TopLevel)),
        Some(b'{') => Ok(()),
        Some(b) => Err(ParseError::NotHeapSnapshot {
            detail: format!("found {} at byte {}", describe_byte(b), input.offset()),
        }),
    }
}

/// Collects the `snapshot` object's bytes and reads the layout from them.
fn read_header<S: Refill>(input: &mut Input<'_, S>) -> Result<Layout, ParseError> {
    let b = input.peek_required(Section::Header)?;
    let offset = input.offset();
    if b != b'{' {
        return Err(input.syntax(Section::Header, "'{' (the snapshot header object)", b));
    }
    let mut bytes = Vec::new();
    input.skip_value(Section::Header, Some(&mut bytes), HEADER_LIMIT)?;
    Layout::from_header(&bytes, offset)
}

#[cfg(test)]
mod tests;
