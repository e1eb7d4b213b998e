//! Parsing socket messages into events, outside any lock, and the pool of threads (one per core)
//! that parses and applies the feed's batches.

use std::sync::OnceLock;

use tokio_tungstenite::tungstenite::Message;

use crate::fyers::model::Event;
use crate::fyers::wire::{self, Frame};
use crate::store::{BadFrame, now_ms};

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
}

/// The threads that parse frames (and apply them, see `ingest`): one per core, named so a
/// profiler or `top -H` tells them apart. `None` if the OS refused the threads: then the work
/// runs on the reader's thread.
pub(super) fn pool() -> Option<&'static rayon::ThreadPool> {
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

/// Parses a batch of socket messages on the calling thread, outside any lock. The feed parses
/// each batch on one pool thread: with batches in flight every core has one, and splitting a
/// batch over the threads was 7% slower in alternating runs (1.50 M against 1.60 M order frames/s
/// median, parse + apply).
pub fn parse_messages(messages: &[Message]) -> Parsed {
    let received_ms = now_ms();
    let mut parsed = Parsed {
        events: Vec::with_capacity(messages.len()),
        frames: messages.len(),
        ..Parsed::default()
    };
    for message in messages {
        let result = match message {
            Message::Text(text) => wire::parse_text(text.as_str()),
            Message::Binary(bytes) => wire::parse_binary(bytes),
            Message::Ping(_) | Message::Pong(_) | Message::Close(_) | Message::Frame(_) => continue,
        };
        match result {
            Ok(Frame::Pong) => {}
            Ok(Frame::Event(event)) => parsed.events.push(event),
            Ok(Frame::Ack { message }) => parsed.acks.push(message),
            Err(err) => {
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

#[cfg(test)]
mod tests;
