//! A refillable byte window over a [`Refill`] source, tracking absolute byte offsets.
//!
//! The parser never holds the whole file: it looks at `bytes()[pos..end]`, and when that
//! runs out [`Input::fill`] moves the window on. [`Input::ensure`] keeps a few bytes
//! contiguous (e.g. a `\uXXXX\uXXXX` escape that straddles two windows). Progress is
//! reported every [`PROGRESS_STEP`] bytes.

use std::io::Read;

use super::refill::{Reader, Refill};
use super::windows::MIN_WINDOW;
use crate::error::{ParseError, Section, describe_byte};

/// Size of the read buffer.
pub(crate) const BUF_SIZE: usize = 1 << 20;

/// Progress is reported each time this many more bytes have been read.
pub(crate) const PROGRESS_STEP: u64 = 4 << 20;

/// The byte window. See the module docs.
pub(crate) struct Input<'p, S> {
    /// Where the window's bytes come from.
    pub(crate) src: S,
    /// Next unread byte of the window.
    pub(crate) pos: usize,
    /// End of the window's valid bytes.
    pub(crate) end: usize,
    /// Absolute offset of the window's first byte.
    pub(crate) base: u64,
    eof: bool,
    progress: &'p mut dyn FnMut(u64),
    next_progress: u64,
}

impl<'p, R: Read> Input<'p, Reader<R>> {
    /// Wraps `reader` with a buffer of [`BUF_SIZE`] bytes.
    pub(crate) fn new(reader: R, progress: &'p mut dyn FnMut(u64)) -> Self {
        Self::with_capacity(reader, progress, BUF_SIZE)
    }

    /// Wraps `reader` with a buffer of `cap` bytes (at least [`MIN_WINDOW`]; small values
    /// test refills).
    pub(crate) fn with_capacity(reader: R, progress: &'p mut dyn FnMut(u64), cap: usize) -> Self {
        Self::over(Reader::new(reader, cap.max(MIN_WINDOW)), progress)
    }
}

impl<'p, S: Refill> Input<'p, S> {
    /// An input over `src`, whose window starts empty at offset 0.
    pub(crate) fn over(src: S, progress: &'p mut dyn FnMut(u64)) -> Self {
        Self {
            src,
            pos: 0,
            end: 0,
            base: 0,
            eof: false,
            progress,
            next_progress: PROGRESS_STEP,
        }
    }

    /// The source, for what comes after the window (`bytes()[pos..end]` is unread).
    pub(crate) fn into_src(self) -> S {
        self.src
    }

    /// Absolute offset of the next unread byte.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Reports the current offset to the progress callback.
    pub(crate) fn report_progress(&mut self) {
        let at = self.offset();
        (self.progress)(at);
    }

    /// Gets bytes after `end`, keeping those from `keep` on. Returns `false` at end of
    /// input.
    fn read_more(&mut self, keep: usize) -> Result<bool, ParseError> {
        if self.eof {
            return Ok(false);
        }
        let (dropped, end) = self
            .src
            .refill(keep, self.end)
            .map_err(|source| ParseError::Io {
                offset: self.base + self.end as u64,
                source,
            })?;
        self.base += dropped as u64;
        self.pos -= dropped;
        let had = self.end - dropped;
        self.end = end;
        if end == had {
            self.eof = true;
            return Ok(false);
        }
        let reached = self.base + end as u64;
        if reached >= self.next_progress {
            self.next_progress = reached + PROGRESS_STEP;
            (self.progress)(reached);
        }
        Ok(true)
    }

    /// Called when `pos == end`: starts a fresh window. Returns `false` at end of input.
    pub(crate) fn fill(&mut self) -> Result<bool, ParseError> {
        debug_assert_eq!(self.pos, self.end);
        self.read_more(self.end)
    }

    /// Makes at least `n` unread bytes available in `bytes()[pos..end]` (`n` ≤
    /// [`MIN_WINDOW`]). Returns `false` when the input ends first (the available bytes
    /// stay readable).
    pub(crate) fn ensure(&mut self, n: usize) -> Result<bool, ParseError> {
        while self.end - self.pos < n {
            if !self.read_more(self.pos)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Skips JSON whitespace and returns the next byte without consuming it (`None` at end).
    pub(crate) fn peek_non_ws(&mut self) -> Result<Option<u8>, ParseError> {
        loop {
            while self.pos < self.end {
                let b = self.src.bytes()[self.pos];
                if !is_ws(b) {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Skips whitespace and returns the next byte, or a truncation error.
    pub(crate) fn peek_required(&mut self, section: Section) -> Result<u8, ParseError> {
        match self.peek_non_ws()? {
            Some(b) => Ok(b),
            None => Err(self.truncated(section)),
        }
    }

    /// Skips whitespace and consumes `want`, or fails with a syntax or truncation error.
    pub(crate) fn expect(
        &mut self,
        want: u8,
        section: Section,
        expected: &'static str,
    ) -> Result<(), ParseError> {
        let b = self.peek_required(section)?;
        if b == want {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax(section, expected, b))
        }
    }

    /// A truncation error at the end of the input.
    pub(crate) fn truncated(&self, section: Section) -> ParseError {
        ParseError::Truncated {
            offset: self.base + self.end as u64,
            section,
        }
    }

    /// A syntax error for byte `found` at the current position.
    pub(crate) fn syntax(&self, section: Section, expected: &'static str, found: u8) -> ParseError {
        self.syntax_at(self.offset(), section, expected, found)
    }

    /// A syntax error for byte `found` at `offset`.
    #[allow(clippy::unused_self)]
    pub(crate) fn syntax_at(
        &self,
        offset: u64,
        section: Section,
        expected: &'static str,
        found: u8,
    ) -> ParseError {
        syntax_error(offset, section, expected, found)
    }
}

/// A syntax error for byte `found` at `offset`.
pub(crate) fn syntax_error(
    offset: u64,
    section: Section,
    expected: &'static str,
    found: u8,
) -> ParseError {
    ParseError::Syntax {
        offset,
        section,
        expected,
        found: describe_byte(found),
    }
}

/// JSON whitespace.
#[inline]
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

/// Test reader that hands out one byte per `read` call.
#[cfg(test)]
pub(crate) struct OneByte<'a>(pub &'a [u8]);

#[cfg(test)]
impl Read for OneByte<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((b, rest)), Some(slot)) => {
                *slot = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensure_keeps_bytes_contiguous_across_reads() {
        let data: Vec<u8> = (0..100u8).collect();
        let mut progress = |_| {};
        let mut input = Input::with_capacity(OneByte(&data), &mut progress, 16);
        let mut seen = Vec::new();
        while input.ensure(7).unwrap() {
            assert!(input.end - input.pos >= 7);
            seen.push(input.src.bytes()[input.pos]);
            assert_eq!(input.offset(), u64::from(input.src.bytes()[input.pos]));
            input.pos += 1;
        }
        seen.extend_from_slice(&input.src.bytes()[input.pos..input.end]);
        assert_eq!(seen, data);
    }

    #[test]
    fn peek_skips_whitespace_and_reports_offsets() {
        let mut progress = |_| {};
        let mut input = Input::with_capacity(&b" \n\t\r x"[..], &mut progress, 16);
        assert_eq!(input.peek_non_ws().unwrap(), Some(b'x'));
        assert_eq!(input.offset(), 5);
        input.pos += 1;
        assert_eq!(input.peek_non_ws().unwrap(), None);
        assert!(matches!(
            input.truncated(Section::Nodes),
            ParseError::Truncated { offset: 6, .. }
        ));
    }

    #[test]
    fn io_errors_carry_the_offset() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    return Err(std::io::Error::other("disk on fire"));
                }
                let n = self.0.min(buf.len());
                buf[..n].fill(b' ');
                self.0 -= n;
                Ok(n)
            }
        }
        let mut progress = |_| {};
        let mut input = Input::with_capacity(Failing(40), &mut progress, 16);
        let err = input.peek_non_ws().unwrap_err();
        assert!(matches!(err, ParseError::Io { offset: 40, .. }), "{err}");
        assert_eq!(
            std::error::Error::source(&err).map(ToString::to_string),
            Some("disk on fire".to_owned())
        );
    }
}
