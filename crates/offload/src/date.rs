//! [`utc_date`]: the `YYYY-MM-DD` (UTC) of a file's modification time, the date segment of an
//! artifact's key. Days to a civil date with Howard Hinnant's `civil_from_days`, so no date crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// The UTC calendar date of `t` as `YYYY-MM-DD` (proleptic Gregorian; a time before 1970 works).
#[must_use]
pub fn utc_date(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        // Before the epoch: round down to the start of the second.
        Err(e) => {
            let d = e.duration();
            -(d.as_secs() as i64) - i64::from(d.subsec_nanos() > 0)
        }
    };
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Year, month (1–12) and day (1–31) of the day `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March first
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::{civil_from_days, utc_date};
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn known_dates() {
        for (secs, date) in [
            (0, "1970-01-01"),
            (86_399, "1970-01-01"),
            (86_400, "1970-01-02"),
            (951_782_400, "2000-02-29"), // leap day of a year divisible by 400
            (951_868_799, "2000-02-29"),
            (951_868_800, "2000-03-01"),
            (1_709_164_800, "2024-02-29"),
            (1_735_689_599, "2024-12-31"),
            (1_735_689_600, "2025-01-01"),
            (4_107_542_400, "2100-03-01"), // 2100 is not a leap year
            (253_402_300_799, "9999-12-31"),
        ] {
            assert_eq!(
                utc_date(UNIX_EPOCH + Duration::from_secs(secs)),
                date,
                "{secs}"
            );
        }
    }

    #[test]
    fn before_the_epoch() {
        assert_eq!(utc_date(UNIX_EPOCH - Duration::from_nanos(1)), "1969-12-31");
        assert_eq!(
            utc_date(UNIX_EPOCH - Duration::from_secs(86_400)),
            "1969-12-31"
        );
        assert_eq!(
            utc_date(UNIX_EPOCH - Duration::from_secs(86_401)),
            "1969-12-30"
        );
    }

    #[test]
    fn every_day_follows_the_previous_one() {
        // 1900-03-01 .. 2200-03-01: month lengths and leap years by the rule, day by day.
        let mut prev = civil_from_days(-25_508 - 1);
        for days in -25_508..84_049 {
            let (y, m, d) = civil_from_days(days);
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let last = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            let (py, pm, pd) = prev;
            if d == 1 {
                assert_eq!(pd, last[pm as usize - 1], "{y}-{m}-{d}");
                assert_eq!((py, pm % 12 + 1), (y - i64::from(m == 1), m), "{y}-{m}-{d}");
            } else {
                assert_eq!((py, pm, pd + 1), (y, m, d));
            }
            prev = (y, m, d);
        }
    }
}
