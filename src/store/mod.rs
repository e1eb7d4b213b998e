//! The state the UI reads: orders, trades, positions and general messages as the feed last applied
//! them, with the counters and connection health beside them. Only the feed writes it.

mod charges;
mod day;
mod marks;
mod orders;
mod pnl;
mod replay;
mod status;
mod trades;

use std::collections::VecDeque;
use std::time::Instant;

/// Keys are ids the exchange assigns, not attacker-chosen: a fast hasher is safe here.
type IndexMap<K, V> = indexmap::IndexMap<K, V, foldhash::fast::RandomState>;
type IndexSet<K> = indexmap::IndexSet<K, foldhash::fast::RandomState>;

use crate::fyers::model::{Event, EventKind, GeneralEvent, Position, Text, Trade};

pub use charges::{ChargeBook, Charges, RateTable, Rates, TradeClass, day_charges};
pub use day::{DAY_STARTS_IST_SECS, day_bounds_ms, day_label, session_ms, trading_day};
pub use marks::{
    Freshness, LivePnl, Mark, Marks, PnlMismatch, STALE_AFTER_MS, in_market_hours, unrealized_at,
};
pub use orders::{OrderBook, OrderCounts, OrderEntry, OrderUpdate, Origin, Outcome, Progress, supersedes};
pub use pnl::{Aggregates, PnlPoint};
pub use status::{
    BadFrame, ConnectionNote, ConnectionState, FeedStatus, KindCount, RateMeter, ResyncStatus,
    SESSION_EXPIRED, SessionInfo, Subscriptions, age,
};
pub use trades::TradeKey;

/// Caps that keep a long day's memory bounded.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub max_orders: usize,
    pub max_history_per_order: usize,
    pub max_trades: usize,
    pub max_general: usize,
    pub max_bad_frames_kept: usize,
    pub max_connection_notes: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            max_orders: 100_000,
            max_history_per_order: 64,
            max_trades: 200_000,
            max_general: 1_000,
            max_bad_frames_kept: 20,
            max_connection_notes: 200,
        }
    }
}

/// A general message and when it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneralEntry {
    pub event: GeneralEvent,
    pub received_ms: i64,
    /// The one-line summary, worked out once when the message arrived.
    pub summary: String,
    /// The message's number in the day (rises by one a message): how a view holds on to it.
    pub seq: u64,
}

/// A trade and when it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeEntry {
    pub trade: Trade,
    pub received_ms: i64,
}

/// A position and when it last changed.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionEntry {
    pub position: Position,
    pub updated_ms: i64,
    /// The socket batch number of the last socket update (0: none).
    pub socket_batch: u64,
}

/// What one applied batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// One outcome per event, in order.
    pub outcomes: Vec<Outcome>,
    pub bad_frames: u64,
    /// When the batch was applied (Unix ms): every event in it was received then.
    pub received_ms: i64,
}

impl BatchReport {
    pub fn changed(&self) -> usize {
        self.outcomes.iter().filter(|outcome| outcome.changed()).count()
    }
}

#[derive(Debug, Clone)]
pub struct Store {
    config: StoreConfig,
    /// The trading day the data belongs to (`None` until the feed says).
    day: Option<chrono::NaiveDate>,
    pub orders: OrderBook,
    trades: IndexMap<TradeKey, TradeEntry>,
    /// Trades dropped at the cap, so a resync or a late frame does not bring them back (or count
    /// their value twice). Capped as the order book's tombstones are.
    evicted_trades: IndexSet<TradeKey>,
    positions: IndexMap<Text, PositionEntry>,
    general: VecDeque<GeneralEntry>,
    counts: [KindCount; 4],
    traded_value: f64,
    duplicates: u64,
    stale: u64,
    bad_frames: u64,
    recent_bad_frames: VecDeque<BadFrame>,
    frames: u64,
    rate: RateMeter,
    last_message_ms: Option<i64>,
    version: u64,
    socket_batches: u64,
    pub connection: ConnectionState,
    pub subscriptions: Subscriptions,
    pub resync: ResyncStatus,
    pub session: SessionInfo,
    reconnects: u64,
    /// Times the feed itself failed (and was restarted, or not), and the last reason why.
    feed_failures: u64,
    last_feed_failure: Option<String>,
    connection_log: VecDeque<ConnectionNote>,
    pnl_history: VecDeque<PnlPoint>,
    marks: Marks,
    charges: ChargeBook,
}

/// When a batch is applied: now, from the feed, or as recorded, from the journal (which does not
/// count towards the live frame rate).
#[derive(Debug, Clone, Copy)]
enum Applied {
    Live(i64),
    Replayed(i64),
}

impl Default for Store {
    fn default() -> Self {
        Self::new(StoreConfig::default())
    }
}

/// Unix time in milliseconds, the store's clock for "when".
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

impl Store {
    pub fn new(config: StoreConfig) -> Self {
        Self {
            orders: OrderBook::new(config.max_orders, config.max_history_per_order),
            trades: IndexMap::default(),
            evicted_trades: IndexSet::default(),
            positions: IndexMap::default(),
            general: VecDeque::new(),
            counts: [KindCount::default(); 4],
            traded_value: 0.0,
            duplicates: 0,
            stale: 0,
            bad_frames: 0,
            recent_bad_frames: VecDeque::new(),
            frames: 0,
            rate: RateMeter::default(),
            last_message_ms: None,
            version: 0,
            socket_batches: 0,
            connection: ConnectionState::default(),
            subscriptions: Subscriptions::default(),
            session: SessionInfo::default(),
            resync: ResyncStatus::default(),
            reconnects: 0,
            feed_failures: 0,
            last_feed_failure: None,
            connection_log: VecDeque::new(),
            pnl_history: VecDeque::new(),
            marks: Marks::default(),
            charges: ChargeBook::default(),
            day: None,
            config,
        }
    }

    /// Applies one batch of socket frames (parsed events and the frames that failed) in order.
    pub fn apply_batch(&mut self, events: Vec<Event>, bad: Vec<BadFrame>, origin: Origin) -> BatchReport {
        self.socket_batches += 1;
        let batch = if origin == Origin::Socket {
            self.socket_batches
        } else {
            0
        };
        self.apply(events, bad, origin, batch, Applied::Live(now_ms()))
    }

    /// Where a resync starts: pass it to `apply_snapshot` with the rows fetched from here on.
    pub fn resync_mark(&self) -> u64 {
        self.socket_batches
    }

    /// Merges REST rows fetched since `mark`: rows for things the socket updated after `mark` are
    /// passed over (the socket is as new or newer), the rest follow the never-regress rules.
    pub fn apply_snapshot(&mut self, events: Vec<Event>, bad: Vec<BadFrame>, mark: u64) -> BatchReport {
        self.apply(events, bad, Origin::Resync, mark, Applied::Live(now_ms()))
    }

    fn apply(
        &mut self,
        events: Vec<Event>,
        bad: Vec<BadFrame>,
        origin: Origin,
        batch: u64,
        applied: Applied,
    ) -> BatchReport {
        let (received_ms, live) = match applied {
            Applied::Live(at_ms) => (at_ms, true),
            Applied::Replayed(at_ms) => (at_ms, false),
        };
        let mut report = BatchReport {
            outcomes: Vec::with_capacity(events.len()),
            bad_frames: 0,
            received_ms,
        };
        let mut positions_changed = false;
        for event in events {
            let kind = event.kind();
            let outcome = self.apply_one(event, origin, received_ms, batch);
            positions_changed |= kind == EventKind::Positions && outcome.changed();
            match outcome {
                Outcome::Duplicate if origin == Origin::Socket => self.duplicates += 1,
                Outcome::Stale => self.stale += 1,
                Outcome::New | Outcome::Updated | Outcome::Duplicate | Outcome::Superseded => {}
            }
            // Socket frames always count; a resync row counts only when it told us something new.
            if origin == Origin::Socket || outcome.changed() {
                let count = &mut self.counts[kind.index()];
                count.total += 1;
                count.unseen += 1;
            }
            report.outcomes.push(outcome);
        }
        for frame in bad {
            self.record_bad_frame(frame);
            report.bad_frames += 1;
        }
        if positions_changed {
            self.record_pnl(received_ms);
        }
        let frames = report.outcomes.len() as u64 + report.bad_frames;
        if origin == Origin::Socket && frames > 0 {
            self.frames += frames;
            if live {
                self.rate.record(Instant::now(), frames);
            }
            self.last_message_ms = Some(received_ms);
        }
        self.version += 1;
        report
    }

    fn apply_one(&mut self, event: Event, origin: Origin, received_ms: i64, batch: u64) -> Outcome {
        match event {
            Event::Order(order) => self.orders.apply(order, origin, received_ms, batch),
            Event::Trade(trade) => self.apply_trade(*trade, received_ms),
            Event::Position(position) => self.apply_position(*position, origin, received_ms, batch),
            Event::General(event) => {
                if self.general.len() >= self.config.max_general {
                    self.general.pop_front();
                }
                let seq = self.general.back().map_or(0, |last| last.seq + 1);
                let summary = event.summary();
                self.general.push_back(GeneralEntry {
                    event,
                    received_ms,
                    summary,
                    seq,
                });
                Outcome::New
            }
        }
    }

    fn apply_position(&mut self, position: Position, origin: Origin, updated_ms: i64, batch: u64) -> Outcome {
        if origin == Origin::Resync {
            self.check_pnl_formula(&position, updated_ms);
        }
        self.marks.positions_changed();
        let socket_batch = if origin == Origin::Socket { batch } else { 0 };
        match self.positions.get_mut(&position.id) {
            Some(entry) if origin == Origin::Resync && entry.socket_batch > batch => Outcome::Superseded,
            Some(entry) if entry.position == position => Outcome::Duplicate,
            Some(entry) => {
                let socket_batch = entry.socket_batch.max(socket_batch);
                *entry = PositionEntry {
                    position,
                    updated_ms,
                    socket_batch,
                };
                Outcome::Updated
            }
            None => {
                let entry = PositionEntry {
                    position,
                    updated_ms,
                    socket_batch,
                };
                self.positions.insert(entry.position.id.clone(), entry);
                Outcome::New
            }
        }
    }

    fn record_bad_frame(&mut self, frame: BadFrame) {
        self.bad_frames += 1;
        if self.recent_bad_frames.len() >= self.config.max_bad_frames_kept {
            self.recent_bad_frames.pop_front();
        }
        self.recent_bad_frames.push_back(frame);
    }

    /// Records what the feed said: the connection state it leaves, a line in the connection log.
    pub fn record_status(&mut self, status: &FeedStatus, now: Instant) {
        if let FeedStatus::Failed { reason, .. } = status {
            self.feed_failures += 1;
            self.last_feed_failure = Some(reason.clone());
        }
        match status.connection(now) {
            Some(state) => self.set_connection(state, status.note()),
            None => self.log_connection_note(status.note()),
        }
    }

    /// Records a connection change and a line in the connection log.
    pub fn set_connection(&mut self, state: ConnectionState, note: impl Into<String>) {
        // A reconnect is a lost connection, however many attempts it then takes.
        if self.connection.is_connected() && matches!(state, ConnectionState::Reconnecting { .. }) {
            self.reconnects += 1;
        }
        self.connection = state;
        self.log_connection_note(note.into());
    }

    fn log_connection_note(&mut self, note: String) {
        if !note.is_empty() {
            if self.connection_log.len() >= self.config.max_connection_notes {
                self.connection_log.pop_front();
            }
            self.connection_log.push_back(ConnectionNote {
                at_ms: now_ms(),
                text: note,
            });
        }
    }

    /// The user has looked at this kind's tab.
    pub fn mark_seen(&mut self, kind: EventKind) {
        self.counts[kind.index()].unseen = 0;
    }

    pub fn count(&self, kind: EventKind) -> KindCount {
        self.counts[kind.index()]
    }

    pub fn positions(&self) -> impl ExactSizeIterator<Item = &PositionEntry> {
        self.positions.values()
    }

    pub fn position(&self, id: &str) -> Option<&PositionEntry> {
        self.positions.get(id)
    }

    /// Oldest first.
    pub fn general(&self) -> impl DoubleEndedIterator<Item = &GeneralEntry> + ExactSizeIterator {
        self.general.iter()
    }

    /// The general message numbered `seq`, if it is still kept.
    pub fn general_entry(&self, seq: u64) -> Option<&GeneralEntry> {
        let first = self.general.front()?.seq;
        let index = usize::try_from(seq.checked_sub(first)?).ok()?;
        self.general.get(index)
    }

    /// Rises with each applied batch: views cache sorted rows per version.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn bad_frames(&self) -> u64 {
        self.bad_frames
    }

    pub fn recent_bad_frames(&self) -> impl DoubleEndedIterator<Item = &BadFrame> + ExactSizeIterator {
        self.recent_bad_frames.iter()
    }

    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    pub fn stale(&self) -> u64 {
        self.stale
    }

    /// Frames read from the socket, good and bad.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    pub fn frames_per_second(&self, now: Instant) -> f64 {
        self.rate.per_second(now)
    }

    pub fn last_message_ms(&self) -> Option<i64> {
        self.last_message_ms
    }

    /// How often the feed failed, and why the last time.
    pub fn feed_failures(&self) -> (u64, Option<&str>) {
        (self.feed_failures, self.last_feed_failure.as_deref())
    }

    pub fn reconnects(&self) -> u64 {
        self.reconnects
    }

    pub fn connection_log(&self) -> impl DoubleEndedIterator<Item = &ConnectionNote> + ExactSizeIterator {
        self.connection_log.iter()
    }
}

#[cfg(test)]
mod tests;
