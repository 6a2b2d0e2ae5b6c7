//! The second pass: copies the snapshot to the output, replacing the string-table entries
//! the [`Plan`] does not keep. Everything before and after the table is copied in large
//! blocks without being looked at (the first pass checked it); inside the table the
//! separators and kept strings are copied byte for byte and only scrubbed strings are
//! decoded.

use std::io::{ErrorKind, Read, Write};

use memchr::memchr2;

use super::ScrubError;
use super::keyed::ScrubKey;
use super::plan::Plan;
use crate::error::{ParseError, Section};
use crate::parse::input::{Input, PROGRESS_STEP, is_ws};
use crate::parse::json_str::STRING_LIMIT;
use crate::parse::refill::Refill;

/// Bytes copied at a time outside the string table.
const COPY_BLOCK: usize = 1 << 20;

/// V8's constant names of cons and sliced strings: no data, kept as they are.
const STRING_LABELS: [&str; 2] = ["(concatenated string)", "(sliced string)"];

const S: Section = Section::Strings;

/// What a [`rewrite`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScrubStats {
    /// Entries of the string table.
    pub strings: u64,
    /// Entries replaced.
    pub scrubbed: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// Writes to `out` the snapshot `reader` reads — the same bytes [`plan`](super::plan) read,
/// from the start — with the entries of the string table that `plan` does not keep
/// replaced (see the [module docs](super)). `progress` receives the bytes read so far.
///
/// # Errors
/// [`ScrubError::Write`] when `out` fails; [`ScrubError::Changed`] (or a
/// [`ScrubError::Parse`]) when the input is not what `plan` read.
pub fn rewrite<R: Read, W: Write>(
    mut reader: R,
    plan: &Plan,
    key: &ScrubKey,
    out: &mut W,
    progress: &mut dyn FnMut(u64),
) -> Result<ScrubStats, ScrubError> {
    let out = &mut Counted { out, bytes: 0 };
    let mut block = vec![0; COPY_BLOCK];
    let head = copy(&mut reader, out, plan.strings_open, &mut block, 0, progress)?;
    if head < plan.strings_open {
        return Err(changed(format!(
            "it ends at byte {head}, before its string table (at byte {})",
            plan.strings_open
        )));
    }
    let mut input = Input::new(reader, progress);
    input.base = plan.strings_open;
    let (strings, scrubbed) = rewrite_strings(&mut input, plan, key, out)?;
    out.write_all(&input.src.bytes()[input.pos..input.end])
        .map_err(ScrubError::Write)?;
    let read = input.base + input.end as u64;
    let mut reader = input.into_src().into_inner();
    let total = copy(&mut reader, out, u64::MAX, &mut block, read, &mut |_| {})?;
    if total != plan.len {
        return Err(changed(format!(
            "it is {total} bytes long, but was {} bytes long",
            plan.len
        )));
    }
    progress(total);
    Ok(ScrubStats {
        strings,
        scrubbed,
        bytes: out.bytes,
    })
}

/// A writer that counts the bytes written.
struct Counted<'a, W> {
    out: &'a mut W,
    bytes: u64,
}

impl<W: Write> Write for Counted<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

fn changed(detail: String) -> ScrubError {
    ScrubError::Changed { detail }
}

/// Copies from `reader` to `out` until `until` bytes have been read in all (`at` of them
/// before this call) or the reader ends; returns how many have been read in all.
fn copy<R: Read, W: Write>(
    reader: &mut R,
    out: &mut W,
    until: u64,
    block: &mut [u8],
    mut at: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, ScrubError> {
    let mut next_progress = at + PROGRESS_STEP;
    while at < until {
        let want = usize::try_from(until - at).map_or(block.len(), |left| left.min(block.len()));
        let n = match reader.read(&mut block[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(source) => return Err(ParseError::Io { offset: at, source }.into()),
        };
        out.write_all(&block[..n]).map_err(ScrubError::Write)?;
        at += n as u64;
        if at >= next_progress {
            next_progress = at + PROGRESS_STEP;
            progress(at);
        }
    }
    Ok(at)
}

/// Rewrites the string table, from its `[` to its `]`; returns the entries and the
/// scrubbed ones among them.
fn rewrite_strings<Src: Refill, W: Write>(
    input: &mut Input<'_, Src>,
    plan: &Plan,
    key: &ScrubKey,
    out: &mut W,
) -> Result<(u64, u64), ScrubError> {
    let w = |r: std::io::Result<()>| r.map_err(ScrubError::Write);
    if next_byte(input)? != b'[' {
        return Err(changed(format!(
            "its string table no longer starts at byte {}",
            plan.strings_open
        )));
    }
    input.pos += 1;
    w(out.write_all(b"["))?;
    copy_ws(input, out)?;
    let (mut index, mut scrubbed) = (0, 0);
    if next_byte(input)? == b']' {
        input.pos += 1;
        w(out.write_all(b"]"))?;
    } else {
        let mut scratch = Vec::new();
        let mut text = Vec::new();
        loop {
            let b = next_byte(input)?;
            if b != b'"' {
                return Err(input.syntax(S, "a string", b).into());
            }
            input.pos += 1;
            if index >= plan.strings {
                return Err(changed(format!(
                    "its string table has more than {} entries",
                    plan.strings
                )));
            }
            w(out.write_all(b"\""))?;
            if plan.kept.contains(index) {
                copy_string(input, out)?;
            } else {
                text.clear();
                let replaced = input.read_string_body(S, STRING_LIMIT, &mut scratch, |s| {
                    let s = String::from_utf8_lossy(s);
                    if STRING_LABELS.contains(&&*s) {
                        text.extend_from_slice(s.as_bytes());
                        false
                    } else {
                        key.replacement(s.as_bytes(), s.chars().count(), &mut text);
                        true
                    }
                })?;
                scrubbed += u64::from(replaced);
                text.push(b'"');
                w(out.write_all(&text))?;
            }
            index += 1;
            copy_ws(input, out)?;
            match next_byte(input)? {
                b',' => {
                    input.pos += 1;
                    w(out.write_all(b","))?;
                    copy_ws(input, out)?;
                }
                b']' => {
                    input.pos += 1;
                    w(out.write_all(b"]"))?;
                    break;
                }
                b => return Err(input.syntax(S, "',' or ']' after a string", b).into()),
            }
        }
    }
    if index != plan.strings {
        return Err(changed(format!(
            "its string table has {index} entries, but had {}",
            plan.strings
        )));
    }
    Ok((index, scrubbed))
}

/// The next byte, not consumed; the input ending is truncation.
fn next_byte<Src: Refill>(input: &mut Input<'_, Src>) -> Result<u8, ParseError> {
    if input.pos == input.end && !input.fill()? {
        return Err(input.truncated(S));
    }
    Ok(input.src.bytes()[input.pos])
}

/// Copies whitespace as it is.
fn copy_ws<Src: Refill, W: Write>(
    input: &mut Input<'_, Src>,
    out: &mut W,
) -> Result<(), ScrubError> {
    loop {
        let bytes = &input.src.bytes()[..input.end];
        let start = input.pos;
        let run = bytes[start..].iter().take_while(|&&b| is_ws(b)).count();
        input.pos += run;
        out.write_all(&bytes[start..start + run])
            .map_err(ScrubError::Write)?;
        if input.pos < input.end || !input.fill()? {
            return Ok(());
        }
    }
}

/// Copies the rest of a string whose opening `"` was consumed (and written), up to and
/// including its closing `"`, as it is: escapes and all.
fn copy_string<Src: Refill, W: Write>(
    input: &mut Input<'_, Src>,
    out: &mut W,
) -> Result<(), ScrubError> {
    let w = |r: std::io::Result<()>| r.map_err(ScrubError::Write);
    loop {
        if input.pos == input.end && !input.fill()? {
            return Err(input.truncated(S).into());
        }
        let avail = &input.src.bytes()[input.pos..input.end];
        match memchr2(b'"', b'\\', avail) {
            None => {
                w(out.write_all(avail))?;
                input.pos = input.end;
            }
            Some(k) if avail[k] == b'"' => {
                w(out.write_all(&avail[..=k]))?;
                input.pos += k + 1;
                return Ok(());
            }
            Some(k) => {
                w(out.write_all(&avail[..k]))?;
                input.pos += k;
                if !input.ensure(2)? {
                    return Err(input.truncated(S).into());
                }
                w(out.write_all(&input.src.bytes()[input.pos..input.pos + 2]))?;
                input.pos += 2;
            }
        }
    }
}
