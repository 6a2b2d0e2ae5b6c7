//! Sampling heap profiles whose `samples` come before `head` (issue #17): V8 writes `head`
//! first, but a profile re-serialized by another tool may not, and `samples` runs past the
//! first 4 KiB that `mw` used to judge a file by. Such profiles were not recognised (the
//! run fell back to the snapshot parser). Real profiles of `fixtures/profiles/leaky.cjs`,
//! re-serialized with `samples` first, must give the report of the originals, from files
//! and through pipes (standard input, a FIFO).

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

/// `profile` (a `.heapprofile`) written back with `samples` before `head`.
fn samples_first(profile: &Path) -> Vec<u8> {
    let text = std::fs::read(profile).unwrap();
    let json: Value = serde_json::from_slice(&text).unwrap();
    let samples = serde_json::to_string(&json["samples"]).unwrap();
    let head = serde_json::to_string(&json["head"]).unwrap();
    assert!(
        samples.len() > 4096,
        "{}: samples of {} bytes do not reach past the first 4 KiB",
        profile.display(),
        samples.len()
    );
    format!("{{\"samples\":{samples},\"head\":{head}}}").into_bytes()
}

/// Runs `mw analyze --json --top 5` on `files`, with `stdin` on its standard input.
fn analyze(files: &[&OsStr], stdin: Option<Vec<u8>>) -> Output {
    let mut args: Vec<&OsStr> = ["analyze", "--json", "--top", "5", "--no-progress"]
        .into_iter()
        .map(OsStr::new)
        .collect();
    args.extend_from_slice(files);
    common::mw_with_deadline(&args, stdin)
}

/// The parts of a profile report that do not name the input files.
fn findings(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "mw failed: {}",
        common::stderr(out)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(report["kind"], "heapprofile", "{report:#}");
    serde_json::json!({
        "growth_bytes": report["growth_bytes"],
        "sites": report["sites"],
        "functions": report["functions"],
    })
}

#[test]
fn profiles_with_samples_before_head_give_the_originals_report() {
    common::require_node();
    let generated = common::generate_profiles_with("node", "leaky");
    let [base, leak, _] = common::profiles(generated.path(), "leaky");
    let want = findings(&analyze(&[base.as_os_str(), leak.as_os_str()], None));
    assert!(
        !want["sites"].as_array().unwrap().is_empty(),
        "the leak shows: {want:#}"
    );

    let dir = tempfile::tempdir().unwrap();
    let (base_bytes, leak_bytes) = (samples_first(&base), samples_first(&leak));
    let moved_base = dir.path().join("base.heapprofile");
    let moved_leak = dir.path().join("leak.heapprofile");
    std::fs::write(&moved_base, &base_bytes).unwrap();
    std::fs::write(&moved_leak, &leak_bytes).unwrap();

    // Files.
    let files = analyze(&[moved_base.as_os_str(), moved_leak.as_os_str()], None);
    assert_eq!(findings(&files), want, "samples first, from files");
    // One original, one re-serialized: the same kind of input.
    let mixed = analyze(&[base.as_os_str(), moved_leak.as_os_str()], None);
    assert_eq!(
        findings(&mixed),
        want,
        "an original and a re-serialized profile"
    );
    // The newest through standard input.
    let piped = analyze(
        &[moved_base.as_os_str(), OsStr::new("-")],
        Some(leak_bytes.clone()),
    );
    assert_eq!(findings(&piped), want, "samples first, newest from stdin");
    // Both through FIFOs.
    let (a, wa) = common::fifo_of(dir.path(), "a.fifo", base_bytes);
    let (b, wb) = common::fifo_of(dir.path(), "b.fifo", leak_bytes);
    let fifos = analyze(&[a.as_os_str(), b.as_os_str()], None);
    wa.join().unwrap();
    wb.join().unwrap();
    assert_eq!(findings(&fifos), want, "samples first, through FIFOs");
}
