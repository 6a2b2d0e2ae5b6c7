//! [`Analysis`]: the baseline/leak snapshot pair analyzed on a background Rust thread, so
//! the alert can name the leak's retainer path without anyone running `mw analyze`.
//!
//! The thread parses the baseline without edges and the leak snapshot with them, runs
//! the same diff as `mw analyze` and leaves a one-line outcome in a slot that the JS
//! thread picks up on its next GC sample (one atomic load per sample until then). It is
//! skipped when the leak snapshot is larger than `snapshot.analyzeMaxBytes` or when the
//! memory it needs (about 1.2 times the file, measured) is not available, because the
//! service's own memory comes first.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use memwatchdog_heapsnapshot::{AnalyzeOptions, HeapGraph, ParseOptions, analyze, parse};
use memwatchdog_snapguard::HumanBytes;
use memwatchdog_snapguard::system::read_memory_info;

/// Peak memory of an analysis relative to the leak snapshot's file size (measured by the
/// analyzer benchmark: 1.06–1.12), with a margin.
const MEMORY_PER_FILE_BYTE: f64 = 1.3;

/// What the analysis found, or why it did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The top suspect, as one line for the alert and the log.
    TopSuspect(String),
    /// No object allocated after the baseline is retained.
    NothingFound,
    /// Not run or failed, with the reason.
    Skipped(String),
}

/// A running (or finished) background analysis.
pub(crate) struct Analysis {
    done: Arc<AtomicBool>,
    outcome: Arc<Mutex<Option<Outcome>>>,
    thread: Option<JoinHandle<()>>,
}

impl Analysis {
    /// Starts analyzing `baseline` against `leak` on a thread named `memwd-analyze`.
    pub(crate) fn start(
        baseline: PathBuf,
        leak: PathBuf,
        max_bytes: u64,
        system_root: PathBuf,
    ) -> Analysis {
        let done = Arc::new(AtomicBool::new(false));
        let outcome = Arc::new(Mutex::new(None));
        let (done_t, outcome_t) = (Arc::clone(&done), Arc::clone(&outcome));
        let thread = std::thread::Builder::new()
            .name("memwd-analyze".to_owned())
            .spawn(move || {
                let result = run(&baseline, &leak, max_bytes, &system_root);
                *outcome_t
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(result);
                done_t.store(true, Ordering::Release);
            })
            .ok();
        if thread.is_none() {
            *outcome
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Outcome::Skipped(
                "could not start the analysis thread".to_owned(),
            ));
            done.store(true, Ordering::Release);
        }
        Analysis {
            done,
            outcome,
            thread,
        }
    }

    /// The outcome once the thread has finished; `None` before (and after it was taken).
    pub(crate) fn take(&mut self) -> Option<Outcome> {
        if !self.done.load(Ordering::Acquire) {
            return None;
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.outcome
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

fn run(baseline: &Path, leak: &Path, max_bytes: u64, system_root: &Path) -> Outcome {
    let size = match std::fs::metadata(leak) {
        Ok(meta) => meta.len(),
        Err(e) => return Outcome::Skipped(format!("cannot read {}: {e}", leak.display())),
    };
    if size > max_bytes {
        return Outcome::Skipped(format!(
            "the leak snapshot is {}, above snapshot.analyzeMaxBytes ({}); run `mw analyze {} {}` elsewhere",
            HumanBytes(size),
            HumanBytes(max_bytes),
            baseline.display(),
            leak.display()
        ));
    }
    let needed = (size as f64 * MEMORY_PER_FILE_BYTE) as u64;
    let memory = read_memory_info(system_root);
    if let Some(available) = [memory.mem_available, memory.cgroup_headroom]
        .into_iter()
        .flatten()
        .min()
    {
        if available < needed {
            return Outcome::Skipped(format!(
                "analyzing needs about {} of memory and {} is available; run `mw analyze {} {}` elsewhere",
                HumanBytes(needed),
                HumanBytes(available),
                baseline.display(),
                leak.display()
            ));
        }
    }
    let report = load(baseline, ParseOptions::NODES_ONLY).and_then(|base| {
        let newest = load(leak, ParseOptions::FULL)?;
        analyze(base, newest, None, &AnalyzeOptions { top: 1 }).map_err(|e| e.to_string())
    });
    match report {
        Err(e) => Outcome::Skipped(e),
        Ok(report) => report.suspects.first().map_or(Outcome::NothingFound, |s| {
            Outcome::TopSuspect(format!(
                "{} ×{} (+{}) held by {}",
                s.class_name,
                s.delta_count,
                HumanBytes(s.delta_bytes),
                s.path_text
            ))
        }),
    }
}

/// Reads a snapshot with `read`, never mapped as `mw` does: in the user's service a file
/// truncated while mapped would raise a SIGBUS that kills the process.
fn load(path: &Path, opts: ParseOptions) -> Result<HeapGraph, String> {
    let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    parse(file, &opts, &mut |_| {}).map_err(|e| format!("{}: {e}", path.display()))
}
