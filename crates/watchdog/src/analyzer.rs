//! [`Analyzer`]: the background thread (`memwd-analyze`) that runs the snapshot-pair
//! analysis of [`crate::analysis`], so the JS thread never waits for it.
//!
//! The thread reads the leak snapshot's size and the memory available, asks
//! [`admit`] whether to go on, parses the baseline without edges and the leak snapshot with
//! them, runs the same diff as `mw analyze` and leaves the [`Outcome`] in a slot that the JS
//! thread polls on its GC samples (one atomic load per sample until it is there).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use memwatchdog_heapsnapshot::{AnalyzeOptions, HeapGraph, ParseOptions, analyze, parse};
use memwatchdog_snapguard::system::read_memory_info;

use crate::analysis::{Outcome, admit, outcome_of};
use crate::chain::error_chain;

/// A running (or finished) background analysis.
pub(crate) struct Analyzer {
    done: Arc<AtomicBool>,
    outcome: Arc<Mutex<Option<Outcome>>>,
    thread: Option<JoinHandle<()>>,
}

impl Analyzer {
    /// Starts analyzing `baseline` against `leak` on a thread named `memwd-analyze`.
    pub(crate) fn start(
        baseline: PathBuf,
        leak: PathBuf,
        max_bytes: u64,
        system_root: PathBuf,
    ) -> Analyzer {
        let done = Arc::new(AtomicBool::new(false));
        let outcome = Arc::new(Mutex::new(None));
        let (done_t, outcome_t) = (Arc::clone(&done), Arc::clone(&outcome));
        let thread = std::thread::Builder::new()
            .name("memwd-analyze".to_owned())
            .spawn(move || {
                let result = run(&baseline, &leak, max_bytes, &system_root);
                *outcome_t.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
                done_t.store(true, Ordering::Release);
            })
            .ok();
        if thread.is_none() {
            *outcome.lock().unwrap_or_else(PoisonError::into_inner) = Some(Outcome::Skipped(
                "could not start the analysis thread".to_owned(),
            ));
            done.store(true, Ordering::Release);
        }
        Analyzer {
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
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

fn run(baseline: &Path, leak: &Path, max_bytes: u64, system_root: &Path) -> Outcome {
    let size = match std::fs::metadata(leak) {
        Ok(meta) => meta.len(),
        Err(e) => return Outcome::Skipped(format!("cannot read {}: {e}", leak.display())),
    };
    if let Err(reason) = admit(
        size,
        max_bytes,
        read_memory_info(system_root),
        baseline,
        leak,
    ) {
        return Outcome::Skipped(reason);
    }
    let report = load(baseline, ParseOptions::NODES_ONLY).and_then(|base| {
        let newest = load(leak, ParseOptions::FULL)?;
        analyze(base, newest, None, &AnalyzeOptions { top: 1 }).map_err(|e| e.to_string())
    });
    match report {
        Err(e) => Outcome::Skipped(e),
        Ok(report) => outcome_of(&report),
    }
}

/// Reads a snapshot with `read`, never mapped as `mw` does: in the user's service a file
/// truncated while mapped would raise a SIGBUS that kills the process.
fn load(path: &Path, opts: ParseOptions) -> Result<HeapGraph, String> {
    let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    parse(file, &opts, &mut |_| {}).map_err(|e| format!("{}: {}", path.display(), error_chain(&e)))
}
