//! The fan-out from the one feed to many API clients. The feed's tap reaches [`relay`], which
//! hands each applied event to [`Hub::publish`] (written as text once, shared by every client
//! that wants its kind) before passing the tap on (to the notifier). Publishing never waits: each
//! client has a bounded queue, and a client whose queue is full is closed with a reason (it can
//! reconnect and read the REST lists); nothing is dropped without the client being told.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

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
    pub const STATUS: u8 = 1 << 4;

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

struct Slot {
    id: u64,
    kinds: Arc<AtomicU8>,
    queue: mpsc::Sender<Utf8Bytes>,
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
    pub queue: mpsc::Receiver<Utf8Bytes>,
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
        let (queue_tx, queue) = mpsc::channel(self.inner.queue);
        let (kick, kicked) = oneshot::channel();
        let kinds = Arc::new(AtomicU8::new(kinds.0));
        self.inner.clients.lock().push(Slot {
            id,
            kinds: kinds.clone(),
            queue: queue_tx,
            kick: Some(kick),
        });
        Membership {
            id,
            kinds,
            queue,
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
                for event in events {
                    let kind = event.kind();
                    let bit = 1u8 << kind.index();
                    if wanted & bit == 0 {
                        continue;
                    }
                    let text = Utf8Bytes::from(event_line(event, *origin));
                    self.deliver(&mut clients, &text, bit);
                }
            }
            Tap::Status(status) => {
                // Drop the clients' lock while the store's is taken: never hold both.
                drop(clients);
                let mut data = self.status();
                data["event"] = status.to_json();
                let text = Utf8Bytes::from(serde_json::json!({"type": "status", "data": data}).to_string());
                let mut clients = self.inner.clients.lock();
                self.deliver(&mut clients, &text, Kinds::STATUS);
            }
            Tap::Restored(_) | Tap::Pnl(_) => {}
        }
    }

    /// To every client whose filter has `bit` (status goes to all); a full queue closes its client.
    fn deliver(&self, clients: &mut Vec<Slot>, text: &Utf8Bytes, bit: u8) {
        let mut gone = Vec::new();
        for (index, slot) in clients.iter().enumerate() {
            if bit != Kinds::STATUS && slot.kinds.load(Ordering::Relaxed) & bit == 0 {
                continue;
            }
            match slot.queue.try_send(text.clone()) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => gone.push((index, Some(Kicked::FellBehind))),
                Err(mpsc::error::TrySendError::Closed(_)) => gone.push((index, None)),
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
