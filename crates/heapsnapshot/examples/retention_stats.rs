//! Times [`Retention::compute`] on a random heap-like graph and reports peak memory.
//!
//! ```text
//! cargo run --release -p memwatchdog-heapsnapshot --example retention_stats -- [NODES] [EDGES_PER_NODE] [SEED]
//! cargo run --release -p memwatchdog-heapsnapshot --example retention_stats -- --snapshot FILE.heapsnapshot
//! ```
//!
//! The graph: a synthetic root with a `(GC roots)` child and a `global` user root; every
//! other node gets one retainer among the nodes before it (so most of the heap is
//! reachable, in a shallow random tree) plus random extra edges to anywhere, of mixed
//! kinds (about 5% weak, 1% shortcut). Peak memory is the process's `VmHWM`.

use std::time::Instant;

use memwatchdog_heapsnapshot::{
    BASE_SYSTEM_DISTANCE, EdgeEnd, EdgeKind, EssentialEdges, HeapGraph, NodeIdx, NodeKind,
    ParseOptions, Retention, StringTable, parse,
};
use memwatchdog_rng::Rng;

fn random_graph(n: u32, per_node: u32, seed: u64) -> HeapGraph {
    let mut rng = Rng::new(seed);
    let mut strings = StringTable::default();
    let names = [
        strings.push(""),
        strings.push("(GC roots)"),
        strings.push("global"),
        strings.push("Object"),
        strings.push("system / Context"),
        strings.push("prop"),
    ];
    let n_us = n as usize;
    let mut g = HeapGraph {
        node_kind: Vec::with_capacity(n_us),
        node_name: Vec::with_capacity(n_us),
        node_id: Vec::with_capacity(n_us),
        self_size: Vec::with_capacity(n_us),
        first_edge: Vec::with_capacity(n_us + 1),
        strings,
        ..HeapGraph::default()
    };
    let edges = n_us * per_node as usize;
    g.edge_end.reserve(edges);
    g.edge_name.reserve(edges);
    // Each node's "tree parent" is random among earlier nodes; emit edges grouped by
    // source, so draw each node's children up front: a child list via a parent array.
    let parent: Vec<u32> = (0..n)
        .map(|i| if i < 3 { 0 } else { 2 + rng.below(i - 2) })
        .collect();
    let mut child_count = vec![0u32; n_us + 1];
    for &p in &parent[3..] {
        child_count[p as usize + 1] += 1;
    }
    for i in 0..n_us {
        child_count[i + 1] += child_count[i];
    }
    let mut children = vec![0u32; n_us - 3];
    let mut cursor = child_count.clone();
    for (i, &p) in parent.iter().enumerate().skip(3) {
        children[cursor[p as usize] as usize] = i as u32;
        cursor[p as usize] += 1;
    }
    drop((parent, cursor));
    for i in 0..n {
        let (kind, name, size) = match i {
            0 => (NodeKind::Synthetic, names[0], 0),
            1 => (NodeKind::Synthetic, names[1], 0),
            2 => (NodeKind::Object, names[2], 64),
            _ if i % 7 == 0 => (NodeKind::Hidden, names[4], 16 + rng.below(64)),
            _ => (NodeKind::Object, names[3], 16 + rng.below(200)),
        };
        g.node_kind.push(kind);
        g.node_name.push(name);
        g.node_id.push(2 * i + 1);
        g.self_size.push(size);
        g.first_edge.push(g.edge_end.len() as u32);
        let mut edge = |kind: EdgeKind, to: u32| {
            g.edge_end.push(EdgeEnd::new(kind, NodeIdx(to)));
            g.edge_name.push(names[5].0);
        };
        match i {
            0 => {
                edge(EdgeKind::Element, 1);
                edge(EdgeKind::Shortcut, 2);
            }
            1 => {
                for _ in 0..per_node {
                    edge(EdgeKind::Internal, 3 + rng.below(n - 3));
                }
            }
            _ => {}
        }
        let kids =
            &children[child_count[i as usize] as usize..child_count[i as usize + 1] as usize];
        for &c in kids {
            edge(EdgeKind::Property, c);
        }
        if i >= 2 {
            for _ in 1..per_node {
                let kind = match rng.below(100) {
                    0..5 => EdgeKind::Weak,
                    5 => EdgeKind::Shortcut,
                    6..30 => EdgeKind::Internal,
                    30..50 => EdgeKind::Element,
                    _ => EdgeKind::Property,
                };
                edge(kind, 3 + rng.below(n - 3));
            }
        }
    }
    g.first_edge.push(g.edge_end.len() as u32);
    g
}

fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let t = Instant::now();
    let (g, n) = if args.first().map(String::as_str) == Some("--snapshot") {
        let path = args.get(1).expect("--snapshot FILE");
        let file = std::io::BufReader::new(std::fs::File::open(path).expect("open snapshot"));
        let g = parse(file, &ParseOptions::FULL, &mut |_| {}).expect("parse snapshot");
        let n = g.node_count() as u32;
        (g, n)
    } else {
        let arg = |i: usize, default: u64| {
            args.get(i)
                .map_or(default, |a| a.parse().expect("a number"))
        };
        let n = arg(0, 10_000_000) as u32;
        let per_node = arg(1, 5) as u32;
        let seed = arg(2, 42);
        assert!(n >= 4 && per_node >= 1);
        (random_graph(n, per_node, seed), n)
    };
    let graph_mib = peak_rss_mib().unwrap_or(0);
    eprintln!(
        "graph: {} nodes, {} edges, built in {:.2?} (peak RSS so far {graph_mib} MiB)",
        g.node_count(),
        g.edge_count(),
        t.elapsed()
    );

    let t = Instant::now();
    let essential = EssentialEdges::compute(&g);
    eprintln!(
        "essential edges: {} of {} in {:.2?}",
        essential.count(),
        g.edge_count(),
        t.elapsed()
    );
    drop(essential);

    let t = Instant::now();
    let r = Retention::compute(&g);
    let took = t.elapsed();
    let peak = peak_rss_mib().unwrap_or(0);
    let max_user = g
        .nodes()
        .filter_map(|v| r.distance(v))
        .filter(|&d| d < BASE_SYSTEM_DISTANCE)
        .max()
        .unwrap_or(0);
    println!("Retention::compute: {took:.2?}");
    println!(
        "root retained {} bytes; {} unreachable; max user distance {max_user}",
        r.retained(HeapGraph::ROOT),
        r.unreachable_count()
    );
    println!(
        "peak RSS {peak} MiB ({} MiB over the graph): {:.1} bytes/node, {:.1} bytes/edge if all charged to one",
        peak.saturating_sub(graph_mib),
        (peak.saturating_sub(graph_mib) << 20) as f64 / f64::from(n),
        (peak.saturating_sub(graph_mib) << 20) as f64 / g.edge_count() as f64
    );
}
