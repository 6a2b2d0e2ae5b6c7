//! A point of a floor series: time and value.

use serde::{Deserialize, Serialize};

/// One point of a series: `t` in milliseconds, `v` in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Time in milliseconds.
    pub t: f64,
    /// Value in bytes.
    pub v: f64,
}

impl Point {
    /// A point at time `t` (ms) with value `v` (bytes).
    #[must_use]
    pub const fn new(t: f64, v: f64) -> Self {
        Self { t, v }
    }
}
