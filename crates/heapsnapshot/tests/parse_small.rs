//! Parsing tiny hand-written snapshots: every column, both Node versions' type lists,
//! field orders from `meta`, key orders, whitespace, read sizes and options.

mod parse_support;

use memwatchdog_heapsnapshot::{
    EdgeKind, EdgeLabel, HeapGraph, Location, NodeIdx, NodeKind, ParseError, ParseOptions, parse,
};
use parse_support::{Parts, digest, parse_chunked, parse_str, rows_json};

fn labels(g: &HeapGraph, n: u32) -> Vec<(EdgeKind, String, u32)> {
    g.edges(NodeIdx(n))
        .map(|e| {
            let label = match g.edge_label(e) {
                EdgeLabel::Name(s) => s.to_owned(),
                EdgeLabel::Index(i) => format!("[{i}]"),
            };
            (g.edge_kind(e), label, g.to(e).0)
        })
        .collect()
}

/// Checks every column of the graph described in [`Parts::node20`].
fn assert_sample(g: &HeapGraph) {
    use EdgeKind::{Context, Element, Property, Shortcut};
    use NodeKind::{Closure, Object, String, Synthetic};
    assert_eq!(g.node_count(), 6);
    assert_eq!(g.edge_count(), 7);
    let kinds: Vec<NodeKind> = g.nodes().map(|n| g.kind(n)).collect();
    assert_eq!(
        kinds,
        [Synthetic, Synthetic, Object, Closure, String, Object]
    );
    let names: Vec<&str> = g.nodes().map(|n| g.name(n)).collect();
    assert_eq!(
        names,
        [
            "",
            "(GC roots)",
            "Object",
            "makeThing",
            "hello",
            "system / Context"
        ]
    );
    assert_eq!(g.node_id, [1, 3, 5, 7, 9, 11]);
    assert_eq!(g.self_size, [0, 0, 24, 32, 16, 40]);
    assert_eq!(g.first_edge, [0, 2, 3, 6, 7, 7, 7]);
    assert_eq!(
        labels(g, 0),
        [
            (Shortcut, "(GC roots)".into(), 1),
            (Element, "[1]".into(), 2)
        ]
    );
    assert_eq!(labels(g, 1), [(Element, "[0]".into(), 2)]);
    assert_eq!(
        labels(g, 2),
        [
            (Property, "foo".into(), 3),
            (Property, "bar".into(), 4),
            (Element, "[0]".into(), 4)
        ]
    );
    assert_eq!(labels(g, 3), [(Context, "x".into(), 5)]);
    assert_eq!(
        g.location(NodeIdx(3)),
        Some(Location {
            script_id: 42,
            line: 10,
            column: 4
        })
    );
    assert_eq!(g.location(NodeIdx(2)), None);
    assert_eq!(g.strings.len(), 9);
}

#[test]
fn node20_snapshot_every_column() {
    let g = parse_str(&Parts::node20().to_json()).unwrap();
    assert_sample(&g);
}

#[test]
fn node22_snapshot_has_fifteen_node_types() {
    let mut p = Parts::node22();
    assert_eq!(p.node_types.len(), 15);
    assert_sample(&parse_str(&p.to_json()).unwrap());
    // Type 14 is "object shape" in both versions.
    p.nodes[5][0] = 14;
    let g = parse_str(&p.to_json()).unwrap();
    assert_eq!(g.kind(NodeIdx(5)), NodeKind::ObjectShape);
    // Type 15 exists only in Node 20's list.
    p.nodes[5][0] = 15;
    assert!(parse_str(&p.to_json()).is_err());
    let mut p20 = Parts::node20();
    p20.nodes[5][0] = 15;
    let g = parse_str(&p20.to_json()).unwrap();
    assert_eq!(g.kind(NodeIdx(5)), NodeKind::WasmObject);
}

#[test]
fn type_numbers_come_from_meta_not_from_a_fixed_table() {
    // A future V8 that reorders its enums: the names decide.
    let mut p = Parts::node20();
    p.node_types.reverse(); // 15 - old index
    p.edge_types.reverse(); // 6 - old index
    for row in &mut p.nodes {
        row[0] = 15 - row[0];
    }
    for row in &mut p.edges {
        row[0] = 6 - row[0];
    }
    assert_sample(&parse_str(&p.to_json()).unwrap());
    // Unknown names map to `Other` instead of failing.
    let mut p = Parts::node20();
    p.node_types[4] = "future thing".into();
    p.nodes[4][0] = 4;
    let g = parse_str(&p.to_json()).unwrap();
    assert_eq!(g.kind(NodeIdx(4)), NodeKind::Other);
}

/// Reorders the columns of `fields` and of every row by `perm` (new column i = old perm[i]).
fn permute(fields: &mut Vec<String>, rows: &mut [Vec<u64>], perm: &[usize]) {
    *fields = perm.iter().map(|&i| fields[i].clone()).collect();
    for row in rows {
        *row = perm.iter().map(|&i| row[i]).collect();
    }
}

#[test]
fn field_order_comes_from_meta() {
    let mut p = Parts::node20();
    permute(&mut p.node_fields, &mut p.nodes, &[6, 4, 3, 5, 2, 1, 0]);
    permute(&mut p.edge_fields, &mut p.edges, &[2, 0, 1]);
    let loc = p.location_fields.as_mut().unwrap();
    permute(loc, p.locations.as_mut().unwrap(), &[3, 2, 0, 1]);
    assert_sample(&parse_str(&p.to_json()).unwrap());
}

#[test]
fn six_and_eight_node_fields() {
    // Six fields: no `detachedness` (older V8). `to_node` and `object_index` are then
    // multiples of 6.
    let mut p = Parts::node20();
    p.node_fields.pop();
    for row in &mut p.nodes {
        row.pop();
    }
    for row in &mut p.edges {
        row[2] = row[2] / 7 * 6;
    }
    p.locations.as_mut().unwrap()[0][0] = 3 * 6;
    assert_sample(&parse_str(&p.to_json()).unwrap());
    // Eight fields: one a future V8 might add.
    let mut p = Parts::node20();
    p.node_fields.insert(2, "future_field".into());
    for row in &mut p.nodes {
        row.insert(2, 12345);
    }
    for row in &mut p.edges {
        row[2] = row[2] / 7 * 8;
    }
    p.locations.as_mut().unwrap()[0][0] = 3 * 8;
    assert_sample(&parse_str(&p.to_json()).unwrap());
}

#[test]
fn extra_edge_and_location_fields_are_ignored() {
    let mut p = Parts::node20();
    p.edge_fields.push("future".into());
    for row in &mut p.edges {
        row.push(99);
    }
    p.location_fields
        .as_mut()
        .unwrap()
        .insert(0, "future".into());
    p.locations.as_mut().unwrap()[0].insert(0, 7);
    assert_sample(&parse_str(&p.to_json()).unwrap());
}

#[test]
fn key_order_is_free_after_snapshot() {
    let p = Parts::node20();
    let want = digest(&parse_str(&p.to_json()).unwrap());
    for order in [
        &["snapshot", "strings", "locations", "edges", "nodes"][..],
        &[
            "strings",
            "snapshot",
            "edges",
            "samples",
            "nodes",
            "locations",
        ],
        &[
            "snapshot",
            "trace_tree",
            "nodes",
            "trace_function_infos",
            "edges",
            "locations",
            "strings",
        ],
    ] {
        let g = parse_str(&p.with_order(order)).unwrap();
        assert_eq!(digest(&g), want, "{order:?}");
    }
}

#[test]
fn unknown_keys_of_any_shape_are_skipped() {
    let p = Parts::node20();
    let mut sections = p.sections();
    sections.insert(
        1,
        (
            "future",
            r#"{"a":[1,2,{"b":"]\"}"}],"c":null,"d":-1.5e3,"e":true}"#.to_owned(),
        ),
    );
    sections.insert(3, ("number", "12".to_owned()));
    sections.push(("text", "\"}\\\"]\"".to_owned()));
    let g = parse_str(&parse_support::render(&sections)).unwrap();
    assert_sample(&g);
}

#[test]
fn snapshots_without_locations_parse() {
    let mut p = Parts::node20();
    p.locations = None;
    p.location_fields = None;
    let g = parse_str(&p.to_json()).unwrap();
    assert!(g.locations.is_empty());
    assert_eq!(g.node_count(), 6);
}

#[test]
fn locations_are_sorted_by_node() {
    let mut p = Parts::node20();
    p.locations = Some(vec![
        vec![35, 1, 5, 6],
        vec![21, 42, 10, 4],
        vec![0, 3, 0, 0],
    ]);
    let g = parse_str(&p.to_json()).unwrap();
    let nodes: Vec<u32> = g.locations.iter().map(|(n, _)| n.0).collect();
    assert_eq!(nodes, [0, 3, 5]);
    assert_eq!(g.location(NodeIdx(5)).unwrap().line, 5);
}

#[test]
fn whitespace_and_pretty_printing() {
    let p = Parts::node20();
    let compact = p.to_json();
    let want = digest(&parse_str(&compact).unwrap());
    // The sample's strings hold none of the replaced characters.
    let pretty = compact
        .replace('{', "{\n  ")
        .replace('[', "[\n    ")
        .replace(',', ",\n    ")
        .replace(':', ": ")
        .replace(']', "\n  ]")
        .replace('}', "\n}");
    let minified = compact.replace('\n', "");
    let spaced = format!("\u{feff} \r\n\t{}\n\n", compact.replace(',', " ,\t"));
    for text in [pretty, minified, spaced] {
        assert_eq!(digest(&parse_str(&text).unwrap()), want, "{text}");
    }
}

#[test]
fn tools_that_sort_keys_break_the_order_and_are_told_so() {
    // serde_json (like `jq -S`) writes keys sorted: "edges" before "snapshot".
    let value: serde_json::Value = serde_json::from_str(&Parts::node20().to_json()).unwrap();
    let sorted = serde_json::to_string_pretty(&value).unwrap();
    let err = parse_str(&sorted).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("key \"edges\" at byte 4 comes before \"snapshot\""),
        "{err}"
    );
}

#[test]
fn one_byte_per_read_and_odd_chunks_give_the_same_graph() {
    let text = Parts::node20().to_json();
    let want = digest(&parse_str(&text).unwrap());
    for sizes in [vec![1], vec![2], vec![3, 7], vec![31, 1, 64], vec![4096]] {
        let g = parse_chunked(text.as_bytes(), sizes.clone(), ParseOptions::default()).unwrap();
        assert_eq!(digest(&g), want, "{sizes:?}");
    }
}

#[test]
fn nodes_only_keeps_nodes_and_drops_edges_and_locations() {
    let text = Parts::node20().to_json();
    let full = parse_str(&text).unwrap();
    let g = parse(text.as_bytes(), &ParseOptions::NODES_ONLY, &mut |_| {}).unwrap();
    assert_eq!(g.node_kind, full.node_kind);
    assert_eq!(g.node_name, full.node_name);
    assert_eq!(g.node_id, full.node_id);
    assert_eq!(g.self_size, full.self_size);
    assert_eq!(g.first_edge, [0; 7]);
    assert_eq!(g.edge_count(), 0);
    assert!(g.edge_name.is_empty() && g.edge_end.is_empty());
    assert!(g.locations.is_empty());
    assert_eq!(g.edges(NodeIdx(2)).count(), 0);
    let edges_only = ParseOptions {
        edges: true,
        locations: false,
    };
    let g = parse(text.as_bytes(), &edges_only, &mut |_| {}).unwrap();
    assert_eq!(g.edge_count(), 7);
    assert!(g.locations.is_empty());
    // Skipped edges are not validated (only their end is looked for), kept ones are.
    let mut p = Parts::node20();
    p.edges[3][2] = 700;
    let text = p.to_json();
    assert!(parse(text.as_bytes(), &ParseOptions::NODES_ONLY, &mut |_| {}).is_ok());
    assert!(parse(text.as_bytes(), &ParseOptions::FULL, &mut |_| {}).is_err());
    // A skipped edges array that never ends is still truncation.
    let cut = text.find("\"edges\"").unwrap() + 12;
    let e = parse(
        &text.as_bytes()[..cut],
        &ParseOptions::NODES_ONLY,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(e, ParseError::Truncated { .. }), "{e:?}");
}

#[test]
fn string_escapes_end_to_end() {
    let mut p = Parts::node20();
    p.strings[2] = r#""Ob\"ject\\ \u00e9\uD83D\uDE00 \uD800 \n""#.into();
    p.strings[3] = r#""\uDC00x""#.into();
    let g = parse_str(&p.to_json()).unwrap();
    assert_eq!(g.name(NodeIdx(2)), "Ob\"ject\\ é😀 \u{fffd} \n");
    let e = g.edges(NodeIdx(2)).next().unwrap();
    assert_eq!(g.edge_label(e), EdgeLabel::Name("\u{fffd}x"));
}

#[test]
fn big_sizes_are_carried_big_ids_saturate_and_element_indices_are_not_string_indices() {
    let mut p = Parts::node20();
    p.nodes[2][3] = 5_000_000_000; // self_size beyond u32: carried in 64 bits, not clamped
    p.nodes[3][3] = u64::from(u32::MAX); // exactly the column's marker
    p.nodes[2][2] = u64::MAX; // id
    p.edges[5][1] = 4_000_000_000; // element index: not checked against strings
    let g = parse_str(&p.to_json()).unwrap();
    assert_eq!(g.self_size(NodeIdx(2)), 5_000_000_000);
    assert_eq!(g.self_size(NodeIdx(3)), u64::from(u32::MAX));
    assert_eq!(g.self_size(NodeIdx(4)), 16);
    let retention = memwatchdog_heapsnapshot::Retention::compute(&g);
    assert!(retention.retained(NodeIdx(2)) >= 5_000_000_000);
    assert!(retention.retained(HeapGraph::ROOT) >= 5_000_000_000);
    assert_eq!(g.id(NodeIdx(2)), u32::MAX);
    let e = g.edges(NodeIdx(2)).nth(2).unwrap();
    assert_eq!(g.edge_label(e), EdgeLabel::Index(4_000_000_000));
}

#[test]
fn progress_reports_offsets_up_to_the_end() {
    // Pad with a big skipped value so progress is reported along the way.
    let p = Parts::node20();
    let mut sections = p.sections();
    let pad = rows_json(&vec![vec![1_234_567; 1000]; 2000]);
    sections.insert(3, ("padding", pad));
    let text = parse_support::render(&sections);
    let mut seen = Vec::new();
    parse(text.as_bytes(), &ParseOptions::default(), &mut |at| {
        seen.push(at);
    })
    .unwrap();
    assert!(seen.len() >= 3, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert_eq!(*seen.last().unwrap(), text.len() as u64);
}

#[test]
fn empty_edges_and_strings_are_allowed_when_counts_agree() {
    let mut p = Parts::node20();
    p.nodes = vec![vec![9, 0, 1, 0, 0, 0, 0]];
    p.node_count = "1".into();
    p.edges.clear();
    p.edge_count = "0".into();
    p.locations = Some(Vec::new());
    p.strings = vec!["\"\"".into()];
    let g = parse_str(&p.to_json()).unwrap();
    assert_eq!(g.node_count(), 1);
    assert_eq!(g.first_edge, [0, 0]);
    assert_eq!(g.kind(HeapGraph::ROOT), NodeKind::Synthetic);
}

#[test]
fn detached_nodes_are_kept_where_v8_records_them() {
    let mut p = Parts::node20();
    p.nodes[2][6] = 1; // attached
    p.nodes[5][6] = 2; // detached
    let g = parse_str(&p.to_json()).unwrap();
    assert_eq!(g.detachedness, Some(vec![NodeIdx(5)]));
    assert_sample(&g);
    // Without the field (V8 before 2021) nothing is known: six fields a node.
    p.node_fields.pop();
    for row in &mut p.nodes {
        row.pop();
    }
    for row in p.edges.iter_mut().chain(p.locations.iter_mut().flatten()) {
        let to = if row.len() == 3 { 2 } else { 0 };
        row[to] = row[to] / 7 * 6;
    }
    let g = parse_str(&p.to_json()).unwrap();
    assert_eq!(g.detachedness, None);
    assert_sample(&g);
}
