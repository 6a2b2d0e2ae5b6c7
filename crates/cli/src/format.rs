//! Human formatting for `mw`'s columns: signed byte sizes (on [`HumanBytes`], one
//! decimal), thousands separators, and the pieces every snapshot table shares (a
//! function's definition site, a "holds" line, names cut to a column).

use memwatchdog_heapsnapshot::report::{ClassBytes, FunctionInfo};
use memwatchdog_units::HumanBytes;

/// Signed byte size: `+1.5 kB`, `-200 B`.
pub fn signed_bytes(n: i64) -> String {
    let sign = if n < 0 { '-' } else { '+' };
    format!("{sign}{:.1}", HumanBytes(n.unsigned_abs()))
}

/// `1234567` → `1,234,567`.
pub use memwatchdog_units::grouped as count;

/// Signed count: `+1,234`, `-5`.
pub fn signed_count(n: i64) -> String {
    let sign = if n < 0 { '-' } else { '+' };
    format!("{sign}{}", count(n.unsigned_abs()))
}

/// A function and its definition site: `onData at /srv/app.js:12:5`, in the original source
/// when it was mapped (`onData at /srv/src/app.ts:30:5`), or `in FILE` when the snapshot
/// recorded no position.
pub fn function_site(f: &FunctionInfo) -> String {
    let at = if let Some(o) = &f.original {
        format!(" at {}:{}:{}", o.url, o.line, o.column)
    } else {
        match (&f.file, f.line, f.column) {
            (Some(file), Some(line), Some(column)) => format!(" at {file}:{line}:{column}"),
            (Some(file), ..) => format!(" in {file}"),
            _ => String::new(),
        }
    };
    format!("{}{at}", f.name)
}

/// `holds Session ×1,500 (2.9 MB), (string) ×1,500 (36.0 kB)`.
pub fn holds_line(holds: &[ClassBytes]) -> String {
    let classes: Vec<String> = holds
        .iter()
        .map(|h| {
            format!(
                "{} ×{} ({:.1})",
                h.class_name,
                count(h.count),
                HumanBytes(h.bytes)
            )
        })
        .collect();
    format!("holds {}", classes.join(", "))
}

/// `s` cut to `max` characters, the last one `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max - 1) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use memwatchdog_sourcemap::Original;

    #[test]
    fn formats_sizes_and_counts() {
        assert_eq!(signed_bytes(-2_000), "-2.0 kB");
        assert_eq!(signed_bytes(138), "+138 B");
        assert_eq!(signed_bytes(88_200), "+88.2 kB");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(signed_count(-1000), "-1,000");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }

    #[test]
    fn function_sites() {
        let mut f = FunctionInfo {
            name: "onData".into(),
            file: Some("/srv/app.js".into()),
            line: Some(12),
            column: Some(5),
            original: None,
        };
        assert_eq!(function_site(&f), "onData at /srv/app.js:12:5");
        // Mapped through the script's source map: the original source, only where known.
        f.map_source(&mut |file, line, column| {
            (file == "/srv/app.js" && (line, column) == (12, 5)).then(|| Original {
                url: "/srv/src/app.ts".into(),
                line: 30,
                column: 5,
            })
        });
        assert_eq!(function_site(&f), "onData at /srv/src/app.ts:30:5");
        f.original = None;
        f.line = None;
        f.map_source(&mut |_, _, _| panic!("no position to map"));
        assert_eq!(function_site(&f), "onData in /srv/app.js");
        f.file = None;
        assert_eq!(function_site(&f), "onData");
    }
}
