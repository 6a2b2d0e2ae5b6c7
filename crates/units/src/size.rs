//! [`parse_size`] (and [`ByteSize`], its [`FromStr`] form): the one reader of the sizes people
//! write — `mw`'s byte flags, and through the addon the `bytes` options and `MEMWATCHDOG_*`
//! variables of `@memwatchdog/core`.
//!
//! A size is a non-negative decimal number (a fraction and an exponent are fine: `0.5Gi`,
//! `1.5k`, `1e9`), optional whitespace, and an optional unit, written the way Kubernetes writes
//! memory:
//!
//! | unit | bytes |
//! |---|---|
//! | none, `B` | 1 |
//! | `k` (or `K`), `M`, `G`, `T`, `P`, `E` (Kubernetes' decimal suffixes) | 1000, 1000², … 1000⁶ |
//! | `KB`, `MB`, `GB`, `TB`, `PB`, `EB` (any case) | 1000, 1000², … 1000⁶ |
//! | `Ki`, `Mi`, `Gi`, `Ti`, `Pi`, `Ei` (Kubernetes' binary suffixes) | 1024, 1024², … 1024⁶ |
//! | `KiB`, `MiB`, `GiB`, `TiB`, `PiB`, `EiB` (any case) | 1024, 1024², … 1024⁶ |
//!
//! The lowercase single letters `m`, `g`, `t`, `p` are refused: Kubernetes reads `512m` as 512
//! *milli*bytes while Docker reads it as 512 MiB, so the error asks for `512Mi` or `512M`.
//!
//! The arithmetic is exact (no floating point: `1.1G` is 1100000000 bytes), and a fraction of
//! a byte is rounded **up**, as Kubernetes' `Quantity.Value()` does (`1.0005k` is 1001 bytes,
//! `0.1` is 1). The result must fit a `u64` and the number may have at most 20 significant
//! digits (as many as `u64::MAX` has).
//!
//! ```
//! use memwatchdog_units::{ByteSize, parse_size};
//!
//! assert_eq!(parse_size("512Mi"), Ok(536_870_912));
//! assert_eq!(parse_size("1G"), Ok(1_000_000_000));
//! assert_eq!(parse_size("0.5Gi"), Ok(536_870_912));
//! assert_eq!("536870912".parse::<ByteSize>(), Ok(ByteSize(536_870_912)));
//! assert!(parse_size("512m").unwrap_err().to_string().contains("write 512Mi"));
//! ```

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// A byte count read by [`parse_size`]; see the [module docs](self) for what it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(pub u64);

impl FromStr for ByteSize {
    type Err = SizeError;

    fn from_str(text: &str) -> Result<Self, SizeError> {
        parse_size(text).map(ByteSize)
    }
}

impl From<ByteSize> for u64 {
    fn from(size: ByteSize) -> u64 {
        size.0
    }
}

/// Why a text is not a size. The messages do not repeat the text (`mw`'s argument errors
/// and the option errors of `@memwatchdog/core` show it already) and say what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SizeError {
    /// Nothing but whitespace.
    #[error("no size given; write a number of bytes, e.g. 512Mi or 536870912")]
    Empty,
    /// A minus sign.
    #[error("a size cannot be negative; write 0 or more bytes, e.g. 512Mi or 536870912")]
    Negative,
    /// The text does not start with a number (`lots`, `NaN`, `Gi`).
    #[error(
        "a size is a number of bytes with an optional unit, e.g. 512Mi, 1G, 0.5Gi or 536870912"
    )]
    NotANumber,
    /// A unit that is not in the table.
    #[error("unknown unit `{unit}`; units: {}", UNITS)]
    UnknownUnit {
        /// The unit as written.
        unit: String,
    },
    /// `m`, `g`, `t` or `p`: Kubernetes and Docker read these differently.
    #[error("{}", ambiguous_message(.number, *.letter))]
    Ambiguous {
        /// The number as written (`512`).
        number: String,
        /// The letter as written (`m`).
        letter: char,
    },
    /// More than `u64::MAX` bytes.
    #[error("too large: at most 18446744073709551615 bytes (16 EiB)")]
    TooLarge,
    /// More than 20 significant digits.
    #[error("too many digits: a size has at most 20 significant digits")]
    TooPrecise,
}

/// The units, for the error message of an unknown one.
const UNITS: &str = "B; k, M, G, T, P, E or KB, MB, GB, TB, PB, EB (powers of 1000); \
    Ki, Mi, Gi, Ti, Pi, Ei or KiB, MiB, GiB, TiB, PiB, EiB (powers of 1024)";

/// The message of [`SizeError::Ambiguous`]: what each reading means, and the two spellings
/// that say it (with their byte counts when they fit).
fn ambiguous_message(number: &str, letter: char) -> String {
    let upper = letter.to_ascii_uppercase();
    let readings = if letter == 'm' {
        "Kubernetes reads it as milli, Docker as MiB".to_owned()
    } else {
        format!("Docker reads it as {upper}iB, Kubernetes has only {upper} ({upper}B) and {upper}i")
    };
    let spelled = |suffix: String| match parse_size(&format!("{number}{suffix}")) {
        Ok(bytes) => format!("{number}{suffix} ({bytes} bytes)"),
        Err(_) => format!("{number}{suffix}"),
    };
    format!(
        "unit `{letter}` is ambiguous ({readings}); write {} or {}",
        spelled(format!("{upper}i")),
        spelled(upper.to_string()),
    )
}

/// The largest number of significant digits [`parse_size`] reads: a `u64` has 20, and the
/// mantissa times the largest unit (2⁶⁰) still fits a `u128`.
const MAX_DIGITS: usize = 20;

/// Reads a size (`512Mi`, `1G`, `0.5Gi`, `536870912`; the [module docs](self) list the
/// forms) as a whole number of bytes, rounding a fraction of a byte up. Whitespace around the
/// text and between the number and the unit is ignored.
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SizeError::Empty);
    }
    if text.starts_with('-') {
        return Err(SizeError::Negative);
    }
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    let (decimal, number, rest) = Decimal::read(unsigned).ok_or(SizeError::NotANumber)?;
    let multiplier = unit(rest.trim_start(), number)?;
    decimal.times(multiplier)
}

/// The bytes in one `unit`; `number` is the number as written, for the suggestions of an
/// ambiguous unit.
fn unit(unit: &str, number: &str) -> Result<u128, SizeError> {
    const DECIMAL: [char; 6] = ['K', 'M', 'G', 'T', 'P', 'E'];
    let power = |letter: char| {
        DECIMAL
            .iter()
            .position(|&l| l == letter)
            .map(|i| i as u32 + 1)
    };
    let mut chars = unit.chars();
    let first = chars.next();
    let tail = chars.as_str();
    let exact = match (first, tail) {
        (None, _) | (Some('B' | 'b'), "") => Some(1),
        (Some('k'), "") => Some(1000),
        (Some(l @ ('K' | 'M' | 'G' | 'T' | 'P' | 'E')), "") => power(l).map(|p| 1000u128.pow(p)),
        (Some(letter @ ('m' | 'g' | 't' | 'p')), "") => {
            return Err(SizeError::Ambiguous {
                number: number.to_owned(),
                letter,
            });
        }
        _ => None,
    };
    if let Some(bytes) = exact {
        return Ok(bytes);
    }
    // The long forms and the two-letter binary suffixes, in any case: none is ambiguous.
    let folded = unit.to_ascii_uppercase();
    let letter = folded.chars().next().and_then(power);
    let binary = folded
        .strip_suffix("IB")
        .or_else(|| folded.strip_suffix('I'));
    let decimal = folded.strip_suffix('B');
    match (letter, binary, decimal) {
        (Some(p), Some(stem), _) if stem.len() == 1 => Ok(1024u128.pow(p)),
        (Some(p), _, Some(stem)) if stem.len() == 1 => Ok(1000u128.pow(p)),
        _ => Err(SizeError::UnknownUnit {
            unit: unit.to_owned(),
        }),
    }
}

/// A non-negative decimal number, exactly: `mantissa` × 10^`exponent`, the mantissa without
/// leading or trailing zeros (0 when the number is zero).
#[derive(Debug)]
struct Decimal {
    mantissa: u128,
    /// Significant digits of the mantissa.
    digits: usize,
    exponent: i64,
}

impl Decimal {
    /// Reads the number at the start of `text` (digits, an optional fraction, an optional
    /// exponent): the number, its text and the rest; `None` when no digit starts it.
    fn read(text: &str) -> Option<(Decimal, &str, &str)> {
        let bytes = text.as_bytes();
        let digits_from = |at: usize| {
            bytes[at..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
        };
        let int_len = digits_from(0);
        let mut end = int_len;
        let mut frac = "";
        if bytes.get(end) == Some(&b'.') {
            frac = &text[end + 1..end + 1 + digits_from(end + 1)];
            end += 1 + frac.len();
        }
        if int_len + frac.len() == 0 {
            return None;
        }
        let int = &text[..int_len];
        // An exponent only when digits follow the `e`: `1E` is an exabyte, `1e3` a thousand.
        let mut exponent: i64 = 0;
        if matches!(bytes.get(end), Some(b'e' | b'E')) {
            let sign_len = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
            let exp_len = digits_from(end + 1 + sign_len);
            if exp_len > 0 {
                let magnitude = text[end + 1 + sign_len..end + 1 + sign_len + exp_len]
                    .bytes()
                    // Anything beyond ±10⁶ is decided (0, 1 or too large) just the same.
                    .fold(0i64, |n, b| (n * 10 + i64::from(b - b'0')).min(1_000_000));
                exponent = if bytes[end + 1] == b'-' {
                    -magnitude
                } else {
                    magnitude
                };
                end += 1 + sign_len + exp_len;
            }
        }
        let all = int.bytes().chain(frac.bytes());
        let significant: Vec<u8> = all.skip_while(|&b| b == b'0').collect();
        let kept = significant.len() - significant.iter().rev().take_while(|&&b| b == b'0').count();
        exponent += (significant.len() - kept) as i64 - frac.len() as i64;
        let mantissa = significant[..kept]
            .iter()
            .take(MAX_DIGITS + 1)
            .fold(0u128, |n, &b| n * 10 + u128::from(b - b'0'));
        let decimal = Decimal {
            mantissa,
            digits: kept,
            exponent,
        };
        Some((decimal, &text[..end], &text[end..]))
    }

    /// This number of `unit`s in whole bytes, a fraction rounded up.
    fn times(&self, unit: u128) -> Result<u64, SizeError> {
        if self.mantissa == 0 {
            return Ok(0);
        }
        // The number is at least 10^(digits - 1 + exponent) bytes.
        if self.digits as i64 - 1 + self.exponent >= 20 {
            return Err(SizeError::TooLarge);
        }
        if self.digits > MAX_DIGITS {
            return Err(SizeError::TooPrecise);
        }
        // mantissa < 10²⁰ < 2⁶⁷ and unit ≤ 2⁶⁰: the product fits.
        let scaled = self.mantissa * unit;
        let bytes = if self.exponent >= 0 {
            // exponent ≤ 19 here (the first check).
            scaled.checked_mul(10u128.pow(self.exponent as u32))
        } else if self.exponent < -38 {
            // scaled < 2¹²⁸ < 10³⁹: a positive fraction of a byte, rounded up.
            Some(1)
        } else {
            Some(scaled.div_ceil(10u128.pow(self.exponent.unsigned_abs() as u32)))
        };
        bytes
            .and_then(|b| u64::try_from(b).ok())
            .ok_or(SizeError::TooLarge)
    }
}

impl fmt::Display for ByteSize {
    /// The plain byte count (`536870912`), which [`parse_size`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::{ByteSize, SizeError, parse_size};

    fn ok(text: &str) -> u64 {
        parse_size(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn err(text: &str) -> SizeError {
        parse_size(text).expect_err(text)
    }

    #[test]
    fn plain_bytes() {
        assert_eq!(ok("0"), 0);
        assert_eq!(ok("536870912"), 536_870_912);
        assert_eq!(ok("  42 "), 42);
        assert_eq!(ok("+42"), 42);
        assert_eq!(ok("007"), 7);
        assert_eq!(ok("42B"), 42);
        assert_eq!(ok("42 b"), 42);
        assert_eq!(ok("18446744073709551615"), u64::MAX);
    }

    #[test]
    fn kubernetes_decimal_suffixes() {
        assert_eq!(ok("1k"), 1_000);
        assert_eq!(ok("1K"), 1_000);
        assert_eq!(ok("512M"), 512_000_000);
        assert_eq!(ok("1G"), 1_000_000_000);
        assert_eq!(ok("2T"), 2_000_000_000_000);
        assert_eq!(ok("3P"), 3_000_000_000_000_000);
        assert_eq!(ok("4E"), 4_000_000_000_000_000_000);
    }

    #[test]
    fn kubernetes_binary_suffixes() {
        assert_eq!(ok("1Ki"), 1 << 10);
        assert_eq!(ok("512Mi"), 512 << 20);
        assert_eq!(ok("2Gi"), 2 << 30);
        assert_eq!(ok("3Ti"), 3 << 40);
        assert_eq!(ok("4Pi"), 4 << 50);
        assert_eq!(ok("15Ei"), 15 << 60);
        // Unambiguous, so any case.
        assert_eq!(ok("512mi"), 512 << 20);
        assert_eq!(ok("512MI"), 512 << 20);
    }

    #[test]
    fn long_forms_in_any_case() {
        assert_eq!(ok("1KB"), 1_000);
        assert_eq!(ok("1kb"), 1_000);
        assert_eq!(ok("1MB"), 1_000_000);
        assert_eq!(ok("1gb"), 1_000_000_000);
        assert_eq!(ok("1Tb"), 1_000_000_000_000);
        assert_eq!(ok("1PB"), 1_000_000_000_000_000);
        assert_eq!(ok("1EB"), 1_000_000_000_000_000_000);
        assert_eq!(ok("1KiB"), 1 << 10);
        assert_eq!(ok("1kib"), 1 << 10);
        assert_eq!(ok("64MiB"), 64 << 20);
        assert_eq!(ok("1 GIB"), 1 << 30);
        assert_eq!(ok("1TiB"), 1 << 40);
        assert_eq!(ok("1PiB"), 1 << 50);
        assert_eq!(ok("1EiB"), 1 << 60);
    }

    #[test]
    fn fractions_and_exponents_are_exact() {
        assert_eq!(ok("0.5Gi"), 512 << 20);
        assert_eq!(ok("1.5k"), 1_500);
        assert_eq!(ok("1.1G"), 1_100_000_000); // f64 would give 1100000000.0000002
        assert_eq!(ok(".5Ki"), 512);
        assert_eq!(ok("2.Mi"), 2 << 20);
        assert_eq!(ok("1e9"), 1_000_000_000);
        assert_eq!(ok("1E9"), 1_000_000_000);
        assert_eq!(ok("1e+3"), 1_000);
        assert_eq!(ok("1.5e3Ki"), 1_536_000);
        assert_eq!(ok("5e-1Ki"), 512);
        assert_eq!(ok("1.000000000000000000000000000Gi"), 1 << 30);
        assert_eq!(ok("0.00000000000000000000000000000000000001Ki"), 1);
        // `E` without digits after it is the unit, not an exponent.
        assert_eq!(ok("1E"), 1_000_000_000_000_000_000);
        assert_eq!(ok("1Ei"), 1 << 60);
    }

    #[test]
    fn a_fraction_of_a_byte_is_rounded_up() {
        assert_eq!(ok("0.1"), 1);
        assert_eq!(ok("1.5"), 2);
        assert_eq!(ok("1.0005k"), 1_001);
        assert_eq!(ok("0.3Ki"), 308); // 307.2
        assert_eq!(ok("1e-400"), 1);
        assert_eq!(ok("0e5"), 0);
        assert_eq!(ok("0.000Gi"), 0);
    }

    #[test]
    fn ambiguous_single_letters_name_both_spellings() {
        let e = err("512m");
        assert_eq!(
            e,
            SizeError::Ambiguous {
                number: "512".into(),
                letter: 'm'
            }
        );
        assert_eq!(
            e.to_string(),
            "unit `m` is ambiguous (Kubernetes reads it as milli, Docker as MiB); \
             write 512Mi (536870912 bytes) or 512M (512000000 bytes)"
        );
        assert_eq!(
            err("2g").to_string(),
            "unit `g` is ambiguous (Docker reads it as GiB, Kubernetes has only G (GB) and Gi); \
             write 2Gi (2147483648 bytes) or 2G (2000000000 bytes)"
        );
        assert!(
            err("1 t")
                .to_string()
                .contains("write 1Ti (1099511627776 bytes) or 1T")
        );
        assert!(matches!(
            err("1p"),
            SizeError::Ambiguous { letter: 'p', .. }
        ));
        // Without byte counts when the spelled sizes do not fit.
        assert!(
            err("99999p")
                .to_string()
                .ends_with("write 99999Pi or 99999P")
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(err(""), SizeError::Empty);
        assert_eq!(err("   "), SizeError::Empty);
        assert_eq!(err("-1"), SizeError::Negative);
        assert_eq!(err("-0.5Gi"), SizeError::Negative);
        for text in ["lots", "NaN", "Infinity", "Gi", ".", "+", "e9"] {
            assert_eq!(err(text), SizeError::NotANumber, "{text:?}");
        }
        for (text, unit) in [
            ("1 parsec", "parsec"),
            ("1Kib2", "Kib2"),
            ("0x10", "x10"),
            ("1mb2", "mb2"),
            ("1.5.5", ".5"),
            ("1e", "e"),
            ("12 34", "34"),
            ("1n", "n"),
            ("1 ki B", "ki B"),
            ("1Bi", "Bi"),
            ("1XiB", "XiB"),
        ] {
            assert_eq!(
                err(text),
                SizeError::UnknownUnit { unit: unit.into() },
                "{text:?}"
            );
        }
        assert_eq!(
            err("1 parsec").to_string(),
            "unknown unit `parsec`; units: B; k, M, G, T, P, E or KB, MB, GB, TB, PB, EB \
             (powers of 1000); Ki, Mi, Gi, Ti, Pi, Ei or KiB, MiB, GiB, TiB, PiB, EiB (powers of 1024)"
        );
    }

    #[test]
    fn overflow_is_too_large() {
        assert_eq!(err("18446744073709551616"), SizeError::TooLarge);
        assert_eq!(err("16Ei"), SizeError::TooLarge);
        assert_eq!(err("19E"), SizeError::TooLarge);
        assert_eq!(err("1e20"), SizeError::TooLarge);
        assert_eq!(err("1e999999999999999999999"), SizeError::TooLarge);
        assert_eq!(err("123456789012345678901234567890"), SizeError::TooLarge);
        assert_eq!(err("17179869184Gi"), SizeError::TooLarge);
        assert_eq!(ok("17179869183.999999999Gi"), u64::MAX);
        assert_eq!(
            err("16Ei").to_string(),
            "too large: at most 18446744073709551615 bytes (16 EiB)"
        );
    }

    #[test]
    fn more_than_twenty_significant_digits_is_too_precise() {
        assert_eq!(ok("0.12345678901234567890Gi"), 132_560_718);
        assert_eq!(err("0.123456789012345678901Gi"), SizeError::TooPrecise);
    }

    #[test]
    fn byte_size_parses_and_prints_plain_bytes() {
        assert_eq!("512Mi".parse::<ByteSize>(), Ok(ByteSize(512 << 20)));
        assert_eq!(u64::from(ByteSize(7)), 7);
        assert_eq!(ByteSize(536_870_912).to_string(), "536870912");
        assert_eq!("x".parse::<ByteSize>(), Err(SizeError::NotANumber));
    }
}
