//! [`Store::upload`]: one finished file to one object, with the checks its documentation
//! lists: one read with SHA-256, a PUT or a multipart upload with bounded memory, the file's
//! stamp compared before and after, a HEAD after completion, aborts on every failure.

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use object_store::path::Path as StorePath;
use object_store::{
    Attribute, Attributes, MultipartUpload, ObjectStoreExt, PutMultipartOptions, PutOptions,
    PutPayload,
};
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use crate::error::{OffloadError, Op};
use crate::key::ObjectKey;
use crate::store::Store;

/// S3's largest number of parts in one multipart upload.
const MAX_PARTS: u64 = 10_000;

/// The object metadata key (`x-amz-meta-sha256`) of the whole file's SHA-256, when recorded.
pub const SHA256_METADATA: &str = "sha256";

/// What one upload stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// The object's key.
    pub key: ObjectKey,
    /// The file's (and object's) size.
    pub bytes: u64,
    /// SHA-256 of the whole file as read, lowercase hex.
    pub sha256: String,
    /// Requests that carried data: 1 for a single PUT, else the number of parts.
    pub parts: usize,
    /// From opening the file to the verifying HEAD.
    pub duration: Duration,
}

impl Store {
    /// Uploads the finished file `file` as `key` (the store's prefix prepended), replacing
    /// an object already there.
    ///
    /// - The file is read once, a part at a time, and hashed (SHA-256, the `sha2` crate) as
    ///   it is read: [`Uploaded::sha256`]. At most `parts_in_flight` parts are being sent
    ///   while the next is read, so memory stays near `(parts_in_flight + 1) × part_size`
    ///   whatever the file's size.
    /// - A file up to `part_size` goes up in one PUT, a larger one as a multipart upload
    ///   (parts of `part_size`, grown if S3's 10,000 parts would not do).
    /// - **Verified by the server** (S3): every request carries its payload's SHA-256
    ///   (`x-amz-checksum-sha256`, `object_store`'s `Checksum::SHA256`), and S3 (and `MinIO`)
    ///   refuse a part or object whose bytes do not match it; a multipart object's checksum
    ///   is S3's checksum of its parts' checksums. (moto 5.2.1, the test server, accepts a
    ///   wrong one: the tests check the headers sent, not the server's check.)
    /// - **Recorded**: a single-PUT object carries the whole file's SHA-256 as metadata
    ///   (`x-amz-meta-sha256`, [`SHA256_METADATA`]); a multipart object cannot (its metadata
    ///   is fixed when the upload starts, before the file is read), so the caller logs
    ///   [`Uploaded::sha256`]. A local directory stores no metadata.
    /// - **Not changed meanwhile**: the file's size, modification time and inode are taken
    ///   when it is opened and again once it has been read; if they differ (or the file is
    ///   shorter than it was), nothing is stored: [`OffloadError::Changed`], and a multipart
    ///   upload is aborted before it is completed.
    /// - **Complete**: after completion a HEAD must find the object with the file's size, else
    ///   [`OffloadError::Verify`].
    /// - **Nothing half-done left**: a failed part, a read error or a dropped future aborts
    ///   the multipart upload, so no object appears and no parts stay behind (a process
    ///   killed mid-upload leaves parts that a bucket lifecycle rule for incomplete multipart
    ///   uploads removes).
    pub async fn upload(&self, file: &Path, key: &ObjectKey) -> Result<Uploaded, OffloadError> {
        let started = Instant::now();
        let path = self.path(key)?;
        let mut reader = Reader::open(file).await?;
        let size = reader.before.len;
        let parts = if size <= self.part_size as u64 {
            self.put_whole(&mut reader, &path, key).await?;
            1
        } else {
            self.put_parts(&mut reader, &path, key).await?
        };
        let sha256 = reader.finish_hash();
        self.verify(file, key, &path, size).await?;
        Ok(Uploaded {
            key: key.clone(),
            bytes: size,
            sha256,
            parts,
            duration: started.elapsed(),
        })
    }

    /// One PUT: the whole file is in memory (it is at most one part).
    async fn put_whole(
        &self,
        reader: &mut Reader,
        path: &StorePath,
        key: &ObjectKey,
    ) -> Result<(), OffloadError> {
        let data = reader.read(reader.before.len as usize, self, key).await?;
        reader.check_unchanged(self, key).await?;
        let mut opts = PutOptions::default();
        if self.s3 {
            let mut attributes = Attributes::new();
            attributes.insert(
                Attribute::Metadata(SHA256_METADATA.into()),
                reader.current_hash().into(),
            );
            opts.attributes = attributes;
        }
        self.inner
            .put_opts(path, PutPayload::from(data), opts)
            .await
            .map_err(|e| self.store_error(Op::Upload, self.upload_action(reader, key), key, &e))?;
        Ok(())
    }

    /// A multipart upload; returns the number of parts.
    async fn put_parts(
        &self,
        reader: &mut Reader,
        path: &StorePath,
        key: &ObjectKey,
    ) -> Result<usize, OffloadError> {
        let size = reader.before.len;
        let part_size = self.part_size_for(size);
        let upload = self
            .inner
            .put_multipart_opts(path, PutMultipartOptions::default())
            .await
            .map_err(|e| self.store_error(Op::Upload, self.upload_action(reader, key), key, &e))?;
        let mut pending = Pending(Some(upload));
        let mut sending: JoinSet<object_store::Result<()>> = JoinSet::new();
        let mut parts = 0;
        let sent = async {
            let mut left = size;
            while left > 0 {
                while sending.len() >= self.parts_in_flight {
                    self.part_sent(sending.join_next().await, reader, key)?;
                }
                let n = left.min(part_size);
                let data = reader.read(n as usize, self, key).await?;
                left -= n;
                sending.spawn(pending.upload()?.put_part(PutPayload::from(data)));
                parts += 1;
            }
            reader.check_unchanged(self, key).await?;
            while !sending.is_empty() {
                self.part_sent(sending.join_next().await, reader, key)?;
            }
            Ok::<(), OffloadError>(())
        }
        .await;
        if let Err(e) = sent {
            sending.abort_all();
            pending.abort().await;
            return Err(e);
        }
        pending
            .complete()
            .await
            .map_err(|e| self.store_error(Op::Upload, self.upload_action(reader, key), key, &e))?;
        Ok(parts)
    }

    /// The outcome of one part's request.
    fn part_sent(
        &self,
        joined: Option<Result<object_store::Result<()>, tokio::task::JoinError>>,
        reader: &Reader,
        key: &ObjectKey,
    ) -> Result<(), OffloadError> {
        let result = match joined {
            Some(Ok(result)) => result,
            Some(Err(join)) => Err(object_store::Error::from(join)),
            None => Ok(()),
        };
        result.map_err(|e| self.store_error(Op::Upload, self.upload_action(reader, key), key, &e))
    }

    /// The part size for a file of `size` bytes: the configured one, grown (to whole MiB)
    /// when S3 would need more than 10,000 parts.
    fn part_size_for(&self, size: u64) -> u64 {
        let configured = self.part_size as u64;
        if !self.s3 || size.div_ceil(configured) <= MAX_PARTS {
            return configured;
        }
        let mib = 1024 * 1024;
        size.div_ceil(MAX_PARTS).div_ceil(mib) * mib
    }

    /// After completion: the object must have the file's size.
    async fn verify(
        &self,
        file: &Path,
        key: &ObjectKey,
        path: &StorePath,
        size: u64,
    ) -> Result<(), OffloadError> {
        let meta = self.inner.head(path).await.map_err(|e| {
            self.store_error(
                Op::Check,
                format!(
                    "checking {} after uploading {}",
                    self.location(key),
                    file.display()
                ),
                key,
                &e,
            )
        })?;
        if meta.size == size {
            Ok(())
        } else {
            Err(OffloadError::Verify {
                key: key.clone(),
                location: self.location(key),
                path: file.to_owned(),
                expected: size,
                found: meta.size,
            })
        }
    }

    fn upload_action(&self, reader: &Reader, key: &ObjectKey) -> String {
        format!(
            "uploading {} to {}",
            reader.path.display(),
            self.location(key)
        )
    }
}

/// A multipart upload not yet completed: aborted if it is dropped (the caller's future was
/// cancelled), so its parts do not linger.
struct Pending(Option<Box<dyn MultipartUpload>>);

impl Pending {
    fn upload(&mut self) -> Result<&mut Box<dyn MultipartUpload>, OffloadError> {
        self.0.as_mut().ok_or_else(|| OffloadError::Config {
            url: String::new(),
            problem: "internal error: multipart upload used after it ended".to_owned(),
        })
    }

    /// Best effort: the upload failed already, and that error is the one to report.
    async fn abort(mut self) {
        if let Some(mut upload) = self.0.take() {
            let _ = upload.abort().await;
        }
    }

    /// Completes the upload; aborts it if completion failed.
    async fn complete(mut self) -> object_store::Result<()> {
        let Some(mut upload) = self.0.take() else {
            return Ok(());
        };
        match upload.complete().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let _ = upload.abort().await;
                Err(e)
            }
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let Some(mut upload) = self.0.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = upload.abort().await;
            });
        }
    }
}

/// What identifies the file's content cheaply: size, modification time, inode.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: (u64, u64),
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        let inode = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let inode = (0, 0);
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
        }
    }

    /// What differs between `self` (before) and `after`, or `None`.
    fn change(&self, after: &Stamp) -> Option<String> {
        if self.inode != after.inode {
            Some("it was replaced by another file".to_owned())
        } else if self.len != after.len {
            Some(format!(
                "its size went from {} to {} bytes",
                self.len, after.len
            ))
        } else if self.modified != after.modified {
            Some("its modification time changed".to_owned())
        } else {
            None
        }
    }
}

/// The file being uploaded, read a part at a time on the blocking pool and hashed as read.
struct Reader {
    path: PathBuf,
    /// Taken while a read runs on the blocking pool.
    file: Option<std::fs::File>,
    hasher: Option<Sha256>,
    before: Stamp,
    read: u64,
}

impl Reader {
    async fn open(path: &Path) -> Result<Reader, OffloadError> {
        let io = |action, source| OffloadError::Io {
            path: path.to_owned(),
            action,
            source,
        };
        // Refuse FIFOs and devices before opening (a FIFO's open would wait for a writer).
        let meta = tokio::fs::metadata(path)
            .await
            .map_err(|e| io("inspect", e))?;
        if !meta.is_file() {
            return Err(io(
                "upload",
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"),
            ));
        }
        let owned = path.to_owned();
        let opened = tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(&owned)?;
            let meta = file.metadata()?;
            Ok::<_, std::io::Error>((file, meta))
        })
        .await
        .map_err(|e| io("open", std::io::Error::other(e)))?;
        let (file, meta) = opened.map_err(|e| io("open", e))?;
        Ok(Reader {
            path: path.to_owned(),
            file: Some(file),
            hasher: Some(Sha256::new()),
            before: Stamp::of(&meta),
            read: 0,
        })
    }

    /// The next `n` bytes. Fewer than `n` (the file shrank) is [`OffloadError::Changed`].
    async fn read(
        &mut self,
        n: usize,
        store: &Store,
        key: &ObjectKey,
    ) -> Result<Vec<u8>, OffloadError> {
        let io = |source| OffloadError::Io {
            path: self.path.clone(),
            action: "read",
            source,
        };
        let (Some(mut file), Some(mut hasher)) = (self.file.take(), self.hasher.take()) else {
            return Err(io(std::io::Error::other("read after a failed read")));
        };
        let (file, hasher, result) = tokio::task::spawn_blocking(move || {
            let mut data = Vec::with_capacity(n);
            let result = (&mut file).take(n as u64).read_to_end(&mut data);
            hasher.update(&data);
            (file, hasher, result.map(|_| data))
        })
        .await
        .map_err(|e| io(std::io::Error::other(e)))?;
        self.file = Some(file);
        self.hasher = Some(hasher);
        let data = result.map_err(io)?;
        self.read += data.len() as u64;
        if data.len() < n {
            return Err(self.changed(
                store,
                key,
                format!(
                    "it ended after {} bytes, it had {} when opened",
                    self.read, self.before.len
                ),
            ));
        }
        Ok(data)
    }

    /// [`OffloadError::Changed`] unless the file still has the stamp it had when opened.
    async fn check_unchanged(&self, store: &Store, key: &ObjectKey) -> Result<(), OffloadError> {
        let meta = tokio::fs::metadata(&self.path)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    self.changed(store, key, "it was deleted".to_owned())
                }
                _ => OffloadError::Io {
                    path: self.path.clone(),
                    action: "inspect",
                    source: e,
                },
            })?;
        match self.before.change(&Stamp::of(&meta)) {
            Some(what) => Err(self.changed(store, key, what)),
            None => Ok(()),
        }
    }

    fn changed(&self, store: &Store, key: &ObjectKey, what: String) -> OffloadError {
        OffloadError::Changed {
            path: self.path.clone(),
            key: key.clone(),
            location: store.location(key),
            what,
        }
    }

    /// The SHA-256 of what was read so far, lowercase hex.
    fn current_hash(&self) -> String {
        self.hasher
            .clone()
            .map(|h| hex(&h.finalize()))
            .unwrap_or_default()
    }

    fn finish_hash(&mut self) -> String {
        self.hasher
            .take()
            .map(|h| hex(&h.finalize()))
            .unwrap_or_default()
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::{Stamp, hex};
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f, 0xff]), "00ab7fff");
    }

    #[test]
    fn stamp_changes_are_told() {
        let before = Stamp {
            len: 10,
            modified: Some(UNIX_EPOCH),
            inode: (1, 2),
        };
        assert_eq!(before.change(&before.clone()), None);
        let grown = Stamp {
            len: 12,
            ..before.clone()
        };
        assert_eq!(
            before.change(&grown).unwrap(),
            "its size went from 10 to 12 bytes"
        );
        let touched = Stamp {
            modified: Some(UNIX_EPOCH + Duration::from_nanos(1)),
            ..before.clone()
        };
        assert!(
            before
                .change(&touched)
                .unwrap()
                .contains("modification time")
        );
        let replaced = Stamp {
            inode: (1, 3),
            ..before.clone()
        };
        assert!(before.change(&replaced).unwrap().contains("replaced"));
    }
}
