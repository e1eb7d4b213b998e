//! Parsing socket messages into events, outside any lock.

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

/// Parses a batch of socket messages on the calling thread, outside any lock.
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
