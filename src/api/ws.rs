//! `WS /api/order-stream/stream`: a `status` message first, then the applied events of the kinds
//! this client subscribed to (`{"action":"subscribe","event_types":[...]}`; `?event_types=` at
//! connect does the same), each as headless writes it. Its subscriptions filter only what it
//! receives: they change neither what Fyers sends nor what other clients get.
//!
//! One task per client reads its requests and writes its queue. A client whose queue fills is
//! closed with code 1013 and a reason; it can reconnect and read the REST lists to catch up.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{RawQuery, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use super::hub::{Hub, Kicked, Kinds, Membership, Parcel};
use super::{ApiError, AppState};
use crate::fyers::model::EventKind;

/// The largest request a client may send.
const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// Parcels (applied batches) taken off the queue per flush.
const WRITE_BATCH: usize = 64;
/// Requests are small: a small read buffer (tungstenite zeroes the whole of it before each read).
const READ_BUFFER: usize = 4096;
/// How long a closing client gets to take the close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(5);
/// A ping this often finds clients that went away without a word.
const PING_EVERY: Duration = Duration::from_secs(30);

pub(super) async fn stream(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let kinds = match query.as_deref() {
        Some(query) if query.contains("event_types") => Kinds::of(super::rest::event_types(Some(query))?),
        _ => Kinds::default(),
    };
    let stream = super::rest::stream_of(&state)?;
    let hub = stream.hub;
    Ok(upgrade
        .max_message_size(MAX_REQUEST_BYTES)
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| serve(socket, hub, kinds)))
}

/// What a client may ask.
#[derive(Deserialize)]
struct Request {
    action: String,
    #[serde(default)]
    event_types: Vec<String>,
}

async fn serve(socket: WebSocket, hub: Hub, kinds: Kinds) {
    let membership = hub.join(kinds);
    let id = membership.id;
    let (sink, requests) = socket.split();
    let (replies_tx, replies) = mpsc::channel(16);
    // The first message is the status, before any event.
    let first = status_reply(&hub, &membership);
    let _ = replies_tx.try_send(first);
    let kinds = membership.kinds.clone();
    tokio::select! {
        () = write(sink, membership, replies) => {}
        () = read(requests, &hub, &kinds, replies_tx) => {}
    }
    hub.leave(id);
}

fn status_reply(hub: &Hub, membership: &Membership) -> Utf8Bytes {
    client_status(hub, Kinds::from_bits(membership.kinds.load(Ordering::Relaxed)))
}

/// The status, with this client's own filter.
fn client_status(hub: &Hub, kinds: Kinds) -> Utf8Bytes {
    let mut data = hub.status();
    data["clients"] = hub.clients().into();
    data["client_types"] = kinds.names().into();
    Utf8Bytes::from(json!({"type": "status", "data": data}).to_string())
}

fn error_reply(message: impl Into<String>) -> Utf8Bytes {
    Utf8Bytes::from(json!({"type": "error", "message": message.into()}).to_string())
}

/// Reads the client's requests until it closes; each is answered through `replies`.
async fn read(
    mut requests: futures_util::stream::SplitStream<WebSocket>,
    hub: &Hub,
    kinds: &std::sync::atomic::AtomicU8,
    replies: mpsc::Sender<Utf8Bytes>,
) {
    while let Some(Ok(message)) = requests.next().await {
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(_) => {
                if replies
                    .send(error_reply("send requests as text frames of JSON"))
                    .await
                    .is_err()
                {
                    return;
                }
                continue;
            }
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        let reply = answer(hub, kinds, &text);
        if replies.send(reply).await.is_err() {
            return;
        }
    }
}

fn answer(hub: &Hub, kinds: &std::sync::atomic::AtomicU8, text: &str) -> Utf8Bytes {
    let request: Request = match serde_json::from_str(text) {
        Ok(request) => request,
        Err(err) => {
            return error_reply(format!(
                "not a request ({err}): send {{\"action\":\"subscribe\"|\"unsubscribe\"|\"get_status\",\"event_types\":[...]}}"
            ));
        }
    };
    let mut named = Vec::with_capacity(request.event_types.len());
    for name in &request.event_types {
        match EventKind::from_sdk_name(name) {
            Some(kind) => named.push(kind),
            None => {
                return error_reply(format!(
                    "unknown event type {name:?}: use OnOrders, OnTrades, OnPositions or OnGeneral"
                ));
            }
        }
    }
    let bits = Kinds::of(named.iter().copied()).bits();
    match request.action.as_str() {
        "subscribe" | "unsubscribe" if named.is_empty() => error_reply(format!(
            "{} needs event_types, e.g. [\"OnOrders\"]",
            request.action
        )),
        "subscribe" => {
            let now = kinds.fetch_or(bits, Ordering::Relaxed) | bits;
            client_status(hub, Kinds::from_bits(now))
        }
        "unsubscribe" => {
            let now = kinds.fetch_and(!bits, Ordering::Relaxed) & !bits;
            client_status(hub, Kinds::from_bits(now))
        }
        "get_status" => client_status(hub, Kinds::from_bits(kinds.load(Ordering::Relaxed))),
        other => error_reply(format!(
            "unknown action {other:?}: use subscribe, unsubscribe or get_status"
        )),
    }
}

type Sink = futures_util::stream::SplitSink<WebSocket, Message>;

/// Writes replies and queued events until the client goes, falls behind, or the hub closes it.
async fn write(mut sink: Sink, mut membership: Membership, mut replies: mpsc::Receiver<Utf8Bytes>) {
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    let why = loop {
        tokio::select! {
            biased;
            kicked = &mut membership.kicked => break kicked.unwrap_or(Kicked::Stopping("the stream ended")),
            reply = replies.recv() => {
                let Some(reply) = reply else { return };
                // Replies go before queued events: they answer what the client just asked.
                if sink.send(Message::Text(reply)).await.is_err() {
                    return;
                }
            }
            n = membership.queue.recv_many(&mut batch, WRITE_BATCH) => {
                if n == 0 {
                    break Kicked::Stopping("the stream ended");
                }
                let taken = batch.iter().map(|parcel| parcel.len()).sum();
                membership.queued.fetch_sub(taken, Ordering::AcqRel);
                tokio::select! {
                    biased;
                    kicked = &mut membership.kicked => break kicked.unwrap_or(Kicked::Stopping("the stream ended")),
                    sent = send_all(&mut sink, &mut batch) => if sent.is_err() { return },
                }
            }
            _ = ping.tick() => {
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
        }
    };
    let frame = match why {
        Kicked::FellBehind => CloseFrame {
            code: close_code::AGAIN,
            reason: Utf8Bytes::from(format!(
                "fell behind: {} events waited unread; reconnect and read the REST lists to catch up",
                membership.limit
            )),
        },
        Kicked::Stopping(why) => CloseFrame {
            code: close_code::AWAY,
            reason: Utf8Bytes::from_static(why),
        },
    };
    // What the client had not read stays ahead of the close frame; it gets a while to read it.
    let _ = tokio::time::timeout(CLOSE_WAIT, sink.send(Message::Close(Some(frame)))).await;
}

async fn send_all(sink: &mut Sink, batch: &mut Vec<Parcel>) -> Result<(), axum::Error> {
    for parcel in batch.drain(..) {
        for text in parcel.iter() {
            sink.feed(Message::Text(text.clone())).await?;
        }
    }
    sink.flush().await
}
