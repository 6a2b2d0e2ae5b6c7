//! [`Frame`]: a call frame as reports show it — 1-based positions, a kind, a short display.
//!
//! ```
//! use memwatchdog_heapprofile::{CallFrame, Frame, FrameKind};
//!
//! let v8 = CallFrame { function_name: String::new(), url: "file:///srv/app.mjs".into(), line: 40, column: 17 };
//! let frame = Frame::from_call_frame(&v8);
//! assert_eq!((frame.line, frame.column, frame.kind), (Some(41), Some(18), FrameKind::User));
//! assert_eq!(frame.to_string(), "(anonymous) (app.mjs:41:18)");
//! ```

use std::fmt;

use memwatchdog_sourcemap::Original;
use serde::Serialize;

use crate::profile::CallFrame;

/// Where a frame's code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameKind {
    /// The application or its dependencies: a script with a url that is not `node:`.
    User,
    /// Node's own JavaScript (`node:events`, `node:internal/...`).
    Node,
    /// A V8 builtin without a script (`repeat`, `Promise`, `set`).
    Builtin,
    /// A V8 state with no JavaScript on the stack: `(V8 API)`, `(GC)`, `(program)`,
    /// `(garbage collector)`, `(idle)`, `(root)`.
    Vm,
}

impl FrameKind {
    /// The kind of V8's call frame, from its url and name.
    #[must_use]
    pub fn of(frame: &CallFrame) -> Self {
        let name = frame.function_name.as_str();
        if frame.url.starts_with("node:") {
            Self::Node
        } else if !frame.url.is_empty() {
            Self::User
        } else if name.len() > 2 && name.starts_with('(') && name.ends_with(')') {
            Self::Vm
        } else {
            Self::Builtin
        }
    }
}

/// A call frame for humans: `line` and `column` are **1-based** (V8's are 0-based) and
/// `None` when V8 does not know them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Frame {
    /// Function name; `(anonymous)` for functions without one.
    pub function: String,
    /// Script url or path as V8 reports it; empty for builtins and VM states.
    pub url: String,
    /// 1-based line of the function's definition.
    pub line: Option<u32>,
    /// 1-based column of the function's definition (where its parameter list starts).
    pub column: Option<u32>,
    /// Where the code comes from.
    pub kind: FrameKind,
    /// The position in the original source when the script has a source map and the report
    /// was mapped ([`crate::ProfileReport::map_sources`]); `url`, `line` and `column` stay
    /// the generated position. Absent from the JSON when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<Original>,
}

impl Frame {
    /// The report form of V8's call frame.
    #[must_use]
    pub fn from_call_frame(frame: &CallFrame) -> Self {
        let name = frame.function_name.as_str();
        let one_based = |n: i64| u32::try_from(n + 1).ok().filter(|&n| n > 0);
        Self {
            function: if name.is_empty() {
                "(anonymous)".to_owned()
            } else {
                name.to_owned()
            },
            url: frame.url.clone(),
            line: one_based(frame.line),
            column: one_based(frame.column),
            kind: FrameKind::of(frame),
            original: None,
        }
    }

    /// The synthetic frame shown for allocations with no stack at all.
    #[must_use]
    pub fn root() -> Self {
        Self {
            function: "(root)".to_owned(),
            url: String::new(),
            line: None,
            column: None,
            kind: FrameKind::Vm,
            original: None,
        }
    }

    /// Whether this is application code (the frame a reader looks for first).
    #[must_use]
    pub fn is_user(&self) -> bool {
        self.kind == FrameKind::User
    }

    /// The script's file name for display: the last path segment of a user url, Node's
    /// module name (`node:events`) as is.
    #[must_use]
    pub fn file_name(&self) -> &str {
        match self.kind {
            FrameKind::User => last_segment(&self.url),
            _ => &self.url,
        }
    }

    /// Sets [`original`](Self::original) from `map` (script url, 1-based line and column of
    /// the generated code), for a user frame with a known position.
    pub fn map_source(&mut self, map: &mut impl FnMut(&str, u32, u32) -> Option<Original>) {
        if let (FrameKind::User, Some(line), Some(column)) = (self.kind, self.line, self.column) {
            self.original = map(&self.url, line, column);
        }
    }
}

/// The last non-empty segment of a path or URL.
fn last_segment(url: &str) -> &str {
    url.rsplit(['/', '\\'])
        .find(|s| !s.is_empty())
        .unwrap_or(url)
}

/// `pushEntry (server.js:41:18)`, `emit (node:events:517:28)`, `repeat`; the original
/// position when the frame was mapped: `pushEntry (server.ts:30:5)`.
impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.function)?;
        if let Some(o) = &self.original {
            return write!(f, " ({}:{}:{})", last_segment(&o.url), o.line, o.column);
        }
        if self.url.is_empty() {
            return Ok(());
        }
        write!(f, " ({}", self.file_name())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(name: &str, url: &str, line: i64, column: i64) -> Frame {
        Frame::from_call_frame(&CallFrame {
            function_name: name.into(),
            url: url.into(),
            line,
            column,
        })
    }

    #[test]
    fn kinds_and_display() {
        let user = frame("pushEntry", "/srv/app/server.js", 40, 17);
        assert_eq!(user.kind, FrameKind::User);
        assert_eq!(user.to_string(), "pushEntry (server.js:41:18)");
        let node = frame("emit", "node:events", 516, 27);
        assert_eq!(node.kind, FrameKind::Node);
        assert_eq!(node.to_string(), "emit (node:events:517:28)");
        let builtin = frame("repeat", "", -1, -1);
        assert_eq!(builtin.kind, FrameKind::Builtin);
        assert_eq!((builtin.line, builtin.column), (None, None));
        assert_eq!(builtin.to_string(), "repeat");
        for vm in [
            "(V8 API)",
            "(garbage collector)",
            "(program)",
            "(idle)",
            "(root)",
        ] {
            assert_eq!(frame(vm, "", -1, -1).kind, FrameKind::Vm, "{vm}");
        }
        assert_eq!(frame("", "", -1, -1).to_string(), "(anonymous)");
        assert_eq!(frame("", "", -1, -1).kind, FrameKind::Builtin);
        assert_eq!(
            frame("h", "C:\\srv\\app.js", 0, 0).to_string(),
            "h (app.js:1:1)"
        );
        assert_eq!(
            frame("h", "evalmachine.<anonymous>", 2, -1).to_string(),
            "h (evalmachine.<anonymous>:3)"
        );
    }
}
