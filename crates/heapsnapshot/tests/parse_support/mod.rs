//! Tiny hand-written snapshots in V8's exact layout, shared by the `parse_*` tests.
//!
//! [`Parts`] holds each piece of a snapshot separately so a test can change one (a field
//! order, a count, a row) and render the whole file with [`Parts::to_json`].

#![allow(dead_code)] // Each test file uses a different subset.

use std::fmt::Write as _;
use std::io::Read;

use memwatchdog_heapsnapshot::{
    HeapGraph, MIN_WINDOW, ParseError, ParseOptions, Windows, parse, parse_windows,
};

/// `meta.node_types[0]` as Node 20 writes it (16 types).
pub const NODE20_TYPES: &[&str] = &[
    "hidden",
    "array",
    "string",
    "object",
    "code",
    "closure",
    "regexp",
    "number",
    "native",
    "synthetic",
    "concatenated string",
    "sliced string",
    "symbol",
    "bigint",
    "object shape",
    "wasm object",
];

/// `meta.edge_types[0]` as Node 20 and 22 write it.
pub const EDGE_TYPES: &[&str] = &[
    "context", "element", "property", "internal", "hidden", "shortcut", "weak",
];

/// The pieces of a snapshot. Counts are strings so tests can put anything there.
#[derive(Debug, Clone)]
pub struct Parts {
    pub node_fields: Vec<String>,
    pub node_types: Vec<String>,
    pub edge_fields: Vec<String>,
    pub edge_types: Vec<String>,
    pub location_fields: Option<Vec<String>>,
    pub node_count: String,
    pub edge_count: String,
    pub nodes: Vec<Vec<u64>>,
    pub edges: Vec<Vec<u64>>,
    pub locations: Option<Vec<Vec<u64>>>,
    /// Raw JSON string literals, quotes included.
    pub strings: Vec<String>,
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn json_list(list: &[String]) -> String {
    let quoted: Vec<String> = list.iter().map(|s| format!("\"{s}\"")).collect();
    format!("[{}]", quoted.join(","))
}

/// V8's layout of an integer array: rows joined by `\n,`.
pub fn rows_json(rows: &[Vec<u64>]) -> String {
    let rows: Vec<String> = rows
        .iter()
        .map(|r| r.iter().map(u64::to_string).collect::<Vec<_>>().join(","))
        .collect();
    format!("[{}]", rows.join("\n,"))
}

impl Parts {
    /// A six-node graph as Node 20 writes it:
    ///
    /// ```text
    /// 0 synthetic ""          --shortcut "(GC roots)"--> 1, --element [1]--> 2
    /// 1 synthetic "(GC roots)" --element [0]--> 2
    /// 2 object "Object"       --property foo--> 3, --property bar--> 4, --element [0]--> 4
    /// 3 closure "makeThing"   --context x--> 5            (location: script 42, 10:4)
    /// 4 string "hello"
    /// 5 object "system / Context"
    /// ```
    pub fn node20() -> Self {
        let n = |t, name, id, size, edges| vec![t, name, id, size, edges, 0, 0];
        let e = |t, name, to: u64| vec![t, name, to * 7];
        Self {
            node_fields: owned(&[
                "type",
                "name",
                "id",
                "self_size",
                "edge_count",
                "trace_node_id",
                "detachedness",
            ]),
            node_types: owned(NODE20_TYPES),
            edge_fields: owned(&["type", "name_or_index", "to_node"]),
            edge_types: owned(EDGE_TYPES),
            location_fields: Some(owned(&["object_index", "script_id", "line", "column"])),
            node_count: "6".into(),
            edge_count: "7".into(),
            nodes: vec![
                n(9, 0, 1, 0, 2),
                n(9, 1, 3, 0, 1),
                n(3, 2, 5, 24, 3),
                n(5, 5, 7, 32, 1),
                n(2, 8, 9, 16, 0),
                n(3, 6, 11, 40, 0),
            ],
            edges: vec![
                e(5, 1, 1),
                e(1, 1, 2),
                e(1, 0, 2),
                e(2, 3, 3),
                e(2, 4, 4),
                e(1, 0, 4),
                e(0, 7, 5),
            ],
            locations: Some(vec![vec![21, 42, 10, 4]]),
            strings: [
                "",
                "(GC roots)",
                "Object",
                "foo",
                "bar",
                "makeThing",
                "system / Context",
                "x",
                "hello",
            ]
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect(),
        }
    }

    /// The same graph with Node 22's 15 node types (no `wasm object`).
    pub fn node22() -> Self {
        let mut p = Self::node20();
        p.node_types.pop();
        p
    }

    /// The `snapshot` object.
    pub fn header_json(&self) -> String {
        let mut meta = format!(
            "\"node_fields\":{},\"node_types\":[{},\"string\",\"number\",\"number\",\"number\",\"number\",\"number\"],\"edge_fields\":{},\"edge_types\":[{},\"string_or_number\",\"node\"],\"trace_function_info_fields\":[\"function_id\",\"name\",\"script_name\",\"script_id\",\"line\",\"column\"],\"trace_node_fields\":[\"id\",\"function_info_index\",\"count\",\"size\",\"children\"],\"sample_fields\":[\"timestamp_us\",\"last_assigned_id\"]",
            json_list(&self.node_fields),
            json_list(&self.node_types),
            json_list(&self.edge_fields),
            json_list(&self.edge_types),
        );
        if let Some(fields) = &self.location_fields {
            write!(meta, ",\"location_fields\":{}", json_list(fields)).unwrap();
        }
        format!(
            "{{\"meta\":{{{meta}}},\"node_count\":{},\"edge_count\":{},\"trace_function_count\":0}}",
            self.node_count, self.edge_count
        )
    }

    /// The value of each top-level key, in V8's order.
    pub fn sections(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("snapshot", self.header_json()),
            ("nodes", rows_json(&self.nodes)),
            ("edges", rows_json(&self.edges)),
            ("trace_function_infos", "[]".to_owned()),
            ("trace_tree", "[]".to_owned()),
            ("samples", "[]".to_owned()),
        ];
        if let Some(locations) = &self.locations {
            out.push(("locations", rows_json(locations)));
        }
        let strings: Vec<String> = self.strings.iter().map(|s| format!("\n{s}")).collect();
        out.push(("strings", format!("[{}]", strings.join(","))));
        out
    }

    /// The whole file, byte for byte as V8 lays it out.
    pub fn to_json(&self) -> String {
        render(&self.sections())
    }

    /// The whole file with the top-level keys in `order` (others left out).
    pub fn with_order(&self, order: &[&str]) -> String {
        let sections = self.sections();
        let picked: Vec<(&str, String)> = order
            .iter()
            .map(|k| {
                sections
                    .iter()
                    .find(|(name, _)| name == k)
                    .cloned()
                    .unwrap()
            })
            .collect();
        render(&picked)
    }
}

/// Renders `{"key":value,\n"key":value...}` like V8.
pub fn render(sections: &[(&str, String)]) -> String {
    let body: Vec<String> = sections
        .iter()
        .map(|(k, v)| format!("\"{k}\":{v}"))
        .collect();
    format!("{{{}}}", body.join(",\n"))
}

/// Parses with default options and no progress.
pub fn parse_str(s: &str) -> Result<HeapGraph, ParseError> {
    parse(s.as_bytes(), &ParseOptions::default(), &mut |_| {})
}

/// Hands out the input in chunks of the given sizes (cycled), exercising every boundary.
pub struct Chunked<'a> {
    pub data: &'a [u8],
    pub sizes: Vec<usize>,
    pub next: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let size = self.sizes[self.next % self.sizes.len()].max(1);
        self.next += 1;
        let n = size.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Parses handing out `sizes`-byte chunks per `read` call.
pub fn parse_chunked(
    s: &[u8],
    sizes: Vec<usize>,
    opts: ParseOptions,
) -> Result<HeapGraph, ParseError> {
    let reader = Chunked {
        data: s,
        sizes,
        next: 0,
    };
    parse(reader, &opts, &mut |_| {})
}

/// Hands out windows of the input of the given sizes (cycled, at least [`MIN_WINDOW`]),
/// each from the offset asked for: the zero-copy path `mw` takes with mapped files.
pub struct Slices<'a> {
    pub data: &'a [u8],
    pub sizes: Vec<usize>,
    pub next: usize,
}

impl<'a> Windows for Slices<'a> {
    type Window = &'a [u8];

    fn window(&mut self, offset: u64) -> std::io::Result<&'a [u8]> {
        let size = self.sizes[self.next % self.sizes.len()].max(MIN_WINDOW);
        self.next += 1;
        let rest = &self.data[(offset as usize).min(self.data.len())..];
        Ok(&rest[..size.min(rest.len())])
    }
}

/// Parses handing out `sizes`-byte windows.
pub fn parse_windowed(
    s: &[u8],
    sizes: Vec<usize>,
    opts: ParseOptions,
) -> Result<HeapGraph, ParseError> {
    let windows = Slices {
        data: s,
        sizes,
        next: 0,
    };
    parse_windows(windows, &opts, &mut |_| {})
}

/// A comparable rendering of every column of a graph.
pub fn digest(g: &HeapGraph) -> String {
    format!("{g:?}")
}
