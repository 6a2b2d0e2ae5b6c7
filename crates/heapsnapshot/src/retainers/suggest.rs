//! Class names close to one that is not in the snapshot, for the error that says so: the
//! same name in another case, names that contain it or that it contains, and names a few
//! edits away.

/// Up to `k` of `names` close to `wanted`, closest first.
#[must_use]
pub(crate) fn nearest<'a>(
    wanted: &str,
    names: impl IntoIterator<Item = &'a str>,
    k: usize,
) -> Vec<String> {
    let lower = wanted.to_lowercase();
    let max_edits = (wanted.chars().count() / 3).max(2);
    let mut close: Vec<(usize, &str)> = names
        .into_iter()
        .filter_map(|name| {
            let other = name.to_lowercase();
            let score = if other == lower {
                0
            } else if other.contains(&lower) || lower.contains(&other) {
                1
            } else {
                let edits = edit_distance(&lower, &other);
                (edits <= max_edits).then_some(1 + edits)?
            };
            Some((score, name))
        })
        .collect();
    close.sort_unstable();
    close.dedup();
    close
        .into_iter()
        .take(k)
        .map(|(_, n)| n.to_owned())
        .collect()
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_containment_and_typos_closest_first() {
        let names = [
            "Session",
            "SessionStore",
            "Sesion",
            "Map",
            "session",
            "Buffer",
        ];
        assert_eq!(
            nearest("Session", names, 3),
            ["Session", "session", "SessionStore"]
        );
        assert_eq!(nearest("Sesson", names, 2), ["Sesion", "Session"]);
        assert!(nearest("Zzyzx", names, 3).is_empty());
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
