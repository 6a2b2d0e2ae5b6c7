//! The profile report: the stable, serialisable result of a sampling heap profile diff.
//!
//! `mw analyze --json` on `.heapprofile` files prints exactly this structure; docs/cli.md
//! documents it field by field, and [`SCHEMA_VERSION`] changes whenever a field is removed
//! or changes meaning. Frames are listed innermost first, with 1-based lines and columns.

use memwatchdog_units::HumanBytes;
use serde::Serialize;

use memwatchdog_sourcemap::Original;

use crate::frame::Frame;

/// Version of the JSON schema of [`ProfileReport`].
pub const SCHEMA_VERSION: u32 = 1;

/// The value of [`ProfileReport::kind`], which tells this report from a snapshot report.
pub const KIND: &str = "heapprofile";

/// Longest [`AllocationSite::summary`], in characters.
pub const SUMMARY_MAX_CHARS: usize = 300;

/// Everything a diff of sampling heap profiles found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always [`KIND`] (`"heapprofile"`).
    pub kind: &'static str,
    /// The profiles in the order given (base, leak, and last when present).
    pub profiles: Vec<ProfileStats>,
    /// Live sampled bytes of the newest profile minus those of the base.
    pub growth_bytes: i64,
    /// Allocation sites (call stacks) whose live bytes grew, largest growth first.
    pub sites: Vec<AllocationSite>,
    /// The same growth per function (a stack's innermost user frame), largest first.
    pub functions: Vec<FunctionGrowth>,
}

/// Figures of one profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileStats {
    /// Estimated bytes still alive that the profile sampled (sum of `selfSize`).
    pub live_bytes: u64,
    /// Number of samples, when the file lists them.
    pub samples: Option<u64>,
    /// Nodes of the call tree.
    pub nodes: u64,
    /// Sampling interval in bytes, when the caller knew it (the file does not record it).
    pub sampling_interval: Option<u64>,
}

/// One call stack whose live sampled bytes grew.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AllocationSite {
    /// 1-based rank.
    pub rank: usize,
    /// The site as one line for an alert annotation or a log, at most [`SUMMARY_MAX_CHARS`]
    /// characters: `+12 MB in pushEntry (server.js:41:18) < handle (server.js:80:3) < …`
    /// (original positions once [`ProfileReport::map_sources`] mapped the frames).
    pub summary: String,
    /// Growth of live bytes from the base to the newest profile.
    pub delta_bytes: u64,
    /// Live bytes allocated with this stack in each profile, in the order given.
    pub bytes: Vec<u64>,
    /// Growth of the sample count, when every profile lists samples.
    pub delta_samples: Option<i64>,
    /// The stack, innermost (allocating) frame first; empty for allocations with no stack.
    pub frames: Vec<Frame>,
    /// Index in `frames` of the innermost application frame (url not `node:`, not a builtin).
    pub user_frame: Option<usize>,
    /// That frame (or the innermost one) as one line: `pushEntry (server.js:41:18)`.
    pub site: String,
}

/// Growth attributed to one function, summed over every stack it heads.
///
/// V8 inlines small functions into their callers, so one leaking function often shows up
/// under several stacks; this view adds them up. A stack counts for its innermost user
/// frame (its innermost frame when it has no user frame), so bytes a builtin such as
/// `repeat` allocates for the application count for the application's function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionGrowth {
    /// 1-based rank.
    pub rank: usize,
    /// Growth of live bytes from the base to the newest profile.
    pub delta_bytes: u64,
    /// Live bytes of the function's stacks in each profile, in the order given.
    pub bytes: Vec<u64>,
    /// Growth of the sample count, when every profile lists samples.
    pub delta_samples: Option<i64>,
    /// The function.
    pub function: Frame,
    /// How many of its stacks grew.
    pub stacks: usize,
}

impl ProfileReport {
    /// Maps every user frame through `map` (script url, 1-based generated line and column →
    /// the original position, from a source map) and rewrites the sites' one-line texts, so
    /// they name the original source (`pushEntry (server.ts:30:5)`); the JSON keeps the
    /// generated positions and adds `original`. Pass
    /// [`memwatchdog_sourcemap::Resolver::resolve`] to map through the scripts' source maps.
    pub fn map_sources(&mut self, mut map: impl FnMut(&str, u32, u32) -> Option<Original>) {
        for site in &mut self.sites {
            for frame in &mut site.frames {
                frame.map_source(&mut map);
            }
            site.site = AllocationSite::site_text(&site.frames, site.user_frame);
            site.summary = site.summary_text();
        }
        for function in &mut self.functions {
            function.function.map_source(&mut map);
        }
    }
}

impl AllocationSite {
    /// The text of [`site`](Self::site): the user frame (or the innermost one) as one line.
    pub(crate) fn site_text(frames: &[Frame], user_frame: Option<usize>) -> String {
        frames
            .get(user_frame.unwrap_or(0))
            .map_or_else(|| Frame::root().to_string(), ToString::to_string)
    }

    /// The text of [`summary`](Self::summary), from the growth and the frames.
    pub(crate) fn summary_text(&self) -> String {
        let head = format!("+{} in ", HumanBytes(self.delta_bytes));
        let room = SUMMARY_MAX_CHARS - head.chars().count();
        head + &self.stack_line(room)
    }

    /// The stack as one line of at most `max_chars` characters, starting at the user frame:
    /// `pushEntry (server.js:41:18) via repeat < handle (server.js:80:3) < …`. Frames inside
    /// the user frame (builtins, Node internals) follow `via`, the innermost two by name;
    /// outer frames are cut first.
    #[must_use]
    pub fn stack_line(&self, max_chars: usize) -> String {
        if self.frames.is_empty() {
            return truncate(&Frame::root().to_string(), max_chars);
        }
        let at = self.user_frame.unwrap_or(0);
        let mut first = self.frames[at].to_string();
        if at > 0 {
            // The innermost two name what allocated; more would crowd out the callers.
            let mut inner: Vec<&str> = self.frames[..at]
                .iter()
                .take(2)
                .map(|f| f.function.as_str())
                .collect();
            if at > 2 {
                inner.push("…");
            }
            first = format!("{first} via {}", inner.join(", "));
        }
        let mut line = truncate(&first, max_chars);
        let mut len = line.chars().count();
        for (k, frame) in self.frames.iter().enumerate().skip(at + 1) {
            let part = format!(" < {frame}");
            let part_len = part.chars().count();
            let last = k + 1 == self.frames.len();
            let need = part_len + if last { 0 } else { MORE.chars().count() };
            if len + need > max_chars {
                if len + MORE.chars().count() <= max_chars {
                    line.push_str(MORE);
                }
                break;
            }
            line.push_str(&part);
            len += part_len;
        }
        line
    }
}

/// What ends a stack line whose outer frames were cut.
const MORE: &str = " < …";

/// `text` cut to `max_chars` characters, the last one `…` when cut.
fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CallFrame;

    fn frame(name: &str, url: &str, line: i64) -> Frame {
        Frame::from_call_frame(&CallFrame {
            function_name: name.into(),
            url: url.into(),
            line,
            column: 2,
        })
    }

    fn site(frames: Vec<Frame>) -> AllocationSite {
        let user_frame = frames.iter().position(Frame::is_user);
        let mut site = AllocationSite {
            rank: 1,
            summary: String::new(),
            delta_bytes: 12_300_000,
            bytes: vec![0, 12_300_000],
            delta_samples: None,
            site: String::new(),
            frames,
            user_frame,
        };
        site.summary = site.summary_text();
        site
    }

    #[test]
    fn mapped_frames_name_the_original_source_and_keep_the_generated_position() {
        let frames = vec![
            frame("repeat", "", -1),
            frame("pushEntry", "/srv/dist/cache.js", 40),
        ];
        let mut report = ProfileReport {
            schema_version: SCHEMA_VERSION,
            kind: KIND,
            profiles: vec![],
            growth_bytes: 0,
            sites: vec![site(frames.clone())],
            functions: vec![],
        };
        report.map_sources(|url, line, column| {
            (url == "/srv/dist/cache.js" && (line, column) == (41, 3)).then(|| Original {
                url: "/srv/src/cache.ts".into(),
                line: 30,
                column: 5,
            })
        });
        let site = &report.sites[0];
        assert_eq!(site.site, "pushEntry (cache.ts:30:5)");
        assert!(
            site.summary
                .ends_with("in pushEntry (cache.ts:30:5) via repeat"),
            "{}",
            site.summary
        );
        assert_eq!(serde_json::to_value(site).unwrap()["summary"], site.summary);
        let json = serde_json::to_value(&site.frames[1]).unwrap();
        assert_eq!(json["url"], "/srv/dist/cache.js");
        assert_eq!(
            (json["line"].as_u64(), json["column"].as_u64()),
            (Some(41), Some(3))
        );
        assert_eq!(json["original"]["url"], "/srv/src/cache.ts");
        assert!(
            serde_json::to_value(&site.frames[0])
                .unwrap()
                .get("original")
                .is_none()
        );
    }

    #[test]
    fn summary_starts_at_the_user_frame() {
        let s = site(vec![
            frame("repeat", "", -1),
            frame("pushEntry", "/srv/server.js", 40),
            frame("handle", "/srv/server.js", 79),
            frame("emit", "node:events", 516),
        ]);
        assert_eq!(
            s.summary,
            "+12 MB in pushEntry (server.js:41:3) via repeat < handle (server.js:80:3) < emit (node:events:517:3)"
        );
    }

    #[test]
    fn summary_is_capped_and_says_it_was_cut() {
        let frames = (0..128)
            .map(|i| frame(&format!("f{i}"), "/srv/very/long/path/module.js", i))
            .collect();
        let s = site(frames);
        let line = s.summary;
        assert!(line.chars().count() <= SUMMARY_MAX_CHARS, "{line}");
        assert!(line.ends_with(" < …"), "{line}");
        assert!(line.starts_with("+12 MB in f0 (module.js:1:3) < f1 (module.js:2:3)"));
        let long_name = site(vec![frame(&"x".repeat(500), "/a.js", 0)]);
        let line = long_name.summary;
        assert_eq!(line.chars().count(), SUMMARY_MAX_CHARS);
        assert!(line.ends_with('…'));
    }

    #[test]
    fn many_inner_frames_are_abbreviated() {
        let s = site(vec![
            frame("onwrite", "node:internal/streams/writable", 600),
            frame("_write", "node:internal/streams/writable", 300),
            frame("write", "node:internal/streams/writable", 400),
            frame("log", "/srv/app.js", 9),
        ]);
        assert_eq!(
            s.stack_line(100),
            "log (app.js:10:3) via onwrite, _write, …"
        );
    }

    #[test]
    fn a_stack_without_frames_is_the_root() {
        assert_eq!(site(Vec::new()).summary, "+12 MB in (root)");
    }
}
