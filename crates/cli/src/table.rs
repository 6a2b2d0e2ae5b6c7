//! The terminal rendering of a leak report: suspects, constructors, native memory.
//!
//! Colour is only used when `color` is true (a terminal without `NO_COLOR`); the text is
//! otherwise identical, so files and pipes get plain text.

use std::fmt::Write;

use memwatchdog_heapsnapshot::report::{LeakReport, Suspect};
use owo_colors::OwoColorize;

use memwatchdog_units::HumanBytes;

use crate::format::{count, function_site, holds_line, signed_bytes, signed_count, truncate};
use crate::style::Styles;

/// Renders the whole report.
pub fn render(report: &LeakReport, color: bool) -> String {
    let s = Styles::new(color);
    let mut out = String::new();
    let sizes: Vec<String> = report
        .snapshots
        .iter()
        .map(|snap| {
            format!(
                "{:.1} ({} nodes)",
                HumanBytes(snap.total_bytes),
                count(snap.nodes)
            )
        })
        .collect();
    let _ = writeln!(out, "{}", "Heap snapshots".style(s.heading));
    let _ = writeln!(out, "  {}", sizes.join(" → "));
    let _ = writeln!(
        out,
        "  {} objects allocated after the base are still alive ({:.1})",
        count(report.new_objects),
        HumanBytes(report.new_bytes)
    );
    let _ = writeln!(out);
    render_suspects(&mut out, report, &s);
    render_constructors(&mut out, report, &s);
    render_native(&mut out, report, &s);
    out
}

fn render_suspects(out: &mut String, report: &LeakReport, s: &Styles) {
    let _ = writeln!(
        out,
        "{}",
        "Leak suspects (largest growth first)".style(s.heading)
    );
    if report.suspects.is_empty() {
        let _ = writeln!(
            out,
            "  none: no object allocated after the base is still retained\n"
        );
        return;
    }
    let _ = writeln!(
        out,
        "  {:>3}  {:>10}  {:>9}  {:<24}  Retainer path",
        "#", "ΔBytes", "ΔCount", "Class"
    );
    for suspect in &report.suspects {
        render_suspect(out, suspect, s);
    }
    let _ = writeln!(out);
}

fn render_suspect(out: &mut String, suspect: &Suspect, s: &Styles) {
    let _ = writeln!(
        out,
        "  {:>3}  {:>10}  {:>9}  {:<24}  {}",
        suspect.rank,
        format!("+{:.1}", HumanBytes(suspect.delta_bytes)).style(s.grow),
        format!("+{}", count(suspect.delta_count)),
        suspect.example.class_name,
        suspect.example.path_text.style(s.path),
    );
    if let Some(f) = &suspect.example.function {
        let _ = writeln!(out, "  {:>27}  function {}", "", function_site(f));
    }
    if !suspect.holds.is_empty() {
        let _ = writeln!(
            out,
            "  {:>27}  {}",
            "",
            holds_line(&suspect.holds).style(s.dim)
        );
    }
}

fn render_constructors(out: &mut String, report: &LeakReport, s: &Styles) {
    let _ = writeln!(
        out,
        "{}",
        "Constructors, newest snapshot vs base".style(s.heading)
    );
    let _ = writeln!(
        out,
        "  {:<32}  {:>9}  {:>9}  {:>9}  {:>10}  {:>10}  {:>11}",
        "Class", "New", "Deleted", "ΔCount", "Alloc", "Freed", "ΔSize"
    );
    for row in &report.constructors {
        let _ = writeln!(
            out,
            "  {:<32}  {:>9}  {:>9}  {:>9}  {:>10.1}  {:>10.1}  {:>11}",
            truncate(&row.class_name, 32),
            count(row.new_count),
            count(row.deleted_count),
            signed_count(row.delta_count),
            HumanBytes(row.alloc_bytes),
            HumanBytes(row.freed_bytes),
            signed_bytes(row.delta_bytes),
        );
    }
    let _ = writeln!(out);
}

fn render_native(out: &mut String, report: &LeakReport, s: &Styles) {
    let native = &report.native;
    let _ = writeln!(
        out,
        "{}  {:.1} → {:.1} ({})",
        "Native memory (outside the JS heap)".style(s.heading),
        HumanBytes(native.base_bytes),
        HumanBytes(native.newest_bytes),
        signed_bytes(native.delta_bytes),
    );
    for row in &native.classes {
        let _ = writeln!(
            out,
            "  {:<40}  {:>9}  {:>11}",
            truncate(&row.class_name, 40),
            signed_count(row.delta_count),
            signed_bytes(row.delta_bytes)
        );
    }
}
