//! The opt-in CSV trace of samples (replayed by `mw detect`): rows in the detect crate's
//! format ([`memwatchdog_detect::trace`]), written to a file created with mode 0600 (it
//! reveals memory figures of the service), with a size cap past which rows are dropped
//! rather than filling the disk. Rows are whole: the cap is checked per row.

use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use memwatchdog_detect::Sample;
use memwatchdog_detect::trace::{HEADER, format_row};

/// A trace file that stops growing at `max_bytes`.
pub(crate) struct Trace {
    out: BufWriter<std::fs::File>,
    written: u64,
    max_bytes: u64,
    path: PathBuf,
}

/// Why the trace ended (logged once by the caller).
pub(crate) enum TraceStop {
    /// The size cap was reached.
    Full,
    /// The disk said no.
    Io(io::Error),
}

impl Trace {
    /// Creates (or truncates) `path` with mode 0600 and writes the header.
    pub(crate) fn create(path: &Path, max_bytes: u64) -> io::Result<Trace> {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        options.mode(0o600);
        let file = options.open(path)?;
        let mut trace = Trace {
            out: BufWriter::new(file),
            written: 0,
            max_bytes,
            path: path.to_owned(),
        };
        trace.line(HEADER).map_err(|stop| match stop {
            TraceStop::Full => io::Error::other(format!(
                "trace.maxBytes ({max_bytes}) is too small for the header"
            )),
            TraceStop::Io(e) => e,
        })?;
        Ok(trace)
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The size cap.
    pub(crate) fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Appends one row; `Err` means the trace is finished and should be dropped.
    pub(crate) fn write(&mut self, sample: &Sample) -> Result<(), TraceStop> {
        self.line(&format_row(sample))
    }

    fn line(&mut self, line: &str) -> Result<(), TraceStop> {
        let len = line.len() as u64 + 1;
        if self.written + len > self.max_bytes {
            let _ = self.out.flush();
            return Err(TraceStop::Full);
        }
        self.out
            .write_all(line.as_bytes())
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(TraceStop::Io)?;
        self.written += len;
        Ok(())
    }

    /// Flushes buffered rows.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
