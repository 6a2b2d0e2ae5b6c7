//! MemWatchdog offload: the S3 side of `mw agent`, the Kubernetes sidecar that moves what the
//! in-process watchdog writes (multi-GB heap snapshots, `.heapprofile` files, JSON and HTML
//! reports) to S3-compatible storage, or to a local directory (a mounted volume).
//!
//! - [`StoreConfig`] → [`Store::open`]: `s3://bucket[/prefix]` (AWS, or MinIO/Ceph/moto at
//!   an `http://` or `https://` endpoint; credentials from the environment like any AWS
//!   tool) or `file:///dir`, on `object_store` 0.14.
//! - [`ObjectKey`]: validated keys and the layout `<namespace>/<pod>/<YYYY-MM-DD>/<file>`.
//! - [`Store::upload`]: one finished file, multipart above the part size, bounded memory,
//!   SHA-256 of the file while it is read, per-request checksums the server verifies, refused
//!   if the file changes meanwhile, checked by a HEAD afterwards (its documentation says what
//!   is verified where).
//! - [`Store::find_uploaded`], [`Store::list`], [`Store::get`]: what a restarted agent and the
//!   Alertmanager receiver need.
//! - [`OffloadError`]: messages that say what to check, and [`OffloadError::reason`], the
//!   agent's failure label.
//!
//! ```
//! use memwatchdog_offload::ObjectKey;
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! let modified = UNIX_EPOCH + Duration::from_secs(1_769_904_000); // 2026-02-01T00:00:00Z
//! let key = ObjectKey::artifact("shop", "api-7d9f", modified, "leak.heapsnapshot").unwrap();
//! assert_eq!(key.as_str(), "shop/api-7d9f/2026-02-01/leak.heapsnapshot");
//! assert!(key.as_str().starts_with(ObjectKey::pod_dir("shop", "api-7d9f").unwrap().as_str()));
//! ```

mod config;
mod crypto;
mod date;
mod error;
mod key;
mod store;
mod upload;
mod url;

pub use config::{Credentials, MIN_PART_SIZE, StoreConfig};
pub use crypto::install_crypto;
pub use date::utc_date;
pub use error::{OffloadError, StoreDetail, StoreFailure};
pub use key::{MAX_KEY_BYTES, ObjectKey};
pub use store::{ObjectInfo, Store};
pub use upload::{SHA256_METADATA, Uploaded};
