//! `Store` on a local directory (`file:///dir`: a mounted volume): the same uploads, checks,
//! listing and reads as on S3, and the errors that need no server.

mod common;

use std::time::{Duration, UNIX_EPOCH};

use common::{file_sha256, random_file};
use memwatchdog_offload::{ObjectKey, Store, StoreConfig};

const MIB: u64 = 1024 * 1024;

fn key(pod: &str, name: &str) -> ObjectKey {
    ObjectKey::artifact(
        "shop",
        pod,
        UNIX_EPOCH + Duration::from_secs(1_769_904_000),
        name,
    )
    .unwrap()
}

fn open(dir: &std::path::Path) -> Store {
    let mut config = StoreConfig::new(format!("file://{}", dir.display()));
    config.part_size = MIB as usize;
    Store::open(&config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_checks_lists_and_reads_in_a_directory() {
    let root = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let store = open(root.path());
    assert!(
        store
            .describe()
            .contains(&format!("file://{}", root.path().display()))
    );

    let report = random_file(work.path(), "leak.json", 1000, 1);
    let snapshot = random_file(work.path(), "leak.heapsnapshot", 5 * MIB + 3, 2);
    let (kr, ks) = (key("api-1", "leak.json"), key("api-1", "leak.heapsnapshot"));

    assert!(!store.find_uploaded(&ks, 5 * MIB + 3).await.unwrap());
    let up = store.upload(&report, &kr).await.unwrap();
    assert_eq!((up.parts, up.bytes), (1, 1000));
    assert_eq!(up.sha256, file_sha256(&report));
    let up = store.upload(&snapshot, &ks).await.unwrap();
    assert_eq!((up.parts, up.bytes), (6, 5 * MIB + 3));
    assert_eq!(up.sha256, file_sha256(&snapshot));

    // The object is a plain file at dir/key.
    let stored = root.path().join(ks.as_str());
    assert_eq!(file_sha256(&stored), file_sha256(&snapshot));
    assert!(store.find_uploaded(&ks, 5 * MIB + 3).await.unwrap());
    assert!(!store.find_uploaded(&ks, 5 * MIB).await.unwrap());

    store
        .upload(&report, &key("api-2", "other.json"))
        .await
        .unwrap();
    let listed = store
        .list(&ObjectKey::pod_dir("shop", "api-1").unwrap())
        .await
        .unwrap();
    let keys: Vec<_> = listed.iter().map(|o| (o.key.as_str(), o.size)).collect();
    assert_eq!(
        keys,
        [
            ("shop/api-1/2026-02-01/leak.heapsnapshot", 5 * MIB + 3),
            ("shop/api-1/2026-02-01/leak.json", 1000),
        ]
    );
    assert!(
        store
            .list(&ObjectKey::pod_dir("shop", "nobody").unwrap())
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(
        store.get(&kr, 1000).await.unwrap(),
        std::fs::read(&report).unwrap()
    );
    let err = store.get(&kr, 999).await.unwrap_err();
    assert_eq!(err.reason(), "too_large", "{err}");
    let err = store
        .get(&key("api-1", "missing.json"), 999)
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "rejected", "{err}");

    // Uploading again replaces the object.
    let newer = random_file(work.path(), "leak.json", 2000, 3);
    store.upload(&newer, &kr).await.unwrap();
    assert_eq!(
        store.get(&kr, 2000).await.unwrap(),
        std::fs::read(&newer).unwrap()
    );
}

#[test]
fn a_missing_directory_is_a_config_error() {
    let root = tempfile::tempdir().unwrap();
    let missing = root.path().join("not-mounted");
    let err = Store::open(&StoreConfig::new(format!("file://{}", missing.display()))).unwrap_err();
    assert_eq!(err.reason(), "config", "{err}");
    assert!(
        err.to_string()
            .contains("create it or mount the volume there"),
        "{err}"
    );
}

#[tokio::test]
async fn what_is_not_a_readable_regular_file_is_an_io_error_naming_it() {
    let root = tempfile::tempdir().unwrap();
    let store = open(root.path());
    let missing = root.path().join("gone.heapsnapshot");
    for (path, says) in [
        (missing.as_path(), "cannot inspect"),
        (root.path(), "cannot upload"),
    ] {
        let err = store.upload(path, &key("api-1", "x")).await.unwrap_err();
        assert_eq!(err.reason(), "io", "{err}");
        let text = err.to_string();
        assert!(
            text.contains(says) && text.contains(&path.display().to_string()),
            "{text}"
        );
    }
}
