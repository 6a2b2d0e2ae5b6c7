//! The sampling heap profile reader as `mw analyze` runs it: the format sniff (what `mw`
//! dispatches on: a `Sniffer` fed the input as it is read), the parse from a `Read`, then
//! the diff of what parsed.
//!
//! Checks: no panic; the sniff's verdict does not depend on how the bytes arrive, and is
//! the same from any prefix that decides it; a profile that parses is sniffed as a profile
//! (whatever its key order), and its first 4 KiB are never sniffed as a snapshot; a parsed
//! profile is a pre-order tree (its first node the root, every parent before its child),
//! with frames in range and sizes that add up to its total without wrapping; diffing a
//! profile with itself finds no growth, and against an empty one finds at most its total;
//! errors are short single lines, and those about a place in the input name its byte.

#![no_main]

use libfuzzer_sys::fuzz_target;
use memwatchdog_fuzz::{Trickle, check_message};
use memwatchdog_heapprofile::{
    DiffOptions, FileKind, HeapProfile, MAX_SIZE, ProfileError, Sniffer, diff, parse, sniff,
};

/// What `mw analyze` used to read of each input to tell its format.
const PREFIX: usize = 4096;

const EMPTY: &[u8] = br#"{"head":{"callFrame":{"functionName":"(root)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1},"selfSize":0,"id":1,"children":[]}}"#;

fuzz_target!(|data: &[u8]| {
    let kind = sniff(data);
    let sizes = [(1 + data.len() % 17) as u8, 200, 7];
    sniffed_alike(data, &sizes, kind);
    let head_kind = sniff(&data[..data.len().min(PREFIX)]);
    let parsed = parse(Trickle::new(data, &sizes));
    let whole = parse(data);
    assert_eq!(
        parsed
            .as_ref()
            .map(HeapProfile::total_bytes)
            .map_err(ToString::to_string),
        whole
            .as_ref()
            .map(HeapProfile::total_bytes)
            .map_err(ToString::to_string),
        "the profile read in pieces differs from the profile read whole"
    );
    let profile = match parsed {
        Ok(profile) => profile,
        Err(e) => {
            let place = matches!(
                e,
                ProfileError::NotProfile { .. }
                    | ProfileError::Truncated { .. }
                    | ProfileError::NotJson { .. }
                    | ProfileError::WrongType { .. }
                    | ProfileError::TooDeep { .. }
            );
            check_message(&e, place.then_some("byte "));
            return;
        }
    };
    assert_eq!(kind, FileKind::HeapProfile, "a profile not sniffed as one");
    assert_ne!(
        head_kind,
        FileKind::HeapSnapshot,
        "a profile's first bytes sniffed as a snapshot"
    );
    well_formed(&profile);

    let same = diff(&profile, &profile, None, &DiffOptions::default());
    assert_eq!(same.growth_bytes, 0);
    assert!(same.sites.is_empty(), "a profile grew against itself");
    let empty = parse(EMPTY).expect("the empty profile parses");
    let grown = diff(&empty, &profile, Some(&profile), &DiffOptions { top: 5 });
    assert!(grown.sites.len() <= 5);
    let total = profile.total_bytes();
    assert!(grown.sites.iter().all(|s| s.delta_bytes <= total));
    for site in &grown.sites {
        assert!(!site.summary.is_empty());
    }
});

/// Feeds `data` to a [`Sniffer`] in pieces of `sizes` (cycled): it must come to `whole`,
/// the verdict on all of it at once, and once it has a verdict keep it.
fn sniffed_alike(data: &[u8], sizes: &[u8], whole: FileKind) {
    let mut sniffer = Sniffer::new();
    let mut said = None;
    let mut rest = data;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, after) = rest.split_at(usize::from(size.max(1)).min(rest.len()));
        rest = after;
        let now = sniffer.feed(piece);
        assert!(said.is_none() || now == said, "a sniff verdict changed");
        said = now;
    }
    assert_eq!(sniffer.verdict(), whole, "sniffed differently in pieces");
}

fn well_formed(p: &HeapProfile) {
    let nodes = p.nodes();
    assert!(!nodes.is_empty(), "a profile without its head");
    assert!(nodes[0].parent.is_none(), "the first node is not the root");
    let mut sum = 0u64;
    for (i, node) in nodes.iter().enumerate() {
        if i > 0 {
            let parent = node.parent.expect("only the root has no parent");
            assert!(parent.ix() < i, "node {i}'s parent comes after it");
        }
        assert!(node.frame.ix() < p.frames().len());
        assert!(node.self_size <= MAX_SIZE);
        sum = sum.checked_add(node.self_size).expect("sizes wrapped");
    }
    assert_eq!(sum, p.total_bytes());
    assert!(sum <= MAX_SIZE);
    if let Some(samples) = p.sample_count() {
        assert_eq!(samples, nodes.iter().map(|n| n.samples).sum::<u64>());
    }
}
