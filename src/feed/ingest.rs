//! Socket batches from read to store: each batch is parsed on the parsing pool and applied to the
//! store by the pool thread that finishes it, in the order the batches were read, one at a time.
//!
//! Why the pool applies, not the session: with a separate applying thread, a 2-core machine ran
//! three busy threads on two cores, and every batch woke the applier on whichever core the
//! scheduler chose, often a busy one while the other sat idle (`perf sched` showed wake-ups
//! waiting 3 ms behind a running thread). In 8 alternating runs of 10 × 57,707 order frames,
//! parse + apply went from a median of 1.33 M to 1.63 M frames/s (worst run 1.16 M → 1.52 M).
//! The session still sees every batch, in order, after it was applied (acknowledgements, how the
//! socket ended, the tap), so it stays the one place that decides what a connection does.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;

use super::SharedStore;
use super::parse::{Parsed, parse_messages, pool};
use super::resync::changed;
use crate::fyers::model::Event;
use crate::store::Origin;

/// What became of one batch, for the session.
#[derive(Debug, Default)]
pub struct Applied {
    /// Frames read, of every kind.
    pub frames: usize,
    /// The messages of subscribe and unsubscribe acknowledgements, in order.
    pub acks: Vec<String>,
    /// Frames that could not be read, and the error of the last of them.
    pub bad_frames: usize,
    pub last_error: Option<String>,
    /// Why the socket ended, if it did after these frames.
    pub end: Option<String>,
    /// False when nothing was applied: the batch was empty, or its connection had closed before
    /// its turn came.
    pub applied: bool,
    /// With a tap, the events that changed the store.
    pub tapped: Option<Vec<Event>>,
}

/// Applies parsed batches to one store in the order they were submitted.
pub struct Ingest {
    store: SharedStore,
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    /// The number the next batch submitted gets.
    submitted: u64,
    /// The number of the batch whose turn it is.
    turn: u64,
    /// Batches parsed before their turn came.
    waiting: BTreeMap<u64, Job>,
    /// A thread is applying; the others leave their batches to it.
    applying: bool,
}

struct Job {
    parsed: Parsed,
    end: Option<String>,
    tap: bool,
    open: Arc<AtomicBool>,
    reply: oneshot::Sender<Applied>,
}

impl Ingest {
    pub fn new(store: SharedStore) -> Arc<Self> {
        Arc::new(Self {
            store,
            queue: Mutex::new(Queue::default()),
        })
    }

    /// A way in for one connection. `tap`: copy the events that changed the store into the replies.
    pub fn inlet(self: &Arc<Self>, tap: bool) -> Inlet {
        Inlet {
            ingest: self.clone(),
            tap,
            open: Arc::new(AtomicBool::new(true)),
        }
    }

    /// Files a parsed batch and, unless another thread is at it, applies every batch whose turn
    /// has come.
    fn parsed(&self, number: u64, job: Job) {
        let mut queue = self.queue.lock();
        queue.waiting.insert(number, job);
        if queue.applying {
            return;
        }
        queue.applying = true;
        loop {
            let turn = queue.turn;
            let Some(job) = queue.waiting.remove(&turn) else {
                break;
            };
            queue.turn += 1;
            drop(queue);
            self.apply(job);
            queue = self.queue.lock();
        }
        queue.applying = false;
    }

    fn apply(&self, job: Job) {
        let Job {
            parsed,
            end,
            tap,
            open,
            reply,
        } = job;
        let Parsed {
            events,
            bad,
            acks,
            frames,
        } = parsed;
        let mut applied = Applied {
            frames,
            acks,
            bad_frames: bad.len(),
            last_error: bad.last().map(|bad| bad.error.clone()),
            end,
            applied: false,
            tapped: None,
        };
        // An empty batch (the socket ended with nothing more) changes nothing in the store.
        if frames > 0 && open.load(Ordering::Acquire) {
            // A panic here would end the pool's thread and the process with it; applying is
            // written not to panic, and if it ever did the connection is dropped instead.
            let tapped = std::panic::catch_unwind(AssertUnwindSafe(|| {
                let tapped = tap.then(|| events.clone());
                let report = self.store.write().apply_batch(events, bad, Origin::Socket);
                tapped.map(|events| changed(events, &report.outcomes))
            }));
            match tapped {
                Ok(tapped) => {
                    applied.applied = true;
                    applied.tapped = tapped;
                }
                Err(_) => applied.end = Some("applying frames failed; reconnecting".to_owned()),
            }
        }
        let _ = reply.send(applied);
    }
}

/// One connection's way into the ingest. Its batches are applied while it is open; once it is
/// closed (the session ended) those not yet applied are dropped, as the frames of a dead
/// connection are: the resync after the next connect restores what they carried.
#[derive(Clone)]
pub struct Inlet {
    ingest: Arc<Ingest>,
    tap: bool,
    open: Arc<AtomicBool>,
}

impl Inlet {
    /// Parses a batch on the parsing pool and applies it in its turn; the reply comes on the
    /// receiver. The messages are freed on the pool too. `end` (why the socket ended after these
    /// frames) rides along so the session sees it after the frames, not before.
    pub fn submit(&self, messages: Vec<Message>, end: Option<String>) -> oneshot::Receiver<Applied> {
        let (reply, receiver) = oneshot::channel();
        let number = {
            let mut queue = self.ingest.queue.lock();
            queue.submitted += 1;
            queue.submitted - 1
        };
        let ingest = self.ingest.clone();
        let (tap, open) = (self.tap, self.open.clone());
        let job = move || {
            // A panic on the pool would abort the process; parsing is written not to panic, and
            // if it ever did the connection is dropped instead (the resync after reconnecting
            // restores what these frames carried). Either way the batch takes its turn, so the
            // ones after it are not held up.
            let frames = messages.len();
            let (parsed, end) = match std::panic::catch_unwind(|| parse_messages(&messages)) {
                Ok(parsed) => (parsed, end),
                Err(_) => (
                    Parsed {
                        frames,
                        ..Parsed::default()
                    },
                    Some("the frame parser failed; reconnecting".to_owned()),
                ),
            };
            drop(messages);
            let job = Job {
                parsed,
                end,
                tap,
                open,
                reply,
            };
            ingest.parsed(number, job);
        };
        match pool() {
            Some(pool) => pool.spawn(job),
            None => job(),
        }
        receiver
    }

    /// Batches not applied yet are dropped from here on.
    pub fn close(&self) {
        self.open.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests;
