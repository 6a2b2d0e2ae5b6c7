//! The base64 VLQ numbers of a source map's `mappings` string.

/// The value of one base64 digit, or `None` for a character outside the alphabet.
fn digit(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some(u32::from(c - b'A')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes the VLQ numbers of one segment (the text between `,` and `;`) into `out`; `None`
/// on a bad character, a number cut short or one that does not fit in an `i64`.
pub(crate) fn decode(segment: &[u8], out: &mut Vec<i64>) -> Option<()> {
    out.clear();
    let mut value: u64 = 0;
    let mut shift = 0u32;
    let mut pending = false;
    for &c in segment {
        let d = digit(c)?;
        if shift > 60 {
            return None;
        }
        value |= u64::from(d & 0x1f) << shift;
        if d & 0x20 == 0 {
            let magnitude = i64::try_from(value >> 1).ok()?;
            out.push(if value & 1 == 1 {
                -magnitude
            } else {
                magnitude
            });
            value = 0;
            shift = 0;
            pending = false;
        } else {
            shift += 5;
            pending = true;
        }
    }
    (!pending).then_some(())
}

#[cfg(test)]
mod tests {
    use super::decode;

    fn numbers(s: &str) -> Option<Vec<i64>> {
        let mut out = Vec::new();
        decode(s.as_bytes(), &mut out).map(|()| out)
    }

    #[test]
    fn decodes_the_spec_examples() {
        assert_eq!(numbers("AAAA"), Some(vec![0, 0, 0, 0]));
        assert_eq!(numbers("AACA"), Some(vec![0, 0, 1, 0]));
        assert_eq!(numbers("D"), Some(vec![-1]));
        assert_eq!(numbers("gB"), Some(vec![16]));
        assert_eq!(numbers(""), Some(vec![]));
    }

    /// The encoder of the spec, for the round trip.
    fn encode(n: i64) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut v = (n.unsigned_abs() << 1) | u64::from(n < 0);
        let mut s = String::new();
        loop {
            let mut d = (v & 0x1f) as usize;
            v >>= 5;
            if v > 0 {
                d |= 0x20;
            }
            s.push(char::from(ALPHABET[d]));
            if v == 0 {
                return s;
            }
        }
    }

    #[test]
    fn round_trips() {
        let values = [
            0,
            1,
            -1,
            15,
            16,
            -16,
            31,
            32,
            1023,
            -1024,
            123_456_789,
            -(1 << 40),
        ];
        let text: String = values.iter().map(|&n| encode(n)).collect();
        assert_eq!(numbers(&text), Some(values.to_vec()));
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(numbers("A!"), None, "outside the alphabet");
        assert_eq!(numbers("g"), None, "continuation without an end");
        assert_eq!(numbers("gggggggggggggggA"), None, "too long for 64 bits");
    }
}
