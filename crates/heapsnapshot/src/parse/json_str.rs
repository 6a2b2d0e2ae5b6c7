//! JSON string decoding for the `strings` array and object keys.
//!
//! `memchr2` finds the next `"` or `\`; a string without escapes that lies inside the
//! buffer is handed out as a slice without copying. Escapes are decoded, including
//! `\uXXXX` and surrogate pairs. V8 writes every non-ASCII character as a `\u` escape of
//! one UTF-16 unit and can emit lone surrogates (`"\uD800"`); those become U+FFFD instead
//! of failing, as do raw bytes that are not valid UTF-8.

use memchr::memchr2;

use super::input::Input;
use super::refill::Refill;
use crate::error::{ParseError, Section};
use crate::strings::StringTable;

/// The longest object key read: V8's keys are short names; this bounds what a corrupt or
/// hostile file can make the parser hold before it knows what the key is.
pub(crate) const KEY_LIMIT: usize = 1 << 10;

/// The longest string of the `strings` array, in decoded bytes: V8 writes at most 1,024
/// characters of a string's value and names are shorter still;
/// a string longer than this is not from a heap snapshot.
pub(crate) const STRING_LIMIT: usize = 64 << 20;

impl<S: Refill> Input<'_, S> {
    /// Reads the rest of a string whose opening `"` was just consumed and hands its decoded
    /// bytes (UTF-8 unless the raw input was not) to `f`. `scratch` is reused between calls.
    ///
    /// A string is [`ParseError::TooLarge`] as soon as its decoded bytes so far exceed
    /// `limit`, and nothing after that point is read: the error depends on the bytes alone,
    /// never on where a read or a window ended (a bad escape beyond the limit is not
    /// reached, one before it is reported). Top-level keys and the `strings` array, of the
    /// parser and of `mw scrub`, all come through here.
    pub(crate) fn read_string_body<T>(
        &mut self,
        section: Section,
        limit: usize,
        scratch: &mut Vec<u8>,
        f: impl FnOnce(&[u8]) -> T,
    ) -> Result<T, ParseError> {
        let start = self.offset();
        let avail = &self.src.bytes()[self.pos..self.end];
        if let Some(k) = memchr2(b'"', b'\\', avail) {
            if avail[k] == b'"' && k <= limit {
                let out = f(&avail[..k]);
                self.pos += k + 1;
                return Ok(out);
            }
        }
        scratch.clear();
        loop {
            if self.pos == self.end && !self.fill()? {
                return Err(self.truncated(section));
            }
            let avail = &self.src.bytes()[self.pos..self.end];
            let stop = memchr2(b'"', b'\\', avail);
            let plain = stop.unwrap_or(avail.len());
            if plain > limit - scratch.len() {
                return Err(too_long(section, start, limit));
            }
            scratch.extend_from_slice(&avail[..plain]);
            self.pos += plain;
            match stop {
                None => {}
                Some(k) if avail[k] == b'"' => {
                    self.pos += 1;
                    return Ok(f(scratch));
                }
                Some(_) => {
                    self.decode_escape(section, scratch)?;
                    if scratch.len() > limit {
                        return Err(too_long(section, start, limit));
                    }
                }
            }
        }
    }

    /// Skips whitespace, expects `"` and reads a whole string into an owned `String`
    /// (lossily). Used for object keys.
    pub(crate) fn read_key(&mut self, scratch: &mut Vec<u8>) -> Result<String, ParseError> {
        let b = self.peek_required(Section::TopLevel)?;
        if b != b'"' {
            return Err(self.syntax(Section::TopLevel, "a key string or '}'", b));
        }
        self.pos += 1;
        self.read_string_body(Section::TopLevel, KEY_LIMIT, scratch, |s| {
            String::from_utf8_lossy(s).into_owned()
        })
    }

    /// Reads the `strings` array into `table`, in order.
    pub(crate) fn scan_string_array(
        &mut self,
        table: &mut StringTable,
        scratch: &mut Vec<u8>,
    ) -> Result<(), ParseError> {
        const S: Section = Section::Strings;
        self.expect(b'[', S, "'['")?;
        if self.peek_required(S)? == b']' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            let b = self.peek_required(S)?;
            if b != b'"' {
                return Err(self.syntax(S, "a string", b));
            }
            if table.len() >= u32::MAX as usize {
                return Err(ParseError::TooLarge {
                    detail: format!("more than {} strings", u32::MAX),
                });
            }
            self.pos += 1;
            self.read_string_body(S, STRING_LIMIT, scratch, |s| {
                table.push(&String::from_utf8_lossy(s));
            })?;
            match self.peek_required(S)? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Ok(());
                }
                b => return Err(self.syntax(S, "',' or ']' after a string", b)),
            }
        }
    }

    /// Decodes the escape at `buf[pos]` (a `\`) into `out`.
    fn decode_escape(&mut self, section: Section, out: &mut Vec<u8>) -> Result<(), ParseError> {
        if !self.ensure(2)? {
            return Err(self.truncated(section));
        }
        let c = self.src.bytes()[self.pos + 1];
        let simple = match c {
            b'"' | b'\\' | b'/' => c,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => 0,
            _ => {
                return Err(self.syntax_at(
                    self.offset() + 1,
                    section,
                    "an escape (one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)",
                    c,
                ));
            }
        };
        if c != b'u' {
            out.push(simple);
            self.pos += 2;
            return Ok(());
        }
        if !self.ensure(6)? {
            return Err(self.truncated(section));
        }
        let unit = match hex4(&self.src.bytes()[self.pos + 2..self.pos + 6]) {
            Ok(u) => u,
            Err(i) => {
                let at = self.pos + 2 + i;
                return Err(self.syntax_at(
                    self.base + at as u64,
                    section,
                    "a hex digit in a \\u escape",
                    self.src.bytes()[at],
                ));
            }
        };
        self.pos += 6;
        let ch = match unit {
            0xD800..=0xDBFF => self
                .low_surrogate()?
                .and_then(|low| char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))),
            0xDC00..=0xDFFF => None,
            _ => char::from_u32(unit),
        };
        let ch = ch.unwrap_or(char::REPLACEMENT_CHARACTER);
        let mut utf8 = [0; 4];
        out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
        Ok(())
    }

    /// After a high surrogate: consumes a following `\uDC00`..`\uDFFF` and returns it, or
    /// leaves the input alone (the high surrogate is then lone).
    fn low_surrogate(&mut self) -> Result<Option<u32>, ParseError> {
        if !self.ensure(6)? {
            return Ok(None);
        }
        let b = &self.src.bytes()[self.pos..self.pos + 6];
        if b[0] != b'\\' || b[1] != b'u' {
            return Ok(None);
        }
        match hex4(&b[2..6]) {
            Ok(low @ 0xDC00..=0xDFFF) => {
                self.pos += 6;
                Ok(Some(low))
            }
            _ => Ok(None),
        }
    }
}

/// The error for a string of `section` starting at byte `start` whose decoded bytes
/// exceed `limit`.
fn too_long(section: Section, start: u64, limit: usize) -> ParseError {
    ParseError::TooLarge {
        detail: format!(
            "a string of {section} starting at byte {start} is longer than {limit} bytes: not a V8 heap snapshot"
        ),
    }
}

/// Parses four hex digits; on failure returns the index of the bad digit.
fn hex4(b: &[u8]) -> Result<u32, usize> {
    let mut v = 0;
    for (i, &c) in b.iter().enumerate() {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return Err(i),
        };
        v = v << 4 | u32::from(d);
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::input::OneByte;

    fn strings_with(cap: usize, one_byte: bool, text: &str) -> Result<Vec<String>, ParseError> {
        let mut progress = |_| {};
        let mut table = StringTable::default();
        let mut scratch = Vec::new();
        if one_byte {
            Input::with_capacity(OneByte(text.as_bytes()), &mut progress, cap)
                .scan_string_array(&mut table, &mut scratch)?;
        } else {
            Input::with_capacity(text.as_bytes(), &mut progress, cap)
                .scan_string_array(&mut table, &mut scratch)?;
        }
        Ok((0..table.len())
            .map(|i| table.get(crate::StrIdx(i as u32)).to_owned())
            .collect())
    }

    /// Decodes with several buffer sizes and one byte per read; all must agree.
    fn strings(text: &str) -> Result<Vec<String>, ParseError> {
        let full = strings_with(1 << 16, false, text);
        for cap in [16, 17, 19] {
            for one_byte in [false, true] {
                let other = strings_with(cap, one_byte, text);
                assert_eq!(
                    format!("{other:?}"),
                    format!("{full:?}"),
                    "cap {cap} one_byte {one_byte}"
                );
            }
        }
        full
    }

    #[test]
    fn plain_and_v8_layout() {
        assert_eq!(
            strings("[\n\"<dummy>\",\n\"\",\n\"(GC roots)\"]").unwrap(),
            ["<dummy>", "", "(GC roots)"]
        );
        assert_eq!(strings("[]").unwrap(), Vec::<String>::new());
        assert_eq!(strings(" [ \"a\" , \"b\" ] ").unwrap(), ["a", "b"]);
    }

    #[test]
    fn simple_escapes() {
        assert_eq!(
            strings(r#"["a\"b\\c\/d\be\ff\ng\rh\ti"]"#).unwrap(),
            ["a\"b\\c/d\u{8}e\u{c}f\ng\rh\ti"]
        );
    }

    #[test]
    fn unicode_escapes_and_surrogate_pairs() {
        assert_eq!(strings(r#"["\u0041\u00e9\u20AC"]"#).unwrap(), ["Aé€"]);
        assert_eq!(strings(r#"["x\uD83D\uDE00y"]"#).unwrap(), ["x😀y"]);
        assert_eq!(strings(r#"["\ud83d\ude00"]"#).unwrap(), ["😀"]);
        // Raw UTF-8 passes through.
        assert_eq!(strings("[\"żółw 😀\"]").unwrap(), ["żółw 😀"]);
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(strings(r#"["\uD800"]"#).unwrap(), ["\u{fffd}"]);
        assert_eq!(strings(r#"["a\uDC00b"]"#).unwrap(), ["a\u{fffd}b"]);
        assert_eq!(
            strings(r#"["\uD800\uD800\uDC00"]"#).unwrap(),
            ["\u{fffd}\u{10000}"]
        );
        assert_eq!(strings(r#"["\uD800\n"]"#).unwrap(), ["\u{fffd}\n"]);
        assert_eq!(strings(r#"["\uDBFF\u0041"]"#).unwrap(), ["\u{fffd}A"]);
        assert_eq!(
            strings(r#"["\uD800","\uDC00"]"#).unwrap(),
            ["\u{fffd}", "\u{fffd}"]
        );
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let text = b"[\"a\xff\xfeb\"]";
        let mut progress = |_| {};
        let mut table = StringTable::default();
        Input::new(&text[..], &mut progress)
            .scan_string_array(&mut table, &mut Vec::new())
            .unwrap();
        assert_eq!(table.get(crate::StrIdx(0)), "a\u{fffd}\u{fffd}b");
    }

    #[test]
    fn long_strings_span_many_buffers() {
        let long = "abc\\n".repeat(50);
        let want = "abc\n".repeat(50);
        assert_eq!(
            strings(&format!("[\"{long}\",\"{want}x\"]").replace('\n', "\\n")).unwrap(),
            [want.clone(), format!("{want}x")]
        );
    }

    #[test]
    fn errors() {
        let cases: &[(&str, u64)] = &[
            (r#"["\x"]"#, 3),
            (r#"["\u12G4"]"#, 6),
            (r#"["a" "b"]"#, 5),
            ("[1]", 1),
            (r#"["a",]"#, 5),
        ];
        for (text, at) in cases {
            match strings(text) {
                Err(ParseError::Syntax {
                    offset,
                    section: Section::Strings,
                    ..
                }) => assert_eq!(offset, *at, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        for text in ["[", "[\"ab", "[\"a\\", "[\"\\u12", "[\"a\"", "[\"a\","] {
            match strings(text) {
                Err(ParseError::Truncated {
                    offset,
                    section: Section::Strings,
                }) => {
                    assert_eq!(offset, text.len() as u64, "{text}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn keys() {
        let mut progress = |_| {};
        let mut input = Input::with_capacity(OneByte(b" \"snap\\u0073hot\" "), &mut progress, 16);
        assert_eq!(input.read_key(&mut Vec::new()).unwrap(), "snapshot");
        let mut input = Input::new(&b"}"[..], &mut progress);
        assert!(matches!(
            input.read_key(&mut Vec::new()),
            Err(ParseError::Syntax { offset: 0, .. })
        ));
    }

    #[test]
    fn hex_digits() {
        assert_eq!(hex4(b"00aF"), Ok(0xaf));
        assert_eq!(hex4(b"12g4"), Err(2));
    }
}
