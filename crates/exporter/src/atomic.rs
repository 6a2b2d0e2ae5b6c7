//! [`AtomicF64`]: a lock-free `f64` cell (bits in an `AtomicU64`) for gauges and sums.
//!
//! `NaN` doubles as "not set yet": the encoder writes such a gauge's sample as `NaN`, so a
//! value that is unknown (a slope during warm-up) is visibly unknown rather than a fake 0.

use std::sync::atomic::{AtomicU64, Ordering};

/// An `f64` that can be shared between threads without a lock.
#[derive(Debug)]
pub(crate) struct AtomicF64(AtomicU64);

impl AtomicF64 {
    /// A cell holding `NaN` (unset).
    pub(crate) fn unset() -> Self {
        Self::new(f64::NAN)
    }

    pub(crate) fn new(v: f64) -> Self {
        AtomicF64(AtomicU64::new(v.to_bits()))
    }

    pub(crate) fn load(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    pub(crate) fn store(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }

    /// Adds `delta` (compare-and-swap loop; uncontended in practice).
    pub(crate) fn add(&self, delta: f64) {
        let mut current = self.0.load(Ordering::Relaxed);
        loop {
            let next = (f64::from_bits(current) + delta).to_bits();
            match self
                .0
                .compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(seen) => current = seen,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_load_add() {
        let a = AtomicF64::new(1.5);
        a.add(2.25);
        assert!((a.load() - 3.75).abs() < f64::EPSILON);
        a.store(-0.5);
        assert!((a.load() + 0.5).abs() < f64::EPSILON);
        assert!(AtomicF64::unset().load().is_nan());
    }
}
