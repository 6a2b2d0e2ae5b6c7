//! Whole-file parsing through tiny read buffers and tiny windows, so that every token,
//! escape and number straddles a refill somewhere (the integration tests use the real
//! 1 MiB buffer).

use super::input::{Input, OneByte};
use super::windows::{InPlace, MIN_WINDOW, Windows};
use super::{ParseOptions, parse_input};
use crate::error::ParseError;
use crate::graph::HeapGraph;

const SAMPLE: &str = "{\"snapshot\":{\"meta\":{\"node_fields\":[\"type\",\"name\",\"id\",\"self_size\",\"edge_count\",\"trace_node_id\",\"detachedness\"],\"node_types\":[[\"hidden\",\"array\",\"string\",\"object\",\"code\",\"closure\",\"regexp\",\"number\",\"native\",\"synthetic\"],\"string\"],\"edge_fields\":[\"type\",\"name_or_index\",\"to_node\"],\"edge_types\":[[\"context\",\"element\",\"property\",\"internal\",\"hidden\",\"shortcut\",\"weak\"],\"string_or_number\",\"node\"]},\"node_count\":3,\"edge_count\":3,\"trace_function_count\":0},\n\"nodes\":[9,0,1,0,2,0,0\n,3,1,12345678901,4294967296,1,0,0\n,5,2,5,32,0,0,0],\n\"edges\":[5,3,7\n,1,123456789012345,14\n,2,4,14],\n\"trace_function_infos\":[],\n\"trace_tree\":[[1,{\"x\":\"]\"}]],\n\"samples\":[],\n\"locations\":[14,7,1,2],\n\"strings\":[\"\",\n\"Obj\\u00e9ct \\uD83D\\uDE00\",\n\"f\\\\n\\uD800\",\n\"(GC roots)\",\n\"prop\"]}";

fn parse_with(cap: usize, one_byte: bool, opts: ParseOptions) -> Result<HeapGraph, ParseError> {
    let mut progress = |_| {};
    if one_byte {
        parse_input(
            &mut Input::with_capacity(OneByte(SAMPLE.as_bytes()), &mut progress, cap),
            opts,
        )
    } else {
        parse_input(
            &mut Input::with_capacity(SAMPLE.as_bytes(), &mut progress, cap),
            opts,
        )
    }
}

#[test]
fn tiny_buffers_give_the_same_graph() {
    for opts in [ParseOptions::FULL, ParseOptions::NODES_ONLY] {
        let want = format!("{:?}", parse_with(1 << 20, false, opts).unwrap());
        for cap in [16, 17, 18, 19, 23, 31, 32, 33, 47, 64, 100] {
            for one_byte in [false, true] {
                let got = format!("{:?}", parse_with(cap, one_byte, opts).unwrap());
                assert_eq!(got, want, "cap {cap} one_byte {one_byte}");
            }
        }
    }
}

/// The sample in windows of `size` bytes.
struct Fixed(usize);

impl Windows for Fixed {
    type Window = &'static [u8];

    fn window(&mut self, offset: u64) -> std::io::Result<&'static [u8]> {
        let rest = &SAMPLE.as_bytes()[offset as usize..];
        Ok(&rest[..self.0.min(rest.len())])
    }
}

#[test]
fn tiny_windows_give_the_same_graph() {
    for opts in [ParseOptions::FULL, ParseOptions::NODES_ONLY] {
        let want = format!("{:?}", parse_with(1 << 20, false, opts).unwrap());
        for size in MIN_WINDOW..100 {
            let mut progress = |_| {};
            let mut input = Input::over(InPlace::new(Fixed(size)), &mut progress);
            let got = format!("{:?}", parse_input(&mut input, opts).unwrap());
            assert_eq!(got, want, "windows of {size} bytes");
        }
    }
}

#[test]
fn sample_values() {
    let g = parse_with(1 << 20, false, ParseOptions::FULL).unwrap();
    assert_eq!(g.node_id, [1, u32::MAX, 5]);
    assert_eq!(g.self_size, [0, u32::MAX, 32]);
    assert_eq!(g.name(crate::NodeIdx(1)), "Objéct 😀");
    assert_eq!(g.strings.get(crate::StrIdx(2)), "f\\n\u{fffd}");
    assert_eq!(g.edge_name, [3, u32::MAX, 4]);
    assert_eq!(g.first_edge, [0, 2, 3, 3]);
    assert_eq!(g.locations.len(), 1);
}
