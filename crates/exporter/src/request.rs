//! Reading and routing one HTTP/1.x request head for the metrics server (sans-IO).
//!
//! The server only needs the request line: method and path. Headers are read (so the
//! client's request is consumed) and ignored; there is never a request body to serve.

/// Largest request head accepted; Prometheus sends a few hundred bytes.
pub const MAX_HEAD: usize = 8 * 1024;

/// What to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET`/`HEAD /metrics`.
    Metrics {
        /// `HEAD`: the response without its body.
        head_only: bool,
    },
    /// `GET`/`HEAD /`: a page linking to `/metrics`.
    Index {
        /// `HEAD`: the response without its body.
        head_only: bool,
    },
    /// A known path with another method.
    MethodNotAllowed,
    /// Any other path.
    NotFound,
    /// Not an HTTP/1.x request line.
    BadRequest,
    /// Head larger than [`MAX_HEAD`].
    HeadTooLarge,
}

/// Position just past the first blank line (`\r\n` or a bare `\n`) that ends a request head,
/// if `buf` holds one. The first one: where the head ends must not depend on how many of
/// the bytes after it have arrived.
#[must_use]
pub fn head_end(buf: &[u8]) -> Option<usize> {
    buf.iter().enumerate().find_map(|(i, &b)| {
        if b != b'\n' {
            return None;
        }
        match buf.get(i + 1..) {
            Some([b'\n', ..]) => Some(i + 2),
            Some([b'\r', b'\n', ..]) => Some(i + 3),
            _ => None,
        }
    })
}

/// Routes a request from its head (at least the request line).
#[must_use]
pub fn route(head: &[u8]) -> Route {
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let Ok(line) = std::str::from_utf8(&head[..line_end]) else {
        return Route::BadRequest;
    };
    let mut parts = line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Route::BadRequest;
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() {
        return Route::BadRequest;
    }
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => {
            return if matches!(path, "/" | "/metrics") {
                Route::MethodNotAllowed
            } else {
                Route::NotFound
            };
        }
    };
    match path {
        "/metrics" => Route::Metrics { head_only },
        "/" => Route::Index { head_only },
        _ => Route::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let cases: &[(&str, Route)] = &[
            (
                "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
                Route::Metrics { head_only: false },
            ),
            (
                "GET /metrics?x=1 HTTP/1.0\r\n\r\n",
                Route::Metrics { head_only: false },
            ),
            (
                "HEAD /metrics HTTP/1.1\r\n\r\n",
                Route::Metrics { head_only: true },
            ),
            ("GET / HTTP/1.1\r\n\r\n", Route::Index { head_only: false }),
            ("POST /metrics HTTP/1.1\r\n\r\n", Route::MethodNotAllowed),
            ("GET /etc/passwd HTTP/1.1\r\n\r\n", Route::NotFound),
            ("GET /../metrics HTTP/1.1\r\n\r\n", Route::NotFound),
            ("DELETE /x HTTP/1.1\r\n\r\n", Route::NotFound),
            ("GET /metrics\r\n\r\n", Route::BadRequest),
            ("GET /metrics SPDY/3\r\n\r\n", Route::BadRequest),
            ("\u{0}\u{1}\r\n\r\n", Route::BadRequest),
        ];
        for (head, want) in cases {
            assert_eq!(route(head.as_bytes()), *want, "{head:?}");
        }
    }

    #[test]
    fn finds_the_end_of_the_head() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nbody"), Some(24));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\n"), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n"), None);
    }

    /// Found by the `metrics_request` fuzz target: a bare-LF blank line followed later by a
    /// CRLF one ended the head at the first when the bytes came in two reads and at the
    /// second when they came in one.
    #[test]
    fn the_head_ends_at_the_first_blank_line_however_the_bytes_arrive() {
        let sent = b"GET /metrics HTTP/1.1\nA: b\n\nbody\r\n\r\n";
        assert_eq!(head_end(sent), Some(28));
        assert_eq!(head_end(&sent[..28]), Some(28));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\n\r\n"), Some(23));
    }
}
