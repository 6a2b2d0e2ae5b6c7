//! [`AlertQueue`]: what the alert sender still owes Alertmanager (sans-IO).
//!
//! One entry per alert key, in order of last change. An entry is *due* when it changed
//! since Alertmanager last accepted it (fired, annotations changed, resolved), or when
//! it is firing and was last accepted a resend interval ago. Firing entries stay after
//! delivery, to be re-sent; a resolved entry leaves once its resolution is delivered.
//!
//! The queue is bounded by entry count: firing a new key when it is full evicts the
//! entry changed longest ago (counted as dropped). Repeated fires of one key coalesce
//! into one entry, so a burst cannot grow it. No clocks are read here: callers pass
//! `now`, which keeps the rules unit-testable.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

/// One alert as known to the sender.
#[derive(Debug)]
struct Entry {
    key: String,
    /// Labels of this alert on top of the sender's common ones (e.g. `severity`).
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    starts_at: SystemTime,
    /// `Some`: resolved at that time.
    ends_at: Option<SystemTime>,
    /// Bumped on every change.
    generation: u64,
    /// Generation Alertmanager last accepted.
    delivered: Option<u64>,
    /// When Alertmanager last accepted this alert.
    last_sent: Option<Instant>,
}

/// An alert to send, as the queue saw it when the batch was taken.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outgoing {
    pub(crate) key: String,
    pub(crate) generation: u64,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) annotations: BTreeMap<String, String>,
    pub(crate) starts_at: SystemTime,
    /// `Some`: a resolution.
    pub(crate) ends_at: Option<SystemTime>,
}

/// The sender's bounded set of alerts.
#[derive(Debug)]
pub(crate) struct AlertQueue {
    entries: VecDeque<Entry>,
    max: usize,
    resend: Duration,
    next_generation: u64,
}

impl AlertQueue {
    /// A queue of at most `max` (≥ 1) alerts, re-sending firing ones every `resend`.
    pub(crate) fn new(max: usize, resend: Duration) -> Self {
        AlertQueue {
            entries: VecDeque::new(),
            max: max.max(1),
            resend,
            next_generation: 0,
        }
    }

    fn bump(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }

    fn take(&mut self, key: &str) -> Option<Entry> {
        let i = self.entries.iter().position(|e| e.key == key)?;
        self.entries.remove(i)
    }

    /// Fires (or updates the annotations of) `key`, with `labels` on top of the sender's
    /// common ones. Returns how many other alerts were evicted (0 or 1).
    pub(crate) fn fire(
        &mut self,
        key: &str,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
        now: SystemTime,
    ) -> usize {
        // A key keeps the labels of its first fire: Alertmanager tells alerts apart by their
        // labels, so new labels would be another alert (fire it under another key).
        if let Some(mut entry) = self.take(key) {
            // Still firing with the same text: nothing new to tell (re-sends handle it).
            let changed = entry.ends_at.is_some() || entry.annotations != annotations;
            if changed {
                // A resolution not yet delivered is withdrawn: for Alertmanager the
                // alert never ended, so it keeps its start time.
                entry.ends_at = None;
                entry.annotations = annotations;
                entry.generation = self.bump();
            }
            self.entries.push_back(entry);
            return 0;
        }
        let mut evicted = 0;
        while self.entries.len() >= self.max {
            self.entries.pop_front();
            evicted += 1;
        }
        let generation = self.bump();
        self.entries.push_back(Entry {
            key: key.to_owned(),
            labels,
            annotations,
            starts_at: now,
            ends_at: None,
            generation,
            delivered: None,
            last_sent: None,
        });
        evicted
    }

    /// Resolves `key` as of `now`. Returns false when the key is unknown (never fired,
    /// already resolved and delivered, or evicted).
    pub(crate) fn resolve(&mut self, key: &str, now: SystemTime) -> bool {
        let generation = self.bump();
        let Some(entry) = self.entries.iter_mut().find(|e| e.key == key) else {
            return false;
        };
        if entry.ends_at.is_none() {
            entry.ends_at = Some(now.max(entry.starts_at));
            entry.generation = generation;
        }
        true
    }

    fn is_due(&self, e: &Entry, now: Instant) -> bool {
        e.delivered != Some(e.generation)
            || (e.ends_at.is_none()
                && e.last_sent
                    .is_none_or(|t| now.saturating_duration_since(t) >= self.resend))
    }

    /// The alerts to send now.
    pub(crate) fn due(&self, now: Instant) -> Vec<Outgoing> {
        self.entries
            .iter()
            .filter(|e| self.is_due(e, now))
            .map(|e| Outgoing {
                key: e.key.clone(),
                generation: e.generation,
                labels: e.labels.clone(),
                annotations: e.annotations.clone(),
                starts_at: e.starts_at,
                ends_at: e.ends_at,
            })
            .collect()
    }

    /// When the next alert falls due (`now` if one is due already); `None` if nothing
    /// is queued.
    pub(crate) fn next_due(&self, now: Instant) -> Option<Instant> {
        self.entries
            .iter()
            .map(|e| {
                if self.is_due(e, now) {
                    now
                } else {
                    // Delivered and firing (a delivered resolution has left the queue).
                    e.last_sent.map_or(now, |t| t + self.resend)
                }
            })
            .min()
    }

    /// Records that Alertmanager accepted `sent` at `now`. Entries changed meanwhile
    /// stay due with their newer content; delivered resolutions leave.
    pub(crate) fn delivered(&mut self, sent: &[Outgoing], now: Instant) {
        for out in sent {
            let Some(entry) = self.entries.iter_mut().find(|e| e.key == out.key) else {
                continue;
            };
            entry.last_sent = Some(now);
            if entry.generation == out.generation {
                entry.delivered = Some(out.generation);
            }
        }
        self.entries
            .retain(|e| !(e.ends_at.is_some() && e.delivered == Some(e.generation)));
    }

    /// Alerts with changes Alertmanager has not accepted yet.
    pub(crate) fn undelivered(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.delivered != Some(e.generation))
            .count()
    }

    /// Keys in the queue, oldest change first.
    #[cfg(test)]
    fn keys(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.key.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESEND: Duration = Duration::from_secs(60);

    fn notes(text: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("summary".to_owned(), text.to_owned())])
    }

    #[test]
    fn fire_send_resend_resolve() {
        let t0 = Instant::now();
        let s0 = SystemTime::now();
        let mut q = AlertQueue::new(8, RESEND);
        assert_eq!(q.next_due(t0), None);
        assert_eq!(q.fire("heap", BTreeMap::new(), notes("a"), s0), 0);

        let batch = q.due(t0);
        assert_eq!(batch.len(), 1);
        assert_eq!(batch[0].starts_at, s0);
        assert_eq!(batch[0].ends_at, None);
        q.delivered(&batch, t0);
        assert!(q.due(t0).is_empty());
        assert_eq!(q.next_due(t0), Some(t0 + RESEND));
        assert_eq!(q.undelivered(), 0);

        // Same fire again: nothing new. Changed annotations: due at once.
        q.fire(
            "heap",
            BTreeMap::new(),
            notes("a"),
            s0 + Duration::from_secs(5),
        );
        assert!(q.due(t0).is_empty());
        q.fire(
            "heap",
            BTreeMap::new(),
            notes("b"),
            s0 + Duration::from_secs(5),
        );
        let batch = q.due(t0);
        assert_eq!(batch[0].annotations, notes("b"));
        assert_eq!(batch[0].starts_at, s0, "start time kept across updates");
        q.delivered(&batch, t0);

        // Re-sent after the interval.
        assert_eq!(q.due(t0 + RESEND).len(), 1);

        let s1 = s0 + Duration::from_secs(100);
        assert!(q.resolve("heap", s1));
        let batch = q.due(t0);
        assert_eq!(batch[0].ends_at, Some(s1));
        q.delivered(&batch, t0);
        assert_eq!(q.next_due(t0), None, "delivered resolution leaves");
        assert!(!q.resolve("heap", s1));
    }

    #[test]
    fn refire_before_resolution_is_delivered_withdraws_it() {
        let t0 = Instant::now();
        let s0 = SystemTime::now();
        let mut q = AlertQueue::new(8, RESEND);
        q.fire("heap", BTreeMap::new(), notes("a"), s0);
        q.resolve("heap", s0 + Duration::from_secs(1));
        q.fire(
            "heap",
            BTreeMap::new(),
            notes("a"),
            s0 + Duration::from_secs(2),
        );
        let batch = q.due(t0);
        assert_eq!(batch.len(), 1);
        assert_eq!((batch[0].starts_at, batch[0].ends_at), (s0, None));
    }

    #[test]
    fn a_change_during_a_send_stays_due() {
        let t0 = Instant::now();
        let s0 = SystemTime::now();
        let mut q = AlertQueue::new(8, RESEND);
        q.fire("heap", BTreeMap::new(), notes("a"), s0);
        let batch = q.due(t0);
        q.resolve("heap", s0); // arrives while the POST is in flight
        q.delivered(&batch, t0);
        let again = q.due(t0);
        assert_eq!(again.len(), 1);
        assert!(again[0].ends_at.is_some());
    }

    #[test]
    fn full_queue_evicts_the_oldest() {
        let s0 = SystemTime::now();
        let mut q = AlertQueue::new(3, RESEND);
        let evicted: usize = (0..10)
            .map(|i| q.fire(&format!("k{i}"), BTreeMap::new(), notes("x"), s0))
            .sum();
        assert_eq!(evicted, 7);
        assert_eq!(q.keys(), ["k7", "k8", "k9"]);
        // Updating a key moves it to the back; it is evicted last.
        q.fire("k7", BTreeMap::new(), notes("y"), s0);
        q.fire("k10", BTreeMap::new(), notes("x"), s0);
        assert_eq!(q.keys(), ["k9", "k7", "k10"]);
    }

    #[test]
    fn resolving_an_unknown_key_is_a_no_op() {
        let mut q = AlertQueue::new(3, RESEND);
        assert!(!q.resolve("nope", SystemTime::now()));
        assert_eq!(q.next_due(Instant::now()), None);
    }
}
