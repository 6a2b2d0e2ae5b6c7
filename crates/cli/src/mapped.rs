//! Snapshot files mapped into memory a window at a time, for
//! [`parse_windows`](memwatchdog_heapsnapshot::parse_windows): the parser then scans the
//! kernel's page cache in place instead of having `read` copy every byte into a buffer
//! first. That copy cost about half a second of CPU per GB on the benchmark machine, as
//! much as a third of the parse.
//!
//! Only [`WINDOW`] bytes are mapped at a time, and a window is unmapped as soon as the
//! parser has moved past it: mapped pages count towards the process's resident memory,
//! and a whole-file mapping would add the file's size to it.
//!
//! The hazard of mapping a file: if another process truncates it while a window of it is
//! mapped, touching the vanished pages raises `SIGBUS`. Each window is clamped to the
//! file's length at the moment it is mapped (a file that shrank earlier reads as
//! truncated, a clear parse error), so only a truncation during the few milliseconds a
//! window is scanned can fault; [`exit_cleanly_on_sigbus`] turns that into an error
//! message and exit code instead of a crash. The watchdog's addon, which analyzes
//! snapshots inside the user's service, reads them with `read` and never maps them.

#![allow(unsafe_code)] // the two calls below, each with its SAFETY argument

use std::fs::File;
use std::io;
use std::sync::Arc;

use memmap2::{Mmap, MmapOptions};
use memwatchdog_heapsnapshot::Windows;

use crate::exit;

/// Bytes mapped at a time.
pub const WINDOW: usize = 4 << 20;

/// A snapshot file handed to the parser in mapped windows.
pub struct Mapped {
    file: File,
}

impl Mapped {
    /// `file` mapped window by window, or `file` back when it cannot be mapped (not a
    /// regular file, such as a pipe, or on a file system without `mmap`): read it instead.
    pub fn new(file: File) -> Result<Self, File> {
        let mut mapped = Self { file };
        match mapped.file.metadata() {
            Ok(meta) if meta.is_file() && mapped.window(0).is_ok() => Ok(mapped),
            _ => Err(mapped.file),
        }
    }
}

/// A mapped window; empty at the end of the file. Clones share the mapping, which is
/// unmapped when the last one is dropped.
#[derive(Clone)]
pub struct Window(Option<Arc<Mmap>>);

impl AsRef<[u8]> for Window {
    fn as_ref(&self) -> &[u8] {
        self.0.as_deref().map_or(&[], |map| map)
    }
}

impl Windows for Mapped {
    type Window = Window;

    fn window(&mut self, offset: u64) -> io::Result<Window> {
        let len = self.file.metadata()?.len();
        if offset >= len {
            return Ok(Window(None));
        }
        let size = usize::try_from(len - offset).map_or(WINDOW, |rest| rest.min(WINDOW));
        // SAFETY: the mapping is read-only and lives as long as the `Arc`; mw never
        // writes to the file. Another process changing or truncating it while it is mapped
        // is the hazard the module docs describe: bytes may change under the parser (it
        // reads each byte once and checks everything it reads) or the access raises
        // SIGBUS, which `exit_cleanly_on_sigbus` handles.
        let map = unsafe {
            MmapOptions::new()
                .offset(offset)
                .len(size)
                .map(&self.file)?
        };
        Ok(Window(Some(Arc::new(map))))
    }
}

/// Makes a `SIGBUS` — a mapped snapshot file that shrank, or whose disk failed, while it
/// was read — end `mw` with a one-line error and [`exit::BAD_INPUT`] instead of a crash.
/// (Windows has no `SIGBUS`: it refuses to shrink a file that is mapped.)
#[cfg(unix)]
pub fn exit_cleanly_on_sigbus() {
    extern "C" fn on_sigbus(_: libc::c_int) {
        const MESSAGE: &[u8] = b"\nmw: error: a snapshot file could not be read while mapped \
            into memory (SIGBUS): it was truncated while mw read it, or its disk failed\n\
            hint: run mw again once the file is complete\n";
        // SAFETY: write(2) and _exit(2) are async-signal-safe; MESSAGE is static.
        unsafe {
            libc::write(libc::STDERR_FILENO, MESSAGE.as_ptr().cast(), MESSAGE.len());
            libc::_exit(i32::from(exit::BAD_INPUT));
        }
    }
    // SAFETY: the handler only calls async-signal-safe functions (above).
    unsafe {
        libc::signal(libc::SIGBUS, on_sigbus as *const () as libc::sighandler_t);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn file_of(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
        let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        tmp.write_all(&bytes).unwrap();
        (tmp, bytes)
    }

    #[test]
    fn windows_start_at_any_offset_and_end_empty() {
        let len = WINDOW + 12_345;
        let (tmp, bytes) = file_of(len);
        let mut mapped = Mapped::new(File::open(tmp.path()).unwrap()).ok().unwrap();
        for offset in [0, 1, 4095, 4097, WINDOW - 3, WINDOW + 1] {
            let w = mapped.window(offset as u64).unwrap();
            let want = &bytes[offset..(offset + WINDOW).min(len)];
            assert_eq!(w.as_ref(), want, "offset {offset}");
        }
        assert!(mapped.window(len as u64).unwrap().as_ref().is_empty());
    }

    #[test]
    fn a_file_that_shrank_reads_as_ending_there() {
        let (tmp, bytes) = file_of(3 * 4096);
        let mut mapped = Mapped::new(File::open(tmp.path()).unwrap()).ok().unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(tmp.path())
            .unwrap()
            .set_len(5000)
            .unwrap();
        assert_eq!(mapped.window(4096).unwrap().as_ref(), &bytes[4096..5000]);
        assert!(mapped.window(5000).unwrap().as_ref().is_empty());
    }

    #[test]
    fn what_cannot_be_mapped_is_handed_back_to_be_read() {
        let file = File::open("/dev/null").unwrap();
        assert!(Mapped::new(file).is_err());
    }
}
