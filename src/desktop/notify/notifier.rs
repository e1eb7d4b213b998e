//! Deciding what to notify: order transitions, the stream's health, the login's life, and the
//! coalescing window. No I/O and no clock of its own, so every rule is unit-tested.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::batch::{Batch, Item};
use super::missed::Missed;
use super::pnl::PnlAlerts;
use super::{Notification, NotifyKind, STREAM_LOST_AFTER, wording};
use crate::config::NotificationSettings;
use crate::feed::Tap;
use crate::fyers::model::{Event, GeneralKind, Order, OrderStatus, Text};
use crate::store::{FeedStatus, Origin, SESSION_EXPIRED, SessionInfo};

/// Orders whose last state is remembered; a day rarely has more, and the oldest go first.
const KNOWN_ORDERS: usize = 100_000;

/// Turns what the feed applied into notifications.
#[derive(Debug)]
pub struct Notifier {
    window: Duration,
    orders: KnownOrders,
    /// Gathering notifications, in the order they opened; one open per kind.
    batches: Vec<Batch>,
    /// Notifications not coalesced (stream, session), due at once.
    ready: Vec<(Instant, Notification)>,
    link: Link,
    /// The last connection state was a refused or expired login: it is not repeated.
    rejected: bool,
    /// When the session-ending warning was last raised, for once per login.
    session_warned_at: Option<Instant>,
    /// Restored from the journal and not yet resynced: what the first resync finds changed
    /// happened while Orderwatch was closed, and is told once, as one summary.
    catching_up: Option<Missed>,
    pnl: PnlAlerts,
    /// The newest P&L snapshot not yet checked against the thresholds.
    pnl_seen: Option<crate::feed::PnlSnapshot>,
}

/// The stream's health as far as notifications care.
#[derive(Debug, Clone, PartialEq)]
enum Link {
    /// Not streaming on its own account: not connected yet since start, or stopped by the user or
    /// by a dead login. No alarm runs; `lost_since` is set when a lost stream was notified and it
    /// has not come back yet.
    Idle {
        lost_since: Option<Instant>,
    },
    Up,
    /// Dropped at `since` and trying to come back.
    Down {
        since: Instant,
        reason: Option<String>,
        lost: Lost,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lost {
    /// The alarm runs.
    Pending,
    /// The user was told.
    Notified,
    /// The alarm went off with stream notifications off: nothing to restore either.
    Silenced,
}

impl Notifier {
    /// `window`: notifications of one kind within this time of the first are shown as one.
    pub fn new(window: Duration) -> Self {
        Self::with_order_memory(window, KNOWN_ORDERS)
    }

    pub(super) fn with_order_memory(window: Duration, orders: usize) -> Self {
        Self {
            window,
            orders: KnownOrders::new(orders),
            batches: Vec::new(),
            ready: Vec::new(),
            link: Link::Idle { lost_since: None },
            rejected: false,
            session_warned_at: None,
            catching_up: None,
            pnl: PnlAlerts::default(),
            pnl_seen: None,
        }
    }

    /// Takes in what the feed applied.
    pub fn observe(&mut self, tap: &Tap, now: Instant) {
        match tap {
            Tap::Events { events, origin, .. } => {
                for event in events {
                    self.observe_event(event, *origin, now);
                }
            }
            Tap::Restored(restored) => {
                // The day so far is known: only what the first resync changes is news.
                for order in &restored.orders {
                    self.orders.update(order);
                }
                self.catching_up = Some(Missed::default());
            }
            Tap::Status(status) => self.observe_status(status, now),
            Tap::Pnl(snapshot) => self.pnl_seen = Some(snapshot.clone()),
        }
    }

    fn observe_event(&mut self, event: &Event, origin: Origin, now: Instant) {
        // A resync replays what happened while the stream was down: it still teaches the order
        // states (so the same state arriving live later is not news), but it is old news.
        let live = origin == Origin::Socket;
        let item = match event {
            Event::Order(order) => match self.orders.update(order) {
                Some((kind, newly_filled)) if live => Some((kind, Item::order(kind, order, newly_filled))),
                Some((kind, _)) => {
                    if let Some(missed) = &mut self.catching_up {
                        missed.add(kind);
                    }
                    None
                }
                None => None,
            },
            Event::Trade(trade) if live => Some((NotifyKind::TradeExecuted, Item::trade(trade))),
            Event::General(general) if live && general.kind == GeneralKind::PriceAlert => {
                Some((NotifyKind::PriceAlert, Item::alert(general)))
            }
            Event::Trade(_) | Event::Position(_) | Event::General(_) => None,
        };
        if let Some((kind, item)) = item {
            // A batch whose window has passed is closed even if `due` has not run yet.
            let window = self.window;
            let open = self
                .batches
                .iter_mut()
                .find(|batch| batch.kind == kind && now < batch.opened_at + window);
            match open {
                Some(batch) => batch.add(item),
                None => self.batches.push(Batch::open(kind, item, now)),
            }
        }
    }

    fn observe_status(&mut self, status: &FeedStatus, now: Instant) {
        let mut rejected = false;
        match status {
            FeedStatus::Connected { .. } => {
                if let Some(since) = self.lost_since() {
                    let body = wording::stream_restored(now.saturating_duration_since(since));
                    self.ready_now(now, NotifyKind::StreamRestored, body);
                }
                self.link = Link::Up;
            }
            FeedStatus::Connecting { .. } => self.stream_down(now, None),
            FeedStatus::Reconnecting { reason, .. } => self.stream_down(now, Some(reason)),
            FeedStatus::Failed {
                reason,
                restart_in: Some(_),
            } => self.stream_down(now, Some(reason)),
            FeedStatus::Disconnected { .. } | FeedStatus::Failed { restart_in: None, .. } => {
                self.link = Link::Idle {
                    lost_since: self.lost_since(),
                };
            }
            FeedStatus::AuthRejected { .. } | FeedStatus::SessionExpired => {
                self.link = Link::Idle {
                    lost_since: self.lost_since(),
                };
                if !self.rejected {
                    let reason = match status {
                        FeedStatus::AuthRejected { reason } => reason.as_str(),
                        _ => SESSION_EXPIRED,
                    };
                    self.ready_now(
                        now,
                        NotifyKind::SessionExpired,
                        wording::session_expired(Some(reason)),
                    );
                    // That login is over: the next one may warn again.
                    self.session_warned_at = None;
                }
                rejected = true;
            }
            FeedStatus::SessionEnding { .. } => {
                // A token warned about is dead `ENDING_SOON` later, so a warning after that is a
                // new login's.
                let warned = self
                    .session_warned_at
                    .is_some_and(|at| now.saturating_duration_since(at) < SessionInfo::ENDING_SOON);
                if !warned {
                    self.session_warned_at = Some(now);
                    self.ready_now(now, NotifyKind::SessionEnding, wording::session_ending());
                }
                return;
            }
            FeedStatus::Resynced { .. } => {
                if let Some(notification) = self.catching_up.take().and_then(Missed::notification) {
                    self.ready.push((now, notification));
                }
                return;
            }
            FeedStatus::Subscribed { .. } => return,
        }
        self.rejected = rejected;
    }

    /// The stream is (still) down and trying to come back.
    fn stream_down(&mut self, now: Instant, reason: Option<&String>) {
        match &mut self.link {
            Link::Up => {
                self.link = Link::Down {
                    since: now,
                    reason: reason.cloned(),
                    lost: Lost::Pending,
                }
            }
            Link::Down { reason: held, .. } => {
                if let Some(reason) = reason {
                    *held = Some(reason.clone());
                }
            }
            // Starting up, or started again by the user: not a lost stream.
            Link::Idle { .. } => {}
        }
    }

    /// When the stream was lost, if the user was told and it has not come back.
    fn lost_since(&self) -> Option<Instant> {
        match &self.link {
            Link::Down {
                since,
                lost: Lost::Notified,
                ..
            } => Some(*since),
            Link::Idle { lost_since } => *lost_since,
            Link::Down { .. } | Link::Up => None,
        }
    }

    fn ready_now(&mut self, now: Instant, kind: NotifyKind, body: String) {
        self.ready
            .push((now, Notification::new(kind, wording::title(kind), body)));
    }

    /// Everything due at `now` that the user wants; what is not wanted is dropped.
    pub fn due(&mut self, now: Instant, settings: &NotificationSettings) -> Vec<Notification> {
        let mut due = Vec::new();
        if let Link::Down { since, reason, lost } = &mut self.link
            && *lost == Lost::Pending
            && now >= *since + STREAM_LOST_AFTER
        {
            *lost = if NotifyKind::StreamLost.wanted(settings) {
                let body = wording::stream_lost(STREAM_LOST_AFTER, reason.as_deref());
                due.push(Notification::new(
                    NotifyKind::StreamLost,
                    wording::title(NotifyKind::StreamLost),
                    body,
                ));
                Lost::Notified
            } else {
                Lost::Silenced
            };
        }
        if let Some(snapshot) = self.pnl_seen.take() {
            let alerts = self.pnl.check(&snapshot, settings);
            due.extend(alerts.into_iter().filter(|alert| alert.kind.wanted(settings)));
        }
        let (now_due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.ready)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        self.ready = later;
        due.extend(now_due.into_iter().map(|(_, notification)| notification));
        let window = self.window;
        let (closed, open): (Vec<_>, Vec<_>) = std::mem::take(&mut self.batches)
            .into_iter()
            .partition(|batch| batch.opened_at + window <= now);
        self.batches = open;
        due.extend(closed.iter().map(Batch::notification));
        due.retain(|notification| notification.kind.wanted(settings));
        due
    }

    /// Everything held back, at once: for when the feed has stopped and nothing more will come.
    pub fn flush(&mut self, settings: &NotificationSettings) -> Vec<Notification> {
        let mut due: Vec<Notification> = self
            .ready
            .drain(..)
            .map(|(_, notification)| notification)
            .collect();
        due.extend(self.batches.drain(..).map(|batch| batch.notification()));
        due.retain(|notification| notification.kind.wanted(settings));
        due
    }

    /// When `due` must next be called; `None` when nothing is waiting.
    pub fn next_deadline(&self) -> Option<Instant> {
        let alarm = match &self.link {
            Link::Down {
                since,
                lost: Lost::Pending,
                ..
            } => Some(*since + STREAM_LOST_AFTER),
            _ => None,
        };
        let ready = self.ready.iter().map(|(at, _)| *at);
        let batches = self.batches.iter().map(|batch| batch.opened_at + self.window);
        alarm.into_iter().chain(ready).chain(batches).min()
    }
}

/// The last status and filled quantity of each order seen, bounded.
#[derive(Debug)]
struct KnownOrders {
    capacity: usize,
    states: HashMap<Text, Known>,
    /// Ids in the order first seen, to forget the oldest.
    arrival: VecDeque<Text>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Known {
    status: OrderStatus,
    filled: i64,
}

impl KnownOrders {
    fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            states: HashMap::new(),
            arrival: VecDeque::new(),
        }
    }

    /// Records the order's new state; returns what it became and the quantity newly filled, when
    /// that is news.
    fn update(&mut self, order: &Order) -> Option<(NotifyKind, i64)> {
        let after = Known {
            status: order.status(),
            filled: order.filled(),
        };
        let before = self.states.get(&order.id).copied();
        let kind = transition(before, after, order.qty);
        match before {
            // Never move an order backwards, whatever arrives.
            Some(before)
                if before.status.is_terminal()
                    || after.status.progress_rank() < before.status.progress_rank() => {}
            Some(before) => {
                let known = Known {
                    status: after.status,
                    filled: after.filled.max(before.filled),
                };
                self.states.insert(order.id.clone(), known);
            }
            None => {
                if self.arrival.len() >= self.capacity
                    && let Some(oldest) = self.arrival.pop_front()
                {
                    self.states.remove(&oldest);
                }
                self.arrival.push_back(order.id.clone());
                self.states.insert(order.id.clone(), after);
            }
        }
        let newly_filled = after
            .filled
            .saturating_sub(before.map_or(0, |before| before.filled));
        kind.map(|kind| (kind, newly_filled.max(0)))
    }
}

/// What an update from `before` (unknown: never seen) to `after` is worth notifying.
fn transition(before: Option<Known>, after: Known, qty: Option<i64>) -> Option<NotifyKind> {
    use OrderStatus::{Cancelled, Filled, Rejected};
    match (before.map(|known| known.status), after.status) {
        // A finished order cannot change; anything after it is late or wrong.
        (Some(was), _) if was.is_terminal() => None,
        (Some(was), is) if is.progress_rank() < was.progress_rank() => None,
        (_, Filled) => Some(NotifyKind::OrderFilled),
        (_, Rejected) => Some(NotifyKind::OrderRejected),
        (_, Cancelled) => Some(NotifyKind::OrderCancelled),
        (_, is) if !is.is_terminal() => {
            let filled_before = before.map_or(0, |known| known.filled);
            let part = after.filled > filled_before && qty.is_none_or(|qty| after.filled < qty);
            part.then_some(NotifyKind::OrderPartiallyFilled)
        }
        _ => None,
    }
}
