//! A generic JSON value skipper, for keys the parser does not use (`trace_function_infos`,
//! `trace_tree`, `samples`, keys of future V8 versions) and for collecting the bytes of
//! the `snapshot` header, which then goes to `serde_json`.
//!
//! It matches brackets and respects strings and escapes, without building anything and
//! without recursion, so deep nesting cannot overflow the stack. It does not check
//! commas and colons inside the value: a skipped value only has to end where it should.

use super::input::Input;
use super::refill::Refill;
use crate::error::{ParseError, Section};

impl<S: Refill> Input<'_, S> {
    /// Skips one JSON value after optional whitespace. With `capture`, appends the value's
    /// bytes to it and fails with [`ParseError::TooLarge`] beyond `limit` bytes: once
    /// `limit + 1` bytes are captured, whatever the reads or windows they came in, so a
    /// syntax error after them is never reached and one before them always is.
    pub(crate) fn skip_value(
        &mut self,
        section: Section,
        mut capture: Option<&mut Vec<u8>>,
        limit: usize,
    ) -> Result<(), ParseError> {
        let first = self.peek_required(section)?;
        match first {
            b'{' | b'[' | b'"' => {}
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => return self.skip_scalar(capture),
            _ => return Err(self.syntax(section, "a JSON value", first)),
        }
        let mut closers: Vec<u8> = Vec::new();
        let mut in_str = false;
        let mut escaped = false;
        loop {
            if self.pos == self.end && !self.fill()? {
                return Err(self.truncated(section));
            }
            let start = self.pos;
            // Scan no further than the byte that makes the capture too large.
            let room = capture
                .as_deref()
                .map_or(usize::MAX, |out| (limit + 1).saturating_sub(out.len()));
            let buf = &self.src.bytes()[..self.end.min(start.saturating_add(room))];
            let mut i = start;
            let mut done = false;
            while i < buf.len() {
                let b = buf[i];
                i += 1;
                if in_str {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_str = false;
                        if closers.is_empty() {
                            done = true;
                            break;
                        }
                    }
                    continue;
                }
                match b {
                    b'"' => in_str = true,
                    b'{' => closers.push(b'}'),
                    b'[' => closers.push(b']'),
                    b'}' | b']' => {
                        let want = closers.pop();
                        if want != Some(b) {
                            let expected = if want == Some(b'}') { "'}'" } else { "']'" };
                            return Err(self.syntax_at(
                                self.base + i as u64 - 1,
                                section,
                                expected,
                                b,
                            ));
                        }
                        if closers.is_empty() {
                            done = true;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            if let Some(out) = capture.as_deref_mut() {
                out.extend_from_slice(&buf[start..i]);
                if out.len() > limit {
                    return Err(ParseError::TooLarge {
                        detail: format!("{section} is longer than {limit} bytes"),
                    });
                }
            }
            self.pos = i;
            if done {
                return Ok(());
            }
        }
    }

    /// Skips a number or literal (`true`, `false`, `null`).
    fn skip_scalar(&mut self, mut capture: Option<&mut Vec<u8>>) -> Result<(), ParseError> {
        loop {
            let start = self.pos;
            let buf = &self.src.bytes()[..self.end];
            let mut i = start;
            while i < buf.len()
                && matches!(buf[i], b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'+' | b'-')
            {
                i += 1;
            }
            if let Some(out) = capture.as_deref_mut() {
                out.extend_from_slice(&buf[start..i]);
            }
            self.pos = i;
            if i < self.end {
                return Ok(());
            }
            if !self.fill()? {
                // A scalar can end the input only in a broken file; the caller reports it.
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::input::OneByte;

    /// Skips a value and returns (captured bytes, offset after it).
    fn skip(text: &str) -> Result<(String, u64), ParseError> {
        let mut progress = |_| {};
        let mut results = Vec::new();
        for (cap, one_byte) in [(1 << 16, false), (16, false), (16, true)] {
            let mut out = Vec::new();
            let r = if one_byte {
                let mut input = Input::with_capacity(OneByte(text.as_bytes()), &mut progress, cap);
                input
                    .skip_value(Section::Skipped, Some(&mut out), 1 << 20)
                    .map(|()| input.offset())
            } else {
                let mut input = Input::with_capacity(text.as_bytes(), &mut progress, cap);
                input
                    .skip_value(Section::Skipped, Some(&mut out), 1 << 20)
                    .map(|()| input.offset())
            };
            results.push(r.map(|at| (String::from_utf8(out).unwrap(), at)));
        }
        let first = results.remove(0);
        for other in results {
            assert_eq!(format!("{other:?}"), format!("{first:?}"));
        }
        first
    }

    #[test]
    fn skips_nested_values_and_strings() {
        let v = r#"{"a":[1,2,{"b":"]}\"[{"}],"c":[[[]]]}"#;
        assert_eq!(
            skip(&format!("  {v} ,\"next\"")).unwrap(),
            (v.to_owned(), 2 + v.len() as u64)
        );
        assert_eq!(skip("\"x\\\\\" ,").unwrap(), ("\"x\\\\\"".to_owned(), 5));
        assert_eq!(skip("[] ").unwrap(), ("[]".to_owned(), 2));
        assert_eq!(skip("-1.5e+3,").unwrap(), ("-1.5e+3".to_owned(), 7));
        assert_eq!(skip("true}").unwrap(), ("true".to_owned(), 4));
        assert_eq!(skip("null").unwrap(), ("null".to_owned(), 4));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(skip(&deep).unwrap().1, 200_000);
    }

    #[test]
    fn errors() {
        assert!(matches!(
            skip("[1,2}"),
            Err(ParseError::Syntax { offset: 4, .. })
        ));
        assert!(matches!(
            skip("{\"a\":1]"),
            Err(ParseError::Syntax { offset: 6, .. })
        ));
        assert!(matches!(
            skip(":"),
            Err(ParseError::Syntax { offset: 0, .. })
        ));
        assert!(matches!(
            skip("[[1,"),
            Err(ParseError::Truncated { offset: 4, .. })
        ));
        assert!(matches!(
            skip("\"abc"),
            Err(ParseError::Truncated { offset: 4, .. })
        ));
        assert!(matches!(
            skip(""),
            Err(ParseError::Truncated { offset: 0, .. })
        ));
    }

    #[test]
    fn capture_limit() {
        let mut progress = |_| {};
        let mut out = Vec::new();
        let text = format!("[{}]", "1,".repeat(100));
        let err = Input::with_capacity(text.as_bytes(), &mut progress, 16)
            .skip_value(Section::Header, Some(&mut out), 50)
            .unwrap_err();
        assert!(matches!(err, ParseError::TooLarge { .. }), "{err}");
    }

    /// Captures a value from `reader` through a buffer of `cap` bytes with a limit of 50.
    fn capture_50_from(reader: impl std::io::Read, cap: usize) -> Result<(), ParseError> {
        let mut progress = |_| {};
        let mut out = Vec::new();
        let r = Input::with_capacity(reader, &mut progress, cap).skip_value(
            Section::Header,
            Some(&mut out),
            50,
        );
        assert!(out.len() <= 51, "captured {} bytes", out.len());
        r
    }

    /// Captures `text` with a limit of 50 bytes through buffers of 16 to 80 bytes, whole
    /// reads and one byte per read; all must agree. Returns the outcome.
    fn capture_50(text: &str) -> Result<(), ParseError> {
        let first = capture_50_from(text.as_bytes(), 1 << 16);
        for cap in 16..80 {
            for r in [
                capture_50_from(text.as_bytes(), cap),
                capture_50_from(OneByte(text.as_bytes()), cap),
            ] {
                assert_eq!(format!("{r:?}"), format!("{first:?}"), "cap {cap}");
            }
        }
        first
    }

    #[test]
    fn the_capture_limit_does_not_depend_on_where_reads_end() {
        // A mismatched bracket after the 51st byte is never reached...
        let late = format!("[{}}}", "1,".repeat(25));
        assert!(matches!(
            capture_50(&late),
            Err(ParseError::TooLarge { .. })
        ));
        // ...one that is the 51st byte is reported.
        let at = format!("[{}1}}", "1,".repeat(24));
        assert!(matches!(
            capture_50(&at),
            Err(ParseError::Syntax { offset: 50, .. })
        ));
        // 50 bytes fit; 51 do not.
        assert!(capture_50(&format!("[{}]", "1,".repeat(24))).is_ok());
        let over = format!("[{}1]", "1,".repeat(24));
        assert!(matches!(
            capture_50(&over),
            Err(ParseError::TooLarge { .. })
        ));
    }
}
