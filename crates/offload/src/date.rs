//! [`utc_date`]: the `YYYY-MM-DD` (UTC) of a file's modification time, the date segment of an
//! artifact's key: the date part of the one RFC 3339 formatter MemWatchdog has
//! (`memwatchdog_exporter::format_rfc3339`, whose calendar arithmetic is tested there).

use std::time::SystemTime;

/// The UTC calendar date of `t` as `YYYY-MM-DD` (a time before 1970, a clock badly wrong,
/// counts as 1970-01-01).
#[must_use]
pub fn utc_date(t: SystemTime) -> String {
    let mut text = memwatchdog_exporter::format_rfc3339(t);
    text.truncate("YYYY-MM-DD".len());
    text
}

#[cfg(test)]
mod tests {
    use super::utc_date;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn the_utc_day_of_a_time() {
        for (secs, date) in [
            (0, "1970-01-01"),
            (86_399, "1970-01-01"),
            (86_400, "1970-01-02"),
            (951_868_799, "2000-02-29"),
            (1_735_689_599, "2024-12-31"),
            (1_735_689_600, "2025-01-01"),
            (4_107_542_400, "2100-03-01"),
        ] {
            assert_eq!(
                utc_date(UNIX_EPOCH + Duration::from_secs(secs)),
                date,
                "{secs}"
            );
        }
        assert_eq!(utc_date(UNIX_EPOCH - Duration::from_secs(1)), "1970-01-01");
    }
}
