//! [`parse`]: `.heapprofile` JSON → [`HeapProfile`].
//!
//! Profiles are small (a call tree of at most a few thousand nodes), so the input is read
//! whole and decoded with serde — but never more than [`MAX_BYTES`] of it, and only once its
//! first significant bytes say it can be a profile: `/dev/zero`, a snapshot or a huge file
//! of something else is refused after a few kilobytes, not read to its end.
//!
//! V8 records at most 128 frames per stack, and each frame nests two JSON levels, which is
//! past `serde_json`'s default recursion limit: the nesting depth is checked by a plain scan
//! first ([`MAX_DEPTH`]), then serde runs without its limit and so can never overflow the
//! stack.

use std::collections::HashMap;
use std::io::Read;

use serde::Deserialize;
use serde_json::error::Category;

use crate::error::ProfileError;
use crate::profile::{CallFrame, FrameIdx, HeapProfile, Node, NodeIdx};
use crate::sniff::{FileKind, sniff};

/// The deepest JSON nesting [`parse`] accepts: more than twice what V8's 128-frame limit produces.
pub const MAX_DEPTH: usize = 600;

/// The largest profile [`parse`] reads: V8's profiles are kilobytes to a few megabytes (one
/// node per distinct call stack that allocated), so more is not a profile.
pub const MAX_BYTES: u64 = 256 << 20;

/// Bytes read at a time until the first significant byte is known.
const PREFIX: u64 = 4096;

const BOM: &[u8] = b"\xEF\xBB\xBF";

#[derive(Deserialize)]
struct RawProfile {
    head: Option<RawNode>,
    samples: Option<Vec<RawSample>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawNode {
    call_frame: RawFrame,
    self_size: f64,
    id: u64,
    #[serde(default)]
    children: Vec<RawNode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFrame {
    function_name: String,
    url: String,
    line_number: i64,
    column_number: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSample {
    node_id: u64,
}

/// Reads a whole sampling heap profile from `reader`.
///
/// Errors say what the input is instead when it is not a profile: empty, gzip, a heap
/// snapshot, not JSON (with the byte offset), truncated (with the length), a JSON document
/// without `head`, or fields of the wrong type. At most [`MAX_BYTES`] (and a byte) are read:
/// a longer input is [`ProfileError::TooLarge`]. What is not a profile is told from its first
/// bytes, before the rest is read.
pub fn parse<R: Read>(reader: R) -> Result<HeapProfile, ProfileError> {
    let mut reader = reader.take(MAX_BYTES + 1);
    let mut bytes = Vec::new();
    loop {
        let got = (&mut reader).take(PREFIX).read_to_end(&mut bytes)?;
        if got == 0 || !matches!(start_of(&bytes), Err(ProfileError::Empty)) {
            break;
        }
    }
    if bytes.len() as u64 <= MAX_BYTES {
        start_of(&bytes)?;
        reader.read_to_end(&mut bytes)?;
    }
    if bytes.len() as u64 > MAX_BYTES {
        return Err(ProfileError::TooLarge { limit: MAX_BYTES });
    }
    from_bytes(&bytes)
}

/// The length of a leading BOM and the offset after it of the first significant byte,
/// when that byte can start a profile; or why `bytes` (all of the input, or its first
/// bytes) is not one.
fn start_of(bytes: &[u8]) -> Result<(usize, usize), ProfileError> {
    let skipped = if bytes.starts_with(BOM) { BOM.len() } else { 0 };
    let body = &bytes[skipped..];
    let Some(start) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Err(ProfileError::Empty);
    };
    if body[start..].starts_with(&[0x1f, 0x8b]) {
        return Err(ProfileError::Gzip);
    }
    if sniff(body) == FileKind::HeapSnapshot {
        return Err(ProfileError::HeapSnapshot);
    }
    if body[start] != b'{' {
        let found = String::from_utf8_lossy(&body[start..body.len().min(start + 4)])
            .chars()
            .next()
            .unwrap_or('\u{fffd}');
        return Err(ProfileError::NotProfile {
            offset: (skipped + start) as u64,
            found,
        });
    }
    Ok((skipped, start))
}

fn from_bytes(bytes: &[u8]) -> Result<HeapProfile, ProfileError> {
    let (skipped, _) = start_of(bytes)?;
    let body = &bytes[skipped..];
    check_depth(body).map_err(|(depth, at)| ProfileError::TooDeep {
        depth,
        offset: (skipped + at) as u64,
        limit: MAX_DEPTH,
    })?;
    let mut de = serde_json::Deserializer::from_slice(body);
    de.disable_recursion_limit();
    let raw = RawProfile::deserialize(&mut de)
        .and_then(|raw| de.end().map(|()| raw))
        .map_err(|e| json_error(&e, bytes, skipped))?;
    let head = raw.head.ok_or(ProfileError::MissingHead)?;
    build(head, raw.samples.as_deref())
}

/// Finds the first place where `{`/`[` nesting (outside strings) exceeds [`MAX_DEPTH`].
fn check_depth(body: &[u8]) -> Result<(), (usize, usize)> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (at, &b) in body.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err((depth, at));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn json_error(e: &serde_json::Error, bytes: &[u8], skipped: usize) -> ProfileError {
    let offset = offset_of(&bytes[skipped..], e.line(), e.column()) + skipped as u64;
    let message = bounded(strip_position(&e.to_string()));
    match e.classify() {
        Category::Eof => ProfileError::Truncated {
            offset: bytes.len() as u64,
        },
        Category::Syntax | Category::Io => ProfileError::NotJson {
            offset,
            line: e.line(),
            column: e.column(),
            message,
        },
        Category::Data => ProfileError::WrongType {
            offset,
            line: e.line(),
            column: e.column(),
            message,
        },
    }
}

/// `serde_json`'s message without its own " at line L column C" suffix (we report the offset).
fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |cut| &message[..cut])
}

/// The longest `serde_json` message an error carries, in bytes.
const MESSAGE_LIMIT: usize = 300;

/// `message` fit for one line of a terminal: control characters escaped, and cut to at most
/// [`MESSAGE_LIMIT`] bytes. `serde_json` quotes a value of the wrong type whole (a string
/// of any length, its control characters as `\u{7f}`), so its message is as long as the
/// input makes it.
fn bounded(message: &str) -> String {
    let mut out = String::new();
    for c in message.chars() {
        let piece: String = if c.is_control() {
            c.escape_debug().collect()
        } else {
            c.into()
        };
        if out.len() + piece.len() > MESSAGE_LIMIT - '…'.len_utf8() {
            out.push('…');
            break;
        }
        out.push_str(&piece);
    }
    out
}

/// Byte offset of `serde_json`'s 1-based (line, column).
fn offset_of(body: &[u8], line: usize, column: usize) -> u64 {
    let line_start = if line <= 1 {
        0
    } else {
        body.iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'\n')
            .nth(line - 2)
            .map_or(body.len(), |(i, _)| i + 1)
    };
    (line_start + column.saturating_sub(1)).min(body.len()) as u64
}

/// Flattens the raw tree into pre-order nodes without recursion, interning frames.
fn build(head: RawNode, samples: Option<&[RawSample]>) -> Result<HeapProfile, ProfileError> {
    let mut frames = Vec::new();
    let mut frame_ids: HashMap<CallFrame, FrameIdx> = HashMap::new();
    let mut nodes = Vec::new();
    let mut stack = vec![(head, None)];
    let mut total = 0u64;
    while let Some((mut raw, parent)) = stack.pop() {
        let self_size = size(raw.self_size).ok_or(ProfileError::InvalidSize {
            node_id: raw.id,
            value: raw.self_size,
        })?;
        total = total
            .checked_add(self_size)
            .filter(|&total| total <= MAX_SIZE)
            .ok_or(ProfileError::TotalTooLarge {
                node_id: raw.id,
                limit: MAX_SIZE,
            })?;
        let frame = CallFrame {
            function_name: raw.call_frame.function_name,
            url: raw.call_frame.url,
            line: raw.call_frame.line_number,
            column: raw.call_frame.column_number,
        };
        let frame = *frame_ids.entry(frame).or_insert_with_key(|frame| {
            frames.push(frame.clone());
            FrameIdx((frames.len() - 1) as u32)
        });
        let idx = NodeIdx(nodes.len() as u32);
        nodes.push(Node {
            frame,
            parent,
            self_size,
            samples: 0,
            id: raw.id,
        });
        let children = std::mem::take(&mut raw.children);
        stack.extend(children.into_iter().rev().map(|c| (c, Some(idx))));
    }
    if let Some(samples) = samples {
        let by_id: HashMap<u64, usize> = nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
        for sample in samples {
            if let Some(&i) = by_id.get(&sample.node_id) {
                nodes[i].samples += 1;
            }
        }
    }
    Ok(HeapProfile {
        frames,
        nodes,
        has_samples: samples.is_some(),
        sampling_interval: None,
    })
}

/// The largest `selfSize`, and the largest sum of a profile's: 2^53 bytes (8 PiB), the largest
/// integer a JSON number carries exactly. Sizes and their sums (a profile's total, a stack's
/// bytes over up to three profiles) then fit in 64 bits without wrapping.
pub const MAX_SIZE: u64 = 1 << 53;

/// A byte count from JSON's number: finite, not negative, at most [`MAX_SIZE`].
fn size(value: f64) -> Option<u64> {
    (value.is_finite() && value >= 0.0 && value <= MAX_SIZE as f64).then(|| value.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(name: &str, url: &str, line: i64) -> String {
        format!(
            r#"{{"functionName":"{name}","scriptId":"3","url":"{url}","lineNumber":{line},"columnNumber":4}}"#
        )
    }

    fn node(id: u64, name: &str, size: u64, children: &[String]) -> String {
        format!(
            r#"{{"callFrame":{},"selfSize":{size},"id":{id},"children":[{}]}}"#,
            frame(name, "/app.js", 3),
            children.join(",")
        )
    }

    fn err(input: &[u8]) -> ProfileError {
        parse(input).expect_err("must fail")
    }

    #[test]
    fn flattens_in_pre_order_and_counts_samples() {
        let tree = node(
            1,
            "(root)",
            0,
            &[
                node(2, "a", 10, &[node(3, "b", 30, &[])]),
                node(4, "c", 40, &[]),
            ],
        );
        let json = format!(
            r#"{{"head":{tree},"samples":[{{"size":1,"nodeId":3,"ordinal":1}},{{"size":1,"nodeId":3,"ordinal":2}},{{"size":1,"nodeId":99,"ordinal":3}}]}}"#
        );
        let p = parse(json.as_bytes()).unwrap();
        let names: Vec<&str> = p
            .nodes()
            .iter()
            .map(|n| p.frame(n.frame).function_name.as_str())
            .collect();
        assert_eq!(names, ["(root)", "a", "b", "c"]);
        let parents: Vec<Option<u32>> = p.nodes().iter().map(|n| n.parent.map(|x| x.0)).collect();
        assert_eq!(parents, [None, Some(0), Some(1), Some(0)]);
        assert_eq!(p.total_bytes(), 80);
        assert_eq!(p.nodes()[2].samples, 2);
        assert_eq!(p.sample_count(), Some(2));
        assert_eq!(p.frames().len(), 4);
    }

    #[test]
    fn samples_are_optional_and_a_bom_is_skipped() {
        let json = format!("\u{feff}\n{{\"head\":{}}}", node(1, "(root)", 5, &[]));
        let p = parse(json.as_bytes()).unwrap();
        assert_eq!(p.sample_count(), None);
        assert_eq!(p.total_bytes(), 5);
    }

    #[test]
    fn says_what_the_input_is_instead() {
        assert!(matches!(err(b""), ProfileError::Empty));
        assert!(matches!(err(b" \n"), ProfileError::Empty));
        assert!(matches!(err(&[0x1f, 0x8b, 8, 0]), ProfileError::Gzip));
        assert!(matches!(
            err(br#"{"snapshot":{"meta":{}},"nodes":[]}"#),
            ProfileError::HeapSnapshot
        ));
        assert!(matches!(
            err(b"  hello"),
            ProfileError::NotProfile {
                offset: 2,
                found: 'h'
            }
        ));
        assert!(matches!(
            err(br#"{"name":"pkg"}"#),
            ProfileError::MissingHead
        ));
        match err(b"{\"head\": nope}") {
            // serde_json stops at the first byte that cannot continue a value ("nope" at 9)
            ProfileError::NotJson { offset, line, .. } => {
                assert!((9..=10).contains(&offset) && line == 1, "{offset} {line}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// Counts what is read from `inner`.
    struct Counted<R> {
        inner: R,
        read: u64,
    }

    impl<R: Read> Read for Counted<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read += n as u64;
            Ok(n)
        }
    }

    #[test]
    fn what_is_not_a_profile_is_refused_from_its_first_bytes() {
        // `/dev/zero`: endless, refused at byte 0 after one prefix (it ends after 1 GiB
        // here, so a parser that reads it all fails instead of hanging).
        let mut zero = Counted {
            inner: std::io::repeat(0).take(1 << 30),
            read: 0,
        };
        assert!(matches!(
            parse(&mut zero),
            Err(ProfileError::NotProfile { offset: 0, .. })
        ));
        assert!(zero.read <= PREFIX, "read {} bytes", zero.read);
        // Whitespace first: read on until a significant byte.
        let mut spaced = Counted {
            inner: std::io::repeat(b' ').take(10_000).chain(&b"nope"[..]),
            read: 0,
        };
        assert!(matches!(
            parse(&mut spaced),
            Err(ProfileError::NotProfile {
                offset: 10_000,
                found: 'n'
            })
        ));
        // A snapshot is told by its first bytes too, however long it is.
        let mut snapshot = Counted {
            inner: br#"{"snapshot":{"meta":{"node_fields":[]}},"nodes":["#
                .chain(std::io::repeat(b'0').take(1 << 30)),
            read: 0,
        };
        assert!(matches!(
            parse(&mut snapshot),
            Err(ProfileError::HeapSnapshot)
        ));
        assert!(snapshot.read <= PREFIX, "read {} bytes", snapshot.read);
    }

    #[test]
    fn a_profile_longer_than_max_bytes_is_too_large_after_max_bytes() {
        let mut endless = Counted {
            inner: b"{\"head\":".chain(std::io::repeat(b' ').take(2 * MAX_BYTES)),
            read: 0,
        };
        let e = parse(&mut endless).unwrap_err();
        assert!(
            matches!(e, ProfileError::TooLarge { limit: MAX_BYTES }),
            "{e:?}"
        );
        assert_eq!(endless.read, MAX_BYTES + 1);
        assert_eq!(
            e.to_string(),
            "file is larger than 256 MiB, far more than a sampling heap profile (kilobytes to a few megabytes): not a profile"
        );
    }

    #[test]
    fn truncation_reports_the_length() {
        let json = format!(
            "{{\"head\":{}}}",
            node(1, "(root)", 0, &[node(2, "a", 1, &[])])
        );
        for cut in [1, 9, json.len() / 2, json.len() - 1] {
            match err(&json.as_bytes()[..cut]) {
                ProfileError::Truncated { offset } => assert_eq!(offset, cut as u64),
                other => panic!("cut {cut}: {other:?}"),
            }
        }
    }

    #[test]
    fn wrong_types_name_the_place() {
        let bad = r#"{"head":{"callFrame":{"functionName":"x","url":"","lineNumber":"7","columnNumber":0},"selfSize":0,"id":1,"children":[]}}"#;
        match err(bad.as_bytes()) {
            ProfileError::WrongType {
                offset, message, ..
            } => {
                assert!(message.contains("invalid type"), "{message}");
                assert!(bad[..offset as usize].ends_with("\"7"), "{offset}");
            }
            other => panic!("{other:?}"),
        }
        let missing = r#"{"head":{"selfSize":0,"id":1,"children":[]}}"#;
        assert!(
            matches!(err(missing.as_bytes()), ProfileError::WrongType { message, .. } if message.contains("callFrame"))
        );
        let negative = format!(
            r#"{{"head":{{"callFrame":{},"selfSize":-5,"id":7,"children":[]}}}}"#,
            frame("x", "", 0)
        );
        assert!(matches!(
            err(negative.as_bytes()),
            ProfileError::InvalidSize { node_id: 7, .. }
        ));
    }

    #[test]
    fn a_long_value_of_the_wrong_type_is_quoted_in_short() {
        // The fuzzer's find: a callFrame that is a string of 100 DEL characters, which
        // serde_json quoted whole as \u{7f} each, a message of 731 bytes.
        for value in ["\u{7f}".repeat(100), "a".repeat(5000)] {
            let bad = format!(r#"{{"head":{{"callFrame":"{value}","selfSize":0,"id":1}}}}"#);
            let e = err(bad.as_bytes());
            assert!(matches!(e, ProfileError::WrongType { .. }), "{e:?}");
            let text = e.to_string();
            assert!(text.len() <= 512, "{} bytes: {text}", text.len());
            assert!(!text.chars().any(char::is_control), "{text}");
            assert!(text.contains("invalid type: string"), "{text}");
            assert!(text.ends_with('…'), "{text}");
        }
        assert_eq!(bounded("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        let cut = bounded(&"é".repeat(200));
        assert!(cut.len() <= MESSAGE_LIMIT && cut.ends_with("é…"), "{cut}");
        assert_eq!(bounded("short"), "short");
    }

    #[test]
    fn sizes_beyond_2_pow_53_and_totals_beyond_it_are_refused_not_wrapped() {
        let with_sizes = |a: &str, b: &str| {
            format!(
                r#"{{"head":{{"callFrame":{},"selfSize":{a},"id":1,"children":[{{"callFrame":{},"selfSize":{b},"id":2,"children":[]}}]}}}}"#,
                frame("(root)", "", 0),
                frame("x", "/a.js", 1)
            )
        };
        // 1e30 saturated to u64::MAX, and the total wrapped.
        assert!(matches!(
            err(with_sizes("0", "1e30").as_bytes()),
            ProfileError::InvalidSize { node_id: 2, .. }
        ));
        let max = MAX_SIZE.to_string();
        let p = parse(with_sizes("0", &max).as_bytes()).unwrap();
        assert_eq!(p.total_bytes(), MAX_SIZE);
        let e = err(with_sizes("1", &max).as_bytes());
        assert!(
            matches!(
                e,
                ProfileError::TotalTooLarge {
                    node_id: 2,
                    limit: MAX_SIZE
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("add up to more than"), "{e}");
    }

    #[test]
    fn deep_trees_parse_and_absurd_nesting_is_refused() {
        // 280 frames: past `serde_json`'s default limit, within ours.
        let mut tree = node(1000, "leaf", 8, &[]);
        for id in (1..280).rev() {
            tree = node(id, "f", 0, &[tree]);
        }
        let json = format!("{{\"head\":{tree}}}");
        // Run where the stack is of a default Rust thread (2 MiB).
        let p = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || parse(json.as_bytes()))
            .unwrap()
            .join()
            .unwrap()
            .unwrap();
        assert_eq!(p.nodes().len(), 280);
        assert_eq!(p.total_bytes(), 8);
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert!(matches!(
            err(format!("{{\"head\":{deep}").as_bytes()),
            ProfileError::TooDeep { .. }
        ));
    }
}
