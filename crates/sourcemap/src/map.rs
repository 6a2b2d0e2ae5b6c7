//! [`SourceMap`]: a source map v3, its mappings decoded into per-line segments, and lookups.

use serde::Deserialize;

use crate::vlq;

/// Why bytes are not a source map this crate can use.
#[derive(Debug, thiserror::Error)]
pub enum SourceMapError {
    /// Not JSON, or not the shape of a source map.
    #[error("not a source map: {0}")]
    Json(#[from] serde_json::Error),
    /// A version other than 3.
    #[error("source map version {0} is not supported (only version 3)")]
    Version(u64),
    /// An index map (`sections`), which bundlers rarely write for Node code.
    #[error("indexed source maps (\"sections\") are not supported")]
    Sections,
    /// A `mappings` segment that is not valid base64 VLQ or points outside `sources`/`names`.
    #[error("bad \"mappings\" on generated line {line}")]
    Mappings {
        /// The generated line (1-based) of the bad segment.
        line: usize,
    },
}

/// The JSON fields read.
#[derive(Deserialize)]
struct Raw {
    version: u64,
    #[serde(default)]
    sources: Vec<Option<String>>,
    #[serde(default, rename = "sourceRoot")]
    source_root: Option<String>,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    mappings: String,
    #[serde(default)]
    sections: Option<serde_json::Value>,
}

/// One mapping: a generated column and, unless it maps nowhere, the original position.
#[derive(Debug, Clone, Copy)]
struct Segment {
    column: u32,
    original: Option<(u32, u32, u32, Option<u32>)>,
}

/// An original position: `source` as the map names it (with `sourceRoot` prefixed), 0-based
/// `line` and `column`, and the original name when the map has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup<'a> {
    /// The original file, as the map names it.
    pub source: &'a str,
    /// 0-based line in the original file.
    pub line: u32,
    /// 0-based column in the original file.
    pub column: u32,
    /// The original name of the symbol there, when the map has one.
    pub name: Option<&'a str>,
}

/// A parsed source map v3.
#[derive(Debug)]
pub struct SourceMap {
    sources: Vec<String>,
    names: Vec<String>,
    /// Per generated line, its segments in column order.
    lines: Vec<Vec<Segment>>,
}

impl SourceMap {
    /// Parses a source map v3 and decodes its mappings.
    pub fn parse(bytes: &[u8]) -> Result<SourceMap, SourceMapError> {
        let raw: Raw = serde_json::from_slice(bytes)?;
        if raw.sections.is_some() {
            return Err(SourceMapError::Sections);
        }
        if raw.version != 3 {
            return Err(SourceMapError::Version(raw.version));
        }
        let root = raw.source_root.unwrap_or_default();
        let sources: Vec<String> = raw
            .sources
            .into_iter()
            .map(|s| {
                let s = s.unwrap_or_default();
                if root.is_empty() || s.contains("://") || s.starts_with('/') {
                    s
                } else {
                    format!("{}/{s}", root.trim_end_matches('/'))
                }
            })
            .collect();
        let lines = decode(&raw.mappings, sources.len(), raw.names.len())?;
        Ok(SourceMap {
            sources,
            names: raw.names,
            lines,
        })
    }

    /// Where generated `line`:`column` (0-based) came from: the mapping that starts at or
    /// before that column on that line. `None` when the line has no mapping there or it maps
    /// to no source.
    #[must_use]
    pub fn lookup(&self, line: u32, column: u32) -> Option<Lookup<'_>> {
        let segments = self.lines.get(line as usize)?;
        let at = segments
            .partition_point(|s| s.column <= column)
            .checked_sub(1)?;
        let (source, line, column, name) = segments[at].original?;
        Some(Lookup {
            source: &self.sources[source as usize],
            line,
            column,
            name: name.map(|n| self.names[n as usize].as_str()),
        })
    }
}

/// Decodes `mappings` into per-line segments sorted by column, checking every index.
fn decode(
    mappings: &str,
    sources: usize,
    names: usize,
) -> Result<Vec<Vec<Segment>>, SourceMapError> {
    let mut lines = Vec::new();
    let mut fields = Vec::with_capacity(5);
    // Every field but the generated column is relative to the previous segment of the map.
    let (mut source, mut src_line, mut src_column, mut name) = (0i64, 0i64, 0i64, 0i64);
    for (index, text) in mappings.split(';').enumerate() {
        let bad = || SourceMapError::Mappings { line: index + 1 };
        let mut column = 0i64;
        let mut segments = Vec::new();
        for segment in text.split(',').filter(|s| !s.is_empty()) {
            vlq::decode(segment.as_bytes(), &mut fields).ok_or_else(bad)?;
            let [delta, rest @ ..] = fields.as_slice() else {
                return Err(bad());
            };
            column += delta;
            let original = match *rest {
                [] => None,
                [ds, dl, dc] | [ds, dl, dc, _] => {
                    source += ds;
                    src_line += dl;
                    src_column += dc;
                    let name = if let [_, _, _, dn] = *rest {
                        name += dn;
                        Some(index_in(name, names).ok_or_else(bad)?)
                    } else {
                        None
                    };
                    Some((
                        index_in(source, sources).ok_or_else(bad)?,
                        u32::try_from(src_line).map_err(|_| bad())?,
                        u32::try_from(src_column).map_err(|_| bad())?,
                        name,
                    ))
                }
                _ => return Err(bad()),
            };
            segments.push(Segment {
                column: u32::try_from(column).map_err(|_| bad())?,
                original,
            });
        }
        segments.sort_by_key(|s| s.column);
        lines.push(segments);
    }
    Ok(lines)
}

/// `i` as an index into a list of `len`, when it is one.
fn index_in(i: i64, len: usize) -> Option<u32> {
    usize::try_from(i)
        .ok()
        .filter(|&i| i < len)
        .and_then(|i| u32::try_from(i).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(mappings: &str) -> SourceMap {
        let json = format!(
            r#"{{"version": 3, "sourceRoot": "../", "sources": ["src/a.ts", "src/b.ts"], "names": ["pushEntry"], "mappings": "{mappings}"}}"#
        );
        SourceMap::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn looks_up_the_segment_at_or_before_the_column() {
        // Line 0: col 0 -> a.ts 0:0; col 4 -> a.ts 1:2 named pushEntry. Line 1: col 2 -> b.ts 5:0.
        let m = map("AAAA,IACEA;ECIFA");
        let at = |l, c| m.lookup(l, c).map(|o| (o.source, o.line, o.column, o.name));
        assert_eq!(at(0, 0), Some(("../src/a.ts", 0, 0, None)));
        assert_eq!(at(0, 3), Some(("../src/a.ts", 0, 0, None)));
        assert_eq!(at(0, 4), Some(("../src/a.ts", 1, 2, Some("pushEntry"))));
        assert_eq!(at(0, 99), Some(("../src/a.ts", 1, 2, Some("pushEntry"))));
        assert_eq!(at(1, 1), None, "before the line's first segment");
        assert_eq!(at(1, 2), Some(("../src/b.ts", 5, 0, Some("pushEntry"))));
        assert_eq!(at(7, 0), None, "past the last line");
    }

    #[test]
    fn a_one_field_segment_maps_nowhere() {
        let m = map("AAAA,E");
        assert!(m.lookup(0, 1).is_some());
        assert_eq!(m.lookup(0, 2), None);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let parse = |s: &str| SourceMap::parse(s.as_bytes()).unwrap_err().to_string();
        assert_eq!(
            parse(r#"{"version": 2, "sources": [], "mappings": ""}"#),
            "source map version 2 is not supported (only version 3)"
        );
        assert!(parse(r#"{"version": 3, "sections": []}"#).starts_with("indexed source maps"));
        assert!(parse("not json").starts_with("not a source map: "));
        let bad = |m: &str| {
            let json =
                format!(r#"{{"version": 3, "sources": ["a"], "names": [], "mappings": "{m}"}}"#);
            SourceMap::parse(json.as_bytes()).unwrap_err().to_string()
        };
        assert_eq!(bad(";AAAA,A!"), "bad \"mappings\" on generated line 2");
        assert_eq!(
            bad("ACAA"),
            "bad \"mappings\" on generated line 1",
            "source index 1 of 1"
        );
        assert_eq!(
            bad("AAAAA"),
            "bad \"mappings\" on generated line 1",
            "name index 0 of 0"
        );
        assert_eq!(
            bad("AA"),
            "bad \"mappings\" on generated line 1",
            "two fields"
        );
        assert_eq!(
            bad("AADA"),
            "bad \"mappings\" on generated line 1",
            "negative line"
        );
    }
}
