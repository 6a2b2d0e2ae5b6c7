//! Class names as Chrome DevTools shows them in its Summary and Comparison views.
//!
//! Objects and native objects are named by their constructor (`AuditEntry`, `Map`);
//! everything else by its kind in parentheses (`(closure)`, `(string)`, `(array)`),
//! with V8's internal `hidden` objects shown as `(system)` and code as `(compiled code)`.

use std::borrow::Cow;

use crate::{HeapGraph, NodeIdx, NodeKind};

/// The DevTools class name of `n`.
#[must_use]
pub fn class_name(g: &HeapGraph, n: NodeIdx) -> Cow<'_, str> {
    match g.kind(n) {
        NodeKind::Object | NodeKind::Native => Cow::Borrowed(g.name(n)),
        kind => Cow::Borrowed(kind_class(kind)),
    }
}

/// The class name DevTools gives every node of a non-object kind.
#[must_use]
pub fn kind_class(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Hidden => "(system)",
        NodeKind::Code => "(compiled code)",
        NodeKind::Array => "(array)",
        NodeKind::String => "(string)",
        NodeKind::Object => "(object)",
        NodeKind::Closure => "(closure)",
        NodeKind::Regexp => "(regexp)",
        NodeKind::Number => "(number)",
        NodeKind::Native => "(native)",
        NodeKind::Synthetic => "(synthetic)",
        NodeKind::ConcatenatedString => "(concatenated string)",
        NodeKind::SlicedString => "(sliced string)",
        NodeKind::Symbol => "(symbol)",
        NodeKind::BigInt => "(bigint)",
        NodeKind::ObjectShape => "(object shape)",
        NodeKind::WasmObject => "(wasm object)",
        NodeKind::Other => "(unknown)",
    }
}

/// The lower-case kind name V8 uses in `meta.node_types`, for machine output.
#[must_use]
pub fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Hidden => "hidden",
        NodeKind::Array => "array",
        NodeKind::String => "string",
        NodeKind::Object => "object",
        NodeKind::Code => "code",
        NodeKind::Closure => "closure",
        NodeKind::Regexp => "regexp",
        NodeKind::Number => "number",
        NodeKind::Native => "native",
        NodeKind::Synthetic => "synthetic",
        NodeKind::ConcatenatedString => "concatenated string",
        NodeKind::SlicedString => "sliced string",
        NodeKind::Symbol => "symbol",
        NodeKind::BigInt => "bigint",
        NodeKind::ObjectShape => "object shape",
        NodeKind::WasmObject => "wasm object",
        NodeKind::Other => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GraphBuilder;

    #[test]
    fn objects_use_their_constructor_and_others_their_kind() {
        let mut b = GraphBuilder::default();
        let obj = b.node(NodeKind::Object, "AuditEntry", 32);
        let f = b.node(NodeKind::Closure, "handler", 32);
        let sys = b.node(NodeKind::Hidden, "system / Context", 32);
        let g = b.build();
        assert_eq!(class_name(&g, obj), "AuditEntry");
        assert_eq!(class_name(&g, f), "(closure)");
        assert_eq!(class_name(&g, sys), "(system)");
    }
}
