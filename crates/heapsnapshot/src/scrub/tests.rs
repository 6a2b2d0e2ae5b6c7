//! The two passes on a small snapshot with every kind of string entry, through tiny
//! windows and one-byte reads, and on broken input.

use super::*;
use crate::parse::input::OneByte;
use crate::{HeapGraph, NodeIdx, NodeKind, ParseOptions, parse};

/// Strings: 0 `<dummy>` (unreferenced), 1 `(GC roots)`, 2 `Session` (class), 3 `token`
/// (a property name and the value of a string), 4 a secret value with escapes, 5 `handler`
/// (a function), 6 `(concatenated string)`, 7 `orphan` (unreferenced), 8 a lone surrogate
/// (a value). Edge 1 is an element whose index (4) is the secret's table index.
const SAMPLE: &str = concat!(
    r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"#,
    r#""node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string"],"string","number","number","number","number","number"],"#,
    r#""edge_fields":["type","name_or_index","to_node"],"#,
    r#""edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],"#,
    r#""trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],"#,
    r#""location_fields":["object_index","script_id","line","column"]},"node_count":7,"edge_count":5,"trace_function_count":0},"#,
    "\n\"nodes\":[9,1,1,0,2,0,0\n,3,2,3,64,3,0,0\n,2,4,5,40,0,0,0\n,2,3,7,24,0,0,0\n,5,5,9,32,0,0,0\n,10,6,11,32,0,0,0\n,2,8,13,16,0,0,0],",
    "\n\"edges\":[1,0,7\n,1,4,28\n,2,3,14\n,3,2,35\n,1,0,42],",
    "\n\"trace_function_infos\":[],\n\"trace_tree\":[],\n\"samples\":[],\n\"locations\":[28,3,10,4],",
    "\n\"strings\":[\"<dummy>\",\n\"(GC roots)\",\n\"Session\",\n\"token\",\n",
    r#""secret-ABC \u00e9\uD83D\uDE00 \n \" x","#,
    "\n\"handler\",\n\"(concatenated string)\",\n\"orphan\",\n\"\\uD800\"]}\n",
);

fn key(seed: u8) -> ScrubKey {
    ScrubKey::from_bytes([seed; 32])
}

fn scrub(input: &[u8], key: &ScrubKey) -> Result<(Vec<u8>, ScrubStats), ScrubError> {
    let plan = plan(input, &mut |_| {})?;
    let mut out = Vec::new();
    let stats = rewrite(input, &plan, key, &mut out, &mut |_| {})?;
    Ok((out, stats))
}

fn graph(bytes: &[u8]) -> HeapGraph {
    parse(bytes, &ParseOptions::FULL, &mut |_| {}).unwrap()
}

fn strings(g: &HeapGraph) -> Vec<String> {
    (0..g.strings.len())
        .map(|i| g.strings.get(crate::StrIdx(i as u32)).to_owned())
        .collect()
}

#[test]
fn names_are_kept_values_replaced_and_the_rest_copied() {
    let (out, stats) = scrub(SAMPLE.as_bytes(), &key(1)).unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    serde_json::from_slice::<serde_json::Value>(&out).expect("valid JSON");
    assert_eq!(
        stats,
        ScrubStats {
            strings: 9,
            scrubbed: 4,
            bytes: out.len() as u64
        }
    );
    // Everything before the string table, and its layout, byte for byte.
    let open = SAMPLE.find("[\"<dummy>\"").unwrap();
    assert_eq!(text[..open], SAMPLE[..open]);
    assert!(text.ends_with("\"]}\n"), "{text}");
    assert_eq!(
        text.matches(",\n\"").count(),
        SAMPLE.matches(",\n\"").count()
    );
    for kept in [
        "\"(GC roots)\"",
        "\"Session\"",
        "\"token\"",
        "\"handler\"",
        "\"(concatenated string)\"",
    ] {
        assert!(text.contains(kept), "{kept} kept: {text}");
    }
    for gone in ["<dummy>", "secret", "orphan", "\\uD800", "\\u00e9"] {
        assert!(!text.contains(gone), "{gone} scrubbed: {text}");
    }

    let (raw, scrubbed) = (graph(SAMPLE.as_bytes()), graph(&out));
    assert_eq!(raw.node_kind, scrubbed.node_kind);
    assert_eq!(raw.node_name, scrubbed.node_name);
    assert_eq!(raw.node_id, scrubbed.node_id);
    assert_eq!(raw.self_size, scrubbed.self_size);
    assert_eq!(raw.first_edge, scrubbed.first_edge);
    assert_eq!(raw.edge_end, scrubbed.edge_end);
    assert_eq!(raw.edge_name, scrubbed.edge_name);
    assert_eq!(raw.locations, scrubbed.locations);
    let (before, after) = (strings(&raw), strings(&scrubbed));
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        assert_eq!(
            b.chars().count(),
            a.chars().count(),
            "entry {i}: {b:?} {a:?}"
        );
        if [0, 4, 7, 8].contains(&i) {
            assert_ne!(b, a, "entry {i} scrubbed");
            assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a:?}");
        } else {
            assert_eq!(b, a, "entry {i} kept");
        }
    }
    // The secret: `secret-ABC ` (11), `é😀` (one code point each), ` \n \" x` (6).
    assert_eq!(after[4].len(), 19);
    let secret = NodeIdx(2);
    assert_eq!(scrubbed.kind(secret), NodeKind::String);
    assert_eq!(scrubbed.name(secret), after[4]);
}

#[test]
fn the_replacement_depends_on_the_key_only() {
    let (a, _) = scrub(SAMPLE.as_bytes(), &key(1)).unwrap();
    let (b, _) = scrub(SAMPLE.as_bytes(), &key(1)).unwrap();
    let (c, _) = scrub(SAMPLE.as_bytes(), &key(2)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.len(), c.len());
}

/// The sample in windows of `size` bytes.
struct Fixed(usize);

impl crate::Windows for Fixed {
    type Window = &'static [u8];

    fn window(&mut self, offset: u64) -> std::io::Result<&'static [u8]> {
        let rest = &SAMPLE.as_bytes()[offset as usize..];
        Ok(&rest[..self.0.min(rest.len())])
    }
}

#[test]
fn tiny_windows_and_one_byte_reads_give_the_same_result() {
    let k = key(3);
    let (want, _) = scrub(SAMPLE.as_bytes(), &k).unwrap();
    for size in crate::MIN_WINDOW..80 {
        let plan = plan_windows(Fixed(size), &mut |_| {}).unwrap();
        let mut out = Vec::new();
        rewrite(OneByte(SAMPLE.as_bytes()), &plan, &k, &mut out, &mut |_| {}).unwrap();
        assert_eq!(out, want, "windows of {size}");
    }
    let plan = plan(OneByte(SAMPLE.as_bytes()), &mut |_| {}).unwrap();
    assert_eq!((plan.strings(), plan.input_len()), (9, SAMPLE.len() as u64));
}

#[test]
fn every_truncation_fails() {
    for n in 0..SAMPLE.len() - 1 {
        let cut = &SAMPLE.as_bytes()[..n];
        match plan(cut, &mut |_| {}) {
            Err(ScrubError::Parse(_)) => {}
            other => panic!("cut at {n}: {other:?}"),
        }
    }
}

#[test]
fn broken_and_unknown_input_is_refused() {
    let cases = [
        (SAMPLE.replace("\"samples\"", "\"secrets\""), "\"secrets\""),
        (SAMPLE.replace(",2,8,13,16", ",2,9,13,16"), "names string 9"),
        (SAMPLE.replace("[1,0,7", "[1,0,8"), "node offset 8"),
        (SAMPLE.replace("\"orphan\"", "\"orp\\xhan\""), "escape"),
        (
            SAMPLE.replace("\"edge_count\":5", "\"edge_count\":6"),
            "edge",
        ),
    ];
    for (text, want) in cases {
        let err = scrub(text.as_bytes(), &key(1)).unwrap_err();
        assert!(err.to_string().contains(want), "{want}: {err}");
    }
}

#[test]
fn a_changed_input_is_noticed() {
    let plan = plan(SAMPLE.as_bytes(), &mut |_| {}).unwrap();
    let longer = SAMPLE.replace("\"orphan\"", "\"orphans\"");
    let shorter = SAMPLE.replace("\"orphan\"", "\"o\"");
    let fewer = SAMPLE.replace(",\n\"orphan\"", "");
    let cut = &SAMPLE[..SAMPLE.len() - 10];
    for other in [&longer[..], &shorter, &fewer, cut] {
        let mut out = Vec::new();
        let err = rewrite(other.as_bytes(), &plan, &key(1), &mut out, &mut |_| {}).unwrap_err();
        assert!(
            matches!(err, ScrubError::Changed { .. } | ScrubError::Parse(_)),
            "{err}"
        );
    }
}

#[test]
fn a_failing_output_is_a_write_error() {
    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let plan = plan(SAMPLE.as_bytes(), &mut |_| {}).unwrap();
    let err = rewrite(SAMPLE.as_bytes(), &plan, &key(1), &mut Full, &mut |_| {}).unwrap_err();
    assert!(matches!(err, ScrubError::Write(_)), "{err}");
}
