//! The diff's snapshots in the order they were taken, whatever order they were given in.
//!
//! The last file given is read with its edges (it is normally the newest, the one the
//! dominators and retainer paths need), the others without, all at once. Then their
//! contents decide the order ([`chronological`]: object ids only grow over a process's
//! life). When another file is the newest, the last one's edges are dropped and the
//! newest is read again with its edges: a second read only for inputs given out of order.
//! A pipe cannot be read again, so one given before the last is read with its edges from the
//! start (what it costs: the edges of every piped snapshot in memory while they are read).

use std::path::Path;

use memwatchdog_heapsnapshot::{HeapGraph, chronological, newest_object_id};

use crate::inputs::Opened;
use crate::load::{Job, LoadError, load_all, load_one_file};

/// Snapshots oldest first, and where each was given.
pub struct InOrder {
    /// The graphs, oldest first; only the newest has its edges.
    pub graphs: Vec<HeapGraph>,
    /// `given[i]`: the 0-based position among the files given of `graphs[i]`.
    pub given: Vec<usize>,
}

/// Reads `inputs` (two or three snapshots) and puts them oldest first.
pub fn load_in_order(inputs: Vec<Opened>, progress: bool) -> Result<InOrder, LoadError> {
    let last = inputs.len() - 1;
    let mut again = Vec::with_capacity(inputs.len());
    let mut jobs = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.into_iter().enumerate() {
        again.push(input.again().transpose()?);
        jobs.push(Job {
            edges: i == last || !input.rereadable(),
            input,
        });
    }
    let with_edges: Vec<bool> = jobs.iter().map(|job| job.edges).collect();
    let mut graphs = load_all(jobs, progress)?;
    let newest_ids: Vec<u32> = graphs.iter().map(newest_object_id).collect();
    let given = chronological(&newest_ids);
    let newest = given[last];
    for (i, graph) in graphs.iter_mut().enumerate() {
        if i != newest && with_edges[i] {
            graph.drop_edges();
        }
    }
    if !with_edges[newest] {
        let input = again[newest]
            .take()
            .expect("an input read without edges can be read again");
        graphs[newest] = load_one_file(Job { input, edges: true }, progress)?;
    }
    let mut slots: Vec<Option<HeapGraph>> = graphs.into_iter().map(Some).collect();
    let graphs = given
        .iter()
        .map(|&i| slots[i].take().expect("each input once"))
        .collect();
    Ok(InOrder { graphs, given })
}

/// The note for standard error when the files were not given oldest first.
pub fn reorder_note(paths: &[&Path], given: &[usize]) -> Option<String> {
    if given.iter().enumerate().all(|(i, &g)| i == g) {
        return None;
    }
    let names: Vec<String> = given
        .iter()
        .map(|&g| paths[g].display().to_string())
        .collect();
    Some(format!(
        "the snapshots were not given oldest first; compared in the order their contents show \
         (V8 object ids only grow over a process's life): {}",
        names.join(" → ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_the_files_oldest_first_and_only_when_reordered() {
        let paths = [Path::new("new.heapsnapshot"), Path::new("old.heapsnapshot")];
        assert_eq!(reorder_note(&paths, &[0, 1]), None);
        let note = reorder_note(&paths, &[1, 0]).unwrap();
        assert!(
            note.ends_with("old.heapsnapshot → new.heapsnapshot"),
            "{note}"
        );
    }
}
