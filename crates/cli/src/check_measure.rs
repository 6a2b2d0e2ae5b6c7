//! What `mw check` measures in a report, in the terms of its budgets: the snapshot diff's
//! [`LeakReport`] and the profile diff's [`ProfileReport`] as [`Measured`], and the one-line
//! top suspect the summary and `$GITHUB_OUTPUT` carry.

use memwatchdog_heapprofile::ProfileReport;
use memwatchdog_heapsnapshot::report::LeakReport;

use crate::budget::Measured;

impl Measured for LeakReport {
    /// The bytes of new objects still alive in the newest snapshot.
    fn total_growth(&self) -> u64 {
        self.new_bytes
    }

    /// The class's net shallow growth in the Comparison (new minus freed bytes).
    fn class_growth(&self, name: &str) -> (u64, usize) {
        self.constructors
            .iter()
            .find(|row| row.class_name == name)
            .map_or((0, 0), |row| (row.delta_bytes.max(0).unsigned_abs(), 1))
    }

    /// The suspects whose retainer path (`path_text`) contains `text`.
    fn path_growth(&self, text: &str) -> (u64, usize) {
        self.suspects
            .iter()
            .filter(|s| s.example.path_text.contains(text))
            .fold((0, 0), |(bytes, n), s| (bytes + s.delta_bytes, n + 1))
    }
}

impl Measured for ProfileReport {
    /// The growth of live sampled bytes from the base profile to the newest.
    fn total_growth(&self) -> u64 {
        self.growth_bytes.max(0).unsigned_abs()
    }

    /// Profiles have no classes ([`crate::budget::BudgetError::ClassForProfiles`]).
    fn class_growth(&self, _name: &str) -> (u64, usize) {
        (0, 0)
    }

    /// The allocation sites with a frame (`function (file:line:col)`) that contains `text`.
    fn path_growth(&self, text: &str) -> (u64, usize) {
        self.sites
            .iter()
            .filter(|site| site.frames.iter().any(|f| f.to_string().contains(text)))
            .fold((0, 0), |(bytes, n), s| (bytes + s.delta_bytes, n + 1))
    }
}

/// `AuditEntry ×10,000 (+1.2 MB) held by global > … > AuditEntry`, the top suspect's own
/// one-liner, as the watchdog's alert names it.
pub fn top_suspect(report: &LeakReport) -> Option<String> {
    report.suspects.first().map(|s| s.summary.clone())
}

/// `+1.2 MB in recordAudit (app.js:23:21) < …`, the profile report's own one-liner.
pub fn top_site(report: &ProfileReport) -> Option<String> {
    report.sites.first().map(|site| site.summary.clone())
}
