//! The store's day and its replay: starting a trading day, and applying what the journal
//! recorded as it was applied then.

use super::{Applied, BadFrame, BatchReport, ConnectionNote, Origin, Store, day};
use crate::fyers::model::Event;

impl Store {
    /// Applies a batch recorded earlier (the journal's), as it was applied then: same order, same
    /// time received. Socket batches count as they did; resync rows were recorded only when they
    /// changed something, and merge after every socket batch recorded before them.
    pub fn replay_batch(
        &mut self,
        events: Vec<Event>,
        bad: Vec<BadFrame>,
        origin: Origin,
        received_ms: i64,
    ) -> BatchReport {
        let batch = match origin {
            Origin::Socket => {
                self.socket_batches += 1;
                self.socket_batches
            }
            Origin::Resync => self.socket_batches,
        };
        self.apply(events, bad, origin, batch, Applied::Replayed(received_ms))
    }

    /// The trading day the data belongs to.
    pub fn day(&self) -> Option<chrono::NaiveDate> {
        self.day
    }

    /// Starts `day`: a new day starts empty (orders, trades, positions, messages, counters and the
    /// P&L series are the old day's and stay in the journal); the connection, session and
    /// subscriptions go on. The first day set on a new store keeps what it holds.
    pub fn start_day(&mut self, day: chrono::NaiveDate) {
        match self.day {
            Some(current) if current == day => return,
            Some(_) => {
                let fresh = Self::new(self.config.clone());
                let old = std::mem::replace(self, fresh);
                // The rates go on (the new day's charges start at zero); yesterday's prices go,
                // the market-data connection's state goes on.
                self.set_rates(old.charges().table.clone());
                self.set_market_status(old.marks().live, old.marks().status.clone());
                self.connection = old.connection;
                self.subscriptions = old.subscriptions;
                self.resync = old.resync;
                self.session = old.session;
                self.reconnects = old.reconnects;
                self.feed_failures = old.feed_failures;
                self.last_feed_failure = old.last_feed_failure;
                self.connection_log = old.connection_log;
                // Views cache rows per version: the new day must not look like an old version.
                self.version = old.version + 1;
                self.log_connection_note(format!("A new trading day: {}", day::day_label(day)));
            }
            None => {}
        }
        self.day = Some(day);
    }

    /// A connection-log line written earlier (the journal's), at its time.
    pub fn replay_note(&mut self, at_ms: i64, text: String) {
        if self.connection_log.len() >= self.config.max_connection_notes {
            self.connection_log.pop_front();
        }
        self.connection_log.push_back(ConnectionNote { at_ms, text });
    }

    /// After replaying a journal: what was restored is not "new" to the user.
    pub fn mark_all_seen(&mut self) {
        for count in &mut self.counts {
            count.unseen = 0;
        }
        self.version += 1;
    }
}
