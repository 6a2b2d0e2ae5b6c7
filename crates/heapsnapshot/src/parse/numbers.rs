//! The hand-written scanner for the flat integer arrays (`nodes`, `edges`, `locations`).
//!
//! These arrays are the bulk of a snapshot: comma-separated unsigned integers with a
//! newline after each row (`[9,1,1,0,5,0,0\n,9,2,3,0,28,0,0\n,...]`). The scanner walks
//! the buffered bytes with a small state machine whose state survives refills, so a number
//! may straddle two reads; it allocates nothing and hands each value with its byte offset
//! to a closure. Numbers of more than 19 digits saturate to `u64::MAX`.

use std::io::Read;

use super::input::{Input, is_ws};
use crate::error::{ParseError, Section};

/// Where the scanner is between two bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Right after `[`: a number or `]`.
    First,
    /// After `,`: a number.
    Value,
    /// Inside a number.
    Number,
    /// After a number: `,` or `]`.
    After,
}

impl<R: Read> Input<'_, R> {
    /// Reads a JSON array of unsigned integers (skipping whitespace before it), calling
    /// `emit(value, offset_of_value)` for each element in order.
    pub(crate) fn scan_uint_array<F>(
        &mut self,
        section: Section,
        mut emit: F,
    ) -> Result<(), ParseError>
    where
        F: FnMut(u64, u64) -> Result<(), ParseError>,
    {
        self.expect(b'[', section, "'['")?;
        let mut state = State::First;
        let mut acc: u64 = 0;
        let mut digits: usize = 0;
        let mut start: u64 = 0;
        loop {
            if self.pos == self.end && !self.fill()? {
                return Err(self.truncated(section));
            }
            let base = self.base;
            let buf = &self.buf[..self.end];
            let mut i = self.pos;
            while i < buf.len() {
                match state {
                    State::Number => {
                        let seg = i;
                        while let Some(&b) = buf.get(i) {
                            let d = b.wrapping_sub(b'0');
                            if d > 9 {
                                break;
                            }
                            acc = acc.wrapping_mul(10).wrapping_add(u64::from(d));
                            i += 1;
                        }
                        digits += i - seg;
                        if i == buf.len() {
                            break;
                        }
                        emit(if digits > 19 { u64::MAX } else { acc }, start)?;
                        // Fast path for the common `,` right after a number.
                        if buf[i] == b',' {
                            i += 1;
                            state = State::Value;
                        } else {
                            state = State::After;
                        }
                    }
                    State::Value | State::First => {
                        let b = buf[i];
                        if b.is_ascii_digit() {
                            state = State::Number;
                            acc = 0;
                            digits = 0;
                            start = base + i as u64;
                        } else if is_ws(b) {
                            i += 1;
                        } else if b == b']' && state == State::First {
                            self.pos = i + 1;
                            return Ok(());
                        } else {
                            return Err(self.syntax_at(
                                base + i as u64,
                                section,
                                "an unsigned integer",
                                b,
                            ));
                        }
                    }
                    State::After => {
                        let b = buf[i];
                        i += 1;
                        if b == b',' {
                            state = State::Value;
                        } else if b == b']' {
                            self.pos = i;
                            return Ok(());
                        } else if !is_ws(b) {
                            return Err(self.syntax_at(
                                base + i as u64 - 1,
                                section,
                                "',' or ']' after a number",
                                b,
                            ));
                        }
                    }
                }
            }
            self.pos = i;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::input::OneByte;

    fn scan_with(cap: usize, one_byte: bool, text: &[u8]) -> Result<Vec<(u64, u64)>, ParseError> {
        let mut progress = |_| {};
        let mut out = Vec::new();
        let push = |v, at| {
            out.push((v, at));
            Ok(())
        };
        if one_byte {
            Input::with_capacity(OneByte(text), &mut progress, cap)
                .scan_uint_array(Section::Nodes, push)?;
        } else {
            Input::with_capacity(text, &mut progress, cap).scan_uint_array(Section::Nodes, push)?;
        }
        Ok(out)
    }

    fn scan(text: &str) -> Result<Vec<u64>, ParseError> {
        let full = scan_with(1 << 16, false, text.as_bytes())?;
        // Every buffer size and one byte per read must agree with the big buffer.
        for cap in [16, 17, 23] {
            assert_eq!(scan_with(cap, false, text.as_bytes())?, full, "cap {cap}");
            assert_eq!(
                scan_with(cap, true, text.as_bytes())?,
                full,
                "one byte, cap {cap}"
            );
        }
        Ok(full.into_iter().map(|(v, _)| v).collect())
    }

    #[test]
    fn reads_v8_layout_with_newlines() {
        assert_eq!(
            scan("[9,1,1,0,5,0,0\n,9,2,3,0,28,0,0\n]").unwrap(),
            [9, 1, 1, 0, 5, 0, 0, 9, 2, 3, 0, 28, 0, 0]
        );
    }

    #[test]
    fn whitespace_variants() {
        assert_eq!(scan("  [ ]").unwrap(), Vec::<u64>::new());
        assert_eq!(scan("[]").unwrap(), Vec::<u64>::new());
        assert_eq!(scan("[\r\n\t 1 ,\n 22\t,\r\n333 ]").unwrap(), [1, 22, 333]);
        assert_eq!(scan("[0]").unwrap(), [0]);
    }

    #[test]
    fn offsets_point_at_the_first_digit() {
        let got = scan_with(16, false, b"[7,\n 12345678901234567890123,  42]").unwrap();
        assert_eq!(got, [(7, 1), (u64::MAX, 5), (42, 31)]);
    }

    #[test]
    fn big_numbers_saturate() {
        assert_eq!(
            scan("[18446744073709551615,9999999999999999999,99999999999999999999]").unwrap(),
            [u64::MAX, 9_999_999_999_999_999_999, u64::MAX]
        );
        // A number longer than the buffer.
        let long = format!("[{}]", "9".repeat(1000));
        assert_eq!(scan(&long).unwrap(), [u64::MAX]);
    }

    #[test]
    fn syntax_errors_name_offset_and_byte() {
        let err = scan("[1,-2]").unwrap_err();
        assert!(matches!(err, ParseError::Syntax { offset: 3, .. }), "{err}");
        assert!(err.to_string().contains("found '-'"), "{err}");
        for (text, at) in [
            ("[1,]", 3),
            ("[1 2]", 3),
            ("[1.5]", 2),
            ("[,1]", 1),
            ("x", 0),
            ("[1;", 2),
        ] {
            match scan(text) {
                Err(ParseError::Syntax { offset, .. }) => assert_eq!(offset, at, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn truncation_reports_end_of_input() {
        for text in ["", "[", "[1", "[1,", "[1,2\n", "[12"] {
            match scan(text) {
                Err(ParseError::Truncated {
                    offset,
                    section: Section::Nodes,
                }) => {
                    assert_eq!(offset, text.len() as u64, "{text:?}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn emit_errors_stop_the_scan() {
        let mut progress = |_| {};
        let mut input = Input::new(&b"[1,2,3]"[..], &mut progress);
        let mut n = 0;
        let err = input
            .scan_uint_array(Section::Edges, |_, _| {
                n += 1;
                if n == 2 {
                    Err(ParseError::Gzip)
                } else {
                    Ok(())
                }
            })
            .unwrap_err();
        assert!(matches!(err, ParseError::Gzip));
        assert_eq!(n, 2);
    }
}
