//! A real sampling heap profile (written by Node 20's `HeapProfiler.getSamplingProfile` for
//! `fixtures/profiles/leaky.cjs`, its base profile) cut at every byte and mutated thousands of
//! seeded ways: never a panic; a cut is always "truncated at byte N" at its length; every
//! error is one short line that names a byte offset when it is about a place; whatever still
//! parses is a well-formed tree.

use memwatchdog_heapprofile::{HeapProfile, MAX_SIZE, ProfileError, parse};
use memwatchdog_rng::Rng;

const REAL: &[u8] = include_bytes!("data/leaky-base.heapprofile");

/// The longest message any error may have (bytes).
const MAX_MESSAGE: usize = 512;

fn check_error(e: &ProfileError, len: usize) {
    let message = e.to_string();
    assert!(
        message.len() <= MAX_MESSAGE,
        "{} bytes: {message:.600}",
        message.len()
    );
    assert!(!message.contains('\n'), "{message}");
    let offset = match e {
        ProfileError::NotProfile { offset, .. }
        | ProfileError::Truncated { offset }
        | ProfileError::NotJson { offset, .. }
        | ProfileError::WrongType { offset, .. }
        | ProfileError::TooDeep { offset, .. } => Some(*offset),
        _ => None,
    };
    if let Some(offset) = offset {
        assert!(
            offset <= len as u64,
            "offset {offset} past the end ({len}): {message}"
        );
        assert!(message.contains(&format!("byte {offset}")), "{message}");
    }
}

fn well_formed(p: &HeapProfile) {
    let nodes = p.nodes();
    assert!(nodes[0].parent.is_none());
    let mut sum = 0u64;
    for (i, node) in nodes.iter().enumerate().skip(1) {
        assert!(node.parent.expect("only the root has no parent").ix() < i);
        assert!(node.frame.ix() < p.frames().len());
        sum += node.self_size;
    }
    assert!(sum + nodes[0].self_size == p.total_bytes() && p.total_bytes() <= MAX_SIZE);
}

#[test]
fn the_real_profile_parses() {
    let p = parse(REAL).unwrap();
    well_formed(&p);
    assert!(p.nodes().len() > 20, "{}", p.nodes().len());
    assert!(p.sample_count().unwrap() > 100);
}

#[test]
fn every_cut_is_truncated_at_its_length() {
    assert!(matches!(parse(&REAL[..0]), Err(ProfileError::Empty)));
    for cut in 1..REAL.len() {
        match parse(&REAL[..cut]) {
            Err(e @ ProfileError::Truncated { offset }) => {
                assert_eq!(offset, cut as u64, "{e}");
                check_error(&e, cut);
            }
            other => panic!("cut at {cut}: {:?}", other.map(|p| p.nodes().len())),
        }
    }
}

#[test]
fn mutations_never_panic_and_errors_name_the_byte() {
    const GRAMMAR: &[u8] = b"0123456789,[]{}\":\\ \nu-.eE";
    let mut rng = Rng::new(0x5eed_0f17);
    let (mut parsed, mut failed) = (0, 0);
    for _ in 0..3000 {
        let mut bytes = REAL.to_vec();
        rng.mutate(&mut bytes, GRAMMAR);
        match parse(bytes.as_slice()) {
            Ok(p) => {
                well_formed(&p);
                parsed += 1;
            }
            Err(e) => {
                check_error(&e, bytes.len());
                failed += 1;
            }
        }
    }
    // Both outcomes are exercised: the test is not vacuous.
    assert!(
        parsed > 100 && failed > 100,
        "{parsed} parsed, {failed} failed"
    );
}
