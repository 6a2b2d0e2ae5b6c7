//! `Store` against a real S3 server (moto): single PUT and multipart uploads checked by
//! downloading them back, the checks a restarted agent makes, listing and reading reports,
//! and failures: a file that changes meanwhile, a connection cut mid-upload, a server down
//! and back, a missing bucket.

mod common;

use std::time::{Duration, UNIX_EPOCH};

use common::moto::Moto;
use common::proxy::{Fault, Proxy};
use common::{file_sha256, random_file, s3_checksum, s3_config, sha256_hex, test_credentials};
use futures_util::TryStreamExt as _;
use memwatchdog_offload::{ObjectKey, OffloadError, SHA256_METADATA, Store};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as StorePath;
use object_store::{Attribute, ObjectStore, ObjectStoreExt as _};
use sha2::{Digest as _, Sha256};

const MIB: u64 = 1024 * 1024;

/// A plain `object_store` client for the bucket, to look at what `Store` stored.
fn raw_client(endpoint: &str, bucket: &str) -> impl ObjectStore {
    let c = test_credentials();
    AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_access_key_id(c.access_key_id)
        .with_secret_access_key(c.secret_access_key)
        .with_allow_http(true)
        .build()
        .unwrap()
}

/// SHA-256 and size of an object, streamed.
async fn download_sha256(client: &impl ObjectStore, path: &str) -> (String, u64) {
    let mut stream = client
        .get(&StorePath::from(path))
        .await
        .unwrap()
        .into_stream();
    let mut h = Sha256::new();
    let mut len = 0;
    while let Some(chunk) = stream.try_next().await.unwrap() {
        h.update(&chunk);
        len += chunk.len() as u64;
    }
    (common::hex(&h.finalize()), len)
}

fn key(name: &str) -> ObjectKey {
    ObjectKey::artifact(
        "shop",
        "api-1",
        UNIX_EPOCH + Duration::from_secs(1_769_904_000),
        name,
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_file_one_put_then_found_listed_and_read() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("heaps");
    let store = Store::open(&s3_config(&moto.endpoint(), "s3://heaps/team/prod")).unwrap();
    let described = store.describe();
    assert!(described.contains("s3://heaps/team/prod"), "{described}");
    assert!(described.contains(&moto.endpoint()), "{described}");
    assert!(
        !described.contains(&test_credentials().secret_access_key),
        "{described}"
    );

    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("leak.json");
    let text = br#"{"top_suspect":"Map retained by cache"}"#.repeat(2_000);
    std::fs::write(&report, &text).unwrap();
    let k = key("leak.json");

    assert!(!store.find_uploaded(&k, text.len() as u64).await.unwrap());
    let up = store.upload(&report, &k).await.unwrap();
    assert_eq!((up.parts, up.bytes, &up.key), (1, text.len() as u64, &k));
    assert_eq!(up.sha256, sha256_hex(&text));

    // Under the prefix, with the whole file's SHA-256 as metadata.
    let raw = raw_client(&moto.endpoint(), "heaps");
    let got = raw
        .get(&StorePath::from(format!("team/prod/{k}")))
        .await
        .unwrap();
    assert_eq!(
        got.attributes
            .get(&Attribute::Metadata(SHA256_METADATA.into()))
            .map(AsRef::as_ref),
        Some(up.sha256.as_str())
    );

    // What a restarted agent checks.
    assert!(store.find_uploaded(&k, text.len() as u64).await.unwrap());
    assert!(
        !store
            .find_uploaded(&k, text.len() as u64 + 1)
            .await
            .unwrap()
    );
    assert!(!store.find_uploaded(&key("other.json"), 1).await.unwrap());

    // A second artifact of the pod on another day, and one of another pod.
    let snapshot = random_file(dir.path(), "a.heapsnapshot", 1000, 7);
    let later = ObjectKey::artifact(
        "shop",
        "api-1",
        UNIX_EPOCH + Duration::from_secs(1_770_000_000),
        "a.heapsnapshot",
    )
    .unwrap();
    store.upload(&snapshot, &later).await.unwrap();
    // Another pod whose name starts with this one's: not in this pod's listing.
    let elsewhere = ObjectKey::artifact("shop", "api-10", UNIX_EPOCH, "b.json").unwrap();
    store.upload(&report, &elsewhere).await.unwrap();
    // An empty file is an empty object.
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, b"").unwrap();
    let up = store
        .upload(
            &empty,
            &ObjectKey::artifact("shop", "api-10", UNIX_EPOCH, "e.json").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        (up.bytes, up.parts, up.sha256.as_str()),
        (0, 1, sha256_hex(b"").as_str())
    );

    let listed = store
        .list(&ObjectKey::pod_dir("shop", "api-1").unwrap())
        .await
        .unwrap();
    let keys: Vec<_> = listed.iter().map(|o| (o.key.as_str(), o.size)).collect();
    assert_eq!(
        keys,
        [
            ("shop/api-1/2026-02-01/leak.json", text.len() as u64),
            ("shop/api-1/2026-02-02/a.heapsnapshot", 1000),
        ]
    );
    assert!(listed.iter().all(|o| o.last_modified > UNIX_EPOCH));
    assert!(
        store
            .list(&ObjectKey::pod_dir("shop", "nobody").unwrap())
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(store.get(&k, 1 << 20).await.unwrap(), text);
    let too_large = store.get(&k, 100).await.unwrap_err();
    assert_eq!(too_large.reason(), "too_large", "{too_large}");
    assert!(
        too_large
            .to_string()
            .contains("s3://heaps/team/prod/shop/api-1/2026-02-01/leak.json"),
        "{too_large}"
    );
    let missing = store.get(&key("missing.json"), 100).await.unwrap_err();
    assert_eq!(missing.reason(), "rejected", "{missing}");
    assert!(missing.to_string().contains("no such object"), "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_file_goes_up_in_parts_and_comes_back_identical() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("heaps");
    let mut config = s3_config(&moto.endpoint(), "s3://heaps");
    config.part_size = 16 * MIB as usize; // the default
    let store = Store::open(&config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let size = 300 * MIB + 12_345;
    let file = random_file(dir.path(), "big.heapsnapshot", size, 42);
    let expected = file_sha256(&file);

    let k = key("big.heapsnapshot");
    let up = store.upload(&file, &k).await.unwrap();
    eprintln!(
        "uploaded {} bytes in {} parts in {:?}",
        up.bytes, up.parts, up.duration
    );
    assert_eq!(up.bytes, size);
    assert_eq!(up.parts, size.div_ceil(16 * MIB) as usize); // 19
    assert_eq!(up.sha256, expected);
    assert!(store.find_uploaded(&k, size).await.unwrap());
    assert_eq!(moto.unfinished_uploads("heaps"), 0);

    let raw = raw_client(&moto.endpoint(), "heaps");
    assert_eq!(download_sha256(&raw, k.as_str()).await, (expected, size));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_changes_during_the_upload_is_not_stored() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("heaps");
    // Hold the traffic once the first part is under way, change the file, then let it go.
    let proxy = Proxy::start(moto.port, Fault::PauseAfter(MIB)).await;
    let mut config = s3_config(&proxy.endpoint(), "s3://heaps");
    config.parts_in_flight = 1;
    let store = Store::open(&config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "growing.heapsnapshot", 3 * 5 * MIB + 100, 1);
    let k = key("growing.heapsnapshot");

    let upload = tokio::spawn({
        let (store, file, k) = (store.clone(), file.clone(), k.clone());
        async move { store.upload(&file, &k).await }
    });
    proxy.wait_paused().await;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"more"))
        .unwrap();
    proxy.release();

    let err = upload.await.unwrap().unwrap_err();
    assert_eq!(err.reason(), "changed", "{err}");
    assert!(matches!(err, OffloadError::Changed { .. }));
    let text = err.to_string();
    assert!(
        text.contains("growing.heapsnapshot") && text.contains("size went from"),
        "{text}"
    );
    assert!(!store.find_uploaded(&k, 3 * 5 * MIB + 104).await.unwrap());
    assert!(
        store
            .list(&ObjectKey::pod_dir("shop", "api-1").unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        moto.unfinished_uploads("heaps"),
        0,
        "the multipart upload was not aborted"
    );

    // Once the writer is done, it goes up.
    let up = store.upload(&file, &k).await.unwrap();
    assert_eq!(up.bytes, 3 * 5 * MIB + 104);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_mid_upload_is_retried() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("heaps");
    let proxy = Proxy::start(moto.port, Fault::CutOnceAfter(8 * MIB)).await;
    let store = Store::open(&s3_config(&proxy.endpoint(), "s3://heaps")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "cut.heapsnapshot", 30 * MIB, 3);
    let k = key("cut.heapsnapshot");

    let up = store.upload(&file, &k).await.unwrap();
    assert_eq!(proxy.cuts(), 1);
    assert_eq!(up.parts, 6);
    let raw = raw_client(&moto.endpoint(), "heaps");
    assert_eq!(
        download_sha256(&raw, k.as_str()).await,
        (file_sha256(&file), 30 * MIB)
    );
    assert_eq!(moto.unfinished_uploads("heaps"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_without_retries_fails_cleanly_then_the_next_upload_works() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("heaps");
    let proxy = Proxy::start(moto.port, Fault::CutOnceAfter(8 * MIB)).await;
    let mut config = s3_config(&proxy.endpoint(), "s3://heaps");
    config.request_retries = 0;
    let store = Store::open(&config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "cut.heapsnapshot", 30 * MIB, 3);
    let k = key("cut.heapsnapshot");

    let err = store.upload(&file, &k).await.unwrap_err();
    eprintln!("{:#}", anyhow_like(&err));
    assert_eq!(proxy.cuts(), 1);
    assert_eq!(err.reason(), "network", "{err}");
    let text = err.to_string();
    for part in [
        "cut.heapsnapshot",
        "s3://heaps/shop/api-1/2026-02-01/cut.heapsnapshot",
        &proxy.endpoint(),
    ] {
        assert!(text.contains(part), "{part} not in: {text}");
    }
    assert!(!store.find_uploaded(&k, 30 * MIB).await.unwrap());
    assert_eq!(
        moto.unfinished_uploads("heaps"),
        0,
        "the multipart upload was not aborted"
    );

    let up = store.upload(&file, &k).await.unwrap();
    assert_eq!(up.sha256, file_sha256(&file));
    assert!(store.find_uploaded(&k, 30 * MIB).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_down_is_a_network_error_naming_the_endpoint_then_back_it_works() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("heaps");
    let mut proxy = Proxy::start(moto.port, Fault::None).await;
    let mut config = s3_config(&proxy.endpoint(), "s3://heaps");
    config.request_retries = 1;
    let store = Store::open(&config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let small = random_file(dir.path(), "r.json", 10_000, 5);
    let large = random_file(dir.path(), "h.heapsnapshot", 12 * MIB, 6);
    store.upload(&small, &key("first.json")).await.unwrap();

    proxy.stop().await;
    for (file, k) in [(&small, key("r.json")), (&large, key("h.heapsnapshot"))] {
        let err = store.upload(file, &k).await.unwrap_err();
        eprintln!("{:#}", anyhow_like(&err));
        assert_eq!(err.reason(), "network", "{err}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("cannot connect to {}", proxy.endpoint())),
            "{text}"
        );
        assert!(text.contains("check --endpoint"), "{text}");
    }
    let err = store
        .find_uploaded(&key("r.json"), 10_000)
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "network", "{err}");

    proxy.restart().await;
    proxy.note_checksums();
    store.upload(&small, &key("r.json")).await.unwrap();
    let up = store.upload(&large, &key("h.heapsnapshot")).await.unwrap();
    assert_eq!(up.parts, 3);
    assert_eq!(moto.unfinished_uploads("heaps"), 0);

    // Each request carried its payload's SHA-256 for the server to check (moto 5.2.1 does
    // not check it; S3 and MinIO do).
    let mut expected = vec![s3_checksum(&std::fs::read(&small).unwrap())];
    let large = std::fs::read(&large).unwrap();
    expected.extend(large.chunks(5 * MIB as usize).map(s3_checksum));
    let mut seen = proxy.checksums();
    expected.sort();
    seen.sort();
    assert_eq!(seen, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_upload_leaves_no_parts_behind() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("heaps");
    let proxy = Proxy::start(moto.port, Fault::PauseAfter(MIB)).await;
    let store = Store::open(&s3_config(&proxy.endpoint(), "s3://heaps")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "h.heapsnapshot", 12 * MIB, 8);
    let upload = tokio::spawn({
        let (store, file) = (store.clone(), file.clone());
        async move { store.upload(&file, &key("h.heapsnapshot")).await }
    });
    proxy.wait_paused().await;
    assert_eq!(moto.unfinished_uploads("heaps"), 1);
    // The agent is shutting down: its upload future is dropped mid-part.
    upload.abort();
    assert!(upload.await.unwrap_err().is_cancelled());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while moto.unfinished_uploads("heaps") > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the multipart upload was not aborted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    proxy.release();
    assert!(
        !store
            .find_uploaded(&key("h.heapsnapshot"), 12 * MIB)
            .await
            .unwrap()
    );
}

#[test]
fn base64_of_the_tests_is_standard() {
    assert_eq!(common::base64(b"hello\n"), "aGVsbG8K");
    assert_eq!(common::base64(b"ab"), "YWI=");
    assert_eq!(common::base64(b"a"), "YQ==");
    assert_eq!(common::base64(b""), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_is_rejected_with_what_to_do() {
    let Some(moto) = Moto::start() else { return };
    let store = Store::open(&s3_config(&moto.endpoint(), "s3://no-such-bucket")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, len) in [("r.json", 10), ("h.heapsnapshot", 6 * MIB)] {
        let file = random_file(dir.path(), name, len, 9);
        let err = store.upload(&file, &key(name)).await.unwrap_err();
        eprintln!("{:#}", anyhow_like(&err));
        assert_eq!(err.reason(), "rejected", "{err}");
        assert!(
            err.to_string().contains("the bucket does not exist"),
            "{err}"
        );
    }
}

/// The error and its sources, as `mw` prints them (`{:#}` of anyhow).
fn anyhow_like(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
