//! Parses a snapshot written by the real `node` on `PATH`.
//!
//! Without `node` the test is skipped with a note, unless `CI=true`, where it fails.

mod parse_support;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Command;

use memwatchdog_heapsnapshot::{
    EdgeKind, EdgeLabel, HeapGraph, NodeKind, ParseError, ParseOptions, Section, parse,
};
use parse_support::{digest, parse_chunked, parse_windowed};

/// Holds a few recognizable objects, then writes a snapshot to `process.argv[1]`.
const PROGRAM: &str = r"
class LeakyThing { constructor(i) { this.i = i; this.label = 'thing-' + i; } }
globalThis.keep = Array.from({ length: 100 }, (_, i) => new LeakyThing(i));
globalThis.plain = { a: 1, b: 'two' };
globalThis.makeCounter = function makeCounter() { let n = 0; return () => ++n; };
globalThis.counter = globalThis.makeCounter();
globalThis.turtle = '\u017c\u00f3\u0142w-' + process.pid;
require('v8').writeHeapSnapshot(process.argv[1]);
";

/// Writes a snapshot with the real `node`; panics with what to install when there is none.
fn write_snapshot(dir: &Path) -> PathBuf {
    let path = dir.join("real.heapsnapshot");
    let out = Command::new("node")
        .arg("-e")
        .arg(PROGRAM)
        .arg(&path)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `node` ({e}): this test needs Node.js (install nodejs)")
        });
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// `node_count` and `edge_count` as written in the header (V8 puts it on the first line).
fn header_counts(bytes: &[u8]) -> (usize, usize) {
    let end = bytes.iter().position(|&b| b == b'\n').unwrap();
    let line = std::str::from_utf8(&bytes[..end]).unwrap();
    let json = format!("{}}}", line.trim_end_matches(','));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let count = |k: &str| v["snapshot"][k].as_u64().unwrap() as usize;
    (count("node_count"), count("edge_count"))
}

/// Nodes reachable from the root over all edges.
fn reachable(g: &HeapGraph) -> usize {
    let mut seen = vec![false; g.node_count()];
    let mut queue = VecDeque::from([HeapGraph::ROOT]);
    seen[0] = true;
    let mut count = 1;
    while let Some(n) = queue.pop_front() {
        for e in g.edges(n) {
            let to = g.to(e);
            if !seen[to.ix()] {
                seen[to.ix()] = true;
                count += 1;
                queue.push_back(to);
            }
        }
    }
    count
}

#[test]
fn real_node_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_snapshot(dir.path());
    let bytes = std::fs::read(&path).unwrap();
    let (node_count, edge_count) = header_counts(&bytes);

    let file = std::fs::File::open(&path).unwrap();
    let mut last = 0;
    let g = parse(file, &ParseOptions::default(), &mut |at| last = at).unwrap();
    assert_eq!(last, bytes.len() as u64);
    assert_eq!(g.node_count(), node_count);
    assert_eq!(g.edge_count(), edge_count);

    // The synthetic root, and (GC roots) right under it.
    assert_eq!(g.kind(HeapGraph::ROOT), NodeKind::Synthetic);
    let gc_roots = g
        .nodes()
        .find(|&n| g.name(n) == "(GC roots)")
        .expect("a (GC roots) node");
    assert_eq!(g.kind(gc_roots), NodeKind::Synthetic);
    assert!(g.edges(HeapGraph::ROOT).any(|e| g.to(e) == gc_roots));

    // Objects by constructor name.
    let named = |name: &str| {
        g.nodes()
            .filter(|&n| g.kind(n) == NodeKind::Object && g.name(n) == name)
            .count()
    };
    assert_eq!(named("LeakyThing"), 100);
    assert!(named("Object") > 0);
    let thing = g
        .nodes()
        .find(|&n| g.kind(n) == NodeKind::Object && g.name(n) == "LeakyThing")
        .unwrap();
    assert!(g.self_size(thing) > 0);
    assert!(g.edges(thing).any(|e| g.edge_kind(e) == EdgeKind::Property
        && matches!(g.edge_label(e), EdgeLabel::Name("label"))));

    // Non-ASCII text arrives as \u escapes and is decoded.
    assert!(
        g.nodes()
            .any(|n| g.kind(n).is_string() && g.name(n).starts_with("żółw-")),
        "the turtle string"
    );

    // Closures carry source locations.
    let closures_with_location = g
        .locations
        .iter()
        .filter(|(n, _)| g.kind(*n) == NodeKind::Closure)
        .count();
    assert!(closures_with_location > 10, "{closures_with_location}");
    let make_counter = g
        .nodes()
        .find(|&n| g.kind(n) == NodeKind::Closure && g.name(n) == "makeCounter")
        .expect("the makeCounter closure");
    let loc = g
        .location(make_counter)
        .expect("makeCounter has a location");
    assert_eq!(loc.line, 4, "{loc:?}"); // 0-based: the program's fifth line

    // Almost everything hangs off the root.
    let reached = reachable(&g);
    assert!(
        reached * 10 >= g.node_count() * 9 && reached <= g.node_count(),
        "{reached} of {}",
        g.node_count()
    );

    // The baseline mode keeps the same nodes.
    let light = parse(&bytes[..], &ParseOptions::NODES_ONLY, &mut |_| {}).unwrap();
    assert_eq!(light.node_id, g.node_id);
    assert_eq!(light.self_size, g.self_size);
    assert_eq!(light.edge_count(), 0);

    // Odd read sizes give the same graph.
    let chunked =
        parse_chunked(&bytes, vec![1, 4093, 17, 65536, 3], ParseOptions::default()).unwrap();
    assert_eq!(digest(&chunked), digest(&g));

    // So do windows of odd sizes, read in place; 1 MiB ones also share pieces with the
    // edge helper thread.
    let windowed = parse_windowed(
        &bytes,
        vec![16, 4093, 1 << 20, 17, 300_001],
        ParseOptions::default(),
    )
    .unwrap();
    assert_eq!(digest(&windowed), digest(&g));

    // Cut anywhere: a truncation error at the cut.
    let mut sections = Vec::new();
    for k in 0..10 {
        let cut = bytes.len() * k / 10 + 7;
        match parse(&bytes[..cut], &ParseOptions::default(), &mut |_| {}) {
            Err(ParseError::Truncated { offset, section }) => {
                assert_eq!(offset, cut as u64);
                sections.push(section);
            }
            other => panic!("cut at {cut}: {:?}", other.map(|g| g.node_count())),
        }
        let windowed = parse_windowed(&bytes[..cut], vec![1 << 20], ParseOptions::default());
        assert!(
            matches!(windowed, Err(ParseError::Truncated { offset, .. }) if offset == cut as u64),
            "windows, cut at {cut}"
        );
    }
    assert!(sections.contains(&Section::Nodes), "{sections:?}");
    assert!(sections.contains(&Section::Edges), "{sections:?}");
}
