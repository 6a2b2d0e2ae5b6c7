//! Gathers the flat values of `nodes`, `edges` or `locations` into rows by role.
//!
//! `meta` says which column holds which field (e.g. `to_node` is column 2 of 3). Each value
//! is stored in a tiny fixed array at its role's slot (unused columns share the last slot),
//! and a complete row goes to a handler with its ordinal and byte offset. The per-value
//! step is forced inline into the scanner; the handler runs once per row.

use super::numbers::UintSink;
use crate::error::ParseError;

/// Receives the complete rows of a [`Rows`] gatherer: values by role, the row's index
/// and the offset of its first value. Any such closure is one.
pub(crate) trait RowHandler<const N: usize> {
    /// One row; an error stops the scan.
    fn row(&mut self, vals: &[u64; N], index: u64, offset: u64) -> Result<(), ParseError>;
}

impl<F, const N: usize> RowHandler<N> for F
where
    F: FnMut(&[u64; N], u64, u64) -> Result<(), ParseError>,
{
    #[inline]
    fn row(&mut self, vals: &[u64; N], index: u64, offset: u64) -> Result<(), ParseError> {
        self(vals, index, offset)
    }
}

/// Row gatherer for `N - 1` roles plus one slot for ignored columns.
pub(crate) struct Rows<'a, H, const N: usize> {
    /// Per column: the role slot (`< N`).
    roles: &'a [u8],
    vals: [u64; N],
    col: usize,
    row_offset: u64,
    /// Complete rows so far.
    pub(crate) count: u64,
    pub(crate) handler: H,
}

impl<'a, H, const N: usize> Rows<'a, H, N>
where
    H: RowHandler<N>,
{
    /// `handler(values_by_role, row_index, row_offset)` is called for each complete row.
    pub(crate) fn new(roles: &'a [u8], handler: H) -> Self {
        debug_assert!(roles.iter().all(|&r| usize::from(r) < N));
        Self {
            roles,
            vals: [0; N],
            col: 0,
            row_offset: 0,
            count: 0,
            handler,
        }
    }

    /// True between two rows.
    pub(crate) fn at_row_start(&self) -> bool {
        self.col == 0
    }

    /// Fails when the array ended inside a row.
    pub(crate) fn check_complete(&self, array: &str) -> Result<(), ParseError> {
        if self.col == 0 {
            return Ok(());
        }
        Err(ParseError::CountMismatch {
            detail: format!(
                "the {array} array ends inside a row: {} full rows of {} fields, then {} more values",
                self.count,
                self.roles.len(),
                self.col
            ),
        })
    }
}

impl<H, const N: usize> UintSink for Rows<'_, H, N>
where
    H: RowHandler<N>,
{
    // Forced: this runs once per number of the file, from two places in the scanner.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn value(&mut self, v: u64, offset: u64) -> Result<(), ParseError> {
        if self.col == 0 {
            self.row_offset = offset;
        }
        let Some(&role) = self.roles.get(self.col) else {
            // Only reachable with an empty layout, which meta parsing rules out.
            return Ok(());
        };
        if let Some(slot) = self.vals.get_mut(usize::from(role)) {
            *slot = v;
        }
        self.col += 1;
        if self.col < self.roles.len() {
            return Ok(());
        }
        self.col = 0;
        let index = self.count;
        self.count += 1;
        self.handler.row(&self.vals, index, self.row_offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_by_role() {
        let mut got = Vec::new();
        let roles = [2, 0, 3, 1];
        let mut rows = Rows::<_, 4>::new(&roles, |vals: &[u64; 4], i, at| {
            got.push((*vals, i, at));
            Ok(())
        });
        for (k, v) in [10, 11, 12, 13, 20, 21, 22, 23, 30].into_iter().enumerate() {
            rows.value(v, k as u64 * 3).unwrap();
        }
        assert_eq!(rows.count, 2);
        let err = rows.check_complete("nodes").unwrap_err();
        assert!(
            err.to_string()
                .contains("2 full rows of 4 fields, then 1 more values"),
            "{err}"
        );
        assert_eq!(got, [([11, 13, 10, 12], 0, 0), ([21, 23, 20, 22], 1, 12)]);
    }
}
