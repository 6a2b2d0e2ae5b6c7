//! Runs `mw analyze` on a snapshot pair (or one near-heap-limit snapshot) as a child
//! process: the analysis needs about 1.2 times the snapshot's size in memory for a while,
//! and if the container's limit kills it, only the child dies. Its JSON and HTML reports
//! are written next to the snapshot, where the next scan finds and uploads them.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

/// Longest child stderr kept for the log.
const STDERR_MAX: usize = 4096;

/// What to analyze and where the reports go.
#[derive(Debug, Clone)]
pub struct Job {
    /// The baseline, when there is one.
    pub base: Option<PathBuf>,
    /// The leak (or near-heap-limit) snapshot.
    pub target: PathBuf,
    /// The JSON report (`mw analyze --json --out`).
    pub json: PathBuf,
    /// The HTML report (`mw analyze --html`).
    pub html: PathBuf,
}

/// How an analysis ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The report names a top suspect (a diff) or a top holder (one snapshot): its line.
    Found(String),
    /// The report names no suspect.
    Nothing,
    /// `mw analyze` failed: its message, or how it died.
    Failed(String),
}

impl Outcome {
    /// The `outcome` label of `memwatchdog_agent_analyses_total`.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Found(_) => "found",
            Outcome::Nothing => "nothing",
            Outcome::Failed(_) => "failed",
        }
    }
}

/// Runs the analysis with `mw`; returns how it ended and how long it took.
pub async fn run(mw: &Path, job: &Job) -> (Outcome, Duration) {
    let started = Instant::now();
    let mut cmd = tokio::process::Command::new(mw);
    cmd.arg("analyze")
        .arg("--json")
        .arg("--no-progress")
        .arg("--out")
        .arg(&job.json)
        .arg("--html")
        .arg(&job.html)
        .args(job.base.iter())
        .arg(&job.target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let outcome = match child_output(cmd).await {
        Err(e) => Outcome::Failed(format!("cannot run {}: {e}", mw.display())),
        Ok((status, stderr)) if !status.success() => {
            Outcome::Failed(describe_failure(status, &stderr))
        }
        Ok(_) => read_outcome(&job.json),
    };
    (outcome, started.elapsed())
}

/// Runs `mw scrub IN OUT`: `Err` with its message when it fails.
pub async fn scrub(mw: &Path, input: &Path, output: &Path) -> Result<(), String> {
    let mut cmd = tokio::process::Command::new(mw);
    cmd.arg("scrub")
        .arg("--no-progress")
        .arg(input)
        .arg(output)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    match child_output(cmd).await {
        Err(e) => Err(format!("cannot run {}: {e}", mw.display())),
        Ok((status, stderr)) if !status.success() => Err(describe_failure(status, &stderr)),
        Ok(_) => Ok(()),
    }
}

/// Runs `cmd` to its end; its exit status and the first [`STDERR_MAX`] bytes of stderr.
async fn child_output(
    mut cmd: tokio::process::Command,
) -> std::io::Result<(std::process::ExitStatus, String)> {
    let mut child = cmd.spawn()?;
    let mut stderr = Vec::new();
    if let Some(pipe) = child.stderr.take() {
        // Read a bounded head and drain the rest, so the child never blocks on a full pipe.
        let mut pipe = pipe;
        let mut chunk = [0u8; 8192];
        loop {
            let n = pipe.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            let room = STDERR_MAX.saturating_sub(stderr.len());
            stderr.extend_from_slice(&chunk[..n.min(room)]);
        }
    }
    let status = child.wait().await?;
    Ok((status, String::from_utf8_lossy(&stderr).trim().to_owned()))
}

fn describe_failure(status: std::process::ExitStatus, stderr: &str) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if status.signal() == Some(9) {
            return "killed (SIGKILL): most likely out of memory; give the agent container a memory limit of about 1.2 × the snapshot size, or lower --analyze-max-bytes".to_owned();
        }
    }
    let last = stderr.lines().last().unwrap_or("");
    format!("mw analyze exited with {status}: {last}")
}

/// Reads the top suspect from a finished JSON report.
fn read_outcome(json: &Path) -> Outcome {
    let report: serde_json::Value = match std::fs::read(json)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            return Outcome::Failed(format!("cannot read the report {}: {e}", json.display()));
        }
    };
    crate::findings::top_suspect(&report).map_or(Outcome::Nothing, Outcome::Found)
}
