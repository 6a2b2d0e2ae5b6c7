//! The `/metrics` server's request-head reader as its connection loop runs it: bytes arrive
//! in reads of up to 1 KiB, the head's end is looked for after each, the head is routed, a
//! head over 8 KiB is refused, and a client that closes early gets what it sent routed.
//!
//! Checks: no panic; the end found lies within the bytes and closes a blank line; where the
//! head ends does not depend on how its bytes arrived; only a well-formed `GET`/`HEAD` line
//! for `/metrics` or `/` is served, and routing reads the request line alone.

#![no_main]

use libfuzzer_sys::fuzz_target;
use memwatchdog_exporter::request::{MAX_HEAD, Route, head_end, route};

/// What one `read` of the server takes at most.
const CHUNK: usize = 1024;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the read sizes; the rest is what the client sends.
    let Some((&pick, sent)) = data.split_first() else {
        return;
    };
    let step = 1 + (usize::from(pick) * 7) % CHUNK;

    let mut buf = Vec::new();
    let mut rest = sent;
    let answered = loop {
        if let Some(end) = head_end(&buf) {
            assert!(end <= buf.len());
            let head = &buf[..end];
            assert!(
                head.ends_with(b"\n\n") || head.ends_with(b"\n\r\n"),
                "{head:?}"
            );
            assert_eq!(
                head_end(sent),
                Some(end),
                "the end of the head depends on how its bytes arrived"
            );
            break route(head);
        }
        if buf.len() > MAX_HEAD {
            break Route::HeadTooLarge;
        }
        if rest.is_empty() {
            break route(&buf); // the client closed before a blank line
        }
        let n = step.min(rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
    };

    let line_end = sent.iter().position(|&b| b == b'\n').unwrap_or(sent.len());
    let line = &sent[..line_end];
    match answered {
        Route::Metrics { head_only } | Route::Index { head_only } => {
            let method: &[u8] = if head_only { b"HEAD " } else { b"GET " };
            assert!(line.starts_with(method), "served {line:?}");
            let path: &[u8] = if matches!(answered, Route::Metrics { .. }) {
                b"/metrics"
            } else {
                b"/"
            };
            assert!(line[method.len()..].starts_with(path), "served {line:?}");
        }
        Route::HeadTooLarge => assert!(buf.len() > MAX_HEAD),
        Route::MethodNotAllowed | Route::NotFound | Route::BadRequest => {}
    }
    if !matches!(answered, Route::HeadTooLarge) {
        // Routing reads the request line alone: the same line with no headers routes alike.
        let mut alone = line.to_vec();
        alone.extend_from_slice(b"\n\n");
        assert_eq!(
            route(&alone),
            answered,
            "routing read past the request line"
        );
    }
});
