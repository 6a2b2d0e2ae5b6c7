//! `mw`: the MemWatchdog command line.
//!
//! `mw analyze FILE` tells what holds the memory of one V8 heap snapshot; `mw analyze
//! BASE TARGET [FINAL]` diffs heap snapshots and names the retainer paths that hold the
//! leaked objects, or diffs sampling heap profiles and names the call stacks that
//! allocated what grew; `mw detect TRACE.csv` replays recorded GC samples through
//! the watchdog's leak detector; `mw check` runs either and fails when growth exceeds memory
//! budgets (the CI gate); `mw scrub IN OUT` writes a copy of a heap snapshot with its string
//! values replaced, to share it. The binary only wires the library crates together:
//! argument parsing, files, progress and output formatting live here, nothing else.

#[cfg(target_os = "linux")]
mod agent;
mod alloc;
mod analyze;
mod budget;
mod check;
mod check_measure;
mod check_summary;
mod chronology;
mod cli;
mod detect;
mod exit;
mod format;
mod github;
mod html;
mod inputs;
mod load;
mod mapped;
mod output;
mod profile_diff;
mod profile_table;
mod scrub;
mod story;
mod story_table;
mod style;
mod summary;
mod summary_table;
mod table;

use std::process::ExitCode;

use clap::Parser;

// Huge pages on request (`madvise(MADV_HUGEPAGE)`) are Linux's; elsewhere the system
// allocator as it is.
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: alloc::HugePages = alloc::HugePages;

fn main() -> ExitCode {
    #[cfg(unix)]
    mapped::exit_cleanly_on_sigbus();
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Analyze(args) => analyze::run(&args),
        cli::Command::Detect(args) => detect::run(&args),
        cli::Command::Scrub(args) => scrub::run(&args),
        cli::Command::Check(args) => check::run(&args),
        cli::Command::Agent(args) => agent::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            let code = exit::code_for(&err);
            anstream::eprintln!("mw: error: {err:#}");
            if let Some(hint) = exit::hint_for(&err) {
                anstream::eprintln!("hint: {hint}");
            }
            ExitCode::from(code)
        }
    }
}
