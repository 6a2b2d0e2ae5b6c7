//! The terminal rendering of a heap summary (`mw analyze FILE`): totals, holders,
//! collections, duplicated strings, closures, native and detached memory.
//!
//! The columns follow the diff's table (rank, bytes, count, class, retainer path). Colour
//! is only used when `color` is true; the text is otherwise identical.

use std::fmt::Write;

use memwatchdog_heapsnapshot::summary::report::{Collection, CollectionKind, HeapSummary, Holder};
use memwatchdog_units::HumanBytes;
use owo_colors::OwoColorize;

use crate::format::{count, function_site, holds_line, truncate};
use crate::style::Styles;

/// Renders the whole summary.
pub fn render(report: &HeapSummary, color: bool) -> String {
    let s = Styles::new(color);
    let mut out = String::new();
    let t = &report.snapshot;
    let _ = writeln!(out, "{}", "Heap snapshot".style(s.heading));
    let _ = writeln!(
        out,
        "  {:.1} in {} objects; {:.1} reachable from the roots, {:.1} native (outside the JS heap)\n",
        HumanBytes(t.total_bytes),
        count(t.nodes),
        HumanBytes(t.reachable_bytes),
        HumanBytes(t.native_bytes),
    );
    render_holders(&mut out, report, &s);
    render_collections(&mut out, report, &s);
    render_strings(&mut out, report, &s);
    render_closures(&mut out, report, &s);
    render_native(&mut out, report, &s);
    out
}

fn render_holders(out: &mut String, report: &HeapSummary, s: &Styles) {
    let _ = writeln!(
        out,
        "{}",
        "What holds the memory (largest retained size first)".style(s.heading)
    );
    let _ = writeln!(
        out,
        "  {:>3}  {:>10}  {:>9}  {:<24}  Retainer path",
        "#", "Retained", "Count", "Class"
    );
    for holder in &report.holders {
        render_holder(out, holder, s);
    }
    let _ = writeln!(out);
}

fn render_holder(out: &mut String, h: &Holder, s: &Styles) {
    let _ = writeln!(
        out,
        "  {:>3}  {:>10}  {:>9}  {:<24}  {}",
        h.rank,
        format!("{:.1}", HumanBytes(h.retained_bytes)).style(s.grow),
        count(h.count),
        truncate(&h.example.class_name, 24),
        h.example.path_text.style(s.path),
    );
    if let Some(f) = &h.example.function {
        let _ = writeln!(out, "  {:>27}  function {}", "", function_site(f));
    }
    if !h.holds.is_empty() {
        let _ = writeln!(out, "  {:>27}  {}", "", holds_line(&h.holds).style(s.dim));
    }
}

fn render_collections(out: &mut String, report: &HeapSummary, s: &Styles) {
    let _ = writeln!(
        out,
        "{}",
        "Largest collections (Map, Set, Array, objects used as dictionaries)".style(s.heading)
    );
    if report.collections.is_empty() {
        let _ = writeln!(out, "  none\n");
        return;
    }
    let _ = writeln!(
        out,
        "  {:>3}  {:>12}  {:>10}  {:>9}  {:<24}  {:<20}  Retainer path",
        "#", "Entries hold", "Retained", "Entries", "Kind", "Variable"
    );
    for c in &report.collections {
        let _ = writeln!(
            out,
            "  {:>3}  {:>12}  {:>10.1}  {:>9}  {:<24}  {:<20}  {}",
            c.rank,
            format!("{:.1}", HumanBytes(c.entries_bytes)).style(s.grow),
            HumanBytes(c.retained_bytes),
            count(c.entries),
            truncate(&collection_kind(c), 24),
            truncate(c.variable.as_deref().unwrap_or("-"), 20),
            c.path_text.style(s.path),
        );
    }
    let _ = writeln!(out);
}

/// `Map`, or `LruCache (Map)` for a subclass, `Object (dictionary)`.
fn collection_kind(c: &Collection) -> String {
    let kind = match c.kind {
        CollectionKind::Map => "Map",
        CollectionKind::Set => "Set",
        CollectionKind::WeakMap => "WeakMap",
        CollectionKind::WeakSet => "WeakSet",
        CollectionKind::Array => "Array",
        CollectionKind::Dictionary => "dictionary",
    };
    if c.class_name == kind {
        kind.to_owned()
    } else {
        format!("{} ({kind})", c.class_name)
    }
}

fn render_strings(out: &mut String, report: &HeapSummary, s: &Styles) {
    let d = &report.duplicated_strings;
    let _ = writeln!(
        out,
        "{}  {:.1} wasted by {} values stored more than once",
        "Duplicated strings".style(s.heading),
        HumanBytes(d.wasted_bytes),
        count(d.values),
    );
    if d.top.is_empty() {
        let _ = writeln!(out);
        return;
    }
    let _ = writeln!(
        out,
        "  {:>3}  {:>10}  {:>9}  {:>10}  {:<32}  Retainer path (one copy)",
        "#", "Wasted", "Copies", "Each", "Value"
    );
    for row in &d.top {
        let value = row.value.as_ref().map_or_else(
            || {
                let chars = if row.length == 1 { "char" } else { "chars" };
                format!("({} {chars}; --show-strings)", count(row.length))
            },
            |v| format!("{v:?}"),
        );
        let _ = writeln!(
            out,
            "  {:>3}  {:>10}  {:>9}  {:>10.1}  {:<32}  {}",
            row.rank,
            format!("{:.1}", HumanBytes(row.wasted_bytes)).style(s.grow),
            count(row.copies),
            HumanBytes(row.bytes_each),
            truncate(&value, 32),
            row.path_text.style(s.path),
        );
    }
    let _ = writeln!(out);
}

fn render_closures(out: &mut String, report: &HeapSummary, s: &Styles) {
    let _ = writeln!(
        out,
        "{}",
        "Closures by function (largest retained size first)".style(s.heading)
    );
    let _ = writeln!(
        out,
        "  {:>3}  {:>10}  {:>9}  Function",
        "#", "Retained", "Count"
    );
    for c in &report.closures {
        let _ = writeln!(
            out,
            "  {:>3}  {:>10}  {:>9}  {}",
            c.rank,
            format!("{:.1}", HumanBytes(c.retained_bytes)).style(s.grow),
            count(c.count),
            function_site(&c.function),
        );
        let _ = writeln!(out, "  {:>24}  {}", "", c.path_text.style(s.path));
    }
    let _ = writeln!(out);
}

fn render_native(out: &mut String, report: &HeapSummary, s: &Styles) {
    let native = &report.native;
    let _ = writeln!(
        out,
        "{}  {:.1} in {} objects",
        "Native memory (outside the JS heap)".style(s.heading),
        HumanBytes(native.bytes),
        count(native.count),
    );
    for c in &native.classes {
        let path = c.path_text.style(s.path).to_string();
        class_row(out, &c.class_name, c.count, c.bytes, &path);
    }
    let _ = writeln!(out);
    match &report.detached {
        None => {
            let _ = writeln!(
                out,
                "{}  not recorded in this snapshot",
                "Detached objects".style(s.heading)
            );
        }
        Some(d) => {
            let _ = writeln!(
                out,
                "{}  {} objects, {:.1} ({:.1} retained)",
                "Detached objects".style(s.heading),
                count(d.count),
                HumanBytes(d.bytes),
                HumanBytes(d.retained_bytes),
            );
            for c in &d.classes {
                class_row(out, &c.class_name, c.count, c.bytes, "");
            }
        }
    }
}

/// One row of a class table: the class, its count and bytes, then `tail` (a path, or
/// nothing).
fn class_row(out: &mut String, class_name: &str, n: u64, bytes: u64, tail: &str) {
    let row = format!(
        "  {:<40}  {:>9}  {:>10.1}  {tail}",
        truncate(class_name, 40),
        count(n),
        HumanBytes(bytes),
    );
    let _ = writeln!(out, "{}", row.trim_end());
}
