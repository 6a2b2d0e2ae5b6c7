//! [`Store`]: an opened store (S3-compatible bucket and prefix, or a local directory) and the
//! small operations on it: [`Store::find_uploaded`], [`Store::list`], [`Store::get`]. Uploads
//! are in `upload.rs`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::TryStreamExt;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, Checksum};
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, ObjectStoreExt, RetryConfig};

use crate::config::{MIN_PART_SIZE, StoreConfig};
use crate::error::{CredentialSource, OffloadError, Op, StoreDetail, chain_text, classify};
use crate::key::ObjectKey;
use crate::url::StoreUrl;

/// An object found by [`Store::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Its key, relative to the store's prefix.
    pub key: ObjectKey,
    /// Its size in bytes.
    pub size: u64,
    /// When the store last wrote it.
    pub last_modified: SystemTime,
}

/// An opened store. Cheap to clone (one HTTP client and connection pool, shared).
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<dyn ObjectStore>,
    /// `""` or `a/b`: prepended to every key.
    pub(crate) prefix: String,
    /// `s3://bucket/prefix` or `file:///dir`, for messages (no credentials).
    pub(crate) base: Arc<str>,
    /// The endpoint as shown (`http://minio:9000`, or AWS's for the region).
    pub(crate) endpoint: Arc<str>,
    pub(crate) description: Arc<str>,
    pub(crate) credentials: CredentialSource,
    /// Whether this is S3 (object metadata, S3's part limits) or a local directory.
    pub(crate) s3: bool,
    pub(crate) part_size: usize,
    pub(crate) parts_in_flight: usize,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Store").field(&self.description).finish()
    }
}

impl Store {
    /// Opens the store `config.url` names. Nothing is sent yet (the first request shows
    /// whether the endpoint, bucket and credentials work); a local directory must exist.
    pub fn open(config: &StoreConfig) -> Result<Store, OffloadError> {
        crate::install_crypto();
        let url = StoreUrl::parse(&config.url)?;
        let bad = |problem: String| OffloadError::Config {
            url: memwatchdog_exporter::redact_url(&config.url),
            problem,
        };
        if config.parts_in_flight == 0 {
            return Err(bad("parts_in_flight must be at least 1".to_owned()));
        }
        match url {
            StoreUrl::S3 { bucket, prefix } => {
                if config.part_size < MIN_PART_SIZE {
                    return Err(bad(format!(
                        "the part size ({} bytes) is below S3's minimum of 5 MiB",
                        config.part_size
                    )));
                }
                if let Some(endpoint) = &config.endpoint
                    && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
                {
                    return Err(bad(format!(
                        "the endpoint {:?} must be an http:// or https:// URL, like \
                         http://minio.storage:9000",
                        memwatchdog_exporter::redact_url(endpoint)
                    )));
                }
                if config.request_timeout.is_zero() {
                    return Err(bad("the request timeout must be above zero".to_owned()));
                }
                open_s3(config, &bucket, prefix).map_err(|e| bad(chain_text(&e)))
            }
            StoreUrl::Local { dir } => {
                if config.part_size == 0 {
                    return Err(bad("the part size must be above zero".to_owned()));
                }
                if !dir.is_dir() {
                    return Err(bad(format!(
                        "{} is not a directory: create it or mount the volume there",
                        dir.display()
                    )));
                }
                let fs = LocalFileSystem::new_with_prefix(&dir)
                    .map_err(|e| bad(chain_text(&e)))?
                    .with_fsync(true);
                let base: Arc<str> = format!("file://{}", dir.display()).into();
                Ok(Store {
                    inner: Arc::new(fs),
                    prefix: String::new(),
                    description: format!("{base} (local directory)").into(),
                    endpoint: base.clone(),
                    base,
                    credentials: CredentialSource::None,
                    s3: false,
                    part_size: config.part_size,
                    parts_in_flight: config.parts_in_flight,
                })
            }
        }
    }

    /// The store for logs: URL, endpoint, region and where credentials come from (never the
    /// credentials).
    #[must_use]
    pub fn describe(&self) -> String {
        self.description.to_string()
    }

    /// Whether `key` exists with exactly `size` bytes (HEAD): an agent that restarts skips
    /// what it already uploaded. A missing object, or one of another size, is `false`.
    pub async fn find_uploaded(&self, key: &ObjectKey, size: u64) -> Result<bool, OffloadError> {
        let path = self.path(key)?;
        match self.inner.head(&path).await {
            Ok(meta) => Ok(meta.size == size),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.store_error(
                Op::Check,
                format!("checking whether {} exists", self.location(key)),
                key,
                &e,
            )),
        }
    }

    /// Every object under the directory `dir` (recursive; `dir` as made by
    /// [`ObjectKey::pod_dir`]), sorted by key. Objects whose names are not valid keys
    /// (written by something else) are left out.
    pub async fn list(&self, dir: &ObjectKey) -> Result<Vec<ObjectInfo>, OffloadError> {
        let path = self.path(dir)?;
        let listed: Vec<object_store::ObjectMeta> = self
            .inner
            .list(Some(&path))
            .try_collect()
            .await
            .map_err(|e| {
                self.store_error(Op::List, format!("listing {}", self.location(dir)), dir, &e)
            })?;
        let mut found: Vec<ObjectInfo> = listed
            .into_iter()
            .filter_map(|meta| {
                let key = self.key_of(&meta.location)?;
                Some(ObjectInfo {
                    key,
                    size: meta.size,
                    last_modified: SystemTime::from(meta.last_modified),
                })
            })
            .collect();
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    /// Reads a small object whole (a JSON report); [`OffloadError::TooLarge`] when it is
    /// bigger than `max_bytes` (told before its body is read).
    pub async fn get(&self, key: &ObjectKey, max_bytes: u64) -> Result<Vec<u8>, OffloadError> {
        let path = self.path(key)?;
        let action = || format!("reading {}", self.location(key));
        let got = self
            .inner
            .get_opts(&path, object_store::GetOptions::default())
            .await
            .map_err(|e| self.store_error(Op::Get, action(), key, &e))?;
        let too_large = |size| OffloadError::TooLarge {
            key: key.clone(),
            location: self.location(key),
            size,
            max_bytes,
        };
        if got.meta.size > max_bytes {
            return Err(too_large(got.meta.size));
        }
        let mut body = Vec::with_capacity(got.meta.size as usize);
        let mut stream = got.into_stream();
        while let Some(chunk) = stream
            .try_next()
            .await
            .map_err(|e| self.store_error(Op::Get, action(), key, &e))?
        {
            if (body.len() + chunk.len()) as u64 > max_bytes {
                return Err(too_large((body.len() + chunk.len()) as u64));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// `key`'s path in the store (prefix prepended).
    pub(crate) fn path(&self, key: &ObjectKey) -> Result<StorePath, OffloadError> {
        let full = if self.prefix.is_empty() {
            key.as_str().to_owned()
        } else {
            format!("{}/{}", self.prefix, key.as_str())
        };
        StorePath::parse(&full).map_err(|e| OffloadError::Key {
            key: key.to_string(),
            problem: e.to_string(),
        })
    }

    /// The key of a listed path, or `None` when it is outside the prefix or not a valid key.
    fn key_of(&self, location: &StorePath) -> Option<ObjectKey> {
        let raw = location.as_ref();
        let rest = if self.prefix.is_empty() {
            raw
        } else {
            raw.strip_prefix(self.prefix.as_str())?.strip_prefix('/')?
        };
        ObjectKey::parse(rest).ok()
    }

    /// `s3://bucket/prefix/key` or `file:///dir/key`, for messages.
    pub(crate) fn location(&self, key: &ObjectKey) -> String {
        format!("{}/{key}", self.base.trim_end_matches('/'))
    }

    pub(crate) fn store_error(
        &self,
        op: Op,
        action: String,
        key: &ObjectKey,
        err: &object_store::Error,
    ) -> OffloadError {
        let (failure, hint) = classify(err, op, &self.endpoint, self.credentials);
        OffloadError::Store {
            action,
            key: key.clone(),
            failure,
            hint,
            source: StoreDetail(chain_text(err)),
        }
    }
}

fn open_s3(
    config: &StoreConfig,
    bucket: &str,
    prefix: String,
) -> Result<Store, object_store::Error> {
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    if let Some(endpoint) = &config.endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    if let Some(region) = &config.region {
        builder = builder.with_region(region);
    }
    if let Some(c) = &config.credentials {
        builder = builder
            .with_access_key_id(&c.access_key_id)
            .with_secret_access_key(&c.secret_access_key);
        if let Some(token) = &c.session_token {
            builder = builder.with_token(token);
        }
    }
    let credentials = if builder
        .get_config_value(&AmazonS3ConfigKey::AccessKeyId)
        .is_some()
    {
        CredentialSource::Keys
    } else if [
        AmazonS3ConfigKey::WebIdentityTokenFile,
        AmazonS3ConfigKey::ContainerCredentialsRelativeUri,
        AmazonS3ConfigKey::ContainerCredentialsFullUri,
    ]
    .iter()
    .any(|k| builder.get_config_value(k).is_some())
    {
        CredentialSource::Role
    } else {
        CredentialSource::InstanceMetadata
    };
    let region = builder
        .get_config_value(&AmazonS3ConfigKey::Region)
        .unwrap_or_else(|| "us-east-1".to_owned());
    let endpoint = builder
        .get_config_value(&AmazonS3ConfigKey::Endpoint)
        .map_or_else(
            || format!("https://s3.{region}.amazonaws.com"),
            |e| memwatchdog_exporter::redact_url(&e),
        );
    let builder = builder
        .with_allow_http(true)
        .with_checksum_algorithm(Checksum::SHA256)
        .with_config(
            AmazonS3ConfigKey::Client(ClientConfigKey::Timeout),
            format!("{}ms", config.request_timeout.as_millis()),
        )
        .with_retry(RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: config.request_retries,
            retry_timeout: Duration::from_secs(180),
        });
    let s3 = builder.build()?;
    let base: Arc<str> = if prefix.is_empty() {
        format!("s3://{bucket}").into()
    } else {
        format!("s3://{bucket}/{prefix}").into()
    };
    let from = match credentials {
        CredentialSource::Keys => "access key",
        CredentialSource::Role => "the pod's web identity / container role",
        CredentialSource::InstanceMetadata | CredentialSource::None => {
            "instance metadata (no AWS_ACCESS_KEY_ID set)"
        }
    };
    let part = if config.part_size % (1024 * 1024) == 0 {
        format!("{} MiB", config.part_size / (1024 * 1024))
    } else {
        format!("{} bytes", config.part_size)
    };
    let description = format!(
        "{base} (endpoint {endpoint}, region {region}, credentials: {from}, parts of {part}, \
         {} in flight)",
        config.parts_in_flight
    );
    Ok(Store {
        inner: Arc::new(s3),
        prefix,
        base,
        endpoint: endpoint.into(),
        description: description.into(),
        credentials,
        s3: true,
        part_size: config.part_size,
        parts_in_flight: config.parts_in_flight,
    })
}
