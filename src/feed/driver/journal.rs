//! What the driver does beside the socket for the journal and the trading day: the copies
//! downstream gets of each applied batch, the restore on start, and the day's boundary.

use std::time::{Duration, Instant};

use super::Driver;
use crate::feed::resync::changed;
use crate::feed::{Restored, Tap};
use crate::fyers::model::Event;
use crate::store::{BadFrame, BatchReport, Origin, day_bounds_ms, day_label, now_ms, trading_day};

impl Driver<'_> {
    /// Whether anyone downstream (journal, tap) needs a copy of what is applied.
    pub(super) fn wants_copy(&self) -> bool {
        self.shared.tap.is_some() || self.shared.config.journal.is_some()
    }

    /// A copy of the bad frames for the journal, if there is one.
    pub(super) fn journal_bad(&self, bad: &[BadFrame]) -> Vec<BadFrame> {
        match &self.shared.config.journal {
            Some(_) if !bad.is_empty() => bad.to_vec(),
            _ => Vec::new(),
        }
    }

    /// Hands what a batch did downstream: the journal records every socket event (duplicates
    /// too: the day as it arrived) and the resync rows that changed the store; the tap carries
    /// what changed the store, no duplicate trades, no regressions, with the journal's number.
    pub(super) async fn publish(
        &mut self,
        copy: Option<Vec<Event>>,
        bad: Vec<BadFrame>,
        report: &BatchReport,
        origin: Origin,
    ) {
        let Some(events) = copy else {
            return;
        };
        let tapped: Option<Vec<Event>> = self.shared.tap.as_ref().map(|_| {
            events
                .iter()
                .zip(&report.outcomes)
                .filter(|(_, outcome)| outcome.changed())
                .map(|(event, _)| event.clone())
                .collect()
        });
        let journaled = match (&self.shared.config.journal, self.day) {
            (Some(journal), Some(day)) => {
                let kept = match origin {
                    Origin::Socket => events,
                    Origin::Resync => changed(events, &report.outcomes),
                };
                journal.record(day, report.received_ms, origin, kept, bad)
            }
            _ => None,
        };
        if let (Some(tap), Some(events)) = (self.shared.tap, tapped)
            && !events.is_empty()
        {
            let _ = tap
                .send(Tap::Events {
                    events,
                    origin,
                    journaled,
                })
                .await;
        }
    }

    /// Rebuilds today from the journal, once, before the first connection (a feed restarted
    /// after a failure finds its store already holding the day).
    pub(super) async fn restore(&mut self) {
        let Some(journal) = self.shared.config.journal.clone() else {
            return;
        };
        if let Some(day) = self.shared.store.read().day() {
            self.day = Some(day);
            return;
        }
        let day = trading_day(self.shared.config.clock.now_ms());
        let path = journal.path().to_path_buf();
        let loaded = tokio::task::spawn_blocking(move || crate::journal::load_day(&path, day)).await;
        let recorded = match loaded {
            Ok(Ok(recorded)) => recorded,
            Ok(Err(err)) => return self.not_restored(&err.to_string()),
            Err(err) => return self.not_restored(&err.to_string()),
        };
        self.day = Some(day);
        if recorded.batches.is_empty() {
            self.shared.store.write().start_day(day);
            return;
        }
        let events = recorded.events() as u64;
        let (unreadable, gaps) = (recorded.unreadable, recorded.gaps);
        let orders = {
            let mut store = self.shared.store.write();
            crate::journal::restore(&mut store, recorded);
            let mut note = format!("Restored {events} events of {} from the journal", day_label(day));
            if unreadable > 0 {
                note.push_str(&format!("; {unreadable} unreadable rows skipped"));
            }
            if gaps > 0 {
                note.push_str(&format!(
                    "; {gaps} events were never journaled (the disk fell behind)"
                ));
            }
            store.replay_note(now_ms(), note);
            store
                .orders
                .entries()
                .map(|entry| (*entry.order).clone())
                .collect()
        };
        (self.shared.repaint)();
        tracing::info!(events, unreadable, gaps, %day, "restored the day from the journal");
        if let Some(tap) = self.shared.tap {
            let _ = tap.send(Tap::Restored(Restored { day, events, orders })).await;
        }
    }

    pub(super) fn not_restored(&mut self, error: &str) {
        tracing::warn!(%error, "the day could not be restored from the journal");
        let note = format!("Could not restore today from the journal: {error}");
        self.shared.store.write().replay_note(now_ms(), note);
    }

    /// Starts a new trading day in the store when the clock has passed into one. True if it did.
    pub(super) fn roll_day(&mut self) -> bool {
        let today = trading_day(self.shared.config.clock.now_ms());
        if self.day == Some(today) {
            return false;
        }
        let first = self.day.is_none();
        self.day = Some(today);
        self.shared.store.write().start_day(today);
        if let Some(journal) = &self.shared.config.journal {
            journal.retain_as_set();
        }
        if !first {
            tracing::info!(day = %today, "a new trading day");
            (self.shared.repaint)();
        }
        !first
    }

    /// When the store's trading day ends.
    pub(super) fn day_ends(&self) -> Option<Instant> {
        let (_, end_ms) = day_bounds_ms(self.day?);
        let left = end_ms.saturating_sub(self.shared.config.clock.now_ms()).max(0);
        Some(Instant::now() + Duration::from_millis(left as u64))
    }
}
