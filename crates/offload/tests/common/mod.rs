//! Helpers for the integration tests: a real S3 server (moto), a TCP proxy that can fail on
//! purpose in front of it, test files, and hashing.

#![allow(dead_code)] // each test binary uses a different part

pub mod moto;
pub mod proxy;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use memwatchdog_offload::{Credentials, StoreConfig};
use sha2::{Digest, Sha256};

/// The keys every test store uses (moto accepts any).
pub fn test_credentials() -> Credentials {
    Credentials {
        access_key_id: "AKIDMEMWATCHDOGTEST".to_owned(),
        secret_access_key: "not-a-real-secret-0123456789".to_owned(),
        session_token: None,
    }
}

/// A config for `s3://bucket[/prefix]` at `endpoint`, with the test credentials, S3's
/// smallest parts and few, quick retries.
pub fn s3_config(endpoint: &str, url: &str) -> StoreConfig {
    let mut c = StoreConfig::new(url);
    c.endpoint = Some(endpoint.to_owned());
    c.region = Some("us-east-1".to_owned());
    c.credentials = Some(test_credentials());
    c.part_size = memwatchdog_offload::MIN_PART_SIZE;
    c.request_retries = 2;
    c
}

/// Writes `len` bytes to `dir/name`: one pseudo-random MiB (xorshift64*, seeded) repeated,
/// each 4 KiB of each copy stamped with its offset, so no two 4 KiB blocks are alike and a
/// part stored twice, out of order or shifted changes the file's hash.
pub fn random_file(dir: &Path, name: &str, len: u64, seed: u64) -> PathBuf {
    let path = dir.join(name);
    let mut out = std::fs::File::create(&path).unwrap();
    let mut x = seed | 1;
    let mut block = vec![0u8; 1 << 20];
    for chunk in block.chunks_exact_mut(8) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        chunk.copy_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    let mut offset = 0;
    while offset < len {
        for (i, page) in block.chunks_exact_mut(4096).enumerate() {
            page[..8].copy_from_slice(&(offset + i as u64 * 4096).to_le_bytes());
        }
        let n = (len - offset).min(block.len() as u64) as usize;
        out.write_all(&block[..n]).unwrap();
        offset += n as u64;
    }
    path
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// SHA-256 of a file, lowercase hex.
pub fn file_sha256(path: &Path) -> String {
    let mut h = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path).unwrap(), &mut h).unwrap();
    hex(&h.finalize())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Standard base64 with padding (how S3 headers carry checksums).
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= group.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// base64 of the SHA-256 of `bytes`: the `x-amz-checksum-sha256` of a request carrying them.
pub fn s3_checksum(bytes: &[u8]) -> String {
    base64(&Sha256::digest(bytes))
}
