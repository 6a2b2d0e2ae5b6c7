//! The `edges` array: rows checked and stored as edge columns, on two threads.
//!
//! The edges are most of a snapshot (a 1 GB file holds ~700 MB of them) and parsing
//! them is the longest step before the dominators can start. V8 writes one row per line
//! (`0,1,2\n,3,4,5\n,...`), so each buffered window of the array can be split at a line
//! break into two pieces read at once: this thread reads the first into the columns, a
//! helper reads the second into columns of its own, which are then appended. The
//! helper's piece is only kept when the first piece ended exactly at a row boundary and
//! the helper met nothing unusual; otherwise (another layout, a malformed row) its work
//! is dropped and the piece is read again here, so values, checks and errors — offsets,
//! row numbers — are exactly those of reading the array in one go. The helper lives for
//! the whole array and gets each piece (a copy, or a share of a window that is already
//! in memory); whichever thread starts a piece first reads it, so a helper that a busy
//! machine has not scheduled never holds this one up.

use std::sync::Arc;
use std::sync::atomic::AtomicU8;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::sync::mpsc;

use super::input::Input;
use super::meta::EDGE_FIELDS;
use super::numbers::Scan;
use super::refill::Refill;
use super::rows::{RowHandler, Rows};
use crate::error::{ParseError, Section};
use crate::graph::{EdgeEnd, NodeIdx};
use crate::kind::EdgeKind;

use super::assemble::{MaxName, exact_div, sat32, see};

/// Values per row by role (`type`, `name_or_index`, `to_node`) plus the ignored-columns slot.
const N: usize = EDGE_FIELDS.len() + 1;
const _: () = assert!(N == 4);
const TYPE: usize = 0;
const NAME: usize = 1;
const TO: usize = 2;

/// Windows smaller than this are read on one thread: a helper would cost more than it
/// saves.
const MIN_SPLIT: usize = 256 << 10;

/// What every row must satisfy.
#[derive(Clone, Copy)]
pub(crate) struct EdgeCheck<'a> {
    /// `meta`'s edge type enum.
    pub(crate) kinds: &'a [EdgeKind],
    /// Fields per node: `to_node` is a multiple of it.
    pub(crate) node_width: u64,
    pub(crate) node_count: u64,
    /// More rows than this is an error (the helper, which does not know its first row's
    /// index, checks nothing here: the total is checked when its rows are appended).
    pub(crate) edge_count: u64,
}

/// The edge columns being built, and the largest string index among edge names.
#[derive(Debug, Default)]
pub(crate) struct EdgeColumns {
    pub(crate) end: Vec<EdgeEnd>,
    pub(crate) name: Vec<u32>,
    pub(crate) max_name: Option<MaxName>,
}

impl EdgeColumns {
    /// Moves the rows of `other`, which start at row `first_row`, to the end of these;
    /// `other` is left empty, with its capacity.
    fn append(&mut self, other: &mut Self, first_row: u64) {
        self.end.append(&mut other.end);
        self.name.append(&mut other.name);
        if let Some(m) = other.max_name.take() {
            see(&mut self.max_name, m.value, m.row + first_row, m.offset);
        }
    }
}

/// Checks each row and pushes it onto the columns.
struct EdgeSink<'a, 'c> {
    check: EdgeCheck<'a>,
    out: &'c mut EdgeColumns,
}

impl RowHandler<N> for EdgeSink<'_, '_> {
    #[inline]
    fn row(&mut self, vals: &[u64; N], n: u64, at: u64) -> Result<(), ParseError> {
        let check = &self.check;
        if n == check.edge_count {
            return Err(ParseError::CountMismatch {
                detail: format!(
                    "the edges array has more than snapshot.edge_count = {} rows (extra row at byte {at})",
                    check.edge_count
                ),
            });
        }
        let Some(&kind) = check.kinds.get(vals[TYPE] as usize) else {
            return Err(ParseError::TypeIndex {
                what: "edge",
                index: n,
                offset: at,
                value: vals[TYPE],
                len: check.kinds.len(),
            });
        };
        if !kind.name_is_index() {
            see(&mut self.out.max_name, vals[NAME], n, at);
        }
        let to = match exact_div(vals[TO], check.node_width) {
            Some(to) if to < check.node_count => to,
            _ => {
                return Err(ParseError::NodeRef {
                    what: "edge",
                    index: n,
                    offset: at,
                    value: vals[TO],
                    node_count: check.node_count,
                });
            }
        };
        // `to < node_count <= EdgeEnd::MAX_NODES` (checked with the header).
        self.out.end.push(EdgeEnd::new(kind, NodeIdx(to as u32)));
        self.out.name.push(sat32(vals[NAME]));
        Ok(())
    }
}

/// Reads the `edges` array (after optional whitespace) into `out`; returns the number of
/// rows. With `helper`, a second thread reads half of each large window (see the module
/// docs).
pub(crate) fn read_edges<S: Refill>(
    input: &mut Input<'_, S>,
    roles: &[u8],
    check: EdgeCheck<'_>,
    out: &mut EdgeColumns,
    helper: bool,
) -> Result<u64, ParseError> {
    input.expect(b'[', Section::Edges, "'['")?;
    let mut rows = Rows::new(roles, EdgeSink { check, out });
    if !helper {
        return read_windows(input, &mut rows, check.edge_count, None);
    }
    std::thread::scope(|scope| {
        let (jobs, job_queue) = mpsc::channel::<Job<S::Piece>>();
        let (done, results) = mpsc::channel::<Option<Piece>>();
        let (spares, spare_queue) = mpsc::channel::<EdgeColumns>();
        scope.spawn(move || {
            for job in job_queue {
                if job
                    .claim
                    .compare_exchange(PENDING, HELPER, AcqRel, Acquire)
                    .is_ok()
                {
                    let out = spare_queue.try_recv().unwrap_or_default();
                    let piece = read_piece(job.bytes.as_ref(), 0, job.base, roles, check, out);
                    if done.send(piece).is_err() {
                        break;
                    }
                }
            }
        });
        read_windows(
            input,
            &mut rows,
            check.edge_count,
            Some(&Helper {
                jobs,
                results,
                spares,
            }),
        )
    })
}

/// A piece of a window offered to the helper: its bytes (a copy, or a share of the window
/// when the input is already in memory), so the window can move on whatever the helper
/// does, and a claim that whoever starts first wins: the helper, or this thread once its
/// own piece is read. So this thread never waits for a helper that a busy machine has not
/// scheduled yet.
struct Job<P> {
    bytes: P,
    /// Offset of `bytes[0]` in the file.
    base: u64,
    claim: Arc<AtomicU8>,
}

const PENDING: u8 = 0;
const HELPER: u8 = 1;
const MAIN: u8 = 2;

/// The helper's rows of a piece: columns, row count and the scan state after them.
type Piece = (EdgeColumns, u64, Scan);

/// This thread's ends of the channels to the helper.
struct Helper<P> {
    jobs: mpsc::Sender<Job<P>>,
    /// One per piece the helper claimed, in order.
    results: mpsc::Receiver<Option<Piece>>,
    /// Columns the helper read, emptied, for it to fill again: fresh memory costs a page
    /// fault per page (and its zeroing), so the helper's few pieces' worth is reused.
    spares: mpsc::Sender<EdgeColumns>,
}

/// The window loop of [`read_edges`].
fn read_windows<S: Refill>(
    input: &mut Input<'_, S>,
    rows: &mut Rows<'_, EdgeSink<'_, '_>, N>,
    edge_count: u64,
    helper: Option<&Helper<S::Piece>>,
) -> Result<u64, ParseError> {
    const S: Section = Section::Edges;
    let mut scan = Scan::new(S);
    loop {
        if input.pos == input.end && !input.fill()? {
            return Err(input.truncated(S));
        }
        let (buf, base) = (&input.src.bytes()[..input.end], input.base);
        let mut i = input.pos;
        if let Some((helper, (mid, cut))) = helper.and_then(|h| Some((h, split_points(buf, i)?))) {
            let claim = Arc::new(AtomicU8::new(PENDING));
            let offered = helper
                .jobs
                .send(Job {
                    bytes: input.src.piece(mid..cut),
                    base: base + mid as u64,
                    claim: Arc::clone(&claim),
                })
                .is_ok();
            if let Some(after) = scan.run(&buf[..mid], i, base, rows)? {
                input.pos = after;
                rows.check_complete("edges")?;
                return Ok(rows.count);
            }
            i = mid;
            let mine = !offered
                || claim
                    .compare_exchange(PENDING, MAIN, AcqRel, Acquire)
                    .is_ok();
            let piece = if mine {
                None
            } else {
                helper.results.recv().ok().flatten()
            };
            if let Some((mut piece, piece_rows, piece_scan)) = piece {
                if scan.is_after_number()
                    && rows.at_row_start()
                    && rows.count + piece_rows <= edge_count
                {
                    rows.handler.out.append(&mut piece, rows.count);
                    rows.count += piece_rows;
                    scan = piece_scan;
                    i = cut;
                }
                // The helper only goes away at the end of the array.
                let _ = helper.spares.send(piece);
            }
        }
        if let Some(after) = scan.run(buf, i, base, rows)? {
            input.pos = after;
            rows.check_complete("edges")?;
            return Ok(rows.count);
        }
        input.pos = input.end;
    }
}

/// Where to split the window `buf[i..]`: `mid`, after a line break near its middle, and
/// `cut`, after its last line break, both followed by `,` as in V8's layout; `None` for
/// small windows and other layouts.
fn split_points(buf: &[u8], i: usize) -> Option<(usize, usize)> {
    let window = &buf[i..];
    if window.len() < MIN_SPLIT {
        return None;
    }
    let cut = i + memchr::memrchr(b'\n', window)? + 1;
    let half = i + (cut - i) / 2;
    let mid = half + memchr::memchr(b'\n', &buf[half..cut])? + 1;
    (mid < cut && buf.get(mid) == Some(&b',') && buf.get(cut) == Some(&b',')).then_some((mid, cut))
}

/// The helper's part: the rows of `buf[start..]`, which begins right after a row, read
/// into `out` (columns to reuse, emptied first). `None` unless it ends at a row boundary
/// with nothing unusual met.
fn read_piece(
    buf: &[u8],
    start: usize,
    base: u64,
    roles: &[u8],
    check: EdgeCheck<'_>,
    mut out: EdgeColumns,
) -> Option<Piece> {
    // V8's rows take 10 to 20 bytes.
    let rows_guess = buf.len().saturating_sub(start) / 10;
    out.end.clear();
    out.name.clear();
    out.max_name = None;
    out.end.reserve(rows_guess);
    out.name.reserve(rows_guess);
    let check = EdgeCheck {
        edge_count: u64::MAX,
        ..check
    };
    let mut rows = Rows::new(
        roles,
        EdgeSink {
            check,
            out: &mut out,
        },
    );
    let mut scan = Scan::after_number(Section::Edges);
    let ended = scan.run(buf, start, base, &mut rows).ok()?;
    let complete = ended.is_none() && rows.at_row_start() && scan.is_after_number();
    let count = rows.count;
    complete.then_some((out, count, scan))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [EdgeKind; 3] = [EdgeKind::Context, EdgeKind::Element, EdgeKind::Property];

    /// `rows` V8-style rows (`type,name,to\n,`), with `tweak` applied to each row's text.
    fn edges_text(rows: u64, tweak: impl Fn(u64, String) -> String) -> String {
        let mut text = String::from("[");
        for r in 0..rows {
            if r > 0 {
                text.push_str("\n,");
            }
            let row = format!("{},{},{}", r % 3, r * 7919 % 100_003, (r * 31 % 1000) * 7);
            text.push_str(&tweak(r, row));
        }
        text.push(']');
        text
    }

    fn read(text: &str, edge_count: u64, helper: bool) -> Result<(EdgeColumns, u64), String> {
        let mut progress = |_| {};
        let mut input = Input::new(text.as_bytes(), &mut progress);
        let check = EdgeCheck {
            kinds: &KINDS,
            node_width: 7,
            node_count: 1000,
            edge_count,
        };
        let mut out = EdgeColumns::default();
        let count = read_edges(&mut input, &[0, 1, 2], check, &mut out, helper)
            .map_err(|e| format!("{e:?}"))?;
        Ok((out, count))
    }

    /// The helper must change nothing: same columns, same errors.
    fn same_both_ways(text: &str, edge_count: u64) -> Result<u64, String> {
        let alone = read(text, edge_count, false);
        let helped = read(text, edge_count, true);
        match (&alone, &helped) {
            (Ok((a, n)), Ok((b, m))) => {
                assert_eq!(n, m);
                assert_eq!(a.end, b.end);
                assert_eq!(a.name, b.name);
                assert_eq!(format!("{:?}", a.max_name), format!("{:?}", b.max_name));
                Ok(*n)
            }
            (Err(a), Err(b)) => {
                assert_eq!(a, b);
                Err(a.clone())
            }
            _ => panic!(
                "alone {:?} vs helped {:?}",
                alone.map(|r| r.1),
                helped.map(|r| r.1)
            ),
        }
    }

    const ROWS: u64 = 300_000;

    #[test]
    fn helper_reads_v8_rows_like_one_thread() {
        let text = edges_text(ROWS, |_, row| row);
        assert!(text.len() > 3 << 20, "several windows");
        assert_eq!(same_both_ways(&text, ROWS), Ok(ROWS));
    }

    #[test]
    fn helper_keeps_errors_exact() {
        for bad in [5, 150_000, ROWS - 3] {
            let text = edges_text(ROWS, |r, row| if r == bad { "9,1,7".into() } else { row });
            let err = same_both_ways(&text, ROWS).unwrap_err();
            assert!(err.contains(&format!("index: {bad}")), "{err}");
            let text = edges_text(ROWS, |r, row| if r == bad { "1,1,8".into() } else { row });
            assert!(same_both_ways(&text, ROWS).unwrap_err().contains("NodeRef"));
        }
        let text = edges_text(ROWS, |_, row| row);
        assert!(
            same_both_ways(&text, ROWS - 10)
                .unwrap_err()
                .contains("CountMismatch")
        );
        let text = edges_text(ROWS, |r, row| if r == 200_000 { "1,1".into() } else { row });
        assert!(same_both_ways(&text, ROWS).is_err());
    }

    #[test]
    fn helper_handles_other_layouts() {
        // Line breaks inside rows, whitespace, long numbers: results must not change.
        let text = edges_text(ROWS, |r, row| match r % 97 {
            0 => row.replacen(',', ",\n", 1),
            1 => format!(" {row} "),
            2 => row.replacen(',', ",000000000000000000", 1),
            _ => row,
        });
        assert_eq!(same_both_ways(&text, ROWS), Ok(ROWS));
        let text = edges_text(ROWS, |_, row| row).replace("\n,", ",\n");
        assert_eq!(same_both_ways(&text, ROWS), Ok(ROWS));
    }
}
