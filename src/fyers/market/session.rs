//! The steps of one market-data connection: waiting for the auth reply, bringing the
//! subscription to what is followed, and reading the new prices out of a data frame.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::client::{MarketEvent, Socket};
use super::decode::{Applied, Decoder};
use super::hsm::{self, CHANNEL, MAX_TOPICS, ServerFrame, TOPICS_PER_FRAME};

/// Waits for the auth reply; the server's ack cadence, or why it refused.
pub(super) async fn authenticated(socket: &mut Socket, timeout: Duration) -> Result<u32, String> {
    let deadline = Instant::now() + timeout;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .map_err(|_| format!("no answer to authentication within {timeout:?}"))?;
        let bytes = match message {
            None | Some(Ok(Message::Close(_))) => {
                return Err("the server closed the connection at authentication".into());
            }
            Some(Err(err)) => return Err(err.to_string()),
            Some(Ok(Message::Binary(bytes))) => bytes,
            Some(Ok(_)) => continue,
        };
        match hsm::parse(&bytes) {
            Ok(ServerFrame::Auth { ok: true, ack_count }) => return Ok(ack_count.unwrap_or(0)),
            Ok(ServerFrame::Auth { ok: false, .. }) => {
                return Err("the server refused the market-data key".into());
            }
            _ => continue,
        }
    }
}

/// Brings the subscription to `topics`: unsubscribes what is no longer wanted, subscribes what
/// is new, in chunks, capped at [`MAX_TOPICS`].
pub(super) async fn follow(
    socket: &mut Socket,
    decoder: &mut Decoder,
    subscribed: &mut BTreeSet<String>,
    topics: &BTreeMap<String, String>,
    events: &mpsc::Sender<MarketEvent>,
) -> Result<(), String> {
    let gone: Vec<String> = subscribed
        .iter()
        .filter(|topic| !topics.contains_key(*topic))
        .cloned()
        .collect();
    for chunk in gone.chunks(TOPICS_PER_FRAME) {
        let names: Vec<&str> = chunk.iter().map(String::as_str).collect();
        socket
            .send(Message::binary(hsm::subscription(&names, CHANNEL, true)))
            .await
            .map_err(|err| err.to_string())?;
        for topic in chunk {
            decoder.unsubscribe(topic);
            subscribed.remove(topic);
        }
    }
    let room = MAX_TOPICS.saturating_sub(subscribed.len());
    let new: Vec<(&String, &String)> = topics
        .iter()
        .filter(|(topic, _)| !subscribed.contains(*topic))
        .collect();
    if new.len() > room {
        let left = new.len() - room;
        let _ = events
            .send(MarketEvent::Notice(format!(
                "market data: {left} symbols left out (at most {MAX_TOPICS} at once)"
            )))
            .await;
    }
    let new = &new[..new.len().min(room)];
    for chunk in new.chunks(TOPICS_PER_FRAME) {
        for (topic, symbol) in chunk {
            decoder.subscribe(topic, symbol);
        }
        let names: Vec<&str> = chunk.iter().map(|(topic, _)| topic.as_str()).collect();
        socket
            .send(Message::binary(hsm::subscription(&names, CHANNEL, false)))
            .await
            .map_err(|err| err.to_string())?;
        subscribed.extend(chunk.iter().map(|(topic, _)| (*topic).clone()));
    }
    Ok(())
}

/// The entries' new prices, by symbol.
pub(super) fn prices(decoder: &mut Decoder, entries: &[hsm::Entry]) -> Vec<(String, f64)> {
    let mut prices = Vec::new();
    for entry in entries {
        if let Applied::Changed { topic_id, ltp: true } = decoder.apply(entry)
            && let Some(topic) = decoder.topic(topic_id)
            && let Some(ltp) = topic.ltp()
        {
            prices.push((topic.symbol.clone(), ltp));
        }
    }
    prices
}
