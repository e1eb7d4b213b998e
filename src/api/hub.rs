//! The fan-out from the one feed to many API clients. The feed's tap reaches [`relay`], which
//! hands each applied batch to [`Hub::publish`] (each event written as text once, shared by every
//! client that wants its kind) before passing the tap on (to the notifier). A client's queue takes
//! a batch as one [`Parcel`], so fifty clients cost fifty hand-overs per batch, not per event.
//! Publishing never waits: each client's queue is bounded in events, and a client whose queue is
//! full is closed with a reason (it can reconnect and read the REST lists); nothing is dropped
//! without the client being told.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};

use axum::extract::ws::Utf8Bytes;
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};

use crate::feed::{SharedStore, Tap};
use crate::fyers::model::EventKind;
use crate::lines::event_line;

/// Events a client's queue holds before it counts as fallen behind.
pub const DEFAULT_CLIENT_QUEUE: usize = 16_384;

/// A set of event kinds as bits (`EventKind::index`), for a lock-free filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Kinds(u8);

impl Kinds {
    pub fn of(kinds: impl IntoIterator<Item = EventKind>) -> Self {
        Self(kinds.into_iter().fold(0, |bits, kind| bits | 1 << kind.index()))
    }

    pub fn from_bits(bits: u8) -> Self {
        Self(bits)
    }

    pub fn bits(self) -> u8 {
        self.0
    }

    pub fn contains(self, kind: EventKind) -> bool {
        self.0 & 1 << kind.index() != 0
    }

    pub fn names(self) -> Vec<&'static str> {
        EventKind::ALL
            .into_iter()
            .filter(|kind| self.contains(*kind))
            .map(EventKind::sdk_name)
            .collect()
    }
}

/// Why the server closed a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kicked {
    /// Its queue filled: it read slower than the stream came.
    FellBehind,
    /// The server is stopping, the key changed, or the stream it watched ended.
    Stopping(&'static str),
}

/// Messages for one client, in order: an applied batch's events of the kinds it wants, or a
/// status. Shared by every client whose filter picks the same events.
pub type Parcel = Arc<[Utf8Bytes]>;

struct Slot {
    id: u64,
    kinds: Arc<AtomicU8>,
    /// As many parcels as messages may wait; `queued` counts the messages.
    queue: mpsc::Sender<Parcel>,
    queued: Arc<AtomicUsize>,
    kick: Option<oneshot::Sender<Kicked>>,
}

impl Slot {
    fn kick(mut self, why: Kicked) {
        if let Some(kick) = self.kick.take() {
            let _ = kick.send(why);
        }
    }
}

/// A client's end: its queue, its filter, and the word that it must go.
pub struct Membership {
    pub id: u64,
    pub kinds: Arc<AtomicU8>,
    pub queue: mpsc::Receiver<Parcel>,
    /// Messages in `queue`: the writer takes off what it takes out.
    pub queued: Arc<AtomicUsize>,
    /// The most messages `queue` may hold.
    pub limit: usize,
    pub kicked: oneshot::Receiver<Kicked>,
}

/// One per stream (a feed and its store).
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    store: SharedStore,
    clients: Mutex<Vec<Slot>>,
    next_id: AtomicU64,
    queue: usize,
    /// Clients closed because they fell behind, since the start.
    fell_behind: AtomicU64,
    /// Status messages follow the store: made when a client or a status asks.
    status: Box<dyn Fn(&crate::store::Store) -> serde_json::Value + Send + Sync>,
}

impl Hub {
    /// `status`: the `data` of a `status` message, from the store.
    pub fn new(
        store: SharedStore,
        queue: usize,
        status: impl Fn(&crate::store::Store) -> serde_json::Value + Send + Sync + 'static,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                clients: Mutex::new(Vec::new()),
                next_id: AtomicU64::new(1),
                queue: queue.max(1),
                fell_behind: AtomicU64::new(0),
                status: Box::new(status),
            }),
        }
    }

    /// The same hub (clones share one).
    pub fn same(&self, other: &Hub) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub fn store(&self) -> &SharedStore {
        &self.inner.store
    }

    pub fn queue_limit(&self) -> usize {
        self.inner.queue
    }

    /// A new client, wanting `kinds`.
    pub fn join(&self, kinds: Kinds) -> Membership {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        // Every parcel holds a message at least: the count below is reached first.
        let (queue_tx, queue) = mpsc::channel(self.inner.queue);
        let (kick, kicked) = oneshot::channel();
        let kinds = Arc::new(AtomicU8::new(kinds.0));
        let queued = Arc::new(AtomicUsize::new(0));
        self.inner.clients.lock().push(Slot {
            id,
            kinds: kinds.clone(),
            queue: queue_tx,
            queued: queued.clone(),
            kick: Some(kick),
        });
        Membership {
            id,
            kinds,
            queue,
            queued,
            limit: self.inner.queue,
            kicked,
        }
    }

    pub fn leave(&self, id: u64) {
        self.inner.clients.lock().retain(|slot| slot.id != id);
    }

    pub fn clients(&self) -> usize {
        self.inner.clients.lock().len()
    }

    pub fn fell_behind(&self) -> u64 {
        self.inner.fell_behind.load(Ordering::Relaxed)
    }

    /// Closes every client, saying why.
    pub fn close_all(&self, why: &'static str) {
        let slots = std::mem::take(&mut *self.inner.clients.lock());
        for slot in slots {
            slot.kick(Kicked::Stopping(why));
        }
    }

    /// The `data` of a `status` message now.
    pub fn status(&self) -> serde_json::Value {
        (self.inner.status)(&self.inner.store.read())
    }

    /// Hands what the feed applied to the clients that want it. Never waits.
    pub fn publish(&self, tap: &Tap) {
        let mut clients = self.inner.clients.lock();
        if clients.is_empty() {
            return;
        }
        match tap {
            Tap::Events { events, origin, .. } => {
                let wanted = clients
                    .iter()
                    .fold(0u8, |bits, slot| bits | slot.kinds.load(Ordering::Relaxed));
                let lines: Vec<(u8, Utf8Bytes)> = events
                    .iter()
                    .map(|event| (1u8 << event.kind().index(), event))
                    .filter(|(bit, _)| wanted & bit != 0)
                    .map(|(bit, event)| (bit, Utf8Bytes::from(event_line(event, *origin))))
                    .collect();
                let present = lines.iter().fold(0u8, |bits, (bit, _)| bits | bit);
                // One parcel per distinct filter: usually every client wants all, and shares one.
                let mut made: Vec<(u8, Parcel)> = Vec::new();
                self.deliver(&mut clients, |kinds| {
                    let kinds = kinds & present;
                    if kinds == 0 {
                        return None;
                    }
                    if let Some((_, parcel)) = made.iter().find(|(made_for, _)| *made_for == kinds) {
                        return Some(parcel.clone());
                    }
                    let parcel: Parcel = lines
                        .iter()
                        .filter(|(bit, _)| kinds & bit != 0)
                        .map(|(_, text)| text.clone())
                        .collect();
                    made.push((kinds, parcel.clone()));
                    Some(parcel)
                });
            }
            Tap::Status(status) => {
                // Drop the clients' lock while the store's is taken: never hold both.
                drop(clients);
                let mut data = self.status();
                data["event"] = status.to_json();
                let text = Utf8Bytes::from(serde_json::json!({"type": "status", "data": data}).to_string());
                let parcel: Parcel = Arc::from([text]);
                let mut clients = self.inner.clients.lock();
                // Status goes to every client, whatever it filters.
                self.deliver(&mut clients, |_| Some(parcel.clone()));
            }
            Tap::Restored(_) | Tap::Pnl(_) => {}
        }
    }

    /// To every client `parcel_for` gives a parcel (from its filter's bits); a client whose
    /// queue cannot take it is closed.
    fn deliver(&self, clients: &mut Vec<Slot>, mut parcel_for: impl FnMut(u8) -> Option<Parcel>) {
        let mut gone = Vec::new();
        for (index, slot) in clients.iter().enumerate() {
            let Some(parcel) = parcel_for(slot.kinds.load(Ordering::Relaxed)) else {
                continue;
            };
            let messages = parcel.len();
            // Only this thread adds (under the clients' lock); the writer only takes off.
            if slot.queued.load(Ordering::Acquire) + messages > self.inner.queue {
                gone.push((index, Some(Kicked::FellBehind)));
                continue;
            }
            // Counted before the writer can take it off (and count it out).
            slot.queued.fetch_add(messages, Ordering::AcqRel);
            if let Err(err) = slot.queue.try_send(parcel) {
                slot.queued.fetch_sub(messages, Ordering::AcqRel);
                gone.push((
                    index,
                    matches!(err, mpsc::error::TrySendError::Full(_)).then_some(Kicked::FellBehind),
                ));
            }
        }
        for (index, why) in gone.into_iter().rev() {
            let slot = clients.swap_remove(index);
            if let Some(why) = why {
                self.inner.fell_behind.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    client = slot.id,
                    queue = self.inner.queue,
                    "an API client fell behind; closing it"
                );
                slot.kick(why);
            }
        }
    }
}

/// Passes the feed's tap on to `next` (the notifier, which may wait) after the hub has had it.
pub async fn relay(mut taps: mpsc::Receiver<Tap>, hub: Hub, mut next: Option<mpsc::Sender<Tap>>) {
    while let Some(tap) = taps.recv().await {
        hub.publish(&tap);
        if let Some(sender) = &next
            && sender.send(tap).await.is_err()
        {
            tracing::warn!("the notifier stopped; the API goes on");
            next = None;
        }
    }
    hub.close_all("the stream ended");
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use parking_lot::RwLock;

    use super::*;
    use crate::fyers::model::{Event, Order, Trade};
    use crate::store::{Origin, Store};

    fn hub(queue: usize) -> Hub {
        Hub::new(Arc::new(RwLock::new(Store::default())), queue, |_| {
            serde_json::json!({})
        })
    }

    fn events(orders: usize, trades: usize) -> Tap {
        let order = |n: usize| {
            Event::Order(Box::new(Order {
                id: format!("o{n}").into(),
                ..Order::default()
            }))
        };
        let trade = |n: usize| {
            Event::Trade(Box::new(Trade {
                trade_number: format!("t{n}").into(),
                ..Trade::default()
            }))
        };
        Tap::Events {
            events: (0..orders).map(order).chain((0..trades).map(trade)).collect(),
            origin: Origin::Socket,
            journaled: None,
        }
    }

    fn texts(membership: &mut Membership) -> Vec<String> {
        let mut parcels = Vec::new();
        while let Ok(parcel) = membership.queue.try_recv() {
            membership.queued.fetch_sub(parcel.len(), Ordering::AcqRel);
            parcels.push(parcel);
        }
        parcels
            .iter()
            .flat_map(|parcel| parcel.iter().map(|text| text.to_string()))
            .collect()
    }

    #[test]
    fn a_batch_is_one_parcel_per_client_shared_by_equal_filters_and_cut_for_others() {
        let hub = hub(100);
        let mut all = hub.join(Kinds::of(EventKind::ALL));
        let mut all_too = hub.join(Kinds::of(EventKind::ALL));
        let mut trades = hub.join(Kinds::of([EventKind::Trades]));
        let mut general = hub.join(Kinds::of([EventKind::General]));
        hub.publish(&events(3, 2));
        let first = all.queue.try_recv().expect("a parcel");
        let second = all_too.queue.try_recv().expect("a parcel");
        assert!(Arc::ptr_eq(&first, &second), "one parcel shared by both");
        assert_eq!(first.len(), 5);
        assert!(all.queue.try_recv().is_err(), "the batch came as one parcel");
        let trades = texts(&mut trades);
        assert_eq!(trades.len(), 2);
        assert!(
            trades
                .iter()
                .all(|text| text.starts_with(r#"{"type":"OnTrades""#))
        );
        assert!(texts(&mut general).is_empty(), "nothing it wants: no parcel");
        assert_eq!(all.queued.load(Ordering::Acquire), 5, "counted in messages");
    }

    #[test]
    fn the_queue_is_bounded_in_messages_and_a_client_past_it_is_closed() {
        let hub = hub(10);
        let mut slow = hub.join(Kinds::of(EventKind::ALL));
        let mut fast = hub.join(Kinds::of(EventKind::ALL));
        hub.publish(&events(6, 0));
        assert_eq!(texts(&mut fast).len(), 6);
        // The slow one holds 6: 6 more would make 12 of 10.
        hub.publish(&events(6, 0));
        assert_eq!(slow.kicked.try_recv(), Ok(Kicked::FellBehind));
        assert_eq!(hub.fell_behind(), 1);
        assert_eq!(hub.clients(), 1, "the fast one stays");
        assert_eq!(texts(&mut fast).len(), 6);
        // What it had taken before stays readable ahead of the close.
        assert_eq!(texts(&mut slow).len(), 6);
    }
}
