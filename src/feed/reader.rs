//! The socket's reading side. A task takes every frame already waiting off the wire and hands the
//! batch to the parsing pool; the session applies the parsed batches in the order they were read.
//! So reading the next batch, parsing the ones in flight (on every core) and applying the last one
//! under the store's lock all overlap instead of taking turns.

use std::sync::OnceLock;

use futures_util::stream::SplitStream;
use futures_util::{FutureExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use crate::fyers::model::Event;
use crate::fyers::socket::Socket;
use crate::fyers::wire::{self, Frame};
use crate::store::{BadFrame, now_ms};

/// Frames taken from the socket per batch, and per write lock, at most.
pub(super) const MAX_BATCH: usize = 4096;

/// Batches the reader may have in flight (parsing, or parsed and waiting) ahead of the session;
/// past that the reader waits, the kernel's socket buffer fills and the server is pushed back.
/// At most 8 × 4,096 frames (some 25 MB of order frames) wait in the feed. In alternating runs
/// from the simulator over loopback, 16 was 3–25% faster than 4 (with 4 the pool ran dry while
/// the session applied); 8 is between the two in memory.
pub const READS_AHEAD: usize = 8;

/// Frames as read and parsed, each list in arrival order.
#[derive(Debug, Default)]
pub struct Parsed {
    pub events: Vec<Event>,
    /// Frames that could not be read, with their error and the start of their payload.
    pub bad: Vec<BadFrame>,
    /// The messages of subscribe and unsubscribe acknowledgements.
    pub acks: Vec<String>,
    /// Frames read, of every kind (pongs, acknowledgements and control frames too).
    pub frames: usize,
    /// Why the socket ended, if it did after these frames.
    pub end: Option<String>,
}

/// The threads that parse frames: one per core, named so a profiler or `top -H` tells them apart.
/// `None` if the OS refused the threads: then parsing runs on the reader's thread.
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        crate::keep_freed_memory_longer();
        let built = rayon::ThreadPoolBuilder::new()
            .thread_name(|index| format!("orderwatch-parse-{index}"))
            .build();
        built
            .inspect_err(|err| tracing::warn!(%err, "no parsing threads; parsing on the reader's"))
            .ok()
    })
    .as_ref()
}

/// Parses a batch of socket messages as the feed does, outside any lock: on every core, in
/// pieces that whichever parsing thread is free takes next; the order is kept.
pub fn parse_messages(messages: &[Message]) -> Parsed {
    use rayon::prelude::*;
    /// Below this a piece is not worth handing to another thread.
    const PIECE: usize = 128;
    let parse = |message: &Message| match message {
        Message::Text(text) => Some(wire::parse_text(text.as_str())),
        Message::Binary(bytes) => Some(wire::parse_binary(bytes)),
        Message::Ping(_) | Message::Pong(_) | Message::Close(_) | Message::Frame(_) => None,
    };
    let received_ms = now_ms();
    let results: Vec<_> = match pool() {
        Some(pool) if messages.len() >= 2 * PIECE => {
            pool.install(|| messages.par_iter().with_min_len(PIECE).map(parse).collect())
        }
        _ => messages.iter().map(parse).collect(),
    };
    let mut parsed = Parsed {
        events: Vec::with_capacity(messages.len()),
        frames: messages.len(),
        ..Parsed::default()
    };
    for (message, result) in messages.iter().zip(results) {
        match result {
            None | Some(Ok(Frame::Pong)) => {}
            Some(Ok(Frame::Event(event))) => parsed.events.push(event),
            Some(Ok(Frame::Ack { message })) => parsed.acks.push(message),
            Some(Err(err)) => {
                let (payload, len) = match message {
                    Message::Text(text) => (text.as_str(), text.len()),
                    other => ("<binary>", other.len()),
                };
                let mut bad = BadFrame::new(received_ms, err.to_string(), payload);
                bad.len = len;
                parsed.bad.push(bad);
            }
        }
    }
    parsed
}

/// Parses a batch on the parsing pool; the answer comes on the receiver. The messages are freed
/// there too, not on the writer's thread. `end` (why the socket ended after these frames) rides
/// along so the session sees it after the frames, not before.
pub fn parse_in_background(messages: Vec<Message>, end: Option<String>) -> oneshot::Receiver<Parsed> {
    let (tx, rx) = oneshot::channel();
    let job = move || {
        // A panic on the pool would abort the process; parsing is written not to panic, and if it
        // ever did the connection is dropped instead (the resync after reconnecting restores what
        // these frames carried).
        let parsed = std::panic::catch_unwind(|| parse_messages(&messages));
        let frames = messages.len();
        drop(messages);
        let parsed = match parsed {
            Ok(parsed) => Parsed { end, ..parsed },
            Err(_) => Parsed {
                frames,
                end: Some("the frame parser failed; reconnecting".to_owned()),
                ..Parsed::default()
            },
        };
        let _ = tx.send(parsed);
    };
    match pool() {
        Some(pool) => pool.spawn(job),
        None => job(),
    }
    rx
}

/// Reads the socket until it ends or the session drops the receiver (the returned guard aborts
/// the task when the session ends, however it ends). The batches come out in the order read.
pub(super) fn spawn(
    mut stream: SplitStream<Socket>,
) -> (mpsc::Receiver<oneshot::Receiver<Parsed>>, AbortOnDrop) {
    let (tx, rx) = mpsc::channel(READS_AHEAD);
    let task = tokio::spawn(async move {
        loop {
            let mut messages = Vec::new();
            let mut end = None;
            let mut next = Some(stream.next().await);
            while let Some(message) = next.take() {
                match message {
                    Some(Ok(message)) => messages.push(message),
                    Some(Err(err)) => end = Some(format!("socket error: {err}")),
                    None => end = Some("closed by the server".to_owned()),
                }
                if end.is_none() && messages.len() < MAX_BATCH {
                    next = stream.next().now_or_never();
                }
            }
            let ended = end.is_some();
            if tx.send(parse_in_background(messages, end)).await.is_err() || ended {
                return;
            }
        }
    });
    (rx, AbortOnDrop(task.abort_handle()))
}

/// Ends a task when its owner ends.
pub(super) struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests;
