//! The terminal rendering of a sampling heap profile diff: allocation sites, then functions.
//!
//! Colour is only used when `color` is true (a terminal without `NO_COLOR`); the text is
//! otherwise identical, so files and pipes get plain text.

use std::fmt::Write;

use memwatchdog_heapprofile::{AllocationSite, FunctionGrowth, ProfileReport};
use owo_colors::OwoColorize;

use memwatchdog_units::HumanBytes;

use crate::format::{count, signed_bytes, signed_count};
use crate::style::Styles;

/// Longest stack line in the sites table, in characters.
const STACK_CHARS: usize = 160;

/// Renders the whole report.
pub fn render(report: &ProfileReport, color: bool) -> String {
    let s = Styles::new(color);
    let mut out = String::new();
    let _ = writeln!(out, "{}", "Sampling heap profiles".style(s.heading));
    let live: Vec<String> = report
        .profiles
        .iter()
        .map(|p| format!("{:.1}", HumanBytes(p.live_bytes)))
        .collect();
    let _ = writeln!(
        out,
        "  live sampled bytes {} ({})",
        live.join(" → "),
        signed_bytes(report.growth_bytes)
    );
    let samples: Option<Vec<String>> = report
        .profiles
        .iter()
        .map(|p| p.samples.map(count))
        .collect();
    if let Some(samples) = samples {
        let _ = writeln!(out, "  samples {}", samples.join(" → "));
    }
    if let Some(interval) = report.profiles.iter().find_map(|p| p.sampling_interval) {
        let _ = writeln!(
            out,
            "  one sample per {:.1} allocated",
            HumanBytes(interval)
        );
    }
    let _ = writeln!(out);
    render_sites(&mut out, &report.sites, &s);
    render_functions(&mut out, &report.functions, &s);
    out
}

fn render_sites(out: &mut String, sites: &[AllocationSite], s: &Styles) {
    let _ = writeln!(
        out,
        "{}",
        "Allocation sites (largest growth first; stack innermost first)".style(s.heading)
    );
    if sites.is_empty() {
        let _ = writeln!(out, "  none: no call stack's live sampled bytes grew\n");
        return;
    }
    let _ = writeln!(
        out,
        "  {:>3}  {:>10}  {:>9}  Stack",
        "#", "ΔBytes", "ΔSamples"
    );
    for site in sites {
        let _ = writeln!(
            out,
            "  {:>3}  {:>10}  {:>9}  {}",
            site.rank,
            format!("+{:.1}", HumanBytes(site.delta_bytes)).style(s.grow),
            samples(site.delta_samples),
            site.stack_line(STACK_CHARS).style(s.path),
        );
        if let Some(frame) = site.user_frame.map(|k| &site.frames[k]) {
            let generated = match (frame.line, frame.column) {
                (Some(line), Some(column)) => format!("{}:{line}:{column}", frame.url),
                _ => frame.url.clone(),
            };
            let at = match (&frame.original, frame.line) {
                (Some(o), _) => format!(
                    "at {}:{}:{} (compiled: {generated})",
                    o.url, o.line, o.column
                ),
                (None, Some(_)) => format!("at {generated}"),
                (None, None) => format!("in {generated}"),
            };
            let _ = writeln!(out, "  {:>25}  {}", "", at.style(s.dim));
        }
    }
    let _ = writeln!(out);
}

fn render_functions(out: &mut String, functions: &[FunctionGrowth], s: &Styles) {
    let _ = writeln!(
        out,
        "{}",
        "Functions (stacks summed by innermost user frame)".style(s.heading)
    );
    if functions.is_empty() {
        let _ = writeln!(out, "  none");
        return;
    }
    let _ = writeln!(
        out,
        "  {:>3}  {:>10}  {:>9}  {:>6}  Function",
        "#", "ΔBytes", "ΔSamples", "Stacks"
    );
    for f in functions {
        let _ = writeln!(
            out,
            "  {:>3}  {:>10}  {:>9}  {:>6}  {}",
            f.rank,
            format!("+{:.1}", HumanBytes(f.delta_bytes)).style(s.grow),
            samples(f.delta_samples),
            f.stacks,
            f.function,
        );
    }
}

fn samples(delta: Option<i64>) -> String {
    delta.map_or_else(|| "?".to_owned(), signed_count)
}
