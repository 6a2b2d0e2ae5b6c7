//! Where an [`Input`](super::input::Input)'s bytes come from: a [`Refill`] moves its
//! window forward.
//!
//! Two kinds: [`Reader`], a buffer that `read` calls fill from any [`Read`] (the bytes are
//! copied once, from the reader into the buffer), and
//! [`InPlace`](super::windows::InPlace), windows of bytes that are already in memory —
//! a file mapped into memory piece by piece — read where they are.

use std::io::{ErrorKind, Read};
use std::ops::Range;

/// A source of the window an [`Input`](super::input::Input) scans.
pub(crate) trait Refill {
    /// A piece of the window, handed to another thread (the edge helper).
    type Piece: AsRef<[u8]> + Send;

    /// The window. The input's `end` says how many of its bytes are valid.
    fn bytes(&self) -> &[u8];

    /// Makes bytes after `end` available. `bytes()[keep..end]` (`keep <= end`) must stay
    /// readable; the bytes before `keep` may be dropped. Returns how many were dropped from
    /// the front (the window's start moved forward by that many) and the new end; when no
    /// byte was added (the new end is `end` minus the dropped ones) the input has ended.
    fn refill(&mut self, keep: usize, end: usize) -> std::io::Result<(usize, usize)>;

    /// `bytes()[range]`, to be read on another thread while this window moves on.
    fn piece(&self, range: Range<usize>) -> Self::Piece;
}

/// A buffer filled by `read` calls.
pub(crate) struct Reader<R> {
    reader: R,
    buf: Box<[u8]>,
}

impl<R> Reader<R> {
    /// A buffer of `cap` bytes over `reader`.
    pub(crate) fn new(reader: R, cap: usize) -> Self {
        Self {
            reader,
            buf: vec![0; cap].into_boxed_slice(),
        }
    }

    /// The reader, positioned after the bytes read into the buffer so far.
    pub(crate) fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: Read> Refill for Reader<R> {
    type Piece = Vec<u8>;

    fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Moves the kept bytes (fewer than 16 when the parser needs them contiguous, none when
    /// it has read everything) to the front and reads after them.
    fn refill(&mut self, keep: usize, end: usize) -> std::io::Result<(usize, usize)> {
        self.buf.copy_within(keep..end, 0);
        let kept = end - keep;
        loop {
            match self.reader.read(&mut self.buf[kept..]) {
                // A reader claiming more than the space it was given is ignored beyond it.
                Ok(n) => return Ok((keep, (kept + n).min(self.buf.len()))),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// A copy: the buffer is refilled while the piece is read.
    fn piece(&self, range: Range<usize>) -> Vec<u8> {
        self.buf[range].to_vec()
    }
}
