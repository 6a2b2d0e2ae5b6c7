//! Property tests: truncated, mutated or oddly chunked input never panics; a cut file is
//! always reported as truncated at its length; any graph that comes out is consistent.

mod parse_support;

use memwatchdog_heapsnapshot::{HeapGraph, ParseError, ParseOptions, parse};
use parse_support::{Parts, digest, parse_chunked, parse_windowed};
use proptest::prelude::*;

/// The sample with more nodes and longer numbers, so the scanner's fast path and buffer
/// boundaries both get exercised.
fn bigger_sample() -> String {
    let mut p = Parts::node20();
    let extra = 40u64;
    for k in 0..extra {
        p.nodes
            .push(vec![3, 2, 1_000_001 + 2 * k, 123_456_789 + k, 1, 0, 0]);
        p.edges.push(vec![2, 3, (6 + (k + 1) % extra) * 7]);
    }
    p.node_count = (6 + extra).to_string();
    p.edge_count = (7 + extra).to_string();
    p.to_json()
}

/// What the rest of the engine relies on: indices in range, CSR well formed.
fn assert_consistent(g: &HeapGraph, opts: ParseOptions) {
    let n = g.node_count();
    assert!(n > 0);
    for col in [g.node_name.len(), g.node_id.len(), g.self_size.len()] {
        assert_eq!(col, n);
    }
    assert_eq!(g.first_edge.len(), n + 1);
    assert!(g.first_edge.windows(2).all(|w| w[0] <= w[1]));
    if opts.edges {
        assert_eq!(*g.first_edge.last().unwrap() as usize, g.edge_count());
    }
    assert_eq!(g.edge_name.len(), g.edge_count());
    assert!(g.edge_end.iter().all(|end| end.to().ix() < n));
    assert!(g.node_name.iter().all(|s| (s.0 as usize) < g.strings.len()));
    for node in g.nodes() {
        for e in g.edges(node) {
            if !g.edge_kind(e).name_is_index() {
                assert!((g.edge_name[e.ix()] as usize) < g.strings.len());
            }
        }
    }
    assert!(g.locations.windows(2).all(|w| w[0].0 <= w[1].0));
    assert!(g.locations.iter().all(|(node, _)| node.ix() < n));
}

fn parse_bytes(bytes: &[u8], opts: ParseOptions) -> Result<HeapGraph, ParseError> {
    parse(bytes, &opts, &mut |_| {})
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Bytes that matter to the grammar are over-represented.
    let byte = prop_oneof![
        3 => prop::sample::select(b"0123456789,[]{}\":\\ \nu-".to_vec()),
        1 => any::<u8>(),
    ];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
    ]
}

fn apply(text: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut out = text.to_vec();
    for m in mutations {
        let len = out.len().max(1);
        match *m {
            Mutation::Replace(i, b) if !out.is_empty() => out[i % len] = b,
            Mutation::Insert(i, b) => out.insert(i % (out.len() + 1), b),
            Mutation::Delete(i) if !out.is_empty() => {
                out.remove(i % len);
            }
            _ => {}
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn truncation_is_always_reported_at_the_cut(cut in any::<prop::sample::Index>()) {
        let text = bigger_sample();
        let cut = cut.index(text.len());
        match parse_bytes(&text.as_bytes()[..cut], ParseOptions::default()) {
            Err(ParseError::Truncated { offset, .. }) => prop_assert_eq!(offset, cut as u64),
            other => prop_assert!(false, "cut at {}: {:?}", cut, other.map(|g| g.node_count())),
        }
    }

    #[test]
    fn mutations_never_panic_and_graphs_stay_consistent(
        mutations in prop::collection::vec(mutation(), 1..4),
        nodes_only in any::<bool>(),
    ) {
        let text = bigger_sample();
        let bad = apply(text.as_bytes(), &mutations);
        let opts = if nodes_only { ParseOptions::NODES_ONLY } else { ParseOptions::FULL };
        if let Ok(g) = parse_bytes(&bad, opts) {
            assert_consistent(&g, opts);
        }
    }

    #[test]
    fn chunked_reads_give_the_same_graph(
        sizes in prop::collection::vec(1usize..80, 1..8),
        mutations in prop::collection::vec(mutation(), 0..2),
    ) {
        let text = apply(bigger_sample().as_bytes(), &mutations);
        let whole = parse_bytes(&text, ParseOptions::default());
        let chunked = parse_chunked(&text, sizes, ParseOptions::default());
        prop_assert_eq!(outcome(&whole), outcome(&chunked));
    }

    #[test]
    fn windows_give_the_same_graph_or_error(
        sizes in prop::collection::vec(16usize..80, 1..8),
        mutations in prop::collection::vec(mutation(), 0..3),
        nodes_only in any::<bool>(),
    ) {
        let text = apply(bigger_sample().as_bytes(), &mutations);
        let opts = if nodes_only { ParseOptions::NODES_ONLY } else { ParseOptions::FULL };
        let read = parse_bytes(&text, opts);
        let windowed = parse_windowed(&text, sizes, opts);
        prop_assert_eq!(outcome(&read), outcome(&windowed));
    }
}

/// The graph's digest or the error's message, to compare two ways of parsing.
fn outcome(parsed: &Result<HeapGraph, ParseError>) -> Result<String, String> {
    parsed.as_ref().map(digest).map_err(ToString::to_string)
}

#[test]
fn the_bigger_sample_parses() {
    let g = parse_bytes(bigger_sample().as_bytes(), ParseOptions::default()).unwrap();
    assert_eq!(g.node_count(), 46);
    assert_eq!(g.self_size[45], 123_456_789 + 39);
    assert_consistent(&g, ParseOptions::default());
}
