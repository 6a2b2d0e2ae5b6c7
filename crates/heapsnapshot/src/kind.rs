//! Node and edge kinds, mapped by name from the snapshot's own `meta` enums.
//!
//! V8 writes the list of type names into `meta.node_types[0]` / `meta.edge_types[0]`,
//! and the numbers differ between versions (Node 20 has 16 node types, Node 22 has 15),
//! so the parser maps each name to one of these enums instead of trusting numbers.

/// What kind of heap object a node is (DevTools' node types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum NodeKind {
    /// Internal V8 object.
    Hidden,
    /// A JS array's backing store.
    Array,
    /// A string.
    String,
    /// A JS object (name = constructor name).
    Object,
    /// Compiled code.
    Code,
    /// A JS function (closure).
    Closure,
    /// A regular expression.
    Regexp,
    /// A heap number.
    Number,
    /// An object owned by the embedder (Node), e.g. native handles.
    Native,
    /// A synthetic node such as `(GC roots)` that does not exist in the heap.
    Synthetic,
    /// A concatenated (cons) string.
    ConcatenatedString,
    /// A sliced string.
    SlicedString,
    /// A symbol.
    Symbol,
    /// A BigInt.
    BigInt,
    /// An object shape (map) or other object-shape bookkeeping.
    ObjectShape,
    /// A WebAssembly object.
    WasmObject,
    /// A type name this version of mw does not know.
    Other,
}

impl NodeKind {
    /// Every kind, in discriminant order (`NodeKind::ALL[k as usize] == k`).
    pub const ALL: [Self; 17] = [
        Self::Hidden,
        Self::Array,
        Self::String,
        Self::Object,
        Self::Code,
        Self::Closure,
        Self::Regexp,
        Self::Number,
        Self::Native,
        Self::Synthetic,
        Self::ConcatenatedString,
        Self::SlicedString,
        Self::Symbol,
        Self::BigInt,
        Self::ObjectShape,
        Self::WasmObject,
        Self::Other,
    ];

    /// Maps a V8 `meta.node_types` name to a kind.
    #[must_use]
    pub fn from_meta_name(name: &str) -> Self {
        match name {
            "hidden" => Self::Hidden,
            "array" => Self::Array,
            "string" => Self::String,
            "object" => Self::Object,
            "code" => Self::Code,
            "closure" => Self::Closure,
            "regexp" => Self::Regexp,
            "number" | "heap number" => Self::Number,
            "native" => Self::Native,
            "synthetic" => Self::Synthetic,
            "concatenated string" => Self::ConcatenatedString,
            "sliced string" => Self::SlicedString,
            "symbol" => Self::Symbol,
            "bigint" => Self::BigInt,
            "object shape" => Self::ObjectShape,
            "wasm object" => Self::WasmObject,
            _ => Self::Other,
        }
    }

    /// True for kinds a user recognises as their data; false for V8's plumbing (internal
    /// objects, backing stores, code, object shapes, synthetic roots).
    #[must_use]
    pub fn is_user_visible(self) -> bool {
        !matches!(
            self,
            Self::Hidden | Self::Array | Self::Code | Self::ObjectShape | Self::Synthetic
        )
    }

    /// True for the three string kinds.
    #[must_use]
    pub fn is_string(self) -> bool {
        matches!(
            self,
            Self::String | Self::ConcatenatedString | Self::SlicedString
        )
    }
}

/// What kind of reference an edge is (DevTools' edge types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum EdgeKind {
    /// A variable in a function context (closure scope); name is a string.
    Context,
    /// An indexed element (`arr[3]`); name is a number.
    Element,
    /// A named property; name is a string.
    Property,
    /// An internal V8 reference; name is a string.
    Internal,
    /// A hidden reference; name is a number.
    Hidden,
    /// A shortcut that bypasses intermediate objects (e.g. root to global); name is a string.
    Shortcut,
    /// A weak reference: never keeps its target alive.
    Weak,
    /// An edge type this version of mw does not know (treated as strong).
    Other,
}

impl EdgeKind {
    /// Every kind, in discriminant order (`EdgeKind::ALL[k as usize] == k`).
    pub const ALL: [Self; 8] = [
        Self::Context,
        Self::Element,
        Self::Property,
        Self::Internal,
        Self::Hidden,
        Self::Shortcut,
        Self::Weak,
        Self::Other,
    ];

    /// Maps a V8 `meta.edge_types` name to a kind.
    #[must_use]
    pub fn from_meta_name(name: &str) -> Self {
        match name {
            "context" => Self::Context,
            "element" => Self::Element,
            "property" => Self::Property,
            "internal" => Self::Internal,
            "hidden" => Self::Hidden,
            "shortcut" => Self::Shortcut,
            "weak" => Self::Weak,
            _ => Self::Other,
        }
    }

    /// True when `name_or_index` is a number rather than a string-table index.
    #[must_use]
    pub fn name_is_index(self) -> bool {
        matches!(self, Self::Element | Self::Hidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_kind_in_discriminant_order() {
        assert!(
            NodeKind::ALL
                .iter()
                .enumerate()
                .all(|(i, &k)| k as usize == i)
        );
        assert_eq!(NodeKind::ALL.last(), Some(&NodeKind::Other));
    }
}
