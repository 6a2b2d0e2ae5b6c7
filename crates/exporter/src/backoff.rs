//! [`Backoff`]: exponential retry delays with jitter, for the alert sender.
//!
//! Delay `n` (0-based) is `initial × 2ⁿ`, capped at `max`, then spread by ±`jitter`
//! (a fraction) so that many processes restarted together do not retry in lockstep.
//! The random source is the workspace's [`Rng`] seeded from the clock: statistical quality
//! does not matter here, only that processes started together draw different delays.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use memwatchdog_rng::Rng;

/// Retry delay settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffConfig {
    /// First delay after a failure (default 1 s).
    pub initial: Duration,
    /// Longest delay (default 60 s).
    pub max: Duration,
    /// Random spread as a fraction of the delay, 0.0–1.0 (default 0.2: ±20 %).
    pub jitter: f64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            jitter: 0.2,
        }
    }
}

/// The state of a retry sequence.
#[derive(Debug)]
pub(crate) struct Backoff {
    config: BackoffConfig,
    /// Failures since the last success.
    failures: u32,
    rng: Rng,
}

impl Backoff {
    pub(crate) fn new(config: BackoffConfig) -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Backoff {
            config,
            failures: 0,
            rng: Rng::new(seed),
        }
    }

    /// Failures since the last success.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// Forgets past failures.
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }

    /// Records a failure and returns how long to wait before the next try, and whether
    /// this delay is longer than the previous one (a new "step", worth a log line).
    pub(crate) fn fail(&mut self) -> (Duration, bool) {
        let base = self.base(self.failures);
        let grew = self.failures == 0 || base > self.base(self.failures - 1);
        self.failures = self.failures.saturating_add(1);
        (self.spread(base), grew)
    }

    /// The un-jittered delay after `failures` previous failures.
    fn base(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.min(31));
        self.config
            .initial
            .saturating_mul(factor)
            .min(self.config.max)
    }

    fn spread(&mut self, base: Duration) -> Duration {
        let jitter = self.config.jitter.clamp(0.0, 1.0);
        if jitter == 0.0 {
            return base;
        }
        base.mul_f64(1.0 + jitter * (2.0 * self.rng.unit() - 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(BackoffConfig {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(5),
            jitter: 0.0,
        });
        let steps: Vec<_> = (0..5).map(|_| b.fail()).collect();
        let secs: Vec<_> = steps.iter().map(|(d, _)| d.as_secs()).collect();
        let grew: Vec<_> = steps.iter().map(|(_, g)| *g).collect();
        assert_eq!(secs, [1, 2, 4, 5, 5]);
        assert_eq!(grew, [true, true, true, true, false]);
        assert_eq!(b.failures(), 5);
        b.reset();
        assert_eq!(b.fail().0, Duration::from_secs(1));
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let mut b = Backoff::new(BackoffConfig {
            initial: Duration::from_secs(10),
            max: Duration::from_secs(10),
            jitter: 0.2,
        });
        let delays: Vec<_> = (0..200).map(|_| b.fail().0).collect();
        assert!(
            delays
                .iter()
                .all(|d| (8.0..=12.0).contains(&d.as_secs_f64()))
        );
        assert!(delays.iter().any(|d| *d != delays[0]), "no spread at all");
    }

    #[test]
    fn huge_failure_counts_do_not_overflow() {
        let mut b = Backoff::new(BackoffConfig::default());
        for _ in 0..100 {
            let (d, _) = b.fail();
            assert!(d <= Duration::from_secs(72));
        }
    }
}
