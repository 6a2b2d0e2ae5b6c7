//! The replacement text of a scrubbed string: as many characters as the original, drawn
//! from `[A-Za-z0-9]` by a keyed hash (`SipHash-2-4`) of the original, so equal strings get
//! equal replacements and, without the key, a replacement says nothing about its original
//! (not even by hashing guesses).

/// Characters of a replacement.
const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Characters taken from one 64-bit hash (62^10 < 2^64).
const PER_BLOCK: usize = 10;

/// The secret of one scrub: 256 bits, two `SipHash` keys. `mw scrub` draws a fresh one from
/// the operating system for every run and forgets it afterwards.
#[derive(Clone)]
pub struct ScrubKey {
    /// The key of the digest's first half and of the text blocks.
    a: (u64, u64),
    /// The key of the digest's second half.
    b: (u64, u64),
}

impl std::fmt::Debug for ScrubKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScrubKey(..)")
    }
}

impl ScrubKey {
    /// A key from 32 secret random bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let word = |i: usize| {
            let mut w = [0; 8];
            w.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            u64::from_le_bytes(w)
        };
        Self {
            a: (word(0), word(1)),
            b: (word(2), word(3)),
        }
    }

    /// Appends to `out` the replacement of `text` (a string's decoded UTF-8), `chars`
    /// characters long. The 128-bit keyed digest of `text` selects the characters, so the
    /// same `text` and key always give the same replacement.
    pub(crate) fn replacement(&self, text: &[u8], chars: usize, out: &mut Vec<u8>) {
        let d0 = siphash24(self.a, text);
        let d1 = siphash24(self.b, text);
        let mut block = [0u8; 24];
        block[..8].copy_from_slice(&d0.to_le_bytes());
        block[8..16].copy_from_slice(&d1.to_le_bytes());
        let mut left = chars;
        let mut counter = 0u64;
        while left > 0 {
            block[16..].copy_from_slice(&counter.to_le_bytes());
            let mut v = siphash24(self.a, &block);
            for _ in 0..left.min(PER_BLOCK) {
                out.push(ALPHABET[(v % 62) as usize]);
                v /= 62;
            }
            left = left.saturating_sub(PER_BLOCK);
            counter += 1;
        }
    }
}

/// SipHash-2-4 of `data` under key `(k0, k1)` (Aumasson and Bernstein, 2012).
fn siphash24((k0, k1): (u64, u64), data: &[u8]) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let m = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        v[3] ^= m;
        sip_round(&mut v);
        sip_round(&mut v);
        v[0] ^= m;
    }
    let mut last = [0u8; 8];
    last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    last[7] = data.len() as u8;
    let m = u64::from_le_bytes(last);
    v[3] ^= m;
    sip_round(&mut v);
    sip_round(&mut v);
    v[0] ^= m;
    v[2] ^= 0xff;
    for _ in 0..4 {
        sip_round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

#[inline]
fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13);
    v[1] ^= v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16);
    v[3] ^= v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21);
    v[3] ^= v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17);
    v[1] ^= v[2];
    v[2] = v[2].rotate_left(32);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key 00 01 .. 0f of the `SipHash` paper's test vectors.
    const PAPER_KEY: (u64, u64) = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);

    #[test]
    fn siphash_matches_the_reference_vectors() {
        // Appendix A of the paper: the message 00 01 .. 0e.
        let msg: Vec<u8> = (0..15).collect();
        assert_eq!(siphash24(PAPER_KEY, &msg), 0xa129_ca61_49be_45e5);
        // The first and the 64th vector of the reference implementation's vectors.h.
        assert_eq!(siphash24(PAPER_KEY, &[]), 0x726f_db47_dd0e_0e31);
        let msg: Vec<u8> = (0..63).collect();
        assert_eq!(siphash24(PAPER_KEY, &msg), 0x958a_324c_eb06_4572);
    }

    fn text(key: &ScrubKey, s: &str, chars: usize) -> String {
        let mut out = Vec::new();
        key.replacement(s.as_bytes(), chars, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn replacements_keep_the_length_and_equality_and_depend_on_the_key() {
        let key = ScrubKey::from_bytes([7; 32]);
        let other = ScrubKey::from_bytes([8; 32]);
        for n in [0, 1, 9, 10, 11, 25, 1024] {
            let s = "x".repeat(n);
            let r = text(&key, &s, n);
            assert_eq!(r.len(), n);
            assert!(r.bytes().all(|b| b.is_ascii_alphanumeric()), "{r}");
            assert_eq!(r, text(&key, &s, n));
        }
        let a = text(&key, "secret-token-1", 14);
        assert_ne!(a, text(&key, "secret-token-2", 14));
        assert_ne!(a, text(&other, "secret-token-1", 14));
        assert_ne!(a, "secret-token-1");
    }
}
