//! [`Rng`]: the one small seeded pseudo-random generator of MemWatchdog — xorshift64* with its
//! state seeded through splitmix64, so every seed (0 included) starts well mixed.
//!
//! The same seed always gives the same sequence: the detector's synthetic traces, the random
//! graphs of tests and benchmarks and the alert sender's retry jitter (seeded from the clock)
//! all draw from it. Not for cryptography.
//!
//! ```
//! use memwatchdog_rng::Rng;
//!
//! let (mut a, mut b) = (Rng::new(7), Rng::new(7));
//! assert_eq!(a.next_u64(), b.next_u64());
//! assert!((0.0..1.0).contains(&a.unit()));
//! assert!(a.below(10) < 10);
//! ```

/// A seeded xorshift64* generator; see the [crate] docs.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value, including 0).
    #[must_use]
    pub fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        // xorshift's state must not be 0.
        Self(z | 1)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `[0, 1)`, with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform in `0..n` (0 when `n` is 0), by multiplying 32 random bits with `n`.
    pub fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as u32
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(1e-300);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Exponential with the given mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// One to four random edits of `bytes`, for robustness tests of parsers: each flips a
    /// bit, replaces a byte, inserts one, or removes one; replaced and inserted bytes come
    /// from `alphabet` (the format's own characters reach further than random bytes).
    /// `bytes` must not be empty.
    pub fn mutate(&mut self, bytes: &mut Vec<u8>, alphabet: &[u8]) {
        for _ in 0..=self.below(3) {
            let at = self.below(bytes.len() as u32) as usize;
            match self.below(4) {
                0 => bytes[at] ^= 1 << self.below(8),
                1 => bytes[at] = alphabet[self.below(alphabet.len() as u32) as usize],
                2 => bytes.insert(at, alphabet[self.below(alphabet.len() as u32) as usize]),
                _ => {
                    bytes.remove(at);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn a_seed_gives_one_sequence_and_seeds_differ() {
        let draw = |seed| {
            let mut r = Rng::new(seed);
            (0..4).map(|_| r.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(0), draw(0));
        assert_ne!(draw(0), draw(1));
        // Pinned: synthetic traces and seeded tests rely on this exact sequence.
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0x7bbc_b40d_5506_82d0_u64);
    }

    #[test]
    fn ranges_hold_and_are_covered() {
        let mut r = Rng::new(42);
        let mut seen = [0u32; 10];
        for _ in 0..10_000 {
            let u = r.unit();
            assert!((0.0..1.0).contains(&u), "{u}");
            let x = r.uniform(-2.0, 3.0);
            assert!((-2.0..3.0).contains(&x), "{x}");
            seen[r.below(10) as usize] += 1;
            assert_eq!(r.below(0), 0);
            assert!(r.exp(5.0) >= 0.0);
        }
        // Each of the ten values about 1,000 times.
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
    }

    #[test]
    fn normal_and_exponential_have_their_moments() {
        let mut r = Rng::new(9);
        let n = 100_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / f64::from(n);
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / f64::from(n);
        assert!(mean.abs() < 0.02, "{mean}");
        assert!((var - 1.0).abs() < 0.03, "{var}");
        let e = (0..n).map(|_| r.exp(3.0)).sum::<f64>() / f64::from(n);
        assert!((e - 3.0).abs() < 0.05, "{e}");
    }
}
