//! [`HumanBytes`]: byte counts for log lines (`1.2 GB`, `300 MB`, `512 B`).

use std::fmt;

/// Formats a byte count with a decimal unit (kB, MB, GB, TB), one decimal below 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanBytes(pub u64);

impl fmt::Display for HumanBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
        let mut value = self.0 as f64;
        if value < 1000.0 {
            return write!(f, "{} B", self.0);
        }
        let mut unit = "";
        for u in UNITS {
            value /= 1000.0;
            unit = u;
            if value < 1000.0 {
                break;
            }
        }
        if value < 10.0 {
            write!(f, "{value:.1} {unit}")
        } else {
            write!(f, "{value:.0} {unit}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::HumanBytes;

    #[test]
    fn formats() {
        assert_eq!(HumanBytes(512).to_string(), "512 B");
        assert_eq!(HumanBytes(1_500).to_string(), "1.5 kB");
        assert_eq!(HumanBytes(300_000_000).to_string(), "300 MB");
        assert_eq!(HumanBytes(4_300_000_000).to_string(), "4.3 GB");
        assert_eq!(HumanBytes(12_000_000_000_000_000).to_string(), "12000 TB");
    }
}
