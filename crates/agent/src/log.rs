//! The agent's log: one JSON object per line on standard error, for the cluster's log
//! pipeline (`{"ts":"2026-12-05T10:11:12.345Z","level":"info","msg":"uploaded","file":…}`).
//! URLs in fields are the caller's to redact; file contents never go here.

use std::io::Write;
use std::time::SystemTime;

use serde_json::{Map, Value};

/// How much a line matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Normal progress: started, uploaded, analyzed, forwarded.
    Info,
    /// Something failed and will be retried or skipped; the agent goes on.
    Warn,
    /// The agent cannot go on.
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Writes one line: `msg` and the fields of `fields` (an object; anything else is ignored).
pub fn line(level: Level, msg: &str, fields: Value) {
    let mut map = Map::new();
    map.insert(
        "ts".into(),
        memwatchdog_exporter::format_rfc3339(SystemTime::now()).into(),
    );
    map.insert("level".into(), level.as_str().into());
    map.insert("msg".into(), msg.into());
    if let Value::Object(extra) = fields {
        map.extend(extra);
    }
    let mut text = Value::Object(map).to_string();
    text.push('\n');
    // A closed stderr must not stop the agent.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// [`line`] at [`Level::Info`].
pub fn info(msg: &str, fields: Value) {
    line(Level::Info, msg, fields);
}

/// [`line`] at [`Level::Warn`].
pub fn warn(msg: &str, fields: Value) {
    line(Level::Warn, msg, fields);
}
