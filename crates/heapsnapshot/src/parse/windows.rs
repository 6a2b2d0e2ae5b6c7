//! Input that is already in memory, parsed where it is: [`Windows`] hands the parser one
//! window of it at a time, and [`InPlace`] is the [`Refill`] that asks for them.
//!
//! This is how `mw` reads snapshot files: mapped into memory a few MB at a time, so the
//! parser scans the kernel's page cache directly instead of having `read` copy every
//! byte into a buffer first (that copy is about half a second per GB). The engine itself
//! does no IO: what a window is (a mapping, a slice of a `Vec`) is up to the caller.

use std::ops::Range;

use super::refill::Refill;

/// Input in memory, one window at a time; see [`parse_windows`](super::parse_windows).
pub trait Windows {
    /// A window of the input. Cloning it must be cheap (an `Arc`, a borrowed slice): the
    /// edge parser shares windows with a helper thread.
    type Window: AsRef<[u8]> + Clone + Send;

    /// The input from byte `offset` on: as many bytes as the source likes but at least
    /// [`MIN_WINDOW`] unless the input ends sooner, and no bytes at all at its end.
    ///
    /// # Errors
    /// Whatever keeps the source from providing the bytes; the parser reports it as
    /// [`ParseError::Io`](crate::ParseError::Io) at the end of what it had read.
    fn window(&mut self, offset: u64) -> std::io::Result<Self::Window>;
}

/// The fewest bytes a window that does not reach the end of the input may hold: the
/// parser needs up to this many contiguous bytes at once (a `\uXXXX\uXXXX` escape).
pub const MIN_WINDOW: usize = 16;

/// The [`Refill`] over [`Windows`]: asks for the window that starts at the first byte to
/// keep, which holds the kept bytes and those after them.
pub(crate) struct InPlace<W: Windows> {
    windows: W,
    current: Option<W::Window>,
    /// Offset of the current window's first byte.
    start: u64,
}

impl<W: Windows> InPlace<W> {
    pub(crate) fn new(windows: W) -> Self {
        Self {
            windows,
            current: None,
            start: 0,
        }
    }
}

impl<W: Windows> Refill for InPlace<W> {
    type Piece = Piece<W::Window>;

    fn bytes(&self) -> &[u8] {
        self.current.as_ref().map_or(&[], AsRef::as_ref)
    }

    fn refill(&mut self, keep: usize, end: usize) -> std::io::Result<(usize, usize)> {
        let from = self.start + keep as u64;
        let next = self.windows.window(from)?;
        let len = next.as_ref().len();
        if len <= end - keep {
            return Ok((0, end)); // nothing after what we have: the end of the input
        }
        self.current = Some(next);
        self.start = from;
        Ok((keep, len))
    }

    /// The window itself (a cheap clone) and the range: nothing is copied.
    fn piece(&self, range: Range<usize>) -> Piece<W::Window> {
        Piece {
            window: self.current.clone(),
            range,
        }
    }
}

/// A range of a window, read on the edge helper thread.
pub(crate) struct Piece<T> {
    window: Option<T>,
    range: Range<usize>,
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Piece<T> {
    fn as_ref(&self) -> &[u8] {
        self.window
            .as_ref()
            .map_or(&[], |w| &w.as_ref()[self.range.clone()])
    }
}
