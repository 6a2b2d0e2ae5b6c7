//! Exit codes, documented in docs/cli.md, and the hint printed under an error.

use memwatchdog_heapsnapshot::{DiffError, LookupError};

use crate::budget::BudgetError;
use crate::cli::UsageError;
use crate::detect::DetectError;
use crate::github::AppendError;
use crate::inputs::InputError;
use crate::load::LoadError;
use crate::output::OutputError;
use crate::scrub::ScrubFailure;

/// Something went wrong that is not covered below (a bug: please report it).
pub const INTERNAL: u8 = 1;
/// A bad command line (clap exits with this code itself for what it catches).
pub const USAGE: u8 = 2;
/// An input file is missing, unreadable, not a heap snapshot or heap profile, truncated or
/// corrupt (also when only the diff shows it: one id for two objects), or snapshots and
/// profiles were mixed.
pub const BAD_INPUT: u8 = 3;
/// The snapshots cannot be compared (e.g. they come from different processes).
pub const INCOMPATIBLE: u8 = 4;
/// The report could not be written (e.g. `--out` into a full disk).
pub const OUTPUT: u8 = 5;
/// `mw detect`: the trace made the detector declare a leak (`leaking`, severity warning).
pub const LEAK_DECLARED: u8 = 6;
/// `mw detect`: the trace made the detector project that the limit is reached within the
/// horizon (`oom_risk`, severity critical).
pub const OOM_RISK: u8 = 7;
/// `mw analyze FILE --node ID` / `--class NAME`: no such object or class in the snapshot.
pub const NOT_FOUND: u8 = 8;
/// `mw check`: growth exceeded a budget (or the trace made the detector declare a leak).
pub const BUDGET_EXCEEDED: u8 = 9;

/// The exit code for an error chain.
pub fn code_for(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<UsageError>().is_some() || err.downcast_ref::<BudgetError>().is_some() {
        USAGE
    } else if err.downcast_ref::<LoadError>().is_some()
        || err.downcast_ref::<InputError>().is_some()
        || err.downcast_ref::<DetectError>().is_some()
    {
        BAD_INPUT
    } else if let Some(failure) = err.downcast_ref::<ScrubFailure>() {
        match failure {
            ScrubFailure::Output { .. } => OUTPUT,
            ScrubFailure::NotRegular { .. } | ScrubFailure::Input { .. } => BAD_INPUT,
        }
    } else if matches!(
        err.downcast_ref::<DiffError>(),
        Some(DiffError::DuplicateId { .. })
    ) {
        BAD_INPUT
    } else if err.downcast_ref::<DiffError>().is_some() {
        INCOMPATIBLE
    } else if err.downcast_ref::<OutputError>().is_some()
        || err.downcast_ref::<AppendError>().is_some()
    {
        OUTPUT
    } else if err.downcast_ref::<LookupError>().is_some() {
        NOT_FOUND
    } else {
        INTERNAL
    }
}

/// A line telling the user what to do next, when the error message does not already.
pub fn hint_for(err: &anyhow::Error) -> Option<&'static str> {
    match err.downcast_ref::<LoadError>() {
        Some(LoadError::Open { .. }) => Some(
            "check the path; snapshots are written by v8.writeHeapSnapshot() or DevTools, heap \
             profiles by DevTools' Allocation sampling or HeapProfiler.getSamplingProfile",
        ),
        _ if matches!(
            err.downcast_ref::<InputError>(),
            Some(InputError::Mixed { .. })
        ) =>
        {
            Some(
                "pass only heap snapshots or only sampling heap profiles of one process (mw tells them apart by content)",
            )
        }
        _ if matches!(
            err.downcast_ref::<LookupError>(),
            Some(LookupError::UnknownId { .. })
        ) =>
        {
            Some(
                "ids are the example_id and id fields of `mw analyze FILE --json`, or the @N DevTools shows, in this same snapshot",
            )
        }
        _ if matches!(
            err.downcast_ref::<DiffError>(),
            Some(DiffError::DifferentProcesses { .. })
        ) =>
        {
            Some(
                "write all snapshots from one process, e.g. with v8.writeHeapSnapshot() at intervals",
            )
        }
        _ => None,
    }
}
