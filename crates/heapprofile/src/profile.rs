//! [`HeapProfile`]: one sampling heap profile as a flat call tree.
//!
//! Nodes are stored in pre-order (every parent before its children) and point to their
//! parent by [`NodeIdx`]; call frames are interned once per profile and referenced by
//! [`FrameIdx`]. V8's node ids and script ids are kept out of the model's identity: they
//! differ between profiles, while a frame's function name, url, line and column do not.

/// Index of a node in [`HeapProfile::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeIdx(pub u32);

impl NodeIdx {
    /// The index as `usize`.
    #[must_use]
    pub fn ix(self) -> usize {
        self.0 as usize
    }
}

/// Index of a call frame in [`HeapProfile::frames`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrameIdx(pub u32);

impl FrameIdx {
    /// The index as `usize`.
    #[must_use]
    pub fn ix(self) -> usize {
        self.0 as usize
    }
}

/// A function as V8 names it: what identifies a stack frame across profiles.
///
/// `line` and `column` are V8's, 0-based, and locate the function's *definition* (where its
/// parameter list starts), not the allocating statement; `-1` when unknown (builtins,
/// the synthetic `(root)`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallFrame {
    /// Function name; empty for anonymous functions.
    pub function_name: String,
    /// Script url or path (`/srv/app.js`, `file:///srv/app.mjs`, `node:events`); empty for builtins.
    pub url: String,
    /// 0-based line of the function's definition, `-1` when unknown.
    pub line: i64,
    /// 0-based column of the function's definition, `-1` when unknown.
    pub column: i64,
}

/// One node of the call tree: a call stack and what was sampled with exactly that stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The node's own frame (the innermost frame of its stack).
    pub frame: FrameIdx,
    /// The calling node; `None` for the head (`(root)`).
    pub parent: Option<NodeIdx>,
    /// Estimated bytes allocated with this stack that are still alive (`selfSize`).
    pub self_size: u64,
    /// Number of samples attributed to this node in the profile's `samples` (0 when absent).
    pub samples: u64,
    /// V8's node id (unique within one profiling session only).
    pub id: u64,
}

/// A parsed sampling heap profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeapProfile {
    pub(crate) frames: Vec<CallFrame>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) has_samples: bool,
    pub(crate) sampling_interval: Option<u64>,
}

impl HeapProfile {
    /// All nodes, in pre-order; the first is the head.
    #[must_use]
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// One node.
    #[must_use]
    pub fn node(&self, idx: NodeIdx) -> &Node {
        &self.nodes[idx.ix()]
    }

    /// The distinct call frames of this profile.
    #[must_use]
    pub fn frames(&self) -> &[CallFrame] {
        &self.frames
    }

    /// One call frame.
    #[must_use]
    pub fn frame(&self, idx: FrameIdx) -> &CallFrame {
        &self.frames[idx.ix()]
    }

    /// Estimated live bytes over the whole profile (sum of `selfSize`).
    #[must_use]
    pub fn total_bytes(&self) -> u64 {
        self.nodes.iter().map(|n| n.self_size).sum()
    }

    /// Number of samples, when the profile lists them (older DevTools files do not).
    #[must_use]
    pub fn sample_count(&self) -> Option<u64> {
        self.has_samples
            .then(|| self.nodes.iter().map(|n| n.samples).sum())
    }

    /// The sampling interval in bytes the profile was taken with, when the caller said so
    /// with [`HeapProfile::set_sampling_interval`]: the file does not record it.
    #[must_use]
    pub fn sampling_interval(&self) -> Option<u64> {
        self.sampling_interval
    }

    /// Records the sampling interval (`HeapProfiler.startSampling`'s `samplingInterval`, bytes).
    pub fn set_sampling_interval(&mut self, bytes: Option<u64>) {
        self.sampling_interval = bytes;
    }
}
