//! The heap snapshot parser as `mw analyze` runs it: from a `Read` (a pipe, the addon) and
//! from windows of a mapped file, with and without edges; then, for a graph that parses, the
//! one-snapshot summary (`mw analyze FILE`).
//!
//! Checks: no panic; both sources give the same graph or the same error; a full parse that
//! succeeds implies a nodes-only parse with the same nodes; a graph's indices are in range
//! and its CSR is well formed; errors are short single lines (`check_message`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use memwatchdog_fuzz::{SliceWindows, Trickle, check_message};
use memwatchdog_heapsnapshot::{
    HeapGraph, ParseError, ParseOptions, Retention, SummaryOptions, parse, parse_windows, summarize,
};

fuzz_target!(|data: &[u8]| {
    // Window and read sizes follow from the length, so every boundary gets its turn
    // without spending input bytes on them.
    let window = 16 + data.len() % 61;
    let sizes = [(1 + data.len() % 13) as u8, 29, 255, 3];

    let read = parse(Trickle::new(data, &sizes), &ParseOptions::FULL, &mut |_| {});
    let mapped = parse_windows(
        SliceWindows { data, size: window },
        &ParseOptions::FULL,
        &mut |_| {},
    );
    assert_eq!(
        outcome(&read),
        outcome(&mapped),
        "Read and windows disagree"
    );
    let nodes_only = parse_windows(
        SliceWindows { data, size: window },
        &ParseOptions::NODES_ONLY,
        &mut |_| {},
    );
    for parsed in [&read, &nodes_only] {
        if let Err(e) = parsed {
            check_message(e, None);
        }
    }
    if let Ok(g) = &nodes_only {
        consistent(g, ParseOptions::NODES_ONLY);
    }
    let Ok(g) = read else { return };
    consistent(&g, ParseOptions::FULL);
    let nodes_only = nodes_only.expect("a snapshot that parses whole parses without its edges");
    assert_eq!(nodes_only.node_id, g.node_id);
    assert_eq!(nodes_only.self_size, g.self_size);
    assert_eq!(nodes_only.node_kind, g.node_kind);

    let retention = Retention::compute(&g);
    let summary = summarize(&g, &retention, &SummaryOptions::default());
    let totals = &summary.snapshot;
    assert_eq!(totals.nodes, g.node_count() as u64);
    assert_eq!(totals.edges, g.edge_count() as u64);
    assert!(totals.reachable_bytes <= totals.total_bytes);
    assert!(totals.native_bytes <= totals.total_bytes);
});

/// The graph's shape, or the error's message, to compare two ways of parsing.
fn outcome(parsed: &Result<HeapGraph, ParseError>) -> Result<(usize, usize, u64), String> {
    parsed
        .as_ref()
        .map(|g| {
            let bytes = g.nodes().map(|n| g.self_size(n)).sum::<u64>();
            (g.node_count(), g.edge_count(), bytes)
        })
        .map_err(ToString::to_string)
}

/// What the rest of the engine relies on: indices in range, CSR well formed.
fn consistent(g: &HeapGraph, opts: ParseOptions) {
    let n = g.node_count();
    assert!(n > 0);
    for col in [
        g.node_name.len(),
        g.node_id.len(),
        g.self_size.len(),
        g.node_kind.len(),
    ] {
        assert_eq!(col, n);
    }
    assert_eq!(g.first_edge.len(), n + 1);
    assert!(g.first_edge.windows(2).all(|w| w[0] <= w[1]));
    if opts.edges {
        assert_eq!(*g.first_edge.last().unwrap() as usize, g.edge_count());
    } else {
        assert_eq!(g.edge_count(), 0);
    }
    assert_eq!(g.edge_name.len(), g.edge_count());
    assert!(g.edge_end.iter().all(|end| end.to().ix() < n));
    assert!(g.node_name.iter().all(|s| (s.0 as usize) < g.strings.len()));
    assert!(g.locations.windows(2).all(|w| w[0].0 <= w[1].0));
    assert!(g.locations.iter().all(|(node, _)| node.ix() < n));
    assert!(
        g.big_self_size
            .iter()
            .all(|(node, size)| node.ix() < n && *size >= u64::from(u32::MAX))
    );
}
