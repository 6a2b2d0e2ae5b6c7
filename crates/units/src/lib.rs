//! [`HumanBytes`]: the one way MemWatchdog writes a byte count for people — log lines, alert
//! annotations, refusal reasons, `mw` reports (`512 B`, `1.5 kB`, `300 MB`, `4.3 GB`).
//!
//! Units are decimal (kB, MB, GB, TB: powers of 1000, as DevTools shows them). By default a
//! value below 10 of its unit gets one decimal and a larger one none (`1.5 kB`, `300 MB`); a
//! precision fixes the decimals (`format!("{:.1}", HumanBytes(300_000_000))` is `300.0 MB`,
//! the steady columns of `mw`). Counts below 1000 are whole bytes either way. Width, fill and
//! alignment apply to the whole text (`{:>10.1}`).
//!
//! ```
//! use memwatchdog_units::HumanBytes;
//!
//! assert_eq!(HumanBytes(300_000_000).to_string(), "300 MB");
//! assert_eq!(format!("{:.1}", HumanBytes(300_000_000)), "300.0 MB");
//! assert_eq!(format!("[{:>8.1}]", HumanBytes(1_536)), "[  1.5 kB]");
//! ```
//!
//! The other way round, [`parse_size`] (and [`ByteSize`], its `FromStr` form) reads the sizes
//! people write, Kubernetes-style (`512Mi`, `1G`, `0.5Gi`, `536870912`): `mw`'s byte flags and
//! the byte options and variables of `@memwatchdog/core`. See [`size`] for the grammar.
//!
//! Counts of things (not bytes) are written by [`grouped`] (`1,234,567`).

mod count;
pub mod size;

pub use count::grouped;
pub use size::{ByteSize, SizeError, parse_size};

use std::fmt::{self, Write};

/// A byte count written with a decimal unit; see the [crate] docs for the forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanBytes(pub u64);

impl HumanBytes {
    /// The text without padding: `precision` decimals, or the default ones when `None`.
    fn text(self, precision: Option<usize>) -> String {
        const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
        if self.0 < 1000 {
            return format!("{} B", self.0);
        }
        let mut value = self.0 as f64;
        let mut unit = "";
        for u in UNITS {
            value /= 1000.0;
            unit = u;
            if value < 1000.0 {
                break;
            }
        }
        let decimals = precision.unwrap_or(usize::from(value < 10.0));
        format!("{value:.decimals$} {unit}")
    }
}

impl fmt::Display for HumanBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.text(f.precision());
        // `Formatter::pad` would read the precision as a maximum length, so pad by hand.
        let len = text.chars().count();
        let fill = f.width().map_or(0, |w| w.saturating_sub(len));
        let (before, after) = match f.align() {
            Some(fmt::Alignment::Right) => (fill, 0),
            Some(fmt::Alignment::Center) => (fill / 2, fill - fill / 2),
            Some(fmt::Alignment::Left) | None => (0, fill),
        };
        let c = f.fill();
        for _ in 0..before {
            f.write_char(c)?;
        }
        f.write_str(&text)?;
        for _ in 0..after {
            f.write_char(c)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::HumanBytes;

    #[test]
    fn default_form_has_one_decimal_below_ten() {
        assert_eq!(HumanBytes(0).to_string(), "0 B");
        assert_eq!(HumanBytes(512).to_string(), "512 B");
        assert_eq!(HumanBytes(999).to_string(), "999 B");
        assert_eq!(HumanBytes(1_000).to_string(), "1.0 kB");
        assert_eq!(HumanBytes(1_500).to_string(), "1.5 kB");
        assert_eq!(HumanBytes(10_000).to_string(), "10 kB");
        assert_eq!(HumanBytes(300_000_000).to_string(), "300 MB");
        assert_eq!(HumanBytes(4_300_000_000).to_string(), "4.3 GB");
        assert_eq!(HumanBytes(12_000_000_000_000_000).to_string(), "12000 TB");
    }

    #[test]
    fn precision_fixes_the_decimals_above_bytes() {
        assert_eq!(format!("{:.1}", HumanBytes(999)), "999 B");
        assert_eq!(format!("{:.1}", HumanBytes(1_500)), "1.5 kB");
        assert_eq!(format!("{:.1}", HumanBytes(2_000)), "2.0 kB");
        assert_eq!(format!("{:.1}", HumanBytes(300_000_000)), "300.0 MB");
        assert_eq!(format!("{:.1}", HumanBytes(4_345_298_944)), "4.3 GB");
        assert_eq!(format!("{:.0}", HumanBytes(1_500)), "2 kB");
        assert_eq!(format!("{:.2}", HumanBytes(1_234_567)), "1.23 MB");
    }

    #[test]
    fn width_fill_and_alignment_pad_the_whole_text() {
        assert_eq!(format!("[{:>10.1}]", HumanBytes(57_400)), "[   57.4 kB]");
        assert_eq!(format!("[{:<8}]", HumanBytes(24)), "[24 B    ]");
        assert_eq!(format!("[{:8}]", HumanBytes(1_500)), "[1.5 kB  ]");
        assert_eq!(format!("[{:*^9}]", HumanBytes(300_000_000)), "[*300 MB**]");
        assert_eq!(format!("[{:>3}]", HumanBytes(300_000_000)), "[300 MB]");
    }
}
