//! Command-line arguments (clap derive).

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use memwatchdog_units::parse_size;
use thiserror::Error;

/// Explain Node.js memory leaks from V8 heap snapshots and sampling heap profiles.
#[derive(Debug, Parser)]
#[command(name = "mw", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Tell what holds the memory of one heap snapshot, or diff snapshots (or sampling heap
    /// profiles) of one process and rank what grew.
    ///
    /// One heap snapshot (FILE, e.g. the one `node --heapsnapshot-near-heap-limit` wrote as
    /// the process ran out of memory): the largest dominator subtrees grouped by retainer
    /// path and class, the biggest collections, duplicated strings, closures by function,
    /// native and detached memory. With --node ID or --class NAME: why that object (or the
    /// class's largest objects) is alive.
    ///
    /// Two or three heap snapshots (.heapsnapshot): leak suspects ranked by retained-size
    /// growth, with the retainer path that holds them; the snapshots are put in the order
    /// they were taken by their contents. Sampling heap profiles (.heapprofile, DevTools'
    /// "Allocation sampling" or HeapProfiler.getSamplingProfile): the allocation sites (call
    /// stacks) whose live sampled bytes grew, and the functions that allocated them. Files
    /// are told apart by content; all of one run must be of one kind.
    ///
    /// BASE is taken before the suspected leak, TARGET after it; with FINAL (taken later
    /// still) only what is still alive in FINAL is reported, like memlab.
    Analyze(AnalyzeArgs),
    /// Replay a recorded CSV trace of GC samples through the leak detector the watchdog runs.
    ///
    /// Prints every state change (suspect, leaking, resolved) with its time, signal, slope and
    /// evidence. Exit code 0: no leak declared; 6: a leak was declared.
    Detect(DetectArgs),
    /// Write a copy of a heap snapshot with the contents of its strings replaced, to share it.
    ///
    /// Every string value (the text of string objects) becomes random-looking text of the same
    /// length (a keyed hash: equal strings stay equal); class, property, variable and
    /// function names, script names and source positions are kept, and so is everything
    /// else (sizes, ids, edges): `mw analyze` on scrubbed snapshots names the same suspects
    /// with the same sizes. What is kept and removed: docs/cli.md.
    Scrub(ScrubArgs),
    /// The CI memory gate: analyze two or three heap snapshots (or sampling heap profiles) as
    /// `mw analyze` does, or replay a trace as `mw detect` does, and fail when growth exceeds
    /// its budgets.
    ///
    /// Budgets: --budget SIZE (all new objects still alive; profiles: live sampled bytes),
    /// --budget-class NAME=SIZE (a constructor's net growth), --budget-path TEXT=SIZE (the
    /// suspects whose retainer path contains TEXT; profiles: the sites with a frame that
    /// contains it), or a JSON --budgets FILE (docs/cli.md). A trace is judged by the
    /// detector's verdict. Prints a Markdown summary (also appended to `$GITHUB_STEP_SUMMARY`)
    /// and appends `passed`, `growth_bytes`, `top_suspect` and `report` to `$GITHUB_OUTPUT`. Exit code
    /// 0: within budget; 9: a budget exceeded (or a leak declared).
    Check(CheckArgs),
    /// The Kubernetes sidecar: watch the directory the watchdog writes to, analyze each leak
    /// snapshot against its baseline (off the app's CPU and memory), upload snapshots,
    /// profiles and reports to S3-compatible storage, and forward Alertmanager webhooks
    /// with the pod's newest analysis.
    ///
    /// Runs until SIGTERM. Serves /metrics, /healthz and /alertmanager on --listen. Every
    /// option can also be given as an environment variable (`MW_AGENT_*`). Set-up:
    /// docs/kubernetes.md and docs/fleet.md.
    Agent(AgentArgs),
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// FILE (one heap snapshot), or BASE TARGET [FINAL] (heap snapshots or heap profiles);
    /// files, pipes or FIFOs, `-` for standard input.
    #[arg(value_name = "FILE", required = true, num_args = 1..=3)]
    pub files: Vec<PathBuf>,
    /// Print the report as JSON (schema in docs/cli.md).
    #[arg(long)]
    pub json: bool,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Rows of each ranked list (suspects and constructors; profiles: sites and functions).
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = at_least_one)]
    pub top: usize,
    /// Never draw a progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
    /// One snapshot: show string values (duplicated strings, strings on retainer paths);
    /// hidden by default because they may be secrets.
    #[arg(long)]
    pub show_strings: bool,
    /// One snapshot: why the object with this V8 id (`@123` in DevTools, or `123`) is alive:
    /// its retainer paths, the objects that point at it, its dominators and retained size.
    #[arg(long, value_name = "ID", value_parser = parse_id, conflicts_with = "class")]
    pub node: Option<u32>,
    /// One snapshot: the same for the objects of this class with the largest retained sizes.
    #[arg(long, value_name = "NAME")]
    pub class: Option<String>,
    /// With --class: how many of its objects to tell (default 3).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub sample: Option<usize>,
    /// With --node or --class: retainer paths per object, at most (default 10).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub paths: Option<usize>,
    /// Also write the report as one self-contained HTML page to FILE (no network: opens from
    /// disk or as a CI artifact): the verdict, the retainer tree of the suspects, sortable
    /// tables, and for profiles a flame chart of growth by call stack. Not with --node/--class.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// With --html: a CSV trace of GC samples (as `mw detect` reads) to chart the heap floor
    /// over time with the detector's state changes.
    #[arg(long, value_name = "TRACE.csv", requires = "html")]
    pub trace: Option<PathBuf>,
}

/// A count of rows, objects or paths to show: 0 would print headings over empty lists
/// (and "none" under a summary that counted thousands), so it is a usage error.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1 (0 would show nothing)".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{text:?} is not a whole number")),
    }
}

/// `@123` (as DevTools writes ids) or `123`.
fn parse_id(text: &str) -> Result<u32, String> {
    text.strip_prefix('@')
        .unwrap_or(text)
        .parse()
        .map_err(|_| format!("{text:?} is not a V8 object id (like @12345)"))
}

impl AnalyzeArgs {
    /// The input files in the order given.
    pub fn inputs(&self) -> Vec<&Path> {
        self.files.iter().map(PathBuf::as_path).collect()
    }

    /// Fails when an option for one snapshot is given with two or three files, or an option
    /// without the one it refines.
    pub fn check_options_for(&self, inputs: usize) -> Result<(), UsageError> {
        let single_only = [
            ("--show-strings", self.show_strings),
            ("--node", self.node.is_some()),
            ("--class", self.class.is_some()),
            ("--sample", self.sample.is_some()),
            ("--paths", self.paths.is_some()),
        ];
        if let Some(&(flag, _)) = single_only.iter().find(|(_, given)| *given)
            && inputs > 1
        {
            return Err(UsageError::SingleSnapshotOnly { flag });
        }
        if self.sample.is_some() && self.class.is_none() {
            return Err(UsageError::Needs {
                flag: "--sample",
                needs: "--class NAME",
            });
        }
        if self.paths.is_some() && self.node.is_none() && self.class.is_none() {
            return Err(UsageError::Needs {
                flag: "--paths",
                needs: "--node ID or --class NAME",
            });
        }
        if self.html.is_some() && (self.node.is_some() || self.class.is_some()) {
            return Err(UsageError::NoHtmlForStory);
        }
        Ok(())
    }
}

/// A command line that parses but asks for something `mw` cannot do (exit code 2).
#[derive(Debug, Error)]
pub enum UsageError {
    /// An option of the single-snapshot analysis was given with files to diff.
    #[error(
        "{flag} applies to one heap snapshot (mw analyze FILE {flag}), not to a diff of two or three files"
    )]
    SingleSnapshotOnly {
        /// The option.
        flag: &'static str,
    },
    /// An option that refines another was given without it.
    #[error("{flag} needs {needs}")]
    Needs {
        /// The option.
        flag: &'static str,
        /// What it needs.
        needs: &'static str,
    },
    /// `mw scrub` was asked to write over its input.
    #[error("OUT is IN ({}): mw scrub writes a new file and keeps the original", path.display())]
    ScrubInPlace {
        /// The file.
        path: PathBuf,
    },
    /// Standard input (`-`) was given twice.
    #[error("standard input (-) can be given once")]
    StdinTwice,
    /// `--html` was given with `--node` or `--class`.
    #[error(
        "--html writes the page of a diff, a profile diff or a one-snapshot summary, not of --node/--class (drop one of them)"
    )]
    NoHtmlForStory,
    /// One sampling heap profile was given.
    #[error(
        "{} is a sampling heap profile: one alone has nothing to compare with; give BASE TARGET [FINAL] profiles of one process",
        path.display()
    )]
    OneProfile {
        /// The file.
        path: PathBuf,
    },
    /// `mw check` was given one heap snapshot.
    #[error(
        "{} is a heap snapshot: mw check needs BASE TARGET [FINAL] snapshots of one process to measure growth (or one CSV trace)",
        path.display()
    )]
    OneSnapshotToCheck {
        /// The file.
        path: PathBuf,
    },
    /// `mw check TRACE.csv --html`.
    #[error(
        "--html draws snapshots or profiles; for a trace's chart, give it to mw analyze BASE TARGET --html FILE --trace TRACE.csv"
    )]
    NoHtmlForTrace,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The artifact directory the watchdog writes to (its `MEMWATCHDOG_SNAPSHOT_DIR`, or a
    /// parent of it), watched with its subdirectories; it may not exist yet.
    #[arg(long, env = "MW_AGENT_DIR", value_name = "DIR")]
    pub dir: PathBuf,
    /// Where to upload: `s3://BUCKET[/PREFIX]`, or `file:///DIR` (a mounted volume). Without
    /// it nothing is uploaded. Credentials come from the `AWS_*` variables
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, web identity, ...).
    #[arg(long, env = "MW_AGENT_STORE", value_name = "URL")]
    pub store: Option<String>,
    /// S3-compatible endpoint (`MinIO`, Ceph, ...), e.g. `http://minio.storage:9000`; default
    /// `AWS_ENDPOINT_URL`, else AWS S3.
    #[arg(
        long,
        env = "MW_AGENT_ENDPOINT",
        value_name = "URL",
        requires = "store"
    )]
    pub endpoint: Option<String>,
    /// The bucket's region; default `AWS_REGION`, else us-east-1.
    #[arg(
        long,
        env = "MW_AGENT_REGION",
        value_name = "REGION",
        requires = "store"
    )]
    pub region: Option<String>,
    /// Multipart part size for big files: SIZE (at least 5Mi).
    #[arg(long, env = "MW_AGENT_PART_SIZE", value_name = "SIZE", value_parser = parse_size, default_value = "16Mi")]
    pub part_size: u64,
    /// Retries of each request to the store inside one upload attempt (with their own
    /// backoff, within 3 minutes); a failed attempt is tried again later anyway.
    #[arg(
        long,
        env = "MW_AGENT_REQUEST_RETRIES",
        value_name = "N",
        default_value_t = 5,
        requires = "store"
    )]
    pub request_retries: usize,
    /// The pod's namespace: the first segment of the object keys (downward API
    /// metadata.namespace).
    #[arg(
        long,
        env = "MW_AGENT_NAMESPACE",
        value_name = "NAME",
        default_value = "default"
    )]
    pub namespace: String,
    /// The pod's name: the second segment of the object keys (downward API metadata.name);
    /// default $HOSTNAME, which Kubernetes sets to the pod name.
    #[arg(long, env = "MW_AGENT_POD", value_name = "NAME")]
    pub pod: Option<String>,
    /// Delete each local file once its upload is confirmed (the newest baseline of each
    /// process stays: the next leak snapshot is diffed against it).
    #[arg(long, env = "MW_AGENT_DELETE_AFTER_UPLOAD", requires = "store")]
    pub delete_after_upload: bool,
    /// Scrub heap snapshots before they leave the pod (string contents replaced, as mw
    /// scrub does) and analyze the scrubbed copies.
    #[arg(long, env = "MW_AGENT_SCRUB")]
    pub scrub: bool,
    /// Do not analyze snapshots; only upload them.
    #[arg(long, env = "MW_AGENT_NO_ANALYZE")]
    pub no_analyze: bool,
    /// Largest snapshot analyzed: SIZE. An analysis needs about 1.2 times the snapshot in
    /// memory; set the container's memory limit accordingly.
    #[arg(long, env = "MW_AGENT_ANALYZE_MAX_BYTES", value_name = "SIZE", value_parser = parse_size, default_value = "2Gi")]
    pub analyze_max_bytes: u64,
    /// Address of /metrics, /healthz and /alertmanager.
    #[arg(
        long,
        env = "MW_AGENT_LISTEN",
        value_name = "ADDR",
        default_value = "0.0.0.0:9470"
    )]
    pub listen: std::net::SocketAddr,
    /// Forward each new MemWatchdog alert received on /alertmanager, with the pod's newest
    /// analysis, to this URL (a JSON body with a `text` field: Slack-compatible).
    #[arg(long, env = "MW_AGENT_NOTIFY_URL", value_name = "URL")]
    pub notify_url: Option<String>,
    /// How long a firing alert waits for the pod's analysis of its leak snapshot (written
    /// after the alert fires) before it is forwarded with what there is: DURATION.
    #[arg(long, env = "MW_AGENT_NOTIFY_WAIT", value_name = "DURATION", value_parser = parse_duration, default_value = "3m")]
    pub notify_wait: std::time::Duration,
    /// How long a file must stay unchanged to be taken as finished: DURATION (500ms, 5s, 2m).
    #[arg(long, env = "MW_AGENT_SETTLE", value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub settle: std::time::Duration,
    /// Time between two scans of the directory: DURATION.
    #[arg(long, env = "MW_AGENT_POLL", value_name = "DURATION", value_parser = parse_duration, default_value = "2s")]
    pub poll: std::time::Duration,
    /// Longest wait between two attempts to upload a file: DURATION.
    #[arg(long, env = "MW_AGENT_MAX_BACKOFF", value_name = "DURATION", value_parser = parse_duration, default_value = "5m")]
    pub max_backoff: std::time::Duration,
    /// Where scrubbed copies are made; default DIR/.mw-agent (same volume).
    #[arg(long, env = "MW_AGENT_WORK_DIR", value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
}

/// Parses `500ms`, `5s`, `2m`, `1h` (a whole number and a unit).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| {
        format!("{text:?} is not a duration: a whole number and a unit, like 500ms, 5s, 2m or 1h")
    })?;
    let ms = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => {
            return Err(format!(
                "{text:?}: the unit must be ms, s, m or h (like 5s)"
            ));
        }
    };
    Ok(std::time::Duration::from_millis(n.saturating_mul(ms)))
}

#[derive(Debug, Args)]
pub struct ScrubArgs {
    /// The heap snapshot to scrub (a regular file: it is read twice).
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// Where to write the scrubbed snapshot (written to a temporary file beside it and
    /// renamed into place; not IN).
    #[arg(value_name = "OUT")]
    pub output: PathBuf,
    /// Never draw a progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// CSV trace (header line, one row per GC event; format in docs/detection.md); a file,
    /// pipe or FIFO, `-` for standard input.
    pub trace: PathBuf,
    /// Fixed leak threshold in bytes/ms (the watchdog's `native.threshold`); adaptive when omitted.
    /// Overrides `threshold` in `--config`.
    #[arg(long, value_name = "BYTES_PER_MS")]
    pub threshold: Option<f64>,
    /// Detector settings as JSON: any subset of the settings in docs/detection.md, e.g.
    /// `{"growth_allowance": {"bytes": 8388608}}`; the watchdog's `native.detector` takes the same.
    #[arg(long, value_name = "FILE.json")]
    pub config: Option<PathBuf>,
    /// V8 heap limit for every sample (overrides the trace's `heap_limit` column): BYTES,
    /// e.g. 4Gi or 4294967296 (Kubernetes units: Ki Mi Gi ... or k M G ...; docs/cli.md).
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub heap_limit: Option<u64>,
    /// Container memory limit for every sample (overrides the trace's `memory_limit`
    /// column): BYTES, e.g. 512Mi or 536870912 (Kubernetes units: Ki Mi Gi ... or k M G ...).
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub memory_limit: Option<u64>,
    /// Print one JSON object per state change (schema in docs/cli.md).
    #[arg(long)]
    pub json: bool,
    /// Write the output to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// BASE TARGET [FINAL] heap snapshots or sampling heap profiles, or one CSV trace; files,
    /// pipes or FIFOs, `-` for standard input.
    #[arg(value_name = "FILE", required = true, num_args = 1..=3)]
    pub files: Vec<PathBuf>,
    /// Total growth allowed: SIZE, e.g. 5MB or 4Mi (Kubernetes units, docs/cli.md).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub budget: Option<u64>,
    /// Net growth allowed for one class (heap snapshots): NAME=SIZE, e.g. AuditEntry=1MB.
    /// Repeatable.
    #[arg(long, value_name = "NAME=SIZE", value_parser = crate::budget::parse_named)]
    pub budget_class: Vec<(String, u64)>,
    /// Growth allowed for the suspects whose retainer path contains TEXT (profiles: the sites
    /// with a frame that contains it): TEXT=SIZE, e.g. sessions=2MB. Repeatable.
    #[arg(long, value_name = "TEXT=SIZE", value_parser = crate::budget::parse_named)]
    pub budget_path: Vec<(String, u64)>,
    /// Budgets as JSON: {"total": "5MB", "classes": {"NAME": "1MB"}, "paths": {"TEXT":
    /// "2MB"}}; the flags override its entries.
    #[arg(long, value_name = "FILE.json")]
    pub budgets: Option<PathBuf>,
    /// Append the Markdown summary to FILE (default: `$GITHUB_STEP_SUMMARY` when set).
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Append the key=value outputs to FILE (default: `$GITHUB_OUTPUT` when set).
    #[arg(long, value_name = "FILE")]
    pub github_output: Option<PathBuf>,
    /// Write the JSON report (verdict, budgets, and the analysis report) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write the report as one self-contained HTML page to FILE, as `mw analyze --html` does
    /// (snapshots and profiles).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Rows of each ranked list in the summary and the report (budgets see every row).
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = at_least_one)]
    pub top: usize,
    /// Trace: detector settings as JSON, as `mw detect --config` takes them.
    #[arg(long, value_name = "FILE.json")]
    pub config: Option<PathBuf>,
    /// Never draw a progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
}
