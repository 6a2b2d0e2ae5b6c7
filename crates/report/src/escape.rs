//! Escaping for the two places the page puts text from a snapshot: HTML text and JSON
//! inside a `<script>` element.
//!
//! Snapshot strings are hostile input (a property name can be `</script><script>...`), so
//! both escapers leave no `<`, `>` or `&` in their output: nothing can close the element,
//! open a comment (`<!--`) or start a tag.
//!
//! ```
//! use memwatchdog_report::{html_text, script_json};
//!
//! assert_eq!(html_text("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
//! assert_eq!(script_json("\"</script>\""), "\"\\u003c/script\\u003e\"");
//! ```

/// `text` for an HTML text node or a quoted attribute value.
#[must_use]
pub fn html_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON text (as `serde_json` writes it) made safe inside `<script type="application/json">`:
/// `<`, `>` and `&` become `\u003c`, `\u003e` and `\u0026`, and the line and paragraph
/// separators `\u2028`/`\u2029`. Outside strings JSON has none of these characters, and
/// inside a string the escape means the same character, so `JSON.parse` reads the same value.
#[must_use]
pub fn script_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: [&str; 8] = [
        "</script><script>alert(1)</script>",
        "<!--",
        "</SCRIPT >",
        "<script",
        "]]>&amp;&lt;",
        "\u{2028}\u{2029}",
        "\"'`${x}`",
        "\u{0}\u{1f}\\",
    ];

    #[test]
    fn escaped_json_reads_back_as_the_same_strings() {
        for s in HOSTILE {
            let json = serde_json::to_string(s).unwrap();
            let safe = script_json(&json);
            assert!(
                !safe.contains('<') && !safe.contains('>') && !safe.contains('&'),
                "{safe}"
            );
            let back: String = serde_json::from_str(&safe).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn html_text_leaves_no_markup() {
        for s in HOSTILE {
            let t = html_text(s);
            assert!(
                !t.contains('<') && !t.contains('>') && !t.contains('"'),
                "{t}"
            );
        }
        assert_eq!(html_text("x'y"), "x&#39;y");
    }
}
