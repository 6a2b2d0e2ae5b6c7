//! What every fuzz target of MemWatchdog checks besides "no panic": an error message is
//! one short line that a terminal shows as it is (see docs/fuzzing.md).
//!
//! The targets are in `fuzz_targets/`; `make fuzz` runs them (`scripts/fuzz.sh`).

use std::fmt::Display;

/// The longest error message a parser may produce, in bytes. Messages quote bits of the
/// input (a key, a cell, a character); this is what keeps a hostile input from making a
/// message as long as itself.
pub const MAX_MESSAGE: usize = 512;

/// Panics unless `err`'s message is at most [`MAX_MESSAGE`] bytes, one line, and free of
/// control characters (a message quoting raw input must not move the cursor or recolour a
/// terminal), and contains `must_name` when given (e.g. "byte " or "line ").
///
/// # Panics
/// When any of that does not hold: the fuzzer records the input as a crash.
pub fn check_message(err: &impl Display, must_name: Option<&str>) {
    let message = err.to_string();
    assert!(!message.is_empty(), "empty error message");
    assert!(
        message.len() <= MAX_MESSAGE,
        "error message of {} bytes (limit {MAX_MESSAGE}): {:.600}",
        message.len(),
        message
    );
    assert!(
        !message.chars().any(char::is_control),
        "error message with a control character: {message:?}"
    );
    if let Some(needle) = must_name {
        assert!(
            message.contains(needle),
            "error message does not name a {needle:?}: {message}"
        );
    }
}

/// Input in memory handed out `size` bytes at a time (at least `MIN_WINDOW`, as
/// `heapsnapshot::Windows` requires), like `mw`'s mapped windows but small, so every
/// window boundary the parser can meet is met.
#[derive(Debug, Clone, Copy)]
pub struct SliceWindows<'a> {
    /// The whole input.
    pub data: &'a [u8],
    /// Bytes per window.
    pub size: usize,
}

impl<'a> memwatchdog_heapsnapshot::Windows for SliceWindows<'a> {
    type Window = &'a [u8];

    fn window(&mut self, offset: u64) -> std::io::Result<&'a [u8]> {
        let start = (offset as usize).min(self.data.len());
        let end = start
            .saturating_add(self.size.max(memwatchdog_heapsnapshot::MIN_WINDOW))
            .min(self.data.len());
        Ok(&self.data[start..end])
    }
}

/// A reader that returns `data` in pieces of the sizes `sizes` cycles through (none 0),
/// like a pipe: each parser must give the same answer however its input arrives.
#[derive(Debug)]
pub struct Trickle<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    next: usize,
}

impl<'a> Trickle<'a> {
    /// `data` in pieces of `sizes` (each at least 1; an empty list means 1 byte at a time).
    #[must_use]
    pub fn new(data: &'a [u8], sizes: &[u8]) -> Self {
        let sizes = sizes.iter().map(|&s| usize::from(s).max(1)).collect();
        Self {
            data,
            sizes,
            next: 0,
        }
    }
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let size = if self.sizes.is_empty() {
            1
        } else {
            self.sizes[self.next % self.sizes.len()]
        };
        self.next += 1;
        let n = size.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}
