//! [`diff`]: which allocation sites' live sampled bytes grew between profiles of one process.
//!
//! A site is a call stack ([`crate::stacks`]). Two profiles: sites whose live bytes grew from
//! base to leak, ranked by that growth. Three (like the snapshot diff's final snapshot): a
//! site must also not shrink from leak to last, and is ranked by its growth from base to
//! last — memory that was only in flight when `leak` was taken drops out. A sampled object
//! keeps its sample for as long as it lives, so a real leak never shrinks.

use std::collections::HashMap;

use crate::frame::{Frame, FrameKind};
use crate::profile::HeapProfile;
use crate::report::{
    AllocationSite, FunctionGrowth, KIND, ProfileReport, ProfileStats, SCHEMA_VERSION,
};
use crate::stacks::{FrameId, Live, StackId, Stacks};

/// Settings of [`diff`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffOptions {
    /// How many sites and functions to report.
    pub top: usize,
}

impl Default for DiffOptions {
    fn default() -> Self {
        Self { top: 10 }
    }
}

/// Diffs `base` against `leak` (and `last`, a later profile, when given).
#[must_use]
pub fn diff(
    base: &HeapProfile,
    leak: &HeapProfile,
    last: Option<&HeapProfile>,
    opts: &DiffOptions,
) -> ProfileReport {
    let mut profiles = vec![base, leak];
    profiles.extend(last);
    let stacks = Stacks::collect(&profiles);
    let with_samples = profiles.iter().all(|p| p.sample_count().is_some());
    let site_rows = growing(
        stacks.ids().map(|id| (id, stacks.live(id).to_vec())),
        opts.top,
    );
    let sites = site_rows
        .into_iter()
        .enumerate()
        .map(|(k, row)| site(&stacks, k + 1, &row, with_samples))
        .collect();
    let functions = functions(&stacks, opts.top, with_samples);
    let totals: Vec<u64> = profiles.iter().map(|p| p.total_bytes()).collect();
    ProfileReport {
        schema_version: SCHEMA_VERSION,
        kind: KIND,
        profiles: profiles.iter().map(|p| stats(p)).collect(),
        growth_bytes: signed_delta(totals[0], totals[totals.len() - 1]),
        sites,
        functions,
    }
}

/// A stack or function with its live figures per profile and its growth.
#[derive(Debug, Clone)]
struct Row<K> {
    key: K,
    live: Vec<Live>,
    delta: u64,
}

/// Growth from the base to the newest profile by the rule above, `None` when it did not grow.
fn growth(live: &[Live]) -> Option<u64> {
    let bytes = |k: usize| live[k].bytes;
    let newest = bytes(live.len() - 1);
    let grew = bytes(1) > bytes(0) && live.get(2).is_none_or(|last| last.bytes >= bytes(1));
    grew.then(|| newest - bytes(0))
}

/// The `top` rows that grew, largest growth first (ties: in key order).
fn growing<K: Ord>(rows: impl Iterator<Item = (K, Vec<Live>)>, top: usize) -> Vec<Row<K>> {
    let mut out: Vec<Row<K>> = rows
        .filter_map(|(key, live)| growth(&live).map(|delta| Row { key, live, delta }))
        .collect();
    out.sort_unstable_by(|a, b| b.delta.cmp(&a.delta).then_with(|| a.key.cmp(&b.key)));
    out.truncate(top);
    out
}

fn site(stacks: &Stacks, rank: usize, row: &Row<StackId>, with_samples: bool) -> AllocationSite {
    let frames: Vec<Frame> = stacks
        .frames(row.key)
        .into_iter()
        .map(|id| Frame::from_call_frame(stacks.frame(id)))
        .collect();
    let user_frame = frames.iter().position(Frame::is_user);
    let line = AllocationSite::site_text(&frames, user_frame);
    let mut site = AllocationSite {
        rank,
        summary: String::new(),
        delta_bytes: row.delta,
        bytes: row.live.iter().map(|l| l.bytes).collect(),
        delta_samples: delta_samples(&row.live, with_samples),
        frames,
        user_frame,
        site: line,
    };
    site.summary = site.summary_text();
    site
}

/// A function's key: its frame (ordered by content, for stable ties) and trie id; `None`
/// for allocations with no stack.
type FunctionKey = (Option<crate::CallFrame>, Option<FrameId>);

/// Sums every stack onto its function (innermost user frame, else innermost frame): per
/// function, the live figures per profile and how many of its stacks grew.
fn function_rows(stacks: &Stacks) -> Vec<(FunctionKey, Vec<Live>, usize)> {
    let mut by_function: HashMap<Option<FrameId>, (Vec<Live>, usize)> = HashMap::new();
    for id in stacks.ids() {
        let live = stacks.live(id);
        let frames = stacks.frames(id);
        let key = frames
            .iter()
            .find(|&&f| FrameKind::of(stacks.frame(f)) == FrameKind::User)
            .or(frames.first())
            .copied();
        let entry = by_function
            .entry(key)
            .or_insert_with(|| (vec![Live::default(); live.len()], 0));
        for (sum, l) in entry.0.iter_mut().zip(live) {
            sum.bytes += l.bytes;
            sum.samples += l.samples;
        }
        entry.1 += usize::from(growth(live).is_some());
    }
    by_function
        .into_iter()
        .map(|(key, (live, grown))| ((key.map(|f| stacks.frame(f).clone()), key), live, grown))
        .collect()
}

fn functions(stacks: &Stacks, top: usize, with_samples: bool) -> Vec<FunctionGrowth> {
    let rows = function_rows(stacks)
        .into_iter()
        .map(|(key, live, grown)| ((key, grown), live));
    growing(rows, top)
        .into_iter()
        .enumerate()
        .map(|(k, row)| {
            let ((frame, _), grown) = row.key;
            FunctionGrowth {
                rank: k + 1,
                delta_bytes: row.delta,
                bytes: row.live.iter().map(|l| l.bytes).collect(),
                delta_samples: delta_samples(&row.live, with_samples),
                function: frame.map_or_else(Frame::root, |f| Frame::from_call_frame(&f)),
                stacks: grown,
            }
        })
        .collect()
}

fn delta_samples(live: &[Live], with_samples: bool) -> Option<i64> {
    with_samples.then(|| signed_delta(live[0].samples, live[live.len() - 1].samples))
}

fn signed_delta(from: u64, to: u64) -> i64 {
    to as i64 - from as i64
}

fn stats(p: &HeapProfile) -> ProfileStats {
    ProfileStats {
        live_bytes: p.total_bytes(),
        samples: p.sample_count(),
        nodes: p.nodes().len() as u64,
        sampling_interval: p.sampling_interval(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::CallFrame;
    use crate::profile::{FrameIdx, Node, NodeIdx};

    /// Frames the test profiles draw from: the root, user code, a builtin, Node's code.
    fn frame_pool() -> Vec<CallFrame> {
        let f = |name: &str, url: &str, line| CallFrame {
            function_name: name.into(),
            url: url.into(),
            line,
            column: 0,
        };
        vec![
            f("(root)", "", -1),
            f("handle", "/srv/app.js", 10),
            f("pushEntry", "/srv/app.js", 3),
            f("repeat", "", -1),
            f("emit", "node:events", 500),
            f("", "/srv/app.js", 20),
        ]
    }

    /// A profile from `(parent, frame, bytes, samples)` per node; node 0 is the `(root)` head.
    fn profile(nodes: &[(u32, u32, u64, u64)]) -> HeapProfile {
        let mut all = vec![Node {
            frame: FrameIdx(0),
            parent: None,
            self_size: 0,
            samples: 0,
            id: 1,
        }];
        for (i, &(parent, frame, self_size, samples)) in nodes.iter().enumerate() {
            all.push(Node {
                frame: FrameIdx(frame),
                parent: Some(NodeIdx(parent)),
                self_size,
                samples,
                id: i as u64 + 2,
            });
        }
        HeapProfile {
            frames: frame_pool(),
            nodes: all,
            has_samples: true,
            sampling_interval: None,
        }
    }

    fn all() -> DiffOptions {
        DiffOptions { top: usize::MAX }
    }

    #[test]
    fn ranks_the_grown_stack_with_its_user_frame() {
        // root > handle > pushEntry > repeat ; root > emit > handle
        let base = profile(&[
            (0, 1, 100, 1),
            (1, 2, 0, 0),
            (2, 3, 50, 1),
            (0, 4, 0, 0),
            (4, 1, 10, 1),
        ]);
        let leak = profile(&[
            (0, 1, 100, 1),
            (1, 2, 0, 0),
            (2, 3, 5050, 9),
            (0, 4, 0, 0),
            (4, 1, 5, 1),
        ]);
        let r = diff(&base, &leak, None, &all());
        assert_eq!(r.kind, "heapprofile");
        assert_eq!(r.growth_bytes, 4995);
        assert_eq!(r.sites.len(), 1);
        let site = &r.sites[0];
        assert_eq!((site.delta_bytes, site.delta_samples), (5000, Some(8)));
        assert_eq!(site.bytes, [50, 5050]);
        let names: Vec<&str> = site.frames.iter().map(|f| f.function.as_str()).collect();
        assert_eq!(names, ["repeat", "pushEntry", "handle"]);
        assert_eq!(site.user_frame, Some(1));
        assert_eq!(site.site, "pushEntry (app.js:4:1)");
        assert_eq!(
            site.summary,
            "+5.0 kB in pushEntry (app.js:4:1) via repeat < handle (app.js:11:1)"
        );
        assert_eq!(r.functions[0].function.function, "pushEntry");
        assert_eq!(r.functions[0].delta_bytes, 5000);
    }

    #[test]
    fn inlined_stacks_add_up_per_function() {
        // pushEntry under handle and, inlined elsewhere, directly under emit: two stacks.
        let base = profile(&[(0, 1, 0, 0), (1, 2, 0, 0), (0, 4, 0, 0), (3, 2, 0, 0)]);
        let leak = profile(&[(0, 1, 0, 0), (1, 2, 3000, 3), (0, 4, 0, 0), (3, 2, 2000, 2)]);
        let r = diff(&base, &leak, None, &all());
        assert_eq!(r.sites.len(), 2);
        assert_eq!(r.functions.len(), 1);
        let f = &r.functions[0];
        assert_eq!(
            (f.delta_bytes, f.stacks, f.delta_samples),
            (5000, 2, Some(5))
        );
        assert_eq!(f.function.line, Some(4));
    }

    #[test]
    fn with_a_last_profile_only_sites_that_kept_growing_count() {
        // pushEntry grows and stays; handle's bytes were in flight at `leak` and are gone at `last`.
        let base = profile(&[(0, 1, 100, 1), (1, 2, 0, 0)]);
        let leak = profile(&[(0, 1, 900, 9), (1, 2, 1000, 1)]);
        let last = profile(&[(0, 1, 120, 1), (1, 2, 2500, 2)]);
        let two = diff(&base, &leak, None, &all());
        assert_eq!(two.sites.len(), 2);
        let three = diff(&base, &leak, Some(&last), &all());
        assert_eq!(three.sites.len(), 1);
        assert_eq!(three.sites[0].delta_bytes, 2500);
        assert_eq!(three.sites[0].bytes, [0, 1000, 2500]);
        assert_eq!(three.profiles.len(), 3);
        assert_eq!(three.growth_bytes, 2520);
    }

    #[test]
    fn missing_samples_leave_sample_deltas_unknown() {
        let base = profile(&[(0, 1, 0, 0)]);
        let mut leak = profile(&[(0, 1, 10, 0)]);
        leak.has_samples = false;
        leak.set_sampling_interval(Some(4096));
        let r = diff(&base, &leak, None, &all());
        assert_eq!(r.sites[0].delta_samples, None);
        assert_eq!(r.profiles[1].samples, None);
        assert_eq!(r.profiles[1].sampling_interval, Some(4096));
    }

    #[test]
    fn allocations_at_the_root_have_an_empty_stack() {
        let base = profile(&[]);
        let mut leak = profile(&[]);
        leak.nodes[0].self_size = 64;
        let r = diff(&base, &leak, None, &all());
        assert!(r.sites[0].frames.is_empty());
        assert_eq!(r.sites[0].site, "(root)");
        assert_eq!(r.functions[0].function.function, "(root)");
    }

    fn arb_nodes() -> impl Strategy<Value = Vec<(u32, u32, u64, u64)>> {
        prop::collection::vec((any::<u32>(), 1u32..6, 0u64..10_000, 0u64..5), 0..40).prop_map(
            |nodes| {
                nodes
                    .into_iter()
                    .enumerate()
                    .map(|(i, (p, f, b, s))| (p % (i as u32 + 1), f, b, s))
                    .collect()
            },
        )
    }

    proptest! {
        #[test]
        fn a_profile_diffed_with_itself_shows_nothing(nodes in arb_nodes()) {
            let p = profile(&nodes);
            let r = diff(&p, &p, Some(&p), &all());
            prop_assert!(r.sites.is_empty());
            prop_assert!(r.functions.is_empty());
            prop_assert_eq!(r.growth_bytes, 0);
        }

        #[test]
        fn growth_adds_up_over_stacks_and_functions(
            base in arb_nodes(),
            leak in arb_nodes(),
        ) {
            let (base, leak) = (profile(&base), profile(&leak));
            let stacks = Stacks::collect(&[&base, &leak]);
            let totals = |live: &mut dyn Iterator<Item = Vec<Live>>| {
                live.fold([0u64; 2], |acc, l| [acc[0] + l[0].bytes, acc[1] + l[1].bytes])
            };
            let by_stack = totals(&mut stacks.ids().map(|id| stacks.live(id).to_vec()));
            let by_function = totals(&mut function_rows(&stacks).into_iter().map(|(_, l, _)| l));
            prop_assert_eq!(by_stack, [base.total_bytes(), leak.total_bytes()]);
            prop_assert_eq!(by_function, by_stack);
            let r = diff(&base, &leak, None, &all());
            let grown: u64 = r.sites.iter().map(|s| s.delta_bytes).sum();
            let shrunk: u64 = stacks
                .ids()
                .map(|id| stacks.live(id))
                .map(|l| l[0].bytes.saturating_sub(l[1].bytes))
                .sum();
            prop_assert_eq!(grown as i64 - shrunk as i64, r.growth_bytes);
            prop_assert!(r.sites.windows(2).all(|w| w[0].delta_bytes >= w[1].delta_bytes));
            prop_assert!(r.sites.iter().enumerate().all(|(k, s)| s.rank == k + 1));
        }

        #[test]
        fn top_keeps_the_largest(base in arb_nodes(), leak in arb_nodes(), top in 0usize..4) {
            let (base, leak) = (profile(&base), profile(&leak));
            let every = diff(&base, &leak, None, &all());
            let some = diff(&base, &leak, None, &DiffOptions { top });
            prop_assert_eq!(&some.sites[..], &every.sites[..top.min(every.sites.len())]);
            prop_assert_eq!(&some.functions[..], &every.functions[..top.min(every.functions.len())]);
        }
    }
}
