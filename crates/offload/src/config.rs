//! [`StoreConfig`]: where artifacts go and how hard to try (the `mw agent` flags), and
//! [`Credentials`] for when they are not taken from the environment.

use std::fmt;
use std::time::Duration;

/// S3's smallest part of a multipart upload (every part but the last).
pub const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

/// Where artifacts go, and how uploads are cut and retried.
#[derive(Clone)]
pub struct StoreConfig {
    /// `s3://bucket[/prefix]`, or `file:///absolute/dir` (a local directory, which must exist:
    /// a mounted volume, or a test's temporary directory).
    pub url: String,
    /// An S3-compatible endpoint (`MinIO`, Ceph, moto...; `http://` is allowed, in-cluster
    /// `MinIO` often is plain HTTP). `None`: AWS, or what the environment says
    /// (`AWS_ENDPOINT_URL` / `AWS_ENDPOINT`); the other `AWS_*` variables (region, keys,
    /// session token, web identity...) are always read.
    pub endpoint: Option<String>,
    /// The region (`None`: `AWS_REGION`, else `us-east-1`).
    pub region: Option<String>,
    /// Files larger than this go up as multipart uploads of parts of this size (default
    /// 16 MiB; at least 5 MiB for S3, [`MIN_PART_SIZE`]). Grown for files that would need
    /// more than S3's 10,000 parts.
    pub part_size: usize,
    /// Retries of each HTTP request inside `object_store` (its `RetryConfig`: exponential
    /// backoff from 100 ms to 15 s, all retries of one request within 3 minutes).
    pub request_retries: usize,
    /// How long one HTTP request may take, body included (one part of a multipart upload).
    pub request_timeout: Duration,
    /// Parts uploaded at once; memory in use is about `(parts_in_flight + 1) × part_size`
    /// (default 2: 48 MiB).
    pub parts_in_flight: usize,
    /// Keys to use instead of the environment's (`None`: `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, or the pod's web identity / instance
    /// role). Never shown by [`fmt::Debug`] or in any message.
    pub credentials: Option<Credentials>,
}

impl StoreConfig {
    /// The defaults for `url`: no endpoint or region (the environment's), 16 MiB parts,
    /// 5 retries, 60 s per request, 2 parts in flight, the environment's credentials.
    pub fn new(url: impl Into<String>) -> Self {
        StoreConfig {
            url: url.into(),
            endpoint: None,
            region: None,
            part_size: 16 * 1024 * 1024,
            request_retries: 5,
            request_timeout: Duration::from_secs(60),
            parts_in_flight: 2,
            credentials: None,
        }
    }
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("url", &memwatchdog_exporter::redact_url(&self.url))
            .field(
                "endpoint",
                &self
                    .endpoint
                    .as_deref()
                    .map(memwatchdog_exporter::redact_url),
            )
            .field("region", &self.region)
            .field("part_size", &self.part_size)
            .field("request_retries", &self.request_retries)
            .field("request_timeout", &self.request_timeout)
            .field("parts_in_flight", &self.parts_in_flight)
            .field("credentials", &self.credentials)
            .finish()
    }
}

/// Static S3 credentials (an access key and its secret, and a session token for temporary
/// ones). Their [`fmt::Debug`] shows the access key id only.
#[derive(Clone)]
pub struct Credentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`, for temporary credentials.
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{Credentials, StoreConfig};

    #[test]
    fn debug_never_shows_secrets() {
        let mut c = StoreConfig::new("s3://bucket/prefix");
        c.endpoint = Some("http://user:pa55word@minio:9000".into());
        c.credentials = Some(Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI".into(),
            session_token: Some("FwoGZXIvYXdzE".into()),
        });
        let shown = format!("{c:?}");
        assert!(
            shown.contains("AKIDEXAMPLE") && shown.contains("minio:9000"),
            "{shown}"
        );
        for secret in ["pa55word", "wJalrXUtnFEMI", "FwoGZXIvYXdzE"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
