//! [`Profiles`]: the sampling heap profiles JS takes, stored and diffed on a background
//! Rust thread (`memwd-profile`), so the alert and the `leak` event can name the
//! allocation sites that grow without anyone running `mw analyze`.
//!
//! JS only talks to the inspector: it hands over each profile as the JSON text of a
//! `.heapprofile` file ([`ProfileTaken`]). The thread parses it
//! (`memwatchdog-heapprofile`), writes it (0600, atomically, rotated within
//! `profile.maxFiles`) when a directory is configured, keeps the baseline in memory and
//! diffs every later profile against it, writing the JSON allocation report next to the
//! profile. Outcomes wait in a queue that the JS thread polls on its GC samples (one
//! atomic load per sample). Nothing here can stop the watchdog: a full disk or a bad
//! profile is one [`ProfileDone::error`] (a log line and a metric).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};

use memwatchdog_heapprofile::{AllocationSite, DiffOptions, HeapProfile, diff, parse};
use memwatchdog_profstore::{ProfileFile, ReportFile, StoreError, rotate, write_private};
use memwatchdog_sourcemap::Resolver;

use crate::chain::error_chain;

/// How many sites the report, the event and the alert's source get.
const TOP_SITES: usize = 10;

/// Why a profile was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileKind {
    /// The reference every later profile is diffed against.
    Baseline,
    /// Taken when a signal became `suspect`.
    Suspect,
    /// Taken when a leak was declared.
    Leak,
}

impl ProfileKind {
    /// `baseline`, `suspect` or `leak`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ProfileKind::Baseline => "baseline",
            ProfileKind::Suspect => "suspect",
            ProfileKind::Leak => "leak",
        }
    }
}

impl std::fmt::Display for ProfileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A profile JS has taken.
#[derive(Debug, Clone)]
pub struct ProfileTaken {
    /// Why.
    pub kind: ProfileKind,
    /// The profile (`HeapProfiler.getSamplingProfile`'s `profile`) as JSON text.
    pub json: String,
    /// Where to write it; `None`: nowhere (no `profile.dir`), the diff still happens.
    pub path: Option<PathBuf>,
    /// Most `.heapprofile` files kept in the directory (at least 2: the baseline and one).
    pub max_files: usize,
    /// The sampling interval the profile was taken with (bytes), for the report.
    pub sampling_interval: u32,
}

/// What became of one profile.
#[derive(Debug, Clone)]
pub struct ProfileDone {
    /// Why it was taken.
    pub kind: ProfileKind,
    /// The `.heapprofile` file, if it was written.
    pub path: Option<String>,
    /// The allocation report, if one was written.
    pub report_path: Option<String>,
    /// Sites that grew, most first (empty for a baseline or on error).
    pub sites: Vec<AllocationSite>,
    /// Why something failed, with the metric reason (`io`, `disk_full`, `diff`).
    pub error: Option<(&'static str, String)>,
    /// Old profiles deleted to stay within `profile.maxFiles`.
    pub deleted: Vec<PathBuf>,
}

impl ProfileDone {
    /// Nothing written or found yet.
    #[must_use]
    pub fn new(kind: ProfileKind) -> ProfileDone {
        ProfileDone {
            kind,
            path: None,
            report_path: None,
            sites: Vec::new(),
            error: None,
            deleted: Vec::new(),
        }
    }

    fn failed(kind: ProfileKind, reason: &'static str, message: String) -> ProfileDone {
        ProfileDone {
            error: Some((reason, message)),
            ..ProfileDone::new(kind)
        }
    }
}

/// The background thread and its outcome queue (the thread starts with the first profile).
#[derive(Default)]
pub(crate) struct Profiles {
    jobs: Option<Sender<ProfileTaken>>,
    pending: Arc<AtomicUsize>,
    done: Arc<Mutex<Vec<ProfileDone>>>,
}

impl Profiles {
    /// Queues a profile for the thread; an outcome is ready at once if the thread cannot start.
    pub(crate) fn submit(&mut self, job: ProfileTaken) {
        if self.jobs.is_none() {
            let (tx, rx) = channel();
            let (pending, done) = (Arc::clone(&self.pending), Arc::clone(&self.done));
            let spawned = std::thread::Builder::new()
                .name("memwd-profile".to_owned())
                .spawn(move || work(&rx, &pending, &done));
            if let Err(e) = spawned {
                self.finish(ProfileDone::failed(
                    job.kind,
                    "diff",
                    format!("could not start the profile thread: {e}"),
                ));
                return;
            }
            self.jobs = Some(tx);
        }
        if let Some(tx) = &self.jobs {
            if let Err(e) = tx.send(job) {
                let job = e.0;
                self.finish(ProfileDone::failed(
                    job.kind,
                    "diff",
                    "the profile thread has stopped".to_owned(),
                ));
            }
        }
    }

    fn finish(&self, done: ProfileDone) {
        push(&self.pending, &self.done, done);
    }

    /// The outcomes finished since the last call (usually none: one atomic load).
    pub(crate) fn take(&self) -> Vec<ProfileDone> {
        if self.pending.load(Ordering::Acquire) == 0 {
            return Vec::new();
        }
        let mut done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        self.pending.store(0, Ordering::Release);
        std::mem::take(&mut *done)
    }

    /// Lets the thread end after its current profile (it holds no event-loop handle).
    pub(crate) fn stop(&mut self) {
        self.jobs = None;
    }
}

fn push(pending: &AtomicUsize, done: &Mutex<Vec<ProfileDone>>, outcome: ProfileDone) {
    done.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(outcome);
    pending.fetch_add(1, Ordering::Release);
}

/// The thread: one job at a time, the baseline kept between jobs.
fn work(jobs: &Receiver<ProfileTaken>, pending: &AtomicUsize, done: &Mutex<Vec<ProfileDone>>) {
    let mut baseline: Option<(HeapProfile, Option<String>)> = None;
    while let Ok(job) = jobs.recv() {
        let outcome = run(&job, &mut baseline);
        push(pending, done, outcome);
    }
}

fn run(job: &ProfileTaken, baseline: &mut Option<(HeapProfile, Option<String>)>) -> ProfileDone {
    let mut out = ProfileDone::new(job.kind);
    let mut profile = match parse(job.json.as_bytes()) {
        Ok(p) => p,
        Err(e) => {
            out.error = Some((
                "diff",
                format!(
                    "the {} profile cannot be read: {}",
                    job.kind,
                    error_chain(&e)
                ),
            ));
            return out;
        }
    };
    profile.set_sampling_interval(Some(u64::from(job.sampling_interval)));
    let keep = baseline
        .as_ref()
        .and_then(|(_, p)| p.as_deref())
        .and_then(|p| Path::new(p).file_name())
        .and_then(|n| n.to_str())
        .map(str::to_owned);
    if let Some(path) = &job.path {
        match store(
            path,
            job.json.as_bytes(),
            keep.as_deref(),
            job.max_files.max(2),
        ) {
            Ok(deleted) => {
                out.path = Some(path.display().to_string());
                out.deleted = deleted;
            }
            Err(e) => out.error = Some((e.reason(), error_chain(&e))),
        }
    }
    if job.kind == ProfileKind::Baseline {
        // The new baseline replaces the old one (the start baseline, once warm-up ended).
        if let Some((_, Some(old))) = baseline.take() {
            if out.path.as_deref() != Some(old.as_str()) && std::fs::remove_file(&old).is_ok() {
                out.deleted.push(PathBuf::from(old));
            }
        }
        *baseline = Some((profile, out.path.clone()));
        return out;
    }
    let Some((base, base_path)) = baseline.as_ref() else {
        out.error = Some(("diff", "no baseline profile to compare with".to_owned()));
        return out;
    };
    let mut report = diff(base, &profile, None, &DiffOptions { top: TOP_SITES });
    // Sites in compiled code (TypeScript, bundles) name their original source when the
    // script has a source map; read here, on this thread, never on the JS thread.
    let mut maps = Resolver::new();
    report.map_sources(|url, line, column| maps.resolve(url, line, column));
    out.sites.clone_from(&report.sites);
    if let Some(path) = &job.path {
        let report_path = report_path(path);
        let file = ReportFile::new(&report, base_path.as_deref(), out.path.as_deref());
        match file
            .to_json()
            .map_err(|e| StoreError::Write {
                path: report_path.clone(),
                source: std::io::Error::other(e),
            })
            .and_then(|json| write_private(&report_path, json.as_bytes()))
        {
            Ok(()) => out.report_path = Some(report_path.display().to_string()),
            Err(e) => {
                if out.error.is_none() {
                    out.error = Some((e.reason(), error_chain(&e)));
                }
            }
        }
    }
    out
}

/// Rotates the directory, then writes the profile.
fn store(
    path: &Path,
    bytes: &[u8],
    keep: Option<&str>,
    max_files: usize,
) -> Result<Vec<PathBuf>, StoreError> {
    let deleted = path
        .parent()
        .map(|dir| rotate(dir, keep, max_files))
        .unwrap_or_default();
    write_private(path, bytes)?;
    Ok(deleted)
}

/// `<stem>.allocation-report.json` next to `<stem>.heapprofile`.
fn report_path(profile: &Path) -> PathBuf {
    let name = profile.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let report = ProfileFile::parse(name).map_or_else(
        || format!("{name}{}", memwatchdog_profstore::REPORT_SUFFIX),
        |f| f.report_name(),
    );
    profile.with_file_name(report)
}
