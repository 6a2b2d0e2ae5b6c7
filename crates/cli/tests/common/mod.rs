//! Shared helpers of the `mw` integration tests: the real `node`, the fixture generator,
//! and running the built `mw` binary.

#![allow(dead_code, clippy::must_use_candidate)]

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// Checks that `node` runs; panics with what to install when it does not (locally as in
/// CI: these tests make their fixtures with the real Node.js).
pub fn require_node() {
    let ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "node is not installed: these tests make real heap snapshots with Node.js (install nodejs)"
    );
}

/// The Node binaries to make fixtures with: `MW_TEST_NODES` (one path per line, as printed
/// by `scripts/node-versions.sh`; `make test` sets it to Node 20, 22 and 24), else `node`.
pub fn nodes() -> Vec<String> {
    std::env::var("MW_TEST_NODES")
        .ok()
        .map(|list| {
            list.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .filter(|list| !list.is_empty())
        .unwrap_or_else(|| vec![String::from("node")])
}

/// Runs the fixture generator for one scenario with the system `node`; see [`generate_with`].
pub fn generate(name: &str) -> tempfile::TempDir {
    generate_with("node", name)
}

/// Runs the fixture generator for one scenario under `node` into a fresh temporary
/// directory and returns it (the scenario's files are in `dir/NAME/`).
pub fn generate_with(node: &str, name: &str) -> tempfile::TempDir {
    run_generator(node, name, &[])
}

/// Runs the generator for one sampling heap profile scenario (`fixtures/profiles/NAME.cjs`)
/// under `node`; the profiles are in `dir/NAME/` (see [`profiles`]).
pub fn generate_profiles_with(node: &str, name: &str) -> tempfile::TempDir {
    run_generator(node, name, &["--profiles"])
}

/// Runs the generator for one out-of-memory scenario (`fixtures/oom/NAME.cjs`) under `node`:
/// it leaks until V8 writes its near-heap-limit snapshot and the process dies; the snapshot is
/// [`near_heap_limit`].
pub fn generate_oom_with(node: &str, name: &str) -> tempfile::TempDir {
    run_generator(node, name, &["--oom"])
}

/// The snapshot of a generated out-of-memory scenario.
pub fn near_heap_limit(dir: &Path, name: &str) -> PathBuf {
    dir.join(name).join("near-heap-limit.heapsnapshot")
}

/// Like [`generate_with`], but reproducible: the programs run under V8's `--predictable` with
/// fixed seeds (`generate.mjs --predictable`), from a copy of the fixture programs and a link to
/// `node` in a fresh `/tmp/mw-pinned-XXXXXX`, the same depth and length on every machine (the
/// program's and Node's paths are in the heap: one directory more or a longer name changes the
/// snapshots). The scenario's files are in `dir/NAME/`, the copy in `dir/fixtures/`.
pub fn generate_predictable_with(node: &str, name: &str) -> tempfile::TempDir {
    run_copied_generator(node, name, &["--predictable"])
}

/// Like [`generate_profiles_with`], reproducible as [`generate_predictable_with`].
pub fn generate_profiles_predictable_with(node: &str, name: &str) -> tempfile::TempDir {
    run_copied_generator(node, name, &["--profiles", "--predictable"])
}

fn run_copied_generator(node: &str, name: &str, extra: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("mw-pinned-")
        .rand_bytes(6)
        .tempdir_in("/tmp")
        .expect("tempdir in /tmp");
    let copy = dir.path().join("fixtures");
    for sub in ["programs", "profiles"] {
        copy_tree(&repo_root().join("fixtures").join(sub), &copy.join(sub));
    }
    std::fs::copy(
        repo_root().join("fixtures/generate.mjs"),
        copy.join("generate.mjs"),
    )
    .expect("copy fixtures/generate.mjs");
    let exe = Command::new(node)
        .args(["-p", "process.execPath"])
        .output()
        .unwrap_or_else(|e| panic!("run {node}: {e}"));
    let exe = PathBuf::from(String::from_utf8_lossy(&exe.stdout).trim());
    let linked = dir.path().join("node");
    if std::fs::hard_link(&exe, &linked).is_err() {
        std::fs::copy(&exe, &linked).unwrap_or_else(|e| panic!("copy {}: {e}", exe.display()));
    }
    let linked = linked.to_str().expect("a UTF-8 temporary path");
    run_generator_at(&copy.join("generate.mjs"), dir.path(), linked, name, extra);
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the fixture copy");
    for entry in std::fs::read_dir(from).expect("read fixtures") {
        let entry = entry.expect("read fixtures");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy a fixture file");
        }
    }
}

/// The major version of the Node binary `node` (`20` for `v20.20.2`).
pub fn node_major(node: &str) -> String {
    let out = Command::new(node)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("run {node} --version: {e}"));
    let version = String::from_utf8_lossy(&out.stdout);
    let major = version.trim().trim_start_matches('v').split('.').next();
    match major {
        Some(m) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) => m.to_owned(),
        _ => panic!("{node} --version printed {version:?}, not vMAJOR.MINOR.PATCH"),
    }
}

fn run_generator(node: &str, name: &str, extra: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let generator = repo_root().join("fixtures/generate.mjs");
    run_generator_at(&generator, dir.path(), node, name, extra);
    dir
}

fn run_generator_at(generator: &Path, out_dir: &Path, node: &str, name: &str, extra: &[&str]) {
    let out = Command::new("node")
        .arg(generator)
        .arg(out_dir)
        .args(extra)
        .args(["--only", name, "--node", node])
        .output()
        .expect("run fixtures/generate.mjs");
    assert!(
        out.status.success(),
        "fixture generator failed for {name} under {node}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `mw analyze` with `extra` options on `files`.
pub fn analyze(files: &[&Path], extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec![std::ffi::OsStr::new("analyze")];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    args.extend(files.iter().map(|p| p.as_os_str()));
    mw(&args)
}

/// Runs `mw analyze --json` with `extra` options on `files`, asserts it succeeded and returns
/// the report.
pub fn analyze_json(files: &[&Path], extra: &[&str]) -> serde_json::Value {
    let out = analyze(files, &[&["--json"], extra].concat());
    assert!(
        out.status.success(),
        "mw analyze {extra:?}: {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

/// The edge names of a report row's `path`, root side first.
pub fn edge_names(row: &serde_json::Value) -> Vec<&str> {
    row["path"]
        .as_array()
        .expect("a path")
        .iter()
        .map(|s| s["edge"].as_str().expect("an edge name"))
        .collect()
}

/// A run's standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs the real `mw` binary.
pub fn mw(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mw"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run mw")
}

/// The three snapshot paths of a generated scenario.
pub fn snapshots(dir: &Path, name: &str) -> [PathBuf; 3] {
    ["base", "target", "final"].map(|s| dir.join(name).join(format!("{s}.heapsnapshot")))
}

/// The three profile paths of a generated profile scenario.
pub fn profiles(dir: &Path, name: &str) -> [PathBuf; 3] {
    ["base", "leak", "final"].map(|s| dir.join(name).join(format!("{s}.heapprofile")))
}

/// Past this, `mw` hangs: it is killed and the test fails.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A FIFO made with `mkfifo` whose writer thread writes `bytes` once a reader opens it.
pub fn fifo_of(dir: &Path, name: &str, bytes: Vec<u8>) -> (PathBuf, std::thread::JoinHandle<()>) {
    let path = dir.join(name);
    let made = Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo {}", path.display());
    let writer_path = path.clone();
    let writer = std::thread::spawn(move || {
        // A reader that goes away early (an error) ends the write with EPIPE: fine here.
        if let Ok(mut fifo) = std::fs::OpenOptions::new().write(true).open(&writer_path) {
            let _ = fifo.write_all(&bytes);
        }
    });
    (path, writer)
}

/// Runs `mw` with `stdin` on its standard input; killed (and the test failed) past [`DEADLINE`].
pub fn mw_with_deadline(args: &[&OsStr], stdin: Option<Vec<u8>>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mw"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mw");
    let feeder = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).unwrap();
        out
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > DEADLINE {
            child.kill().ok();
            child.wait().ok();
            panic!("mw {args:?} hung for {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = Vec::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut stderr)
        .unwrap();
    if let Some(feeder) = feeder {
        feeder.join().unwrap();
    }
    Output {
        status,
        stdout: reader.join().unwrap(),
        stderr,
    }
}
