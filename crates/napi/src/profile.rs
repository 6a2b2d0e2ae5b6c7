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

use memwatchdog_heapprofile::{
    AllocationSite, DiffOptions, Frame, FrameKind, HeapProfile, diff, parse,
};
use memwatchdog_profstore::{ProfileFile, StoreError, rotate, write_private};
use napi_derive::napi;

use memwatchdog_profstore::ReportFile;

/// How many sites the report, the event and the alert's source get.
const TOP_SITES: usize = 10;

/// A profile JS has taken.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ProfileTaken {
    /// `baseline`, `suspect` or `leak`.
    pub kind: String,
    /// The profile (`HeapProfiler.getSamplingProfile`'s `profile`) as JSON text.
    pub json: String,
    /// Where to write it; absent: nowhere (no `profile.dir`), the diff still happens.
    pub path: Option<String>,
    /// Most `.heapprofile` files kept in the directory.
    pub max_files: u32,
    /// The sampling interval the profile was taken with (bytes), for the report.
    pub sampling_interval: u32,
}

/// One frame of an allocation site's stack (1-based line and column).
#[napi(object)]
#[derive(Debug, Clone)]
pub struct NativeFrame {
    /// Function name (`(anonymous)` when V8 has none).
    pub function_name: String,
    /// Script URL or path (empty for V8 builtins).
    pub url: String,
    /// Line of the function's definition, 1-based; absent when V8 does not know it.
    pub line: Option<u32>,
    /// Column of the function's definition, 1-based; absent when V8 does not know it.
    pub column: Option<u32>,
    /// `user` (the application and its dependencies), `node`, `builtin` or `vm`.
    pub kind: String,
}

/// An allocation site whose live sampled bytes grew since the baseline.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct NativeAllocationSite {
    /// One line for the alert and the log: growth, then the stack from the innermost
    /// application frame outwards.
    pub summary: String,
    /// The innermost application frame as one line: `pushEntry (server.js:41:18)`.
    pub site: String,
    /// Growth of the live sampled bytes.
    pub delta_bytes: f64,
    /// Live sampled bytes in the newer profile.
    pub bytes: f64,
    /// Call stack, innermost (allocating) frame first.
    pub stack: Vec<NativeFrame>,
    /// Index in `stack` of the innermost application frame (not Node's, not a builtin).
    pub user_frame: Option<u32>,
}

/// What became of one profile.
#[derive(Debug, Clone)]
pub(crate) struct ProfileDone {
    /// `baseline`, `suspect` or `leak`.
    pub(crate) kind: String,
    /// The `.heapprofile` file, if it was written.
    pub(crate) path: Option<String>,
    /// The allocation report, if one was written.
    pub(crate) report_path: Option<String>,
    /// Sites that grew, most first (empty for a baseline or on error).
    pub(crate) sites: Vec<NativeAllocationSite>,
    /// Why something failed, with the metric reason (`io`, `disk_full`, `diff`).
    pub(crate) error: Option<(&'static str, String)>,
    /// Old profiles deleted to stay within `profile.maxFiles`.
    pub(crate) deleted: Vec<PathBuf>,
}

struct Job {
    kind: String,
    json: String,
    path: Option<PathBuf>,
    max_files: usize,
    sampling_interval: u32,
}

/// The background thread and its outcome queue (the thread starts with the first profile).
#[derive(Default)]
pub(crate) struct Profiles {
    jobs: Option<Sender<Job>>,
    pending: Arc<AtomicUsize>,
    done: Arc<Mutex<Vec<ProfileDone>>>,
}

impl Profiles {
    /// Queues a profile for the thread; an outcome is ready at once if the thread cannot start.
    pub(crate) fn submit(&mut self, taken: ProfileTaken) {
        let job = Job {
            kind: taken.kind,
            json: taken.json,
            path: taken.path.map(PathBuf::from),
            max_files: taken.max_files.max(2) as usize,
            sampling_interval: taken.sampling_interval,
        };
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

impl ProfileDone {
    fn failed(kind: String, reason: &'static str, message: String) -> ProfileDone {
        ProfileDone {
            kind,
            path: None,
            report_path: None,
            sites: Vec::new(),
            error: Some((reason, message)),
            deleted: Vec::new(),
        }
    }
}

/// The thread: one job at a time, the baseline kept between jobs.
fn work(jobs: &Receiver<Job>, pending: &AtomicUsize, done: &Mutex<Vec<ProfileDone>>) {
    let mut baseline: Option<(HeapProfile, Option<String>)> = None;
    while let Ok(job) = jobs.recv() {
        let outcome = run(&job, &mut baseline);
        push(pending, done, outcome);
    }
}

fn run(job: &Job, baseline: &mut Option<(HeapProfile, Option<String>)>) -> ProfileDone {
    let mut out = ProfileDone {
        kind: job.kind.clone(),
        path: None,
        report_path: None,
        sites: Vec::new(),
        error: None,
        deleted: Vec::new(),
    };
    let mut profile = match parse(job.json.as_bytes()) {
        Ok(p) => p,
        Err(e) => {
            out.error = Some((
                "diff",
                format!("the {} profile cannot be read: {e}", job.kind),
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
        match store(path, job.json.as_bytes(), keep.as_deref(), job.max_files) {
            Ok(deleted) => {
                out.path = Some(path.display().to_string());
                out.deleted = deleted;
            }
            Err(e) => out.error = Some((e.reason(), e.to_string())),
        }
    }
    if job.kind == "baseline" {
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
    let report = diff(base, &profile, None, &DiffOptions { top: TOP_SITES });
    out.sites = report.sites.iter().map(native_site).collect();
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
                    out.error = Some((e.reason(), e.to_string()));
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

fn native_site(site: &AllocationSite) -> NativeAllocationSite {
    NativeAllocationSite {
        summary: site.summary(),
        site: site.site.clone(),
        delta_bytes: site.delta_bytes as f64,
        bytes: site.bytes.last().copied().unwrap_or(0) as f64,
        stack: site.frames.iter().map(native_frame).collect(),
        user_frame: site.user_frame.map(|i| i as u32),
    }
}

fn native_frame(f: &Frame) -> NativeFrame {
    NativeFrame {
        function_name: f.function.clone(),
        url: f.url.clone(),
        line: f.line,
        column: f.column,
        kind: match f.kind {
            FrameKind::User => "user",
            FrameKind::Node => "node",
            FrameKind::Builtin => "builtin",
            FrameKind::Vm => "vm",
        }
        .to_owned(),
    }
}
