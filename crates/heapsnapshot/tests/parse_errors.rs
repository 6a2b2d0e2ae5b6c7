//! Every [`ParseError`] variant from a concrete bad input, with its message and kind.

mod parse_support;

use std::io::Read;

use memwatchdog_heapsnapshot::{
    ParseError, ParseErrorKind, ParseOptions, Section, Windows, parse, parse_windows,
};
use parse_support::{Parts, parse_chunked, parse_str, parse_windowed, render};

/// Parses, expects an error, and checks that its message is one line.
fn err(text: &str) -> ParseError {
    let e = parse_str(text).expect_err("expected an error");
    let msg = e.to_string();
    assert!(!msg.contains('\n'), "multi-line message: {msg}");
    e
}

fn sample() -> Parts {
    Parts::node20()
}

#[test]
fn io_error_names_offset() {
    struct FailAfter<'a>(&'a [u8]);
    impl Read for FailAfter<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("device gone"));
            }
            let n = buf.len().min(self.0.len()).min(10);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let text = sample().to_json();
    let half = &text.as_bytes()[..100];
    let e = parse(FailAfter(half), &ParseOptions::default(), &mut |_| {}).unwrap_err();
    assert!(matches!(e, ParseError::Io { offset: 100, .. }), "{e:?}");
    assert_eq!(e.kind(), ParseErrorKind::Io);
    // The message names the offset; the cause is its source, not repeated in it.
    assert_eq!(e.to_string(), "cannot read the snapshot (at byte 100)");
    assert_eq!(
        std::error::Error::source(&e).map(ToString::to_string),
        Some("device gone".to_owned())
    );
}

#[test]
fn window_error_names_offset() {
    struct FailAt<'a>(&'a [u8]);
    impl<'a> Windows for FailAt<'a> {
        type Window = &'a [u8];
        fn window(&mut self, offset: u64) -> std::io::Result<&'a [u8]> {
            let at = offset as usize;
            if at >= 100 {
                return Err(std::io::Error::other("mapping gone"));
            }
            Ok(&self.0[at..(at + 25).min(self.0.len())])
        }
    }
    let text = sample().to_json();
    let e = parse_windows(
        FailAt(text.as_bytes()),
        &ParseOptions::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(e, ParseError::Io { offset: 100, .. }), "{e:?}");
    // The message names the offset; the cause is its source, not repeated in it.
    assert_eq!(e.to_string(), "cannot read the snapshot (at byte 100)");
    assert_eq!(
        std::error::Error::source(&e).map(ToString::to_string),
        Some("mapping gone".to_owned())
    );
}

#[test]
fn not_a_heap_snapshot() {
    for (text, detail) in [
        ("[1,2,3]", "found '[' at byte 0"),
        ("  hello", "found 'h' at byte 2"),
        ("\u{0}\u{1}", "found byte 0x00 at byte 0"),
        ("{}", "its top-level object has no \"snapshot\" key"),
        (
            r#"{"foo":{"bar":[1]}, "baz":"x"}"#,
            "its first key is \"foo\"",
        ),
        (r#"{"traceEvents":[]}"#, "its first key is \"traceEvents\""),
        (r#"{"samples":[], "x": 1}"#, "no \"snapshot\" key"),
        (
            r#"{"nodes":[{"id":1,"callFrame":{}}],"startTime":0}"#,
            "it looks like a CPU profile (.cpuprofile)",
        ),
    ] {
        let e = err(text);
        assert!(
            matches!(e, ParseError::NotHeapSnapshot { .. }),
            "{text}: {e:?}"
        );
        assert_eq!(e.kind(), ParseErrorKind::NotHeapSnapshot);
        let msg = e.to_string();
        assert!(
            msg.starts_with(
                "file does not look like a V8 .heapsnapshot (expected it to start with {\"snapshot\":...)"
            ),
            "{msg}"
        );
        assert!(msg.contains(detail), "{text}: {msg}");
    }
}

#[test]
fn gzip_is_recognized() {
    let gz = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3];
    let e = parse(&gz[..], &ParseOptions::default(), &mut |_| {}).unwrap_err();
    assert!(matches!(e, ParseError::Gzip));
    assert_eq!(e.kind(), ParseErrorKind::NotHeapSnapshot);
    assert!(e.to_string().contains("gunzip"), "{e}");
}

#[test]
fn heap_profile_is_recognized() {
    let profile = r#"{"head":{"callFrame":{"functionName":"(root)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1},"selfSize":0,"id":1,"children":[]},"samples":[]}"#;
    let e = err(profile);
    assert!(matches!(e, ParseError::HeapProfile));
    assert!(e.to_string().contains(".heapprofile"), "{e}");
}

#[test]
fn truncation_names_section_and_offset() {
    let text = sample().to_json();
    let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap() + key.len() + 4;
    let cases = [
        (0, Section::TopLevel),
        (1, Section::TopLevel),
        (15, Section::Header),
        (at("nodes") + 5, Section::Nodes),
        (at("edges") + 5, Section::Edges),
        (at("trace_tree"), Section::Skipped),
        (at("locations") + 3, Section::Locations),
        (at("strings") + 5, Section::Strings),
        (text.len() - 1, Section::TopLevel),
    ];
    for (len, section) in cases {
        let e = err(&text[..len]);
        match e {
            ParseError::Truncated { offset, section: s } => {
                assert_eq!((offset, s), (len as u64, section), "cut at {len}");
            }
            other => panic!("cut at {len}: {other:?}"),
        }
        assert_eq!(e.kind(), ParseErrorKind::Truncated);
        assert_eq!(e.offset(), Some(len as u64));
    }
    let cut = at("edges") + 5;
    assert_eq!(
        err(&text[..cut]).to_string(),
        format!(
            "snapshot truncated at byte {cut} inside the edges array: was the process killed while writing it?"
        )
    );
}

#[test]
fn syntax_errors_name_offset_expected_and_found() {
    let text = sample().to_json();
    let nodes_at = text.find("\"nodes\":[").unwrap() + 9;
    let bad = format!("{}x{}", &text[..nodes_at], &text[nodes_at + 1..]);
    let e = err(&bad);
    assert!(
        matches!(e, ParseError::Syntax { offset, section: Section::Nodes, .. } if offset == nodes_at as u64),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "snapshot is corrupt: syntax error at byte {nodes_at} in the nodes array: expected an unsigned integer, found 'x'"
        )
    );
    assert_eq!(e.kind(), ParseErrorKind::Corrupt);
    for (from, to, section) in [
        ("\"nodes\":", "\"nodes\" ", Section::TopLevel),
        ("\"(GC roots)\"", "\"(GC\\q roots)\"", Section::Strings),
        (",\n\"edges\"", ";\n\"edges\"", Section::TopLevel),
        ("\"edges\":[", "\"edges\":{", Section::Edges),
        ("\"snapshot\":{", "\"snapshot\":[", Section::Header),
        ("\"samples\":[]", "\"samples\":[}", Section::Skipped),
    ] {
        assert!(text.contains(from), "{from}");
        let e = err(&text.replacen(from, to, 1));
        assert!(
            matches!(e, ParseError::Syntax { section: s, .. } if s == section),
            "{from}: {e:?}"
        );
    }
    let e = err(&format!("{text} {{}}"));
    assert!(
        e.to_string()
            .contains("expected nothing after the closing '}'"),
        "{e}"
    );
}

#[test]
fn meta_errors_name_the_field() {
    let mut p = sample();
    p.edge_fields = vec!["type".into(), "name_or_index".into()];
    let e = err(&p.to_json());
    assert!(matches!(e, ParseError::Meta { .. }));
    assert_eq!(
        e.to_string(),
        "snapshot meta is unusable: meta.edge_fields has no \"to_node\" (it is [\"type\",\"name_or_index\"]) (written by an unsupported V8 version, or damaged?)"
    );
    let mut p = sample();
    p.node_count = "\"six\"".into();
    assert!(
        err(&p.to_json())
            .to_string()
            .contains("snapshot.node_count is \"six\", not a count")
    );
    let header_only = render(&[("snapshot", r#"{"meta":{}}"#.to_owned())]);
    assert!(
        err(&header_only)
            .to_string()
            .contains("meta.node_fields is missing")
    );
    let broken = render(&[("snapshot", r#"{"meta":{"a":1,}}"#.to_owned())]);
    assert!(err(&broken).to_string().contains("is not valid JSON"));
}

#[test]
fn arrays_before_the_header() {
    let p = sample();
    let e = err(&p.with_order(&["nodes", "snapshot", "edges", "strings"]));
    assert!(
        matches!(e, ParseError::MetaNotFirst { ref key, offset: 1 } if key == "nodes"),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("the snapshot header must come first"),
        "{e}"
    );
}

#[test]
fn duplicate_keys() {
    let p = sample();
    for key in ["snapshot", "nodes", "edges", "locations", "strings"] {
        let mut sections = p.sections();
        let again = sections.iter().find(|(k, _)| *k == key).unwrap().clone();
        sections.push(again);
        let text = render(&sections);
        let e = err(&text);
        let second = text.rfind(&format!("\"{key}\":")).unwrap() as u64;
        assert!(
            matches!(e, ParseError::DuplicateKey { key: ref k, offset } if k == key && offset == second),
            "{key}: {e:?}"
        );
    }
}

#[test]
fn missing_sections() {
    let p = sample();
    for (order, key) in [
        (&["snapshot", "edges", "strings"][..], "nodes"),
        (&["snapshot", "nodes", "strings"], "edges"),
        (&["snapshot", "nodes", "edges", "locations"], "strings"),
    ] {
        let e = err(&p.with_order(order));
        assert!(
            matches!(e, ParseError::MissingSection { key: k } if k == key),
            "{e:?}"
        );
    }
}

#[test]
fn count_mismatches() {
    type Change = Box<dyn Fn(&mut Parts)>;
    let cases: Vec<(Change, &str)> = vec![
        (
            Box::new(|p| p.node_count = "7".into()),
            "the nodes array has 6 rows, but snapshot.node_count is 7",
        ),
        (
            Box::new(|p| p.node_count = "5".into()),
            "the nodes array has more than snapshot.node_count = 5 rows",
        ),
        (
            Box::new(|p| {
                p.nodes[5].pop();
            }),
            "the nodes array ends inside a row: 5 full rows of 7 fields, then 6 more values",
        ),
        (
            Box::new(|p| p.nodes[4][4] = 1),
            "the nodes' edge_count fields add up to more than snapshot.edge_count = 7",
        ),
        (
            Box::new(|p| p.nodes[3][4] = 0),
            "the nodes' edge_count fields add up to 6, but snapshot.edge_count is 7",
        ),
        (
            Box::new(|p| {
                p.edges.pop();
            }),
            "the edges array has 6 rows, but snapshot.edge_count is 7",
        ),
        (
            Box::new(|p| p.edges.push(vec![2, 3, 0])),
            "the edges array has more than snapshot.edge_count = 7 rows",
        ),
        (
            Box::new(|p| {
                p.edges[6].pop();
            }),
            "the edges array ends inside a row",
        ),
        (
            Box::new(|p| {
                p.locations.as_mut().unwrap()[0].pop();
            }),
            "the locations array ends inside a row",
        ),
    ];
    for (change, want) in cases {
        let mut p = sample();
        change(&mut p);
        let e = err(&p.to_json());
        assert!(
            matches!(e, ParseError::CountMismatch { .. }),
            "{want}: {e:?}"
        );
        assert!(e.to_string().contains(want), "{want}: {e}");
        assert_eq!(e.kind(), ParseErrorKind::Corrupt);
    }
}

#[test]
fn node_references_out_of_range() {
    let text_with = |change: &dyn Fn(&mut Parts)| {
        let mut p = sample();
        change(&mut p);
        p.to_json()
    };
    for (text, what, index, value) in [
        (text_with(&|p| p.edges[3][2] = 22), "edge", 3, 22),
        (text_with(&|p| p.edges[6][2] = 42), "edge", 6, 42),
        (
            text_with(&|p| p.edges[0][2] = u64::MAX),
            "edge",
            0,
            u64::MAX,
        ),
        (
            text_with(&|p| p.locations.as_mut().unwrap()[0][0] = 20),
            "location",
            0,
            20,
        ),
    ] {
        let e = err(&text);
        match &e {
            ParseError::NodeRef {
                what: w,
                index: i,
                value: v,
                node_count: 6,
                offset,
            } => {
                assert_eq!((*w, *i, *v), (what, index, value));
                assert!(text.as_bytes()[*offset as usize].is_ascii_digit());
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn type_numbers_out_of_range() {
    let mut p = sample();
    p.nodes[4][0] = 16;
    let e = err(&p.to_json());
    assert!(
        matches!(
            e,
            ParseError::TypeIndex {
                what: "node",
                index: 4,
                value: 16,
                len: 16,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("node 4 at byte"), "{e}");
    let mut p = sample();
    p.edges[2][0] = 7;
    let e = err(&p.to_json());
    assert!(
        matches!(
            e,
            ParseError::TypeIndex {
                what: "edge",
                index: 2,
                value: 7,
                len: 7,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn string_indices_out_of_range() {
    let mut p = sample();
    p.nodes[4][1] = 9;
    let e = err(&p.to_json());
    assert!(
        matches!(
            e,
            ParseError::StringIndex {
                what: "node",
                index: 4,
                value: 9,
                len: 9,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .ends_with("names string 9, but the strings array holds only 9 strings"),
        "{e}"
    );
    let mut p = sample();
    p.edges[6][1] = 100; // a context edge: its name is a string index
    let e = err(&p.to_json());
    assert!(
        matches!(
            e,
            ParseError::StringIndex {
                what: "edge",
                index: 6,
                value: 100,
                ..
            }
        ),
        "{e:?}"
    );
    // Element and hidden edges carry numbers, not string indices.
    let mut p = sample();
    p.edges[1][1] = 100;
    assert!(parse_str(&p.to_json()).is_ok());
    // Not looked at when edges are skipped: NODES_ONLY only finds where the array ends.
    let mut p = sample();
    p.edges[6][1] = 100;
    let text = p.to_json();
    assert!(parse(text.as_bytes(), &ParseOptions::NODES_ONLY, &mut |_| {}).is_ok());
    // Nor are the locations.
    let mut p = sample();
    p.locations.as_mut().unwrap()[0][0] = 20;
    let text = p.to_json();
    assert!(parse(text.as_bytes(), &ParseOptions::NODES_ONLY, &mut |_| {}).is_ok());
    assert!(parse_str(&text).is_err());
}

#[test]
fn counts_beyond_u32_are_too_large() {
    let mut p = sample();
    p.edge_count = "8589934592".into();
    let e = err(&p.to_json());
    assert!(matches!(e, ParseError::TooLarge { .. }), "{e:?}");
    assert_eq!(e.kind(), ParseErrorKind::TooLarge);
    assert!(
        e.to_string().contains("snapshot.edge_count is 8589934592"),
        "{e}"
    );
}

#[test]
fn a_huge_claimed_count_fails_cleanly_without_reserving_it() {
    // Half a billion nodes claimed (near the most a graph can hold), six present: a count
    // mismatch, not an allocation failure.
    let mut p = sample();
    p.node_count = "536870912".into();
    let e = err(&p.to_json());
    assert!(matches!(e, ParseError::CountMismatch { .. }), "{e:?}");
}

/// `prefix`, then `fill` for ever: a FIFO whose writer never stops, or `/dev/zero` (for
/// 256 MiB: then it ends, so a parser without bounds fails the test instead of hanging).
struct Endless {
    prefix: Vec<u8>,
    at: usize,
    fill: u8,
    /// Bytes handed out so far.
    read: u64,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let rest = &self.prefix[self.at.min(self.prefix.len())..];
        let n = if self.read >= 256 << 20 {
            0
        } else if rest.is_empty() {
            buf.fill(self.fill);
            buf.len()
        } else {
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.at += n;
            n
        };
        self.read += n as u64;
        Ok(n)
    }
}

/// Reads from `endless` until the parser gives up; returns the error and how much it read.
fn give_up_on(mut endless: Endless) -> (ParseError, u64) {
    let e = parse(&mut endless, &ParseOptions::default(), &mut |_| {}).unwrap_err();
    (e, endless.read)
}

#[test]
fn an_endless_key_or_string_is_too_large_after_a_bounded_read() {
    let (e, read) = give_up_on(Endless {
        prefix: b"{\"".to_vec(),
        at: 0,
        fill: b'a',
        read: 0,
    });
    assert!(matches!(e, ParseError::TooLarge { .. }), "{e:?}");
    assert_eq!(e.kind(), ParseErrorKind::TooLarge);
    assert!(read < 4 << 20, "read {read} bytes of an endless key");
    assert!(e.to_string().contains("longer than 1024 bytes"), "{e}");

    let text = sample().to_json();
    let strings = text.find("\"strings\":[").unwrap();
    let cut = strings + text[strings..].find("[\n\"").unwrap() + 3;
    let (e, read) = give_up_on(Endless {
        prefix: text.as_bytes()[..cut].to_vec(),
        at: 0,
        fill: b'a',
        read: 0,
    });
    assert!(matches!(e, ParseError::TooLarge { .. }), "{e:?}");
    assert!(read < 80 << 20, "read {read} bytes of an endless string");
    assert!(
        e.to_string().contains(&format!(
            "a string of the strings array starting at byte {cut} is longer than"
        )),
        "{e}"
    );
}

#[test]
fn dev_zero_is_refused_at_byte_zero() {
    let (e, read) = give_up_on(Endless {
        prefix: Vec::new(),
        at: 0,
        fill: 0,
        read: 0,
    });
    assert!(matches!(e, ParseError::NotHeapSnapshot { .. }), "{e:?}");
    assert!(read <= 1 << 20, "read {read} bytes");
}

/// Parses `text` from reads and from windows of many sizes; all must give one error,
/// which is returned.
fn one_error_however_it_arrives(text: &[u8]) -> ParseError {
    let whole = parse(text, &ParseOptions::default(), &mut |_| {}).unwrap_err();
    let mut sizes: Vec<Vec<usize>> = (1..=40).map(|n| vec![n]).collect();
    sizes.extend([vec![7, 29, 255, 3], vec![255], vec![1000, 1], vec![4096]]);
    for s in sizes {
        for (how, e) in [
            (
                "reads",
                parse_chunked(text, s.clone(), ParseOptions::FULL).unwrap_err(),
            ),
            (
                "windows",
                parse_windowed(text, s.clone(), ParseOptions::FULL).unwrap_err(),
            ),
        ] {
            assert_eq!(e.to_string(), whole.to_string(), "{how} of {s:?} bytes");
        }
    }
    whole
}

#[test]
fn a_long_key_with_a_bad_escape_gives_one_error_however_the_bytes_arrive() {
    // The fuzzer's find: a top-level key longer than the 1 KiB key limit that also holds a
    // bad `\u` escape. Which error came first depended on where a read or window ended.
    // The key is too long from its 1,025th byte on, so an escape after that is never read.
    let late = format!("{{\"{}\\u12G4\":1}}", "a".repeat(1100));
    let e = one_error_however_it_arrives(late.as_bytes());
    assert!(matches!(e, ParseError::TooLarge { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "snapshot is too large to analyze: a string of the top-level object starting at byte 2 is longer than 1024 bytes: not a V8 heap snapshot"
    );
    // An escape before the limit is read, and fails at its bad digit.
    let early = format!("{{\"{}\\u12G4{}\":1}}", "a".repeat(1000), "b".repeat(200));
    let e = one_error_however_it_arrives(early.as_bytes());
    assert!(
        matches!(
            e,
            ParseError::Syntax {
                offset: 1006,
                section: Section::TopLevel,
                ..
            }
        ),
        "{e:?}"
    );
    // Escapes count as the bytes they decode to: 1,020 plain bytes and two 3-byte
    // characters are over the limit before the bad escape that follows them.
    let decoded = format!("{{\"{}\\u20ac\\u20ac\\u12G4\":1}}", "a".repeat(1020));
    let e = one_error_however_it_arrives(decoded.as_bytes());
    assert!(matches!(e, ParseError::TooLarge { .. }), "{e:?}");
}
