//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Explain Node.js memory leaks from V8 heap snapshots and sampling heap profiles.
#[derive(Debug, Parser)]
#[command(name = "mw", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diff heap snapshots (or sampling heap profiles) of one process and rank what grew.
    ///
    /// Heap snapshots (.heapsnapshot): leak suspects ranked by retained-size growth, with the
    /// retainer path that holds them. Sampling heap profiles (.heapprofile, DevTools'
    /// "Allocation sampling" or HeapProfiler.getSamplingProfile): the allocation sites (call
    /// stacks) whose live sampled bytes grew, and the functions that allocated them. Files are
    /// told apart by content; all of one run must be of one kind.
    ///
    /// BASE is taken before the suspected leak, TARGET after it; with FINAL (taken later
    /// still) only what is still alive in FINAL is reported, like memlab.
    Analyze(AnalyzeArgs),
    /// Replay a recorded CSV trace of GC samples through the leak detector the watchdog runs.
    ///
    /// Prints every state change (suspect, leaking, resolved) with its time, signal, slope and
    /// evidence. Exit code 0: no leak declared; 6: a leak was declared.
    Detect(DetectArgs),
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Snapshot or heap profile taken before the leak (.heapsnapshot or .heapprofile).
    pub base: PathBuf,
    /// Snapshot or heap profile taken after the leak grew.
    pub target: PathBuf,
    /// Optional later snapshot or profile: report only what is still alive in it.
    #[arg(value_name = "FINAL")]
    pub last: Option<PathBuf>,
    /// Print the report as JSON (schema in docs/cli.md).
    #[arg(long)]
    pub json: bool,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Number of suspects and constructor rows (profiles: sites and functions) to show.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// Never draw a progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
}

impl AnalyzeArgs {
    /// The input files in order: base, target, and final when given.
    pub fn inputs(&self) -> Vec<&std::path::Path> {
        let mut inputs = vec![self.base.as_path(), self.target.as_path()];
        inputs.extend(self.last.as_deref());
        inputs
    }
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// CSV trace (header line, one row per GC event; format in docs/detection.md).
    pub trace: PathBuf,
    /// Fixed leak threshold in bytes/ms (the watchdog's `native.threshold`); adaptive when omitted.
    /// Overrides `threshold` in `--config`.
    #[arg(long, value_name = "BYTES_PER_MS")]
    pub threshold: Option<f64>,
    /// Detector settings as JSON: any subset of the settings in docs/detection.md, e.g.
    /// `{"growth_allowance": {"bytes": 8388608}}`; the watchdog's `native.detector` takes the same.
    #[arg(long, value_name = "FILE.json")]
    pub config: Option<PathBuf>,
    /// V8 heap limit in bytes, for every sample (overrides the trace's `heap_limit` column).
    #[arg(long, value_name = "BYTES")]
    pub heap_limit: Option<u64>,
    /// Container memory limit in bytes, for every sample (overrides the trace's
    /// `memory_limit` column).
    #[arg(long, value_name = "BYTES")]
    pub memory_limit: Option<u64>,
    /// Print one JSON object per state change (schema in docs/cli.md).
    #[arg(long)]
    pub json: bool,
    /// Write the output to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}
