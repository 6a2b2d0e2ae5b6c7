//! [`Resolver`]: finds, loads and caches the source map of a script as V8 names it, and maps
//! generated positions through it. The one part of this crate that reads files.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::map::SourceMap;

/// Largest script read to find its `sourceMappingURL` comment (a bundle bigger than this is
/// not looked at: no mapping).
pub const MAX_SCRIPT_BYTES: u64 = 64 * 1024 * 1024;

/// Largest source map read.
pub const MAX_MAP_BYTES: u64 = 256 * 1024 * 1024;

/// An original position, 1-based as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Original {
    /// The original file: a path made absolute against the map's directory, or the map's
    /// source as written when it is a URL (`webpack://app/src/a.ts`).
    pub url: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// Maps positions of scripts that have source maps, loading each script's map once.
#[derive(Debug, Default)]
pub struct Resolver {
    /// Per script (as V8 names it), its map and the directory its sources are relative to;
    /// `None`: no usable map.
    maps: HashMap<String, Option<(SourceMap, PathBuf)>>,
}

impl Resolver {
    /// A resolver with nothing loaded yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Where 1-based `line`:`column` of `script` (a path or `file://` URL, as V8 reports it)
    /// came from, or `None` when the script has no usable source map or the map says nothing
    /// of that position.
    pub fn resolve(&mut self, script: &str, line: u32, column: u32) -> Option<Original> {
        let (map, base) = self
            .maps
            .entry(script.to_owned())
            .or_insert_with(|| load(script))
            .as_ref()?;
        let found = map.lookup(line.checked_sub(1)?, column.checked_sub(1)?)?;
        let url = if found.source.contains("://") {
            found.source.to_owned()
        } else {
            normalize(&base.join(found.source)).display().to_string()
        };
        Some(Original {
            url,
            line: found.line + 1,
            column: found.column + 1,
        })
    }
}

/// The map of `script` and the directory its sources are relative to, or `None`.
fn load(script: &str) -> Option<(SourceMap, PathBuf)> {
    let path = script_path(script)?;
    let text = read_bounded(&path, MAX_SCRIPT_BYTES)?;
    let text = String::from_utf8_lossy(&text);
    let url = mapping_url(&text)?;
    let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
    if let Some(data) = url.strip_prefix("data:") {
        let (meta, payload) = data.split_once(',')?;
        if !meta.split(';').any(|p| p == "base64") {
            return None;
        }
        let bytes = base64(payload.trim())?;
        return SourceMap::parse(&bytes).ok().map(|m| (m, dir));
    }
    if url.contains("://") {
        return None; // http(s) maps are not fetched
    }
    let map_path = normalize(&dir.join(url));
    let bytes = read_bounded(&map_path, MAX_MAP_BYTES)?;
    let map = SourceMap::parse(&bytes).ok()?;
    let base = map_path.parent().unwrap_or(Path::new("/")).to_path_buf();
    Some((map, base))
}

/// The file a script name refers to: an absolute path, or a `file://` URL's path.
fn script_path(script: &str) -> Option<PathBuf> {
    if let Some(rest) = script.strip_prefix("file://") {
        return Some(PathBuf::from(percent_decode(rest)?));
    }
    let path = Path::new(script);
    path.is_absolute().then(|| path.to_path_buf())
}

/// The URL of the last `//# sourceMappingURL=` (or legacy `//@`) comment of a script.
fn mapping_url(text: &str) -> Option<&str> {
    text.lines().rev().take(64).find_map(|line| {
        let line = line.trim();
        let rest = line
            .strip_prefix("//# sourceMappingURL=")
            .or_else(|| line.strip_prefix("//@ sourceMappingURL="))?;
        let url = rest.trim();
        (!url.is_empty()).then_some(url)
    })
}

/// Reads a regular file of at most `max` bytes; `None` otherwise.
fn read_bounded(path: &Path, max: u64) -> Option<Vec<u8>> {
    let file = File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > max {
        return None;
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).ok()?);
    file.take(max).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// `a/b/../c/./d` → `a/c/d`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Decodes `%XX` escapes of a `file://` URL's path.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Standard base64 (padding optional); `None` on any other character.
fn base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const MAP: &str = r#"{"version":3,"file":"app.js","sourceRoot":"","sources":["../src/app.ts"],"names":[],"mappings":";;AAEI"}"#;

    #[test]
    fn a_map_file_next_to_the_script() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("dist")).unwrap();
        let script = dir.path().join("dist/app.js");
        fs::write(&script, "x;\ny;\nz;\n//# sourceMappingURL=app.js.map\n").unwrap();
        fs::write(dir.path().join("dist/app.js.map"), MAP).unwrap();
        let mut r = Resolver::new();
        let want = Original {
            url: dir.path().join("src/app.ts").display().to_string(),
            line: 3,
            column: 5,
        };
        assert_eq!(
            r.resolve(&script.display().to_string(), 3, 1),
            Some(want.clone())
        );
        let url = format!(
            "file://{}",
            script.display().to_string().replace(' ', "%20")
        );
        assert_eq!(r.resolve(&url, 3, 7), Some(want));
        assert_eq!(
            r.resolve(&script.display().to_string(), 1, 1),
            None,
            "an unmapped line"
        );
    }

    #[test]
    fn an_inline_data_url() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("app.js");
        let inline =
            "eyJ2ZXJzaW9uIjozLCJzb3VyY2VzIjpbImEudHMiXSwibmFtZXMiOltdLCJtYXBwaW5ncyI6IkFBQUEifQ==";
        assert_eq!(
            base64(inline).unwrap(),
            br#"{"version":3,"sources":["a.ts"],"names":[],"mappings":"AAAA"}"#
        );
        fs::write(
            &script,
            format!(
                "x;\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,{inline}\n"
            ),
        )
        .unwrap();
        let got = Resolver::new()
            .resolve(&script.display().to_string(), 1, 1)
            .unwrap();
        assert_eq!(
            (got.url, got.line, got.column),
            (dir.path().join("a.ts").display().to_string(), 1, 1)
        );
    }

    #[test]
    fn no_map_means_no_mapping() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain.js");
        fs::write(&plain, "x;\n").unwrap();
        let broken = dir.path().join("broken.js");
        fs::write(&broken, "x;\n//# sourceMappingURL=missing.map\n").unwrap();
        let bad = dir.path().join("bad.js");
        fs::write(&bad, "x;\n//# sourceMappingURL=bad.map\n").unwrap();
        fs::write(dir.path().join("bad.map"), "{}").unwrap();
        let mut r = Resolver::new();
        for script in [&plain, &broken, &bad] {
            assert_eq!(
                r.resolve(&script.display().to_string(), 1, 1),
                None,
                "{}",
                script.display()
            );
        }
        assert_eq!(r.resolve("node:events", 1, 1), None);
        assert_eq!(r.resolve("relative.js", 1, 1), None);
        assert_eq!(r.resolve("/nonexistent/app.js", 1, 1), None);
    }
}
