//! The Markdown summary of `mw check`: the verdict, every budget against what grew, and the
//! top of the report (suspects, allocation sites or the detector's state changes), written for
//! `$GITHUB_STEP_SUMMARY` and readable as plain text on a terminal.

use std::fmt::Write as _;

use memwatchdog_detect::Event;
use memwatchdog_heapprofile::ProfileReport;
use memwatchdog_heapsnapshot::report::LeakReport;
use memwatchdog_units::HumanBytes;

use crate::budget::{Scope, Verdict};
use crate::format::count;

/// What the summary tells, besides the budgets.
pub enum Details<'a> {
    /// A snapshot diff.
    Snapshots(&'a LeakReport),
    /// A profile diff.
    Profiles(&'a ProfileReport),
    /// A replayed trace: its state changes and sample count.
    Trace {
        /// The detector's state changes.
        events: &'a [Event],
        /// Samples replayed.
        samples: u64,
    },
}

/// The whole summary; `top` rows of the report's ranked list.
pub fn render(passed: bool, verdicts: &[Verdict], details: &Details<'_>, top: usize) -> String {
    let mut out = String::new();
    let mark = if passed { "✅ passed" } else { "❌ failed" };
    let _ = writeln!(out, "### MemWatchdog memory check: {mark}\n");
    let _ = writeln!(out, "{}\n", what_was_compared(details));
    if !verdicts.is_empty() {
        budgets_table(&mut out, verdicts);
    }
    match details {
        Details::Snapshots(report) => suspects_table(&mut out, report, top),
        Details::Profiles(report) => sites_table(&mut out, report, top),
        Details::Trace { events, .. } => events_table(&mut out, events),
    }
    out
}

fn what_was_compared(details: &Details<'_>) -> String {
    match details {
        Details::Snapshots(r) => {
            let (first, last) = (&r.snapshots[0], &r.snapshots[r.snapshots.len() - 1]);
            format!(
                "{} heap snapshots, {} → {}: {} new objects still alive, {:.1}.",
                r.snapshots.len(),
                HumanBytes(first.total_bytes),
                HumanBytes(last.total_bytes),
                count(r.new_objects),
                HumanBytes(r.new_bytes)
            )
        }
        Details::Profiles(r) => format!(
            "{} sampling heap profiles: live sampled bytes {} by {:.1}.",
            r.profiles.len(),
            if r.growth_bytes < 0 { "shrank" } else { "grew" },
            HumanBytes(r.growth_bytes.unsigned_abs())
        ),
        Details::Trace { events, samples } => {
            let worst = worst_state(events);
            format!(
                "A trace of {} GC samples replayed through the leak detector: {}.",
                count(*samples),
                worst.map_or_else(
                    || "no leak declared".to_owned(),
                    |s| format!("it declared `{s}`")
                )
            )
        }
    }
}

/// The most severe state the trace reached among `leaking` and `oom_risk`.
pub fn worst_state(events: &[Event]) -> Option<memwatchdog_detect::State> {
    use memwatchdog_detect::State;
    [State::OomRisk, State::Leaking]
        .into_iter()
        .find(|s| events.iter().any(|e| e.state == *s))
}

fn budgets_table(out: &mut String, verdicts: &[Verdict]) {
    let _ = writeln!(out, "| budget | grew | limit | |\n|---|---:|---:|---|");
    for v in verdicts {
        let what = match &v.scope {
            Scope::Total => "total".to_owned(),
            Scope::Class(name) => format!("class {}", code(name)),
            Scope::Path(text) => format!("path containing {}", code(text)),
        };
        let status = if v.exceeded {
            "❌ exceeded"
        } else if v.matched == 0 {
            "⚠️ matched nothing: check the name"
        } else {
            "✅ within"
        };
        let _ = writeln!(
            out,
            "| {what} | {:.1} | {:.1} | {status} |",
            HumanBytes(v.growth_bytes),
            HumanBytes(v.budget_bytes)
        );
    }
    out.push('\n');
}

fn suspects_table(out: &mut String, report: &LeakReport, top: usize) {
    if report.suspects.is_empty() {
        let _ = writeln!(out, "No leak suspects: no new object is still alive.");
        return;
    }
    let _ = writeln!(
        out,
        "**Leak suspects** (new objects still alive, grouped by retainer path)\n\n| # | grew | objects | class | retainer path |\n|---:|---:|---:|---|---|"
    );
    for s in report.suspects.iter().take(top) {
        let _ = writeln!(
            out,
            "| {} | +{:.1} | {} | {} | {} |",
            s.rank,
            HumanBytes(s.delta_bytes),
            count(s.delta_count),
            code(&s.example.class_name),
            code(&s.example.path_text)
        );
    }
    more(out, report.suspects.len(), top, "suspects");
}

fn sites_table(out: &mut String, report: &ProfileReport, top: usize) {
    if report.sites.is_empty() {
        let _ = writeln!(out, "No allocation site grew.");
        return;
    }
    let _ = writeln!(
        out,
        "**Allocation sites** (live sampled bytes that grew, by call stack)\n\n| # | grew | stack (innermost user frame first) |\n|---:|---:|---|"
    );
    for s in report.sites.iter().take(top) {
        let _ = writeln!(
            out,
            "| {} | +{:.1} | {} |",
            s.rank,
            HumanBytes(s.delta_bytes),
            code(&s.stack_line(300))
        );
    }
    more(out, report.sites.len(), top, "sites");
}

fn events_table(out: &mut String, events: &[Event]) {
    if events.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "| time (s) | signal | state | slope |\n|---:|---|---|---:|"
    );
    let start = events[0].t_ms;
    for e in events {
        let _ = writeln!(
            out,
            "| {:.1} | {} | {} → {} | {:.1} B/ms |",
            (e.t_ms - start) / 1000.0,
            e.signal.as_str(),
            e.from,
            e.state,
            e.slope
        );
    }
}

fn more(out: &mut String, all: usize, top: usize, what: &str) {
    if all > top {
        let _ = writeln!(
            out,
            "\n… and {} more {what} in the report.",
            count((all - top) as u64)
        );
    }
}

/// `text` as a Markdown code span inside a table cell: pipes escaped (GitHub ends the cell
/// at `|` even in code), backticks fenced by a longer run, line breaks as spaces.
pub fn code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ").replace('|', "\\|");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::code;

    #[test]
    fn code_spans_survive_pipes_backticks_and_newlines() {
        assert_eq!(code("Map"), "`Map`");
        assert_eq!(code("a | b"), "`a \\| b`");
        assert_eq!(code("x`y"), "``x`y``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("a\nb"), "`a b`");
    }
}
