//! The scan loop: every `--poll`, list the artifact directory, and take each finished file
//! through analysis (leak and near-heap-limit snapshots), upload (scrubbed first with
//! `--scrub`) and deletion (`--delete-after-upload`), oldest first, one file at a time.
//!
//! A failed upload is retried with a doubling backoff (1 s up to `--max-backoff`); a file
//! that vanished meanwhile (the watchdog's rotation) is dropped. The agent keeps no state on
//! disk: after a restart, files already in the store (same key and size) are not uploaded
//! again and snapshots with a report beside them are not analyzed again.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use memwatchdog_offload::{ObjectKey, OffloadError, Store};
use serde_json::json;

use crate::analyze::{self, Job, Outcome};
use crate::artifact::{Artifact, Kind};
use crate::log;
use crate::plan;
use crate::scan::{Found, scan};
use crate::settle::{Settle, Stat};
use crate::shared::Shared;

/// First wait before a failed upload is tried again.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// The loop's memory between scans.
pub struct Pipeline {
    shared: Arc<Shared>,
    settle: Settle,
    /// Files handled, as they were when handled: a file rewritten later is handled again.
    done: HashSet<(PathBuf, Stat)>,
    /// Snapshots whose analysis was tried (it is not retried).
    analyzed: HashSet<PathBuf>,
    /// Files whose upload failed: when to try again and the next wait.
    retry: HashMap<PathBuf, (Instant, Duration)>,
    /// Whether the missing directory was already reported.
    told_missing: bool,
}

impl Pipeline {
    /// A loop over `shared`'s configuration.
    #[must_use]
    pub fn new(shared: Arc<Shared>) -> Pipeline {
        let settle = Settle::new(shared.config.settle);
        Pipeline {
            shared,
            settle,
            done: HashSet::new(),
            analyzed: HashSet::new(),
            retry: HashMap::new(),
            told_missing: false,
        }
    }

    /// Scans until `stop` resolves, then finishes the file in hand.
    pub async fn run(mut self, stop: tokio::sync::watch::Receiver<bool>) {
        let mut stop = stop;
        loop {
            self.tick().await;
            if *stop.borrow() {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep(self.shared.config.poll) => {}
                _ = stop.changed() => break,
            }
        }
        self.shared.running.store(false, Ordering::Relaxed);
    }

    /// One scan and the files it found finished.
    pub async fn tick(&mut self) {
        let dir = self.shared.config.dir.clone();
        let found = match scan(&dir) {
            Ok(Some(found)) => {
                self.told_missing = false;
                found
            }
            Ok(None) => {
                if !self.told_missing {
                    log::info(
                        "waiting for the artifact directory (the watchdog creates it at start)",
                        json!({ "dir": dir }),
                    );
                    self.told_missing = true;
                }
                Vec::new()
            }
            Err(e) => {
                log::warn(
                    "cannot list the artifact directory",
                    json!({ "dir": dir, "error": e.to_string() }),
                );
                return;
            }
        };
        let (now, wall) = (Instant::now(), SystemTime::now());
        let mut ready = Vec::new();
        let (mut queued, mut queued_bytes) = (0, 0);
        for f in &found {
            if self.done.contains(&(f.path.clone(), f.stat)) {
                continue;
            }
            queued += 1;
            queued_bytes += f.stat.size;
            let finished = self.settle.observe(&f.path, f.stat, now, wall);
            let due = self.retry.get(&f.path).is_none_or(|&(at, _)| at <= now);
            if finished && due {
                ready.push(f.clone());
            }
        }
        let present: HashSet<&Path> = found.iter().map(|f| f.path.as_path()).collect();
        self.settle.retain_seen(|p| present.contains(p));
        self.done.retain(|(p, _)| present.contains(p.as_path()));
        self.retry.retain(|p, _| present.contains(p.as_path()));
        self.shared.metrics.queue(queued, queued_bytes);
        ready.sort_by(|a, b| {
            (a.artifact.time.as_ref(), a.stat.modified)
                .cmp(&(b.artifact.time.as_ref(), b.stat.modified))
        });
        for f in ready {
            let siblings = siblings(&found, &f.path);
            self.handle(&f, &siblings).await;
        }
        if self.shared.config.scrub {
            self.prune_work_dir(&found);
        }
        let unix = wall
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        self.shared.last_scan.store(unix, Ordering::Relaxed);
        self.shared.metrics.scanned(unix);
    }

    async fn handle(&mut self, f: &Found, siblings: &[(PathBuf, Artifact)]) {
        let config = &self.shared.config;
        if config.analyze && f.artifact.wants_analysis() && !self.analyzed.contains(&f.path) {
            self.analyzed.insert(f.path.clone());
            self.analyze(f, siblings).await;
        }
        let Some(store) = self.shared.store.clone() else {
            self.done.insert((f.path.clone(), f.stat));
            return;
        };
        let source = if self.scrubs(&f.artifact) {
            match self.scrubbed(&f.path).await {
                Ok(p) => p,
                Err(e) => {
                    log::warn(
                        "cannot scrub a snapshot before its upload; retried later",
                        json!({ "file": f.path, "error": e }),
                    );
                    self.backoff(&f.path);
                    return;
                }
            }
        } else {
            f.path.clone()
        };
        match self.upload(&store, f, &source).await {
            Ok(()) => {}
            Err(e) if is_vanished(&e) => {
                log::info(
                    "file removed before its upload (rotated by the watchdog)",
                    json!({ "file": f.path }),
                );
                return;
            }
            Err(e) => {
                self.shared.metrics.upload_failed(e.reason());
                log::warn(
                    "upload failed; retried with backoff",
                    json!({ "file": f.path, "reason": e.reason(), "error": e.to_string() }),
                );
                self.backoff(&f.path);
                return;
            }
        }
        self.retry.remove(&f.path);
        self.done.insert((f.path.clone(), f.stat));
        let artifacts: Vec<Artifact> = siblings.iter().map(|(_, a)| a.clone()).collect();
        let keep = plan::keep_after_upload(&f.artifact, &artifacts);
        if source != f.path && !keep {
            let _ = std::fs::remove_file(&source);
        }
        if self.shared.config.delete_after_upload && !keep {
            match std::fs::remove_file(&f.path) {
                Ok(()) => {
                    self.shared.metrics.deleted();
                    log::info("deleted after upload", json!({ "file": f.path }));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => log::warn(
                    "cannot delete an uploaded file",
                    json!({ "file": f.path, "error": e.to_string() }),
                ),
            }
        }
    }

    async fn upload(&self, store: &Store, f: &Found, source: &Path) -> Result<(), OffloadError> {
        let config = &self.shared.config;
        let key = ObjectKey::artifact(
            &config.namespace,
            &config.pod,
            f.stat.modified,
            &f.artifact.name,
        )?;
        let size = std::fs::metadata(source)
            .map_err(|e| OffloadError::Io {
                path: source.to_owned(),
                action: "inspect",
                source: e,
            })?
            .len();
        if store.find_uploaded(&key, size).await? {
            log::info(
                "already in the store",
                json!({ "file": f.path, "key": key.as_str() }),
            );
            return Ok(());
        }
        let up = store.upload(source, &key).await?;
        self.shared
            .metrics
            .uploaded(f.artifact.kind.label(), up.bytes, up.duration.as_secs_f64());
        log::info(
            "uploaded",
            json!({
                "file": f.path, "key": up.key.as_str(), "bytes": up.bytes, "parts": up.parts,
                "sha256": up.sha256, "seconds": up.duration.as_secs_f64(), "scrubbed": source != f.path,
            }),
        );
        Ok(())
    }

    async fn analyze(&mut self, f: &Found, siblings: &[(PathBuf, Artifact)]) {
        let config = &self.shared.config;
        let json_path = f.path.with_file_name(f.artifact.analysis_name());
        if json_path.exists() {
            return;
        }
        if f.stat.size > config.analyze_max_bytes {
            self.shared.metrics.analyzed("skipped", None);
            log::info(
                "snapshot larger than --analyze-max-bytes: not analyzed",
                json!({
                    "file": f.path, "bytes": f.stat.size, "max_bytes": config.analyze_max_bytes,
                }),
            );
            return;
        }
        let artifacts: Vec<Artifact> = siblings.iter().map(|(_, a)| a.clone()).collect();
        let base = plan::baseline_for(&f.artifact, &artifacts)
            .and_then(|b| siblings.iter().find(|(_, a)| a.name == b.name))
            .map(|(p, _)| p.clone());
        let (base, target) = if config.scrub {
            let base = match base {
                Some(b) => match self.scrubbed(&b).await {
                    Ok(p) => Some(p),
                    Err(e) => return self.analysis_failed(f, &e),
                },
                None => None,
            };
            match self.scrubbed(&f.path).await {
                Ok(t) => (base, t),
                Err(e) => return self.analysis_failed(f, &e),
            }
        } else {
            (base, f.path.clone())
        };
        let job = Job {
            base: base.clone(),
            target,
            json: json_path,
            html: f.path.with_file_name(f.artifact.analysis_page_name()),
        };
        log::info("analyzing", json!({ "file": f.path, "base": base }));
        let (outcome, took) = analyze::run(&config.mw, &job).await;
        self.shared
            .metrics
            .analyzed(outcome.label(), Some(took.as_secs_f64()));
        match outcome {
            Outcome::Failed(e) => self.analysis_failed(f, &e),
            Outcome::Found(top) => log::info(
                "analyzed",
                json!({
                    "file": f.path, "report": job.json, "seconds": took.as_secs_f64(), "top_suspect": top,
                }),
            ),
            Outcome::Nothing => log::info(
                "analyzed: no suspect",
                json!({
                    "file": f.path, "report": job.json, "seconds": took.as_secs_f64(),
                }),
            ),
        }
    }

    fn analysis_failed(&self, f: &Found, error: &str) {
        self.shared.metrics.analyzed("failed", None);
        log::warn(
            "analysis failed; the snapshot is uploaded without it",
            json!({ "file": f.path, "error": error }),
        );
    }

    fn scrubs(&self, artifact: &Artifact) -> bool {
        self.shared.config.scrub && matches!(artifact.kind, Kind::Snapshot(_))
    }

    /// The scrubbed copy of `path` in the work directory, made when missing.
    async fn scrubbed(&self, path: &Path) -> Result<PathBuf, String> {
        let config = &self.shared.config;
        let relative = path.strip_prefix(&config.dir).unwrap_or(path);
        let copy = config.work_dir.join(relative);
        if copy.exists() {
            return Ok(copy);
        }
        if let Some(parent) = copy.parent() {
            create_private_dir(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        let result = analyze::scrub(&config.mw, path, &copy).await;
        self.shared.metrics.scrubbed(result.is_ok());
        result.map(|()| copy)
    }

    /// Removes the scrubbed copies nothing needs any more: of files gone from the directory,
    /// and of baselines that a newer baseline of their process replaced (a restarted
    /// container's), once handled.
    fn prune_work_dir(&self, found: &[Found]) {
        let config = &self.shared.config;
        let Ok(Some(copies)) = scan(&config.work_dir) else {
            return;
        };
        for copy in copies {
            let relative = copy
                .path
                .strip_prefix(&config.work_dir)
                .unwrap_or(&copy.path);
            let source = config.dir.join(relative);
            let needed = found.iter().find(|f| f.path == source).is_some_and(|f| {
                let artifacts: Vec<Artifact> = siblings(found, &f.path)
                    .into_iter()
                    .map(|(_, a)| a)
                    .collect();
                !self.done.contains(&(f.path.clone(), f.stat))
                    || plan::keep_after_upload(&f.artifact, &artifacts)
            });
            if !needed {
                let _ = std::fs::remove_file(&copy.path);
            }
        }
    }

    fn backoff(&mut self, path: &Path) {
        let max = self.shared.config.max_backoff;
        let wait = self.retry.get(path).map_or(FIRST_BACKOFF, |&(_, w)| w);
        self.retry.insert(
            path.to_owned(),
            (Instant::now() + wait, (wait * 2).min(max)),
        );
    }
}

/// The artifacts in the same directory as `path` (the ones it can be paired with).
fn siblings(found: &[Found], path: &Path) -> Vec<(PathBuf, Artifact)> {
    found
        .iter()
        .filter(|f| f.path.parent() == path.parent())
        .map(|f| (f.path.clone(), f.artifact.clone()))
        .collect()
}

fn is_vanished(e: &OffloadError) -> bool {
    matches!(e, OffloadError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
}

/// Creates `dir` (and its parents) with mode 0700 where the platform has modes.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
