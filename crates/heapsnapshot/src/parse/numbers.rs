//! The hand-written scanner for the flat integer arrays (`nodes`, `edges`, `locations`).
//!
//! These arrays are the bulk of a snapshot: comma-separated unsigned integers with a
//! newline after each row (`[9,1,1,0,5,0,0\n,9,2,3,0,28,0,0\n,...]`). The scanner walks
//! the buffered bytes with a small state machine whose state survives refills, so a number
//! may straddle two reads; it allocates nothing and hands each value with its byte offset
//! to a closure. Numbers beyond `u64::MAX` saturate to it.

use super::input::{Input, is_ws, syntax_error};
use super::refill::Refill;
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

/// Receives the values of an integer array.
pub(crate) trait UintSink {
    /// One value and the offset of its first digit; an error stops the scan.
    fn value(&mut self, v: u64, offset: u64) -> Result<(), ParseError>;
}

impl<F: FnMut(u64, u64) -> Result<(), ParseError>> UintSink for F {
    #[inline]
    fn value(&mut self, v: u64, offset: u64) -> Result<(), ParseError> {
        self(v, offset)
    }
}

impl<S: Refill> Input<'_, S> {
    /// Skips a JSON array of unsigned integers without reading its numbers: an integer
    /// array holds no nested `]`, so the first one ends it (found with memchr at memory
    /// speed). Only a missing end is reported (as truncation).
    pub(crate) fn skip_uint_array(&mut self, section: Section) -> Result<(), ParseError> {
        self.expect(b'[', section, "'['")?;
        loop {
            if let Some(i) = memchr::memchr(b']', &self.src.bytes()[self.pos..self.end]) {
                self.pos += i + 1;
                return Ok(());
            }
            self.pos = self.end;
            if !self.fill()? {
                return Err(self.truncated(section));
            }
        }
    }

    /// Reads a JSON array of unsigned integers (skipping whitespace before it), handing
    /// each element in order to `sink`.
    pub(crate) fn scan_uint_array<K: UintSink>(
        &mut self,
        section: Section,
        sink: &mut K,
    ) -> Result<(), ParseError> {
        self.expect(b'[', section, "'['")?;
        let mut scan = Scan::new(section);
        loop {
            if self.pos == self.end && !self.fill()? {
                return Err(self.truncated(section));
            }
            if let Some(after) =
                scan.run(&self.src.bytes()[..self.end], self.pos, self.base, sink)?
            {
                self.pos = after;
                return Ok(());
            }
            self.pos = self.end;
        }
    }
}

/// The integer-array scanner: a small state machine over bytes whose state survives from
/// one slice of the array to the next, so a number may straddle two reads (or two
/// pieces of one read handed to different threads).
#[derive(Clone, Copy)]
pub(crate) struct Scan {
    section: Section,
    state: State,
    /// The number being read.
    acc: u64,
    /// Offset of its first digit.
    start: u64,
}

impl Scan {
    /// A scan right after the array's `[`.
    pub(crate) fn new(section: Section) -> Self {
        Self {
            section,
            state: State::First,
            acc: 0,
            start: 0,
        }
    }

    /// A scan right after a number, before the `,` or `]` that follows it.
    pub(crate) fn after_number(section: Section) -> Self {
        Self {
            state: State::After,
            ..Self::new(section)
        }
    }

    /// True right after a number, with nothing of the next one read.
    pub(crate) fn is_after_number(&self) -> bool {
        self.state == State::After
    }

    /// Scans `buf[i..]` (whose `buf[0]` is at offset `base`), handing each complete value
    /// to `sink`. Returns the position after the closing `]`, or `None` when `buf` ran
    /// out first (the scan then goes on with the next slice).
    pub(crate) fn run<S: UintSink>(
        &mut self,
        buf: &[u8],
        mut i: usize,
        base: u64,
        sink: &mut S,
    ) -> Result<Option<usize>, ParseError> {
        let section = self.section;
        while i < buf.len() {
            if self.state == State::Value && i + FAST_MARGIN <= buf.len() {
                let (next, after_number) = fast_run(buf, i, base, sink)?;
                i = next;
                if after_number {
                    self.state = State::After;
                }
            }
            match self.state {
                State::Number => {
                    while let Some(&b) = buf.get(i) {
                        let d = b.wrapping_sub(b'0');
                        if d > 9 {
                            break;
                        }
                        self.acc = self
                            .acc
                            .checked_mul(10)
                            .and_then(|a| a.checked_add(u64::from(d)))
                            .unwrap_or(u64::MAX);
                        i += 1;
                    }
                    if i == buf.len() {
                        break;
                    }
                    sink.value(self.acc, self.start)?;
                    // Fast path for the common `,` right after a number.
                    if buf[i] == b',' {
                        i += 1;
                        self.state = State::Value;
                    } else {
                        self.state = State::After;
                    }
                }
                State::Value | State::First => {
                    let b = buf[i];
                    if b.is_ascii_digit() {
                        self.state = State::Number;
                        self.acc = 0;
                        self.start = base + i as u64;
                    } else if is_ws(b) {
                        i += 1;
                    } else if b == b']' && self.state == State::First {
                        return Ok(Some(i + 1));
                    } else {
                        return Err(syntax_error(
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
                        self.state = State::Value;
                    } else if b == b']' {
                        return Ok(Some(i));
                    } else if !is_ws(b) {
                        return Err(syntax_error(
                            base + i as u64 - 1,
                            section,
                            "',' or ']' after a number",
                            b,
                        ));
                    }
                }
            }
        }
        Ok(None)
    }
}

/// The fast path, entered where a value is expected with at least [`FAST_MARGIN`] bytes
/// left: whole numbers of up to 16 digits, read eight bytes at a time, each followed by
/// `,` or V8's `\n,`. Stops before anything else (whitespace, a long number, the end of
/// the margin), where the state machine takes over and always consumes a byte or changes
/// state. Returns the new position and whether it stopped right after a number. Each
/// iteration advances at most 18 bytes, so indexing stays within the margin.
#[inline]
fn fast_run<S: UintSink>(
    buf: &[u8],
    mut i: usize,
    base: u64,
    sink: &mut S,
) -> Result<(usize, bool), ParseError> {
    loop {
        let w = load8(buf, i);
        let n = leading_digits(w);
        if n == 0 {
            return Ok((i, false));
        }
        let (v, len) = if n < 8 {
            (digits_value(w, n), n)
        } else {
            let w2 = load8(buf, i + 8);
            let n2 = leading_digits(w2);
            if n2 == 8 {
                return Ok((i, false));
            }
            let high = digits_value(w, 8);
            let v = if n2 == 0 {
                high
            } else {
                high * POW10[n2] + digits_value(w2, n2)
            };
            (v, 8 + n2)
        };
        sink.value(v, base + i as u64)?;
        i += len;
        match buf[i] {
            b',' => i += 1,
            b'\n' if buf[i + 1] == b',' => i += 2,
            _ => return Ok((i, true)),
        }
        if i + FAST_MARGIN > buf.len() {
            return Ok((i, false));
        }
    }
}

/// Bytes that must remain in the buffer for the fast path to read a number without checks.
const FAST_MARGIN: usize = 32;

/// Powers of ten up to 10^8.
const POW10: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// The eight bytes at `buf[i..]` as a little-endian word (first byte lowest).
#[inline]
fn load8(buf: &[u8], i: usize) -> u64 {
    let mut b = [0; 8];
    b.copy_from_slice(&buf[i..i + 8]);
    u64::from_le_bytes(b)
}

/// How many of the eight bytes of `w` (from its first byte) are ASCII digits before the
/// first non-digit: 0..=8.
#[inline]
fn leading_digits(w: u64) -> usize {
    // Digits become 0..=9 per byte; adding 0x76 sets the top bit of every byte above 9, and
    // OR-ing `x` flags bytes that were ≥ 0x80. A carry out of a byte only happens for
    // bytes that are flagged anyway, so the lowest flagged byte is exact.
    let x = w ^ 0x3030_3030_3030_3030;
    let flagged = (x.wrapping_add(0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080;
    (flagged.trailing_zeros() / 8) as usize
}

/// The value of the first `n` (1..=8) ASCII digits of `w`, most significant first.
#[inline]
fn digits_value(w: u64, n: usize) -> u64 {
    // Move the digits to the top bytes (zeros in front act as leading zeros), then combine
    // pairs, quads and octets with three multiplications.
    let v = w << (8 * (8 - n));
    let v = (v & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561) >> 8;
    let v = (v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601) >> 16;
    (v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001) >> 32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::input::OneByte;

    fn scan_with(cap: usize, one_byte: bool, text: &[u8]) -> Result<Vec<(u64, u64)>, ParseError> {
        let mut progress = |_| {};
        let mut out = Vec::new();
        let mut push = |v, at| {
            out.push((v, at));
            Ok(())
        };
        if one_byte {
            Input::with_capacity(OneByte(text), &mut progress, cap)
                .scan_uint_array(Section::Nodes, &mut push)?;
        } else {
            Input::with_capacity(text, &mut progress, cap)
                .scan_uint_array(Section::Nodes, &mut push)?;
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
    fn word_helpers() {
        let word = |s: &[u8]| load8(s, 0);
        assert_eq!(leading_digits(word(b"12345678")), 8);
        assert_eq!(leading_digits(word(b"123,5678")), 3);
        assert_eq!(leading_digits(word(b",2345678")), 0);
        assert_eq!(leading_digits(word(b"1\xff345678")), 1);
        assert_eq!(leading_digits(word(b"12:/0000")), 2);
        for b in 0..=255u8 {
            let w = word(&[b'7', b, b'7', b'7', b'7', b'7', b'7', b'7']);
            let want = if b.is_ascii_digit() { 8 } else { 1 };
            assert_eq!(leading_digits(w), want, "byte {b}");
        }
        for (text, n, v) in [
            (&b"12345678"[..], 8, 12_345_678),
            (b"90000001", 8, 90_000_001),
            (b"7,aaaaaa", 1, 7),
            (b"0000009]", 7, 9),
            (b"4294967\n", 7, 4_294_967),
        ] {
            assert_eq!(digits_value(word(text), n), v);
        }
    }

    #[test]
    fn fast_path_agrees_with_slow_path() {
        // Long enough to take the fast path; all lengths 1..=20 digits and odd layouts.
        let mut text = String::from("[");
        let mut want = Vec::new();
        for i in 0..400u64 {
            let digits = (i % 20) as usize + 1;
            let v: String = (0..digits)
                .map(|k| char::from(b'1' + ((i as usize + k) % 9) as u8))
                .collect();
            want.push(v.parse::<u64>().unwrap_or(u64::MAX));
            text.push_str(&v);
            text.push_str(match i % 5 {
                0 => "\n,",
                1 => " , ",
                2 => "\r\n,\n",
                _ => ",",
            });
        }
        text.push_str("0]");
        want.push(0);
        assert_eq!(scan(&text).unwrap(), want);
        let got = scan_with(1 << 16, false, text.as_bytes()).unwrap();
        for (k, (_, at)) in got.iter().enumerate() {
            let at = *at as usize;
            assert!(text.as_bytes()[at].is_ascii_digit(), "value {k}");
            assert!(!text.as_bytes()[at - 1].is_ascii_digit(), "value {k}");
        }
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
            .scan_uint_array(Section::Edges, &mut |_, _| {
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
