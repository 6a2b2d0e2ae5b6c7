//! Human number formatting for `mw`'s columns: signed byte sizes (on
//! [`HumanBytes`], one decimal) and thousands separators.

use memwatchdog_units::HumanBytes;

/// Signed byte size: `+1.5 kB`, `-200 B`.
pub fn signed_bytes(n: i64) -> String {
    let sign = if n < 0 { '-' } else { '+' };
    format!("{sign}{:.1}", HumanBytes(n.unsigned_abs()))
}

/// `1234567` → `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Signed count: `+1,234`, `-5`.
pub fn signed_count(n: i64) -> String {
    let sign = if n < 0 { '-' } else { '+' };
    format!("{sign}{}", count(n.unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_sizes_and_counts() {
        assert_eq!(signed_bytes(-2_000), "-2.0 kB");
        assert_eq!(signed_bytes(138), "+138 B");
        assert_eq!(signed_bytes(88_200), "+88.2 kB");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(signed_count(-1000), "-1,000");
    }
}
