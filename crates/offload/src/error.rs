//! [`OffloadError`]: why an upload, check, listing or read failed, what to do about it, and
//! the label the agent counts it under ([`OffloadError::reason`]). `object_store`'s errors are
//! sorted here into "the network or the server failed" and "the store refused", with a hint
//! for each common cause; their text goes along (as the source) with any credentials in URLs
//! masked.

use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;

use object_store::client::{HttpError, HttpErrorKind};

use crate::key::ObjectKey;

/// What went wrong. Every message names the file and the object's location, and says what
/// to check; none contains credentials.
#[derive(Debug, thiserror::Error)]
pub enum OffloadError {
    /// The store URL or a setting is wrong (nothing was tried).
    #[error("store {url}: {problem}")]
    Config {
        /// The URL, credentials masked.
        url: String,
        /// What is wrong and what is expected.
        problem: String,
    },
    /// An object key (or a namespace, pod or file name to make one of) is not valid.
    #[error("invalid object key {key:?}: {problem}")]
    Key {
        /// The key as it would have been.
        key: String,
        /// Which part is wrong and why.
        problem: String,
    },
    /// The local file could not be opened, inspected or read.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done (`open`, `read`, `inspect`).
        action: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file changed (size, modification time or inode) while it was read: it is still
    /// being written or was replaced. Nothing was stored (a multipart upload is aborted).
    #[error(
        "{} changed while it was being uploaded to {location} ({what}); nothing was stored: \
         upload it again once its writer has finished with it",
        path.display()
    )]
    Changed {
        /// The file.
        path: PathBuf,
        /// The key it was going to.
        key: ObjectKey,
        /// The object's location (store URL and key).
        location: String,
        /// What differed.
        what: String,
    },
    /// The store failed or refused a request (after `object_store`'s retries).
    #[error("{action}: {hint}")]
    Store {
        /// What was being done, naming the file and the object's location.
        action: String,
        /// The key.
        key: ObjectKey,
        /// Network/server trouble (worth retrying later) or a refusal (needs a fix).
        failure: StoreFailure,
        /// The likely cause and what to check.
        hint: String,
        /// `object_store`'s words, credentials masked.
        source: StoreDetail,
    },
    /// After the upload the object does not have the file's size.
    #[error(
        "{location} holds {found} bytes after the upload of {}, which has {expected}: the store \
         did not keep the whole file; upload it again",
        path.display()
    )]
    Verify {
        /// The key.
        key: ObjectKey,
        /// The object's location.
        location: String,
        /// The file uploaded.
        path: PathBuf,
        /// The file's size.
        expected: u64,
        /// The object's size.
        found: u64,
    },
    /// The object is bigger than the caller accepts to read into memory.
    #[error("{location} is {size} bytes, more than the {max_bytes} bytes accepted; not read")]
    TooLarge {
        /// The key.
        key: ObjectKey,
        /// The object's location.
        location: String,
        /// Its size (as far as known).
        size: u64,
        /// The limit.
        max_bytes: u64,
    },
}

impl OffloadError {
    /// The label of the agent's failure counter: `config`, `key`, `io`, `changed`, `network`
    /// (connection, timeout, 5xx: try again later), `rejected` (4xx: credentials, bucket,
    /// request), `verify` or `too_large`.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            OffloadError::Config { .. } => "config",
            OffloadError::Key { .. } => "key",
            OffloadError::Io { .. } => "io",
            OffloadError::Changed { .. } => "changed",
            OffloadError::Store {
                failure: StoreFailure::Network,
                ..
            } => "network",
            OffloadError::Store {
                failure: StoreFailure::Rejected,
                ..
            } => "rejected",
            OffloadError::Verify { .. } => "verify",
            OffloadError::TooLarge { .. } => "too_large",
        }
    }

    /// Whether trying the same thing again later may work without changing anything
    /// (network or server trouble, a file still being written, a short object).
    #[must_use]
    pub fn is_transient(&self) -> bool {
        matches!(self.reason(), "network" | "changed" | "verify")
    }
}

/// The two kinds of store failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFailure {
    /// The endpoint could not be reached, the connection broke, a request timed out, or the
    /// server answered 5xx/429 until the retries ran out.
    Network,
    /// The store answered and said no (403, 404, 400...).
    Rejected,
}

/// `object_store`'s message (credentials in URLs masked), the source of
/// [`OffloadError::Store`].
#[derive(Debug)]
pub struct StoreDetail(pub String);

impl fmt::Display for StoreDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for StoreDetail {}

/// What the store was asked, for the hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Upload,
    Check,
    List,
    Get,
}

/// Where credentials come from, for the hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CredentialSource {
    /// Static keys (config or `AWS_ACCESS_KEY_ID`).
    Keys,
    /// Web identity, container credentials: something the pod was given.
    Role,
    /// Nothing set: `object_store` asks the instance metadata service.
    InstanceMetadata,
    /// A local directory needs none.
    None,
}

/// Sorts an `object_store` error into network/rejected with a hint.
pub(crate) fn classify(
    err: &object_store::Error,
    op: Op,
    endpoint: &str,
    credentials: CredentialSource,
) -> (StoreFailure, String) {
    use object_store::Error as E;
    let text = chain_text(err);
    let access = || {
        let mut hint = "access denied: check the credentials (AWS_ACCESS_KEY_ID, \
                        AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, or the pod's role) and that \
                        they may write and read this bucket and prefix"
            .to_owned();
        if credentials == CredentialSource::InstanceMetadata {
            hint.push_str(" (no AWS_ACCESS_KEY_ID is set, so the instance's role was used)");
        }
        (StoreFailure::Rejected, hint)
    };
    match err {
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => return access(),
        E::NotFound { .. } if text.contains("NoSuchBucket") || op == Op::Upload => {
            return (
                StoreFailure::Rejected,
                "the bucket does not exist: create it, or fix the bucket in the store URL"
                    .to_owned(),
            );
        }
        E::NotFound { .. } => {
            return (StoreFailure::Rejected, "no such object".to_owned());
        }
        _ => {}
    }
    if let Some(kind) = transport_kind(err) {
        let mut hint = transport_hint(kind, &text, endpoint);
        if credentials == CredentialSource::InstanceMetadata {
            hint.push_str(
                "; with no AWS_ACCESS_KEY_ID set, credentials are fetched from the instance \
                 metadata service, which only exists on cloud instances: set the keys if this \
                 is not one",
            );
        }
        return (StoreFailure::Network, hint);
    }
    if [
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "ExpiredToken",
    ]
    .iter()
    .any(|code| text.contains(code))
    {
        return access();
    }
    if text.contains("NoSuchBucket") {
        return (
            StoreFailure::Rejected,
            "the bucket does not exist: create it, or fix the bucket in the store URL".to_owned(),
        );
    }
    if text.contains("redirect") || text.contains("PermanentRedirect") {
        return (
            StoreFailure::Rejected,
            "the bucket is in another region: set --region (or AWS_REGION)".to_owned(),
        );
    }
    if status_in(&text).is_some_and(|s| s >= 500 || s == 429 || s == 408) {
        let status = status_in(&text).unwrap_or_default();
        return (
            StoreFailure::Network,
            format!(
                "{endpoint} answered {status} until the retries ran out: the store is \
                 unavailable or overloaded; try again later"
            ),
        );
    }
    let hint = match op {
        Op::Upload => "the store refused the upload",
        Op::Check => "the store refused the check (HEAD)",
        Op::List => "the store refused the listing",
        Op::Get => "the store refused the read",
    };
    (
        StoreFailure::Rejected,
        format!("{hint}; its answer says why"),
    )
}

/// The hint for a transport failure of `kind`; `text` is the error chain, which names a
/// TLS failure (a certificate the system does not trust) that `kind` calls a connect error.
fn transport_hint(kind: HttpErrorKind, text: &str, endpoint: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let tls = ["certificate", "tls", "handshake"]
        .iter()
        .any(|w| lower.contains(w));
    match kind {
        HttpErrorKind::Connect if tls => format!(
            "the TLS handshake with {endpoint} failed ({}): check its certificate; mw trusts \
             the system's CA certificates (/etc/ssl/certs, which the agent image carries)",
            text.rsplit(": ").next().unwrap_or(text)
        ),
        HttpErrorKind::Connect => format!(
            "cannot connect to {endpoint}: check --endpoint (or AWS_ENDPOINT_URL), that the \
             server is up, and the network (DNS, network policies)"
        ),
        HttpErrorKind::Timeout => format!(
            "a request to {endpoint} timed out: check the network, or raise the request \
             timeout (one part must go up within it)"
        ),
        _ => format!(
            "the connection to {endpoint} broke: check the server's logs and the network \
             (a proxy or load balancer that limits request sizes or durations?)"
        ),
    }
}

/// The transport failure (connect, timeout, broken connection) somewhere in `err`'s sources.
fn transport_kind(err: &object_store::Error) -> Option<HttpErrorKind> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(http) = e.downcast_ref::<HttpError>() {
            return Some(http.kind());
        }
        current = e.source();
    }
    None
}

/// The HTTP status `object_store` reports in its text ("status code: 503 ...").
fn status_in(text: &str) -> Option<u16> {
    let at = text.find("status code: ")? + "status code: ".len();
    text.get(at..at + 3)?.parse().ok()
}

/// `err` and its sources, joined with ": " (repeats skipped), credentials in URLs masked.
pub(crate) fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut out = String::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        current = e.source();
    }
    redact_urls(&out)
}

/// Every URL in `text` with its credentials masked (`memwatchdog_exporter::redact_url` on each
/// word that contains `://`).
pub(crate) fn redact_urls(text: &str) -> String {
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            if word.contains("://") {
                let trimmed = word.trim_end();
                let url_start = trimmed.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(0);
                format!(
                    "{}{}{}",
                    &trimmed[..url_start],
                    memwatchdog_exporter::redact_url(&trimmed[url_start..]),
                    &word[trimmed.len()..]
                )
            } else {
                word.to_owned()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{redact_urls, status_in};

    #[test]
    fn urls_in_text_lose_their_credentials() {
        assert_eq!(
            redact_urls("Error performing PUT http://AKID:s3cret@minio:9000/b/k in 2s\n(x)"),
            "Error performing PUT http://AKID:***@minio:9000/b/k in 2s\n(x)"
        );
        assert_eq!(redact_urls("<http://tok@h/x> ok"), "<http://***@h/x> ok");
        assert_eq!(redact_urls("no url here"), "no url here");
    }

    #[test]
    fn status_codes_are_found() {
        assert_eq!(
            status_in("Server returned non-2xx status code: 503 Service Unavailable: x"),
            Some(503)
        );
        assert_eq!(status_in("connection refused"), None);
    }
}
