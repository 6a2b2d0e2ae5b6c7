//! Parses one `.heapsnapshot` and prints counts, time and throughput.
//!
//! ```text
//! cargo run --release -p memwatchdog-heapsnapshot --example parse_stats -- FILE [--nodes-only]
//! ```
//!
//! `--nodes-only` parses the way a diff's baseline is parsed (edges scanned, not kept).
//! Output is `key: value` lines on stdout; `peak_rss_mb` comes from `/proc/self/status`
//! (Linux) and covers the whole process; `cpu_s` is
//! user plus system CPU time, steadier than `elapsed_s` on a busy machine.

use std::fs::File;
use std::process::ExitCode;
use std::time::Instant;

use memwatchdog_heapsnapshot::{ParseOptions, parse};

fn main() -> ExitCode {
    let mut path = None;
    let mut opts = ParseOptions::FULL;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--nodes-only" => opts = ParseOptions::NODES_ONLY,
            "-h" | "--help" => {
                println!("usage: parse_stats FILE.heapsnapshot [--nodes-only]");
                return ExitCode::SUCCESS;
            }
            _ => path = Some(arg),
        }
    }
    let Some(path) = path else {
        eprintln!("usage: parse_stats FILE.heapsnapshot [--nodes-only]");
        return ExitCode::from(2);
    };
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot open {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let size = file.metadata().map_or(0, |m| m.len());
    let start = Instant::now();
    let graph = match parse(file, &opts, &mut |_| {}) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let secs = start.elapsed().as_secs_f64();
    let mb = size as f64 / 1e6;
    println!("file: {path}");
    println!("size_mb: {mb:.1}");
    println!("nodes: {}", graph.node_count());
    println!("edges: {}", graph.edge_count());
    println!("strings: {}", graph.strings.len());
    println!("locations: {}", graph.locations.len());
    println!("elapsed_s: {secs:.3}");
    println!("mb_per_s: {:.0}", mb / secs);
    if let Some(cpu) = cpu_seconds() {
        println!("cpu_s: {cpu:.3}");
    }
    if let Some(kb) = peak_rss_kb() {
        println!("peak_rss_mb: {:.1}", kb as f64 / 1e3);
    }
    ExitCode::SUCCESS
}

/// User plus system CPU time of this process (Linux, 10 ms resolution), which is less
/// disturbed than wall time when other work shares the machine.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// `VmHWM` of this process in kB, where `/proc` exists.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
