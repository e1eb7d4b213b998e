//! The order book: latest state per order id, each order's update history, and the never-regress rule.

use std::collections::VecDeque;

/// Keys are ids the exchange assigns, not attacker-chosen: a fast hasher is safe here.
type IndexMap<K, V> = indexmap::IndexMap<K, V, foldhash::fast::RandomState>;

use crate::fyers::model::{Order, OrderStatus, Text};

/// Where an update came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A frame on the order socket.
    Socket,
    /// A row of a REST snapshot merged after a (re)connect.
    Resync,
}

/// What applying one update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new order, trade, position or message.
    New,
    /// Replaced the state held.
    Updated,
    /// Older than the state held: kept in the history only.
    Stale,
    /// Nothing new: the same state again.
    Duplicate,
    /// A resync row for something the socket updated after the resync began: the socket's state
    /// is at least as new, so the row is passed over.
    Superseded,
}

impl Outcome {
    pub fn changed(self) -> bool {
        matches!(self, Self::New | Self::Updated)
    }
}

/// One update of an order, as the timeline shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderUpdate {
    pub received_ms: i64,
    pub update_time_epoch: Option<i64>,
    pub status: Option<OrderStatus>,
    pub filled_qty: Option<i64>,
    pub remaining_qty: Option<i64>,
    pub limit_price: Option<f64>,
    pub stop_price: Option<f64>,
    pub traded_price: Option<f64>,
    pub message: Option<Text>,
    pub report_type: Option<Text>,
    pub origin: Origin,
    /// False when the update was older than the state held and did not replace it.
    pub applied: bool,
}

impl OrderUpdate {
    fn of(order: &Order, received_ms: i64, origin: Origin, applied: bool) -> Self {
        Self {
            received_ms,
            update_time_epoch: order.update_time_epoch_oms,
            status: order.status,
            filled_qty: order.filled_qty,
            remaining_qty: order.remaining_qty,
            limit_price: order.limit_price,
            stop_price: order.stop_price,
            traded_price: order.traded_price,
            message: order.message.clone(),
            report_type: order.report_type.clone(),
            origin,
            applied,
        }
    }
}

/// An order's latest state and how it got there.
#[derive(Debug, Clone)]
pub struct OrderEntry {
    /// Boxed as parsed: the frame's allocation becomes the book's, with no copy.
    pub order: Box<Order>,
    /// Oldest first, capped; `updates` counts all of them.
    pub history: VecDeque<OrderUpdate>,
    pub updates: u64,
    /// Arrival order of the order's first update.
    pub first_seq: u64,
    pub first_seen_ms: i64,
    /// The store's socket batch number of the last socket update (0: none).
    pub socket_batch: u64,
}

/// Orders by state, kept as orders move so the cards cost nothing to draw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderCounts {
    pub open: u64,
    pub filled: u64,
    pub cancelled: u64,
    pub rejected: u64,
    pub other: u64,
}

impl OrderCounts {
    fn slot(&mut self, status: OrderStatus) -> &mut u64 {
        match status {
            OrderStatus::Transit | OrderStatus::Pending => &mut self.open,
            OrderStatus::Filled => &mut self.filled,
            OrderStatus::Cancelled => &mut self.cancelled,
            OrderStatus::Rejected => &mut self.rejected,
            OrderStatus::Expired | OrderStatus::Unused | OrderStatus::Other(_) => &mut self.other,
        }
    }

    fn add(&mut self, status: OrderStatus) {
        *self.slot(status) += 1;
    }

    fn remove(&mut self, status: OrderStatus) {
        let slot = self.slot(status);
        *slot = slot.saturating_sub(1);
    }
}

/// Does `new` carry a later state of the order than `held`? Updates are ordered by
/// `update_time_epoch_oms` when both have it, otherwise by arrival; and an order never moves
/// backwards in its life or loses filled quantity, whatever the timestamps say. A frame without
/// `qty_filled` (the New Ack has none) says nothing about the filled quantity.
pub fn supersedes(held: &Order, new: &Order) -> bool {
    Progress::of(new).supersedes(&Progress::of(held))
}

/// Where an order is in its life, as far as ordering its updates goes; all an evicted order
/// leaves behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub status: OrderStatus,
    pub filled: Option<i64>,
    pub update_time: Option<i64>,
}

impl Progress {
    pub fn of(order: &Order) -> Self {
        Self {
            status: order.status(),
            filled: order.filled_qty,
            update_time: order.update_time_epoch_oms,
        }
    }

    /// Is `self` (a new update) at least as far on as `held`?
    pub fn supersedes(&self, held: &Progress) -> bool {
        if let (Some(held_time), Some(new_time)) = (held.update_time, self.update_time)
            && new_time < held_time
        {
            return false;
        }
        let filled = match (self.filled, held.filled) {
            (Some(new), Some(held)) => new >= held,
            _ => true,
        };
        filled && self.status.progress_rank() >= held.status.progress_rank()
    }
}

/// A full book (or trade list) is trimmed by 1/20 of its cap at a time.
pub(super) const TRIM_SHARE: usize = 20;

/// Tombstones kept: four per order of the cap, and never fewer than `MIN_TOMBSTONES`, so a small
/// cap on a big day still knows every order it let go (each REST resync lists the whole day). A
/// tombstone is some 80 bytes against an order's 700.
pub(super) const TOMBSTONES_PER_ORDER: usize = 4;
pub(super) const MIN_TOMBSTONES: usize = 100_000;

/// How many tombstones a cap of `cap` rows keeps.
pub(super) fn tombstones_for(cap: usize) -> usize {
    cap.saturating_mul(TOMBSTONES_PER_ORDER).max(MIN_TOMBSTONES)
}

/// Orders keyed by id, capped in number and in history length. An order evicted at the cap leaves
/// a tombstone (its `Progress`), so a late frame or a stale REST row for it is known for what it
/// is instead of coming back as new; tombstones are capped too (`tombstones_for`).
#[derive(Debug, Clone)]
pub struct OrderBook {
    entries: IndexMap<Text, OrderEntry>,
    tombstones: IndexMap<Text, Progress>,
    /// Every order of the day by state, evicted ones included.
    counts: OrderCounts,
    seq: u64,
    max_orders: usize,
    max_history: usize,
    evicted: u64,
}

impl OrderBook {
    pub fn new(max_orders: usize, max_history: usize) -> Self {
        Self {
            entries: IndexMap::default(),
            tombstones: IndexMap::default(),
            counts: OrderCounts::default(),
            seq: 0,
            max_orders: max_orders.max(1),
            max_history: max_history.max(1),
            evicted: 0,
        }
    }

    /// Applies one update. `batch` is the socket batch number for a socket update, or for a resync
    /// row the number the resync started at.
    pub fn apply(
        &mut self,
        order: impl Into<Box<Order>>,
        origin: Origin,
        received_ms: i64,
        batch: u64,
    ) -> Outcome {
        let mut order = order.into();
        self.seq += 1;
        let socket_batch = if origin == Origin::Socket { batch } else { 0 };
        let max_history = self.max_history;
        let Some(entry) = self.entries.get_mut(&order.id) else {
            if let Some(outcome) = self.against_tombstone(&mut order) {
                return outcome;
            }
            self.counts.add(order.status());
            let mut history = VecDeque::with_capacity(4);
            history.push_back(OrderUpdate::of(&order, received_ms, origin, true));
            let entry = OrderEntry {
                order,
                history,
                updates: 1,
                first_seq: self.seq,
                first_seen_ms: received_ms,
                socket_batch,
            };
            self.entries.insert(entry.order.id.clone(), entry);
            self.evict_if_full();
            return Outcome::New;
        };
        if origin == Origin::Resync && entry.socket_batch > batch {
            return Outcome::Superseded;
        }
        // A REST row lacks the socket's timing keys; it inherits them so later frames still order.
        // Socket updates seen during the resync win (`Outcome::Superseded`); if Fyers' REST side
        // ever lagged behind its socket, a same-stage change (a modified price) could be undone
        // until the order's next update.
        let held = &entry.order;
        if order.update_time_epoch_oms.is_none() {
            order.update_time_epoch_oms = held.update_time_epoch_oms;
            order.time_epoch_oms = order.time_epoch_oms.or(held.time_epoch_oms);
            order.report_type = order.report_type.take().or_else(|| held.report_type.clone());
            order.status_msg = order.status_msg.take().or_else(|| held.status_msg.clone());
        }
        // No `qty_filled` means unknown, not 0: the quantity known so far stands.
        if order.filled_qty.is_none() {
            order.filled_qty = held.filled_qty;
        }
        if *order == **held {
            return Outcome::Duplicate;
        }
        let applied = supersedes(held, &order);
        entry.updates += 1;
        if entry.history.len() >= max_history {
            entry.history.pop_front();
        }
        entry
            .history
            .push_back(OrderUpdate::of(&order, received_ms, origin, applied));
        if !applied {
            return Outcome::Stale;
        }
        self.counts.remove(held.status());
        self.counts.add(order.status());
        entry.order = order;
        entry.socket_batch = entry.socket_batch.max(socket_batch);
        Outcome::Updated
    }

    /// Past the cap, drops the oldest finished orders first (then the oldest open ones) down to
    /// `TRIM_SHARE` below the cap: one scan of the book per 5% of growth, not one per order (at
    /// 1% the scans took 7% of a full stream's time at the cap).
    fn evict_if_full(&mut self) {
        let excess = self.entries.len().saturating_sub(self.max_orders);
        if excess == 0 {
            return;
        }
        let target = (excess + self.max_orders / TRIM_SHARE).min(self.entries.len());
        let mut candidates: Vec<(bool, u64, usize)> = self
            .entries
            .values()
            .enumerate()
            .map(|(index, entry)| (!entry.order.status().is_terminal(), entry.first_seq, index))
            .collect();
        candidates.select_nth_unstable(target - 1);
        let mut doomed: Vec<usize> = candidates[..target].iter().map(|&(_, _, index)| index).collect();
        // Highest index first: swap_remove then only moves entries that are staying.
        doomed.sort_unstable_by(|a, b| b.cmp(a));
        for index in doomed {
            if let Some((id, entry)) = self.entries.swap_remove_index(index) {
                // Still counted: the cards count the day's orders, not the rows kept.
                self.tombstones.insert(id, Progress::of(&entry.order));
                self.evicted += 1;
            }
        }
        let most = tombstones_for(self.max_orders);
        if self.tombstones.len() > most {
            let excess = self.tombstones.len() - most + most / TRIM_SHARE;
            self.tombstones.drain(..excess.min(self.tombstones.len()));
        }
    }

    /// An update for an order that was evicted: the same state again, older (both passed over),
    /// or truly further on (it comes back, counted once).
    fn against_tombstone(&mut self, order: &mut Order) -> Option<Outcome> {
        let held = *self.tombstones.get(&order.id)?;
        // As for a held order: unknown fills and a REST row's missing timing are inherited.
        order.filled_qty = order.filled_qty.or(held.filled);
        order.update_time_epoch_oms = order.update_time_epoch_oms.or(held.update_time);
        let new = Progress::of(order);
        if new == held {
            return Some(Outcome::Duplicate);
        }
        if !new.supersedes(&held) {
            return Some(Outcome::Stale);
        }
        let status = held.status;
        self.tombstones.swap_remove(&order.id);
        self.counts.remove(status);
        None
    }

    pub fn get(&self, id: &str) -> Option<&OrderEntry> {
        self.entries.get(id)
    }

    /// Entries in no particular order; `first_seq` gives arrival order.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = &OrderEntry> {
        self.entries.values()
    }

    /// The entry at a position of `entries()`, for views that cache row indices per store version.
    pub fn entry_at(&self, index: usize) -> Option<&OrderEntry> {
        self.entries.get_index(index).map(|(_, entry)| entry)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn counts(&self) -> OrderCounts {
        self.counts
    }

    pub fn evicted(&self) -> u64 {
        self.evicted
    }
}

#[cfg(test)]
mod tests;
