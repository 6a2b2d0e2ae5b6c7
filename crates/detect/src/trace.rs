//! CSV traces of samples: what the Node recorder writes and `mw detect TRACE.csv` replays.
//!
//! Format: a header line naming the columns, then one row per GC event. Columns are found by
//! name, in any order; unknown columns are ignored. `t_ms`, `gc_kind` and `heap_used` are
//! required; `heap_total`, `external`, `array_buffers`, `rss`, `heap_limit` and `memory_limit`
//! may be missing (as columns, or as empty cells): a missing byte count reads as 0, a missing
//! `rss` as "not read for this event", a missing limit as "unknown or unlimited".
//! Cells are plain numbers separated by commas, with no quoting; surrounding spaces and blank lines
//! are ignored. Time never goes backwards: a row whose `t_ms` is below the row before it is an
//! error naming both lines (a shuffled, reversed or corrupt trace would otherwise change the
//! verdict), and so is a trace without rows. A line longer than [`MAX_LINE`] bytes is an error (a row is about 80 bytes; this
//! bounds what a corrupt file or `/dev/zero` can make the reader hold), and so is the text an
//! error message quotes (at most [`QUOTED`] characters of a cell or header).
//!
//! | column          | meaning                                                        |
//! |-----------------|----------------------------------------------------------------|
//! | `t_ms`          | monotonic time in milliseconds (decimal): never decreasing     |
//! | `gc_kind`       | 1 minor, 4 major, 8 incremental, 16 weak callbacks (others kept) |
//! | `heap_used`     | bytes                                                          |
//! | `heap_total`    | bytes                                                          |
//! | `external`      | bytes (includes `array_buffers`)                               |
//! | `array_buffers` | bytes                                                          |
//! | `rss`           | bytes, empty when not read for this event                      |
//! | `heap_limit`    | V8's `heap_size_limit` in bytes                                |
//! | `memory_limit`  | the container's memory limit in bytes, empty when unlimited    |
//!
//! ```
//! use memwatchdog_detect::trace::{read_trace, TraceWriter};
//! use memwatchdog_detect::{GcKind, Sample};
//!
//! let mut out = Vec::new();
//! let mut w = TraceWriter::new(&mut out).unwrap();
//! w.write(&Sample::new(12.5, GcKind::Major, 1_000_000)).unwrap();
//! drop(w);
//! let text = String::from_utf8(out).unwrap();
//! assert_eq!(
//!     text,
//!     "t_ms,gc_kind,heap_used,heap_total,external,array_buffers,rss,heap_limit,memory_limit\n\
//!      12.5,4,1000000,0,0,0,,,\n"
//! );
//! assert_eq!(read_trace(text.as_bytes()).unwrap()[0].heap_used, 1_000_000);
//! ```

use crate::sample::{GcKind, Sample};
use std::fmt::Write as _;
use std::io::{self, BufRead, Read, Write};
use thiserror::Error;

/// The header line written by [`TraceWriter`] (without the newline).
pub const HEADER: &str =
    "t_ms,gc_kind,heap_used,heap_total,external,array_buffers,rss,heap_limit,memory_limit";

/// The longest line [`TraceReader`] reads, newline included.
pub const MAX_LINE: usize = 64 << 10;

/// The most characters of a cell or header an error message quotes.
pub const QUOTED: usize = 60;

/// A problem reading a trace.
#[derive(Debug, Error)]
pub enum TraceError {
    /// The underlying reader failed.
    #[error("line {line}: could not read the trace")]
    Io {
        /// 1-based line number being read.
        line: u64,
        /// The IO error.
        #[source]
        source: io::Error,
    },
    /// A line is longer than [`MAX_LINE`]: not a trace of samples.
    #[error(
        "line {line}: longer than {} KiB without a line break: not a CSV trace of GC samples (a row is about 80 bytes)",
        MAX_LINE >> 10
    )]
    LineTooLong {
        /// 1-based line number.
        line: u64,
    },
    /// There was no header line.
    #[error(
        "the trace is empty: expected a header line such as \"{HEADER}\" followed by one row per GC event"
    )]
    Empty,
    /// The header is not followed by any row.
    #[error(
        "the trace has a header but no samples: nothing to replay (one row per GC event is expected after line {header_line})"
    )]
    NoSamples {
        /// The header's line number.
        header_line: u64,
    },
    /// A row's time is earlier than the row before it.
    #[error(
        "line {line}: column t_ms: time goes backwards, from {previous} ms (line {previous_line}) to {t_ms} ms: \
         a trace's rows are in the order the GC events happened, on a monotonic clock"
    )]
    TimeBackwards {
        /// 1-based line number of the row.
        line: u64,
        /// Its time.
        t_ms: f64,
        /// The time of the row before it.
        previous: f64,
        /// That row's line number.
        previous_line: u64,
    },
    /// A required column is not in the header.
    #[error(
        "line {line}: the header has no column \"{column}\" (required: t_ms, gc_kind, heap_used; found: {found})"
    )]
    MissingColumn {
        /// Header line number.
        line: u64,
        /// The missing column.
        column: &'static str,
        /// The header's columns, comma-separated.
        found: String,
    },
    /// A known column appears twice in the header.
    #[error("line {line}: column \"{column}\" appears twice in the header")]
    DuplicateColumn {
        /// Header line number.
        line: u64,
        /// The repeated column.
        column: &'static str,
    },
    /// A cell could not be understood.
    #[error("line {line}: column {column}: {problem}")]
    Cell {
        /// 1-based line number.
        line: u64,
        /// Column name.
        column: &'static str,
        /// What was expected and found.
        problem: String,
    },
}

const COLUMNS: [&str; 9] = [
    "t_ms",
    "gc_kind",
    "heap_used",
    "heap_total",
    "external",
    "array_buffers",
    "rss",
    "heap_limit",
    "memory_limit",
];
const REQUIRED: usize = 3;

/// Reads [`Sample`]s from CSV text; an iterator of `Result<Sample, TraceError>`.
#[derive(Debug)]
pub struct TraceReader<R> {
    reader: R,
    /// Position of each of [`COLUMNS`] in a row.
    index: [Option<usize>; COLUMNS.len()],
    line_no: u64,
    line: String,
    done: bool,
    /// The header's line number.
    header_line: u64,
    /// Time and line number of the last row read.
    last: Option<(f64, u64)>,
}

impl<R: BufRead> TraceReader<R> {
    /// Reads the header line and prepares to read rows.
    pub fn new(mut reader: R) -> Result<Self, TraceError> {
        let mut line = String::new();
        let mut line_no = 0;
        loop {
            line_no += 1;
            let n = read_line(&mut reader, &mut line, line_no)?;
            if n == 0 {
                return Err(TraceError::Empty);
            }
            if !line.trim().is_empty() {
                break;
            }
        }
        let header = line.trim().trim_start_matches('\u{feff}');
        let mut index = [None; COLUMNS.len()];
        for (pos, name) in header.split(',').enumerate() {
            let name = name.trim();
            if let Some(k) = COLUMNS.iter().position(|c| *c == name) {
                if index[k].is_some() {
                    return Err(TraceError::DuplicateColumn {
                        line: line_no,
                        column: COLUMNS[k],
                    });
                }
                index[k] = Some(pos);
            }
        }
        for (k, column) in COLUMNS.iter().enumerate().take(REQUIRED) {
            if index[k].is_none() {
                return Err(TraceError::MissingColumn {
                    line: line_no,
                    column,
                    found: quoted(header),
                });
            }
        }
        Ok(Self {
            reader,
            index,
            line_no,
            line,
            done: false,
            header_line: line_no,
            last: None,
        })
    }

    fn parse_row(&self) -> Result<Sample, TraceError> {
        let mut cells: [&str; COLUMNS.len()] = [""; COLUMNS.len()];
        for (pos, cell) in self
            .line
            .trim_end_matches(['\n', '\r'])
            .split(',')
            .enumerate()
        {
            if let Some(k) = self.index.iter().position(|i| *i == Some(pos)) {
                cells[k] = cell.trim();
            }
        }
        let line = self.line_no;
        let cell_err = |k: usize, problem: String| TraceError::Cell {
            line,
            column: COLUMNS[k],
            problem,
        };
        let required = |k: usize| -> Result<&str, TraceError> {
            let c = cells[k];
            if c.is_empty() {
                Err(cell_err(k, "required value is missing".to_owned()))
            } else {
                Ok(c)
            }
        };
        let bytes = |k: usize, c: &str| -> Result<u64, TraceError> {
            c.parse::<u64>().map_err(|_| {
                cell_err(
                    k,
                    format!(
                        "expected an integer number of bytes, found \"{}\"",
                        quoted(c)
                    ),
                )
            })
        };
        let optional_bytes = |k: usize| -> Result<Option<u64>, TraceError> {
            let c = cells[k];
            if c.is_empty() {
                Ok(None)
            } else {
                bytes(k, c).map(Some)
            }
        };

        let t = required(0)?;
        let t_ms = t
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                cell_err(
                    0,
                    format!("expected a time in milliseconds, found \"{}\"", quoted(t)),
                )
            })?;
        let k = required(1)?;
        let gc_kind = k.parse::<u32>().map(GcKind::from).map_err(|_| {
            cell_err(
                1,
                format!(
                    "expected a GC kind (1 minor, 4 major, 8 incremental, 16 weak callbacks), found \"{}\"",
                    quoted(k)
                ),
            )
        })?;
        let heap_used = bytes(2, required(2)?)?;
        Ok(Sample {
            t_ms,
            gc_kind,
            heap_used,
            heap_total: optional_bytes(3)?.unwrap_or(0),
            external: optional_bytes(4)?.unwrap_or(0),
            array_buffers: optional_bytes(5)?.unwrap_or(0),
            rss: optional_bytes(6)?,
            heap_limit: optional_bytes(7)?,
            memory_limit: optional_bytes(8)?,
        })
    }
}

impl<R> TraceReader<R> {
    /// `sample` when its time is not before the last row's; remembers it.
    fn in_order(&mut self, sample: Sample) -> Result<Sample, TraceError> {
        if let Some((previous, previous_line)) = self.last
            && sample.t_ms < previous
        {
            return Err(TraceError::TimeBackwards {
                line: self.line_no,
                t_ms: sample.t_ms,
                previous,
                previous_line,
            });
        }
        self.last = Some((sample.t_ms, self.line_no));
        Ok(sample)
    }
}

impl<R: BufRead> Iterator for TraceReader<R> {
    type Item = Result<Sample, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            self.line_no += 1;
            match read_line(&mut self.reader, &mut self.line, self.line_no) {
                Ok(0) => {
                    self.done = true;
                    return self.last.is_none().then_some(Err(TraceError::NoSamples {
                        header_line: self.header_line,
                    }));
                }
                Ok(_) => {}
                Err(err) => {
                    self.done = true;
                    return Some(Err(err));
                }
            }
            if self.line.trim().is_empty() {
                continue;
            }
            let row = self.parse_row().and_then(|sample| self.in_order(sample));
            self.done = row.is_err();
            return Some(row);
        }
    }
}

/// Reads line `line_no` into `line` (cleared first), at most [`MAX_LINE`] bytes of it.
fn read_line(
    reader: &mut impl BufRead,
    line: &mut String,
    line_no: u64,
) -> Result<usize, TraceError> {
    line.clear();
    let n = Read::take(reader, MAX_LINE as u64 + 1)
        .read_line(line)
        .map_err(|source| TraceError::Io {
            line: line_no,
            source,
        })?;
    if n > MAX_LINE {
        line.clear();
        return Err(TraceError::LineTooLong { line: line_no });
    }
    Ok(n)
}

/// `text` for an error message: at most [`QUOTED`] characters, `…` where it was cut, control
/// characters escaped (`\u{1b}`) so a corrupt cell cannot drive the terminal showing it.
fn quoted(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == QUOTED {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads a whole trace into memory.
pub fn read_trace(reader: impl BufRead) -> Result<Vec<Sample>, TraceError> {
    TraceReader::new(reader)?.collect()
}

/// Formats `sample` as one CSV row in [`HEADER`] order, without the newline.
#[must_use]
pub fn format_row(sample: &Sample) -> String {
    let mut s = String::with_capacity(64);
    let _ = write!(
        s,
        "{},{},{},{},{},{},",
        sample.t_ms,
        sample.gc_kind.code(),
        sample.heap_used,
        sample.heap_total,
        sample.external,
        sample.array_buffers
    );
    for (i, cell) in [sample.rss, sample.heap_limit, sample.memory_limit]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            s.push(',');
        }
        if let Some(v) = cell {
            let _ = write!(s, "{v}");
        }
    }
    s
}

/// Writes samples as a CSV trace: the header on creation, then one row per [`TraceWriter::write`].
#[derive(Debug)]
pub struct TraceWriter<W: Write> {
    out: W,
}

impl<W: Write> TraceWriter<W> {
    /// Writes the header line.
    pub fn new(mut out: W) -> io::Result<Self> {
        writeln!(out, "{HEADER}")?;
        Ok(Self { out })
    }

    /// Writes one row.
    pub fn write(&mut self, sample: &Sample) -> io::Result<()> {
        writeln!(self.out, "{}", format_row(sample))
    }

    /// Flushes and returns the inner writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_in_any_order_with_extras_and_missing_optionals() {
        let text = "rss,foo,heap_used,t_ms,gc_kind\n\
                    123,x,1000,1.5,4\n\
                    \n\
                    ,y,2000,2.5,1\r\n";
        let samples = read_trace(text.as_bytes()).unwrap();
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0].rss, Some(123));
        assert_eq!(samples[0].gc_kind, GcKind::Major);
        assert!((samples[0].t_ms - 1.5).abs() < f64::EPSILON);
        assert_eq!(samples[1].rss, None);
        assert_eq!(samples[1].heap_used, 2000);
        assert_eq!(samples[1].external, 0);
        assert_eq!(samples[1].gc_kind, GcKind::Minor);
    }

    #[test]
    fn bad_cell_names_line_and_column() {
        let mut text = String::from(HEADER);
        text.push('\n');
        for i in 0..40 {
            let _ = writeln!(text, "{i},4,100,0,0,0,");
        }
        text.push_str("41,4,abc,0,0,0,\n");
        let err = read_trace(text.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 42: column heap_used: expected an integer number of bytes, found \"abc\""
        );
    }

    #[test]
    fn header_errors() {
        let err = read_trace("".as_bytes()).unwrap_err();
        assert!(matches!(err, TraceError::Empty));
        let err = read_trace("t_ms,heap_used\n1,2\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("no column \"gc_kind\""), "{err}");
        let err = read_trace("t_ms,t_ms,gc_kind,heap_used\n".as_bytes()).unwrap_err();
        assert!(matches!(err, TraceError::DuplicateColumn { .. }));
    }

    #[test]
    fn missing_required_and_bad_kind() {
        let err = read_trace("t_ms,gc_kind,heap_used\n1,4,\n".as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: column heap_used: required value is missing"
        );
        let err = read_trace("t_ms,gc_kind,heap_used\n1,4\n".as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: column heap_used: required value is missing"
        );
        let err = read_trace("t_ms,gc_kind,heap_used\n1,major,5\n".as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("line 2: column gc_kind: expected a GC kind")
        );
        let err = read_trace("t_ms,gc_kind,heap_used\nNaN,4,5\n".as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("line 2: column t_ms:"));
        let err = read_trace("t_ms,gc_kind,heap_used\n1,4,-5\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("found \"-5\""));
    }

    #[test]
    fn a_line_without_end_is_refused_after_max_line_bytes_and_quotes_are_short() {
        // Like `/dev/zero`: endless bytes without a line break, read only this far.
        let endless = std::io::repeat(0);
        let err = TraceReader::new(std::io::BufReader::new(endless)).unwrap_err();
        assert!(matches!(err, TraceError::LineTooLong { line: 1 }), "{err}");
        let mut text = String::from("t_ms,gc_kind,heap_used\n1,4,5\n2,4,");
        text.push_str(&"9".repeat(MAX_LINE));
        let err = read_trace(std::io::BufReader::new(text.as_bytes())).unwrap_err();
        assert!(matches!(err, TraceError::LineTooLong { line: 3 }), "{err}");
        let long = "x".repeat(MAX_LINE / 2);
        let err = read_trace(format!("t_ms,gc_kind,heap_used\n1,4,{long}\n").as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.len() < 200, "{} bytes: {err:.200}", err.len());
        assert!(
            err.ends_with(&format!("found \"{}…\"", "x".repeat(QUOTED))),
            "{err}"
        );
        let err = read_trace(format!("{long}\n").as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.len() < 300, "{} bytes", err.len());
    }

    /// Found by the `trace` fuzz target: a cell's control characters went into the message raw.
    #[test]
    fn quoted_cells_escape_control_characters() {
        let err = read_trace("t_ms,gc_kind,heap_used\n1,4,12\u{11}\u{1b}[2J\n".as_bytes())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "line 2: column heap_used: expected an integer number of bytes, found \"12\\u{11}\\u{1b}[2J\""
        );
        let err = read_trace("t_ms,\u{7},heap_used\n".as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.ends_with("found: t_ms,\\u{7},heap_used)"), "{err}");
    }

    #[test]
    fn time_going_backwards_names_both_lines_and_equal_times_are_fine() {
        let text = "t_ms,gc_kind,heap_used\n1,4,5\n2,4,5\n2,1,5\n\n1.5,4,5\n9,4,5\n";
        let mut reader = TraceReader::new(text.as_bytes()).unwrap();
        assert_eq!(reader.by_ref().take(3).flatten().count(), 3);
        let err = reader.next().unwrap().unwrap_err();
        assert!(
            matches!(
                err,
                TraceError::TimeBackwards {
                    line: 6,
                    previous_line: 4,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "line 6: column t_ms: time goes backwards, from 2 ms (line 4) to 1.5 ms: a trace's rows \
             are in the order the GC events happened, on a monotonic clock"
        );
        assert!(reader.next().is_none(), "nothing after the error");
        // One absurd time in the middle: the row after it goes backwards.
        let err = read_trace("t_ms,gc_kind,heap_used\n1,4,5\n1e15,4,5\n3,4,5\n".as_bytes());
        assert!(
            matches!(err, Err(TraceError::TimeBackwards { line: 4, .. })),
            "{err:?}"
        );
    }

    #[test]
    fn a_header_without_rows_is_an_error() {
        for text in ["t_ms,gc_kind,heap_used\n", "t_ms,gc_kind,heap_used\n\n  \n"] {
            let err = read_trace(text.as_bytes()).unwrap_err();
            assert!(
                matches!(err, TraceError::NoSamples { header_line: 1 }),
                "{err:?}"
            );
        }
    }

    #[test]
    fn writer_round_trips() {
        let samples = [
            Sample {
                t_ms: 1234.567,
                gc_kind: GcKind::Other(2),
                heap_used: 1,
                heap_total: 2,
                external: 3,
                array_buffers: 4,
                rss: Some(5),
                heap_limit: Some(6),
                memory_limit: None,
            },
            Sample::new(1e9, GcKind::WeakCallbacks, u64::MAX).with_limits(None, Some(7)),
        ];
        let mut w = TraceWriter::new(Vec::new()).unwrap();
        for s in &samples {
            w.write(s).unwrap();
        }
        let bytes = w.into_inner().unwrap();
        assert_eq!(read_trace(bytes.as_slice()).unwrap(), samples);
    }
}
