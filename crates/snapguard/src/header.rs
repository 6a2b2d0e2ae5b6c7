//! Reads `node_count` and `edge_count` from the start of a `.heapsnapshot` file.
//!
//! V8 writes `{"snapshot":{"meta":{...},"node_count":N,"edge_count":M,...` first, so the
//! first few kilobytes hold both counts; the rest of a multi-GB file need not be read.

/// Finds `"node_count":N` and `"edge_count":M` in `head` (the file's first bytes).
#[must_use]
pub fn parse_header_counts(head: &[u8]) -> Option<(u64, u64)> {
    Some((
        number_after(head, b"\"node_count\":")?,
        number_after(head, b"\"edge_count\":")?,
    ))
}

fn number_after(haystack: &[u8], key: &[u8]) -> Option<u64> {
    let start = haystack.windows(key.len()).position(|w| w == key)? + key.len();
    let rest = &haystack[start..];
    let rest = &rest[rest.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits == rest.len() {
        // No number, or it may continue past the bytes we have.
        return None;
    }
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::parse_header_counts;

    #[test]
    fn reads_counts() {
        let head = br#"{"snapshot":{"meta":{"node_fields":["type","name"]},"node_count":39131,"edge_count":158092,"trace_function_count":0},"nodes":[9,1"#;
        assert_eq!(parse_header_counts(head), Some((39131, 158_092)));
    }

    #[test]
    fn truncated_or_missing() {
        assert_eq!(
            parse_header_counts(br#"{"snapshot":{"node_count":12"#),
            None
        );
        assert_eq!(parse_header_counts(b"not a snapshot"), None);
        assert_eq!(
            parse_header_counts(br#""node_count": 5,"edge_count":x"#),
            None
        );
    }
}
