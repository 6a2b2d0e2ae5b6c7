//! [`Stacks`]: the call stacks of several profiles in one trie, with the live bytes and
//! samples each profile has per stack.
//!
//! A stack is identified by its frames' function name, url, line and column from the root
//! down: V8's node ids and script ids differ between profiles, these do not. Each profile's
//! nodes are mapped onto the shared trie in one pass (nodes come parent first), so equal
//! stacks of different profiles get the same [`StackId`]. Two nodes of one profile with the
//! same stack (two scripts loaded from one url) simply add up.

use std::collections::HashMap;

use crate::profile::{CallFrame, HeapProfile};

/// A stack in the trie; [`StackId::EMPTY`] is the stack with no frame (the `(root)` head).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct StackId(pub u32);

impl StackId {
    /// The stack of the `(root)` head itself.
    pub const EMPTY: Self = Self(0);

    fn ix(self) -> usize {
        self.0 as usize
    }
}

/// A call frame shared by all profiles of the trie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct FrameId(pub u32);

/// What one profile holds with one stack.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Live {
    /// Estimated live bytes (`selfSize`).
    pub bytes: u64,
    /// Samples attributed to the stack.
    pub samples: u64,
}

/// The trie of stacks and, per stack, what each profile holds.
#[derive(Debug, Default)]
pub(crate) struct Stacks {
    frames: Vec<CallFrame>,
    frame_ids: HashMap<CallFrame, FrameId>,
    /// Per stack except [`StackId::EMPTY`]: the caller's stack and the innermost frame.
    links: Vec<(StackId, FrameId)>,
    index: HashMap<(StackId, FrameId), StackId>,
    /// `live[stack][profile]`.
    live: Vec<Vec<Live>>,
    profiles: usize,
}

impl Stacks {
    /// The stacks of `profiles`, in order.
    pub fn collect(profiles: &[&HeapProfile]) -> Self {
        let mut stacks = Self {
            links: vec![(StackId::EMPTY, FrameId(u32::MAX))],
            live: vec![vec![Live::default(); profiles.len()]],
            profiles: profiles.len(),
            ..Self::default()
        };
        for (k, profile) in profiles.iter().enumerate() {
            stacks.add(k, profile);
        }
        stacks
    }

    fn add(&mut self, k: usize, profile: &HeapProfile) {
        let global: Vec<FrameId> = profile.frames().iter().map(|f| self.frame_id(f)).collect();
        let mut of_node = Vec::with_capacity(profile.nodes().len());
        for node in profile.nodes() {
            let stack = match node.parent {
                Some(parent) => self.child(of_node[parent.ix()], global[node.frame.ix()]),
                None if is_root(profile.frame(node.frame)) => StackId::EMPTY,
                None => self.child(StackId::EMPTY, global[node.frame.ix()]),
            };
            of_node.push(stack);
            let live = &mut self.live[stack.ix()][k];
            live.bytes += node.self_size;
            live.samples += node.samples;
        }
    }

    fn frame_id(&mut self, frame: &CallFrame) -> FrameId {
        if let Some(&id) = self.frame_ids.get(frame) {
            return id;
        }
        let id = FrameId(self.frames.len() as u32);
        self.frames.push(frame.clone());
        self.frame_ids.insert(frame.clone(), id);
        id
    }

    fn child(&mut self, parent: StackId, frame: FrameId) -> StackId {
        *self.index.entry((parent, frame)).or_insert_with(|| {
            self.links.push((parent, frame));
            self.live.push(vec![Live::default(); self.profiles]);
            StackId((self.links.len() - 1) as u32)
        })
    }

    /// Every stack, [`StackId::EMPTY`] first.
    pub fn ids(&self) -> impl Iterator<Item = StackId> + use<> {
        (0..self.links.len() as u32).map(StackId)
    }

    /// What each profile holds with exactly this stack, in profile order.
    pub fn live(&self, stack: StackId) -> &[Live] {
        &self.live[stack.ix()]
    }

    /// The stack's frames, innermost (leaf) first.
    pub fn frames(&self, mut stack: StackId) -> Vec<FrameId> {
        let mut out = Vec::new();
        while stack != StackId::EMPTY {
            let (parent, frame) = self.links[stack.ix()];
            out.push(frame);
            stack = parent;
        }
        out
    }

    /// A frame of the trie.
    pub fn frame(&self, id: FrameId) -> &CallFrame {
        &self.frames[id.0 as usize]
    }
}

/// V8's synthetic head: every stack starts there, so it is not part of any stack.
fn is_root(frame: &CallFrame) -> bool {
    frame.function_name == "(root)" && frame.url.is_empty()
}
