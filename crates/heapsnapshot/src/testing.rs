//! Helpers of the crate's unit tests.

use crate::{EdgeKind, GraphBuilder, NodeIdx, NodeKind};

/// A builder holding V8's root and a `global` object of `global_size` bytes that the root
/// points at through a shortcut edge (a user root, as in every Node snapshot): the builder,
/// the root and the global.
pub(crate) fn with_global(global_size: u32) -> (GraphBuilder, NodeIdx, NodeIdx) {
    let mut b = GraphBuilder::default();
    let root = b.node(NodeKind::Synthetic, "", 0);
    let global = b.node(NodeKind::Object, "global", global_size);
    b.edge(root, EdgeKind::Shortcut, "1", global);
    (b, root, global)
}
