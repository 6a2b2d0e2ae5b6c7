//! `mw check`: the CI memory gate. The same analysis as `mw analyze` (two or three heap
//! snapshots, or sampling heap profiles) or `mw detect` (a trace), judged against memory
//! budgets; a Markdown summary on standard output (and appended to `$GITHUB_STEP_SUMMARY`),
//! `key=value` outputs appended to `$GITHUB_OUTPUT`, the JSON report to `--report`, and exit
//! code 9 when a budget is exceeded or the trace made the detector declare a leak; `--html`
//! writes the page `mw analyze --html` writes.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use memwatchdog_detect::{Config, Detector, Event, TraceReader};
use memwatchdog_heapprofile::{DiffOptions, FileKind, ProfileReport, diff};
use memwatchdog_heapsnapshot::report::LeakReport;
use memwatchdog_report::Analysis;
use memwatchdog_sourcemap::Resolver;
use serde::Serialize;

use crate::budget::{BudgetError, Budgets, Verdict, judge};
use crate::check_measure::{top_site, top_suspect};
use crate::check_summary::{Details, render, worst_state};
use crate::cli::{CheckArgs, UsageError};
use crate::detect::DetectError;
use crate::exit;
use crate::github::{append, output_lines};
use crate::html::write_page;
use crate::inputs::{Inputs, Opened, Source, classify, open_all};
use crate::output::write_report;

/// Version of the `--report` JSON (docs/cli.md).
const SCHEMA_VERSION: u32 = 1;

/// The `--report` document: the verdict, the budgets judged, and the analysis report.
#[derive(Serialize)]
struct CheckReport<'a, R: Serialize> {
    schema_version: u32,
    kind: &'static str,
    input: &'static str,
    passed: bool,
    growth_bytes: Option<u64>,
    top_suspect: Option<String>,
    budgets: &'a [Verdict],
    report: &'a R,
}

/// What one gate found, before it is written anywhere.
struct Gate<'a, R: Serialize> {
    input: &'static str,
    passed: bool,
    growth_bytes: Option<u64>,
    top_suspect: Option<String>,
    verdicts: Vec<Verdict>,
    details: Details<'a>,
    report: &'a R,
}

/// Runs `mw check`.
pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let budgets = budgets(args)?;
    let paths: Vec<&Path> = args.files.iter().map(PathBuf::as_path).collect();
    let mut inputs = open_all(&paths)?;
    if let [_] = paths[..] {
        let input = inputs.pop().expect("one input");
        return check_trace(args, &budgets, input);
    }
    if classify(&inputs)? == Inputs::Profiles {
        if !budgets.classes.is_empty() {
            return Err(BudgetError::ClassForProfiles.into());
        }
        return check_profiles(args, &budgets, inputs);
    }
    check_snapshots(args, &budgets, inputs, &paths)
}

/// The budgets file overlaid with the flags; at least one budget unless the input is a trace
/// (checked by the caller that knows).
fn budgets(args: &CheckArgs) -> Result<Budgets, BudgetError> {
    let file = match &args.budgets {
        None => Budgets::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| BudgetError::Open {
                path: path.clone(),
                source,
            })?;
            Budgets::from_json(path, &text)?
        }
    };
    Ok(file.overridden_by(Budgets {
        total: args.budget,
        classes: args.budget_class.iter().cloned().collect(),
        paths: args.budget_path.iter().cloned().collect(),
    }))
}

fn check_snapshots(
    args: &CheckArgs,
    budgets: &Budgets,
    inputs: Vec<Opened>,
    paths: &[&Path],
) -> anyhow::Result<ExitCode> {
    if budgets.is_empty() {
        return Err(BudgetError::None.into());
    }
    let progress = !args.no_progress && std::io::IsTerminal::is_terminal(&std::io::stderr());
    // Every suspect and class, so a budget sees all of them; the report keeps the top.
    let report = crate::analyze::diff_snapshots(inputs, paths, usize::MAX, progress)?;
    let verdicts = judge(budgets, &report);
    warn_unmatched(&verdicts);
    let kept = keep_top(report, args.top);
    if let Some(html) = &args.html {
        write_page(html, Analysis::Leak(&kept), &args.files, None)?;
    }
    let passed = verdicts.iter().all(|v| !v.exceeded);
    finish(
        args,
        &Gate {
            input: "snapshots",
            passed,
            growth_bytes: Some(kept.new_bytes),
            top_suspect: top_suspect(&kept),
            verdicts,
            details: Details::Snapshots(&kept),
            report: &kept,
        },
    )
}

/// The report with its ranked lists cut to `top` rows.
fn keep_top(mut report: LeakReport, top: usize) -> LeakReport {
    report.suspects.truncate(top);
    report.constructors.truncate(top);
    report.native.classes.truncate(top);
    report
}

fn check_profiles(
    args: &CheckArgs,
    budgets: &Budgets,
    inputs: Vec<Opened>,
) -> anyhow::Result<ExitCode> {
    if budgets.is_empty() {
        return Err(BudgetError::None.into());
    }
    let profiles = inputs
        .into_iter()
        .map(crate::profile_diff::load)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut report: ProfileReport = diff(
        &profiles[0],
        &profiles[1],
        profiles.get(2),
        &DiffOptions { top: usize::MAX },
    );
    let mut maps = Resolver::new();
    report.map_sources(|url, line, column| maps.resolve(url, line, column));
    let verdicts = judge(budgets, &report);
    warn_unmatched(&verdicts);
    report.sites.truncate(args.top);
    report.functions.truncate(args.top);
    if let Some(html) = &args.html {
        write_page(html, Analysis::Profile(&report), &args.files, None)?;
    }
    let passed = verdicts.iter().all(|v| !v.exceeded);
    finish(
        args,
        &Gate {
            input: "profiles",
            passed,
            growth_bytes: Some(report.growth_bytes.max(0).unsigned_abs()),
            top_suspect: top_site(&report),
            verdicts,
            details: Details::Profiles(&report),
            report: &report,
        },
    )
}

/// One file: a CSV trace replayed through the detector; one snapshot or profile alone has
/// nothing to compare with.
fn check_trace(args: &CheckArgs, budgets: &Budgets, input: Opened) -> anyhow::Result<ExitCode> {
    match input.kind() {
        FileKind::HeapSnapshot => {
            return Err(UsageError::OneSnapshotToCheck { path: input.path }.into());
        }
        FileKind::HeapProfile => {
            return Err(UsageError::OneProfile { path: input.path }.into());
        }
        FileKind::Unknown => {}
    }
    if !budgets.is_empty() {
        return Err(BudgetError::ForTrace.into());
    }
    if args.html.is_some() {
        return Err(UsageError::NoHtmlForTrace.into());
    }
    let path = input.path.clone();
    let config = match &args.config {
        None => Config::default(),
        Some(file) => {
            let text = std::fs::read_to_string(file).map_err(|source| DetectError::ConfigOpen {
                path: file.clone(),
                source,
            })?;
            Config::from_json(&text).map_err(|source| DetectError::Config {
                path: Some(file.clone()),
                source,
            })?
        }
    };
    let mut detector =
        Detector::new(config).map_err(|source| DetectError::Config { path: None, source })?;
    let reader: Box<dyn std::io::Read> = match input.into_source()? {
        Source::File(file) => Box::new(file),
        Source::Stream(stream) => Box::new(stream),
    };
    let trace_error = |source| DetectError::Trace {
        path: path.clone(),
        source,
    };
    let mut events: Vec<Event> = Vec::new();
    let mut samples = 0u64;
    for sample in TraceReader::new(BufReader::new(reader)).map_err(trace_error)? {
        events.extend(detector.push(&sample.map_err(trace_error)?));
        samples += 1;
    }
    let worst = worst_state(&events);
    finish(
        args,
        &Gate {
            input: "trace",
            passed: worst.is_none(),
            growth_bytes: None,
            top_suspect: worst.map(|s| format!("the leak detector declared {s}")),
            verdicts: Vec::new(),
            details: Details::Trace {
                events: &events,
                samples,
            },
            report: &events,
        },
    )
}

/// A class or path budget that matched nothing is most likely a typo: said on standard error
/// (the summary marks it too), not a failure.
fn warn_unmatched(verdicts: &[Verdict]) {
    for v in verdicts.iter().filter(|v| v.matched == 0) {
        let what = match &v.scope {
            crate::budget::Scope::Total => continue,
            crate::budget::Scope::Class(name) => {
                format!("--budget-class {name:?}: no class of that name grew or shrank")
            }
            crate::budget::Scope::Path(text) => format!(
                "--budget-path {text:?}: no suspect's retainer path (or site's stack) contains it"
            ),
        };
        anstream::eprintln!("mw: warning: {what}; check the spelling (it is case-sensitive)");
    }
}

/// Writes the report, the summary and the outputs, and turns the verdict into the exit code.
fn finish<R: Serialize>(args: &CheckArgs, gate: &Gate<'_, R>) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.report {
        let doc = CheckReport {
            schema_version: SCHEMA_VERSION,
            kind: "check",
            input: gate.input,
            passed: gate.passed,
            growth_bytes: gate.growth_bytes,
            top_suspect: gate.top_suspect.clone(),
            budgets: &gate.verdicts,
            report: gate.report,
        };
        let mut json = serde_json::to_string_pretty(&doc).context("serialising the report")?;
        json.push('\n');
        write_report(Some(path), &json)?;
    }
    let markdown = render(gate.passed, &gate.verdicts, &gate.details, args.top);
    write_report(None, &markdown)?;
    if let Some(path) = runner_file(args.summary.as_deref(), "GITHUB_STEP_SUMMARY") {
        append(&path, "job summary", &format!("{markdown}\n"))?;
    }
    if let Some(path) = runner_file(args.github_output.as_deref(), "GITHUB_OUTPUT") {
        let mut pairs = vec![("passed", gate.passed.to_string())];
        if let Some(bytes) = gate.growth_bytes {
            pairs.push(("growth_bytes", bytes.to_string()));
        }
        pairs.push(("top_suspect", gate.top_suspect.clone().unwrap_or_default()));
        if let Some(report) = &args.report {
            pairs.push(("report", report.display().to_string()));
        }
        if let Some(html) = &args.html {
            pairs.push(("html", html.display().to_string()));
        }
        append(&path, "step outputs", &output_lines(&pairs))?;
    }
    Ok(if gate.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::BUDGET_EXCEEDED)
    })
}

/// The flag's file, else the runner's variable when it is set and not empty.
fn runner_file(flag: Option<&Path>, var: &str) -> Option<PathBuf> {
    flag.map(Path::to_owned).or_else(|| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}
