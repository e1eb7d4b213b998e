//! The simulator's market-data socket (MARKET_DATA.md §8) and its symbol-token call, from the
//! same truth as the order book: the prices streamed are the day's last traded prices, the ones
//! its fills happen at. A connection authenticates with a live token's `hsm_key`, subscribes
//! topics, gets a snapshot for each, then an `L` entry whenever a price moves (at most every
//! [`TICK_EVERY`]). The order socket's faults reach it too: drop, stall, token expiry, malformed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};

use super::book::INSTRUMENTS;
use super::exchange::{Control, Shared};
use super::login::Verdict;
use crate::fyers::market::hsm::{self, Entry, NO_VALUE};
use crate::fyers::market::topics::scrip_topic;

/// How often a connection looks for moved prices.
pub(super) const TICK_EVERY: Duration = Duration::from_millis(100);
/// Topics one connection may hold (the SDK's limit; the plan's custom message beyond it).
const TOPIC_LIMIT: usize = hsm::MAX_TOPICS;

type AppState = State<Arc<Shared>>;

pub(super) async fn upgrade(State(shared): AppState, ws: WebSocketUpgrade) -> Response {
    shared.stats.market_upgrades.fetch_add(1, Ordering::SeqCst);
    ws.on_upgrade(move |socket| connection(socket, shared))
}

/// `POST /data/symbol-token` with the bare JWT: fyTokens of the symbols the simulator trades.
pub(super) async fn symbol_token(State(shared): AppState, headers: HeaderMap, body: String) -> Response {
    shared.stats.rest_calls.fetch_add(1, Ordering::SeqCst);
    let jwt = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if !matches!(shared.login.check_jwt(jwt), Verdict::Alive { .. }) {
        return axum::Json(
            json!({"s": "error", "code": -8, "message": "Your token has expired. Please generate a token"}),
        )
        .into_response();
    }
    let symbols: Vec<String> = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|body| serde_json::from_value(body.get("symbols")?.clone()).ok())
        .unwrap_or_default();
    if symbols.is_empty() || symbols.len() > 500 {
        return axum::Json(json!({"s": "error", "code": -300, "message": "Please provide 1 to 500 symbols"}))
            .into_response();
    }
    let (mut valid, mut invalid) = (serde_json::Map::new(), Vec::new());
    for symbol in symbols {
        match INSTRUMENTS.iter().find(|inst| inst.symbol == symbol) {
            Some(inst) => {
                valid.insert(symbol, json!(inst.token));
            }
            None => invalid.push(symbol),
        }
    }
    axum::Json(json!({"s": "ok", "code": 200, "message": "", "validSymbol": valid, "invalidSymbol": invalid}))
        .into_response()
}

/// A topic a connection subscribed: its id, the instrument, the last price sent (raw, paise).
struct Subscribed {
    id: [u8; 2],
    instrument: usize,
    sent: i32,
}

fn raw(price: f64) -> i32 {
    (price * 100.0).round() as i32
}

/// The fields of a client frame: (id, value) pairs after the type and count bytes.
fn fields(frame: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut at = 4;
    for _ in 0..frame.get(3).copied().unwrap_or(0) {
        let Some(header) = frame.get(at..at + 3) else {
            break;
        };
        let len = usize::from(u16::from_be_bytes([header[1], header[2]]));
        let Some(value) = frame.get(at + 3..at + 3 + len) else {
            break;
        };
        out.push((header[0], value));
        at += 3 + len;
    }
    out
}

/// The topic names of a subscribe or unsubscribe frame's scrip block.
fn topic_names(frame: &[u8]) -> Vec<String> {
    let Some((_, block)) = fields(frame).into_iter().find(|(id, _)| *id == 1) else {
        return Vec::new();
    };
    let count = block.get(..2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    let mut names = Vec::new();
    let mut at = 2;
    for _ in 0..count {
        let Some(&len) = block.get(at) else { break };
        let Some(name) = block.get(at + 1..at + 1 + usize::from(len)) else {
            break;
        };
        names.push(String::from_utf8_lossy(name).into_owned());
        at += 1 + usize::from(len);
    }
    names
}

/// Garbage a malformed-frames fault sends: cut frames, an unknown entry, text, an unknown type.
fn garbage(n: usize) -> Message {
    match n % 4 {
        0 => Message::Binary(vec![0, 9, hsm::TYPE_DATA, 0, 0].into()),
        1 => Message::Binary(vec![0, 9, hsm::TYPE_DATA, 0, 0, 0, 1, 0, 1, b'Z', 0, 1].into()),
        2 => Message::Text("not a market-data frame".into()),
        _ => Message::Binary(vec![0, 1, 99].into()),
    }
}

struct Connection {
    shared: Arc<Shared>,
    key: Option<String>,
    topics: HashMap<String, Subscribed>,
    next_id: u16,
    number: u32,
}

impl Connection {
    fn alive(&self) -> bool {
        self.key
            .as_deref()
            .is_some_and(|key| matches!(self.shared.login.check_hsm_key(key), Verdict::Alive { .. }))
    }

    fn next_frame(&mut self, entries: &[Entry]) -> Message {
        self.number = self.number.wrapping_add(1);
        Message::Binary(hsm::data(self.number, entries).into())
    }

    /// Answers one client frame; what to send back.
    fn answer(&mut self, frame: &[u8]) -> Vec<Message> {
        let Some(&kind) = frame.get(2) else {
            return Vec::new();
        };
        let reply = |status: &str| Message::Binary(hsm::status_reply(kind, status, None).into());
        match kind {
            hsm::TYPE_PING => {
                self.shared.stats.market_pings.fetch_add(1, Ordering::Relaxed);
                Vec::new()
            }
            hsm::TYPE_AUTH => {
                let key = fields(frame)
                    .into_iter()
                    .find(|(id, _)| *id == 1)
                    .map(|(_, key)| String::from_utf8_lossy(key).into_owned());
                self.key = key;
                let status = if self.alive() { "K" } else { "E" };
                vec![Message::Binary(
                    hsm::status_reply(hsm::TYPE_AUTH, status, Some(0)).into(),
                )]
            }
            // Everything else needs a good key first.
            _ if !self.alive() => vec![reply("E")],
            hsm::TYPE_MODE | hsm::TYPE_PAUSE | hsm::TYPE_RESUME => vec![reply("K")],
            hsm::TYPE_SUBSCRIBE => self.subscribe(&topic_names(frame), reply("K")),
            hsm::TYPE_UNSUBSCRIBE => {
                for name in topic_names(frame) {
                    self.topics.remove(&name);
                }
                self.count_topics();
                vec![reply("K")]
            }
            _ => Vec::new(),
        }
    }

    fn subscribe(&mut self, names: &[String], ok: Message) -> Vec<Message> {
        self.shared
            .stats
            .market_subscribes
            .fetch_add(1, Ordering::Relaxed);
        let mut out = vec![ok];
        let mut snapshots = Vec::new();
        let exchange = self.shared.exchange.lock();
        for name in names {
            if self.topics.contains_key(name) {
                continue;
            }
            if self.topics.len() >= TOPIC_LIMIT {
                out.push(Message::Binary(
                    hsm::custom(
                        51001,
                        "Symbol limit exceeded for Standard plan",
                        hsm::TYPE_SUBSCRIBE,
                    )
                    .into(),
                ));
                break;
            }
            // Topics of instruments the simulator does not trade get nothing, as a real server
            // sends nothing for a token it does not know.
            let Some(instrument) = INSTRUMENTS
                .iter()
                .position(|inst| scrip_topic(inst.token).as_deref() == Some(name.as_str()))
            else {
                continue;
            };
            let inst = &INSTRUMENTS[instrument];
            self.next_id = self.next_id.wrapping_add(1);
            let id = self.next_id.to_be_bytes();
            let ltp = raw(exchange.day.ltp(instrument).unwrap_or(inst.price));
            let mut values = vec![NO_VALUE; hsm::SCRIP_FIELDS.len()];
            values[0] = ltp;
            values[19] = raw(inst.price);
            values[20] = raw(inst.price);
            let token = inst.token.get(10..).unwrap_or_default().to_owned();
            let short = inst
                .symbol
                .split_once(':')
                .map_or(inst.symbol, |(_, short)| short);
            snapshots.push(Entry::Snapshot {
                topic_id: id,
                topic: name.clone(),
                values,
                multiplier: 1,
                precision: 2,
                exchange: "NSE".into(),
                token,
                symbol: short.to_owned(),
            });
            self.topics.insert(
                name.clone(),
                Subscribed {
                    id,
                    instrument,
                    sent: ltp,
                },
            );
        }
        drop(exchange);
        self.count_topics();
        if !snapshots.is_empty() {
            out.push(self.next_frame(&snapshots));
        }
        out
    }

    fn count_topics(&self) {
        self.shared
            .stats
            .market_topics
            .store(self.topics.len() as u64, Ordering::SeqCst);
    }

    /// An `L` entry for every subscribed price that moved since it was last sent.
    fn ticks(&mut self) -> Option<Message> {
        let entries: Vec<Entry> = {
            let exchange = self.shared.exchange.lock();
            self.topics
                .values_mut()
                .filter_map(|topic| {
                    let now = raw(exchange.day.ltp(topic.instrument)?);
                    (now != topic.sent).then(|| {
                        topic.sent = now;
                        Entry::Ltp {
                            topic_id: topic.id,
                            ltp: now,
                        }
                    })
                })
                .collect()
        };
        (!entries.is_empty()).then(|| self.next_frame(&entries))
    }
}

async fn connection(socket: WebSocket, shared: Arc<Shared>) {
    shared
        .stats
        .market_connections_open
        .fetch_add(1, Ordering::SeqCst);
    let _open = OpenGuard(shared.clone());
    let mut control = shared.control.subscribe();
    let (mut tx, mut rx) = socket.split();
    let mut this = Connection {
        shared: shared.clone(),
        key: None,
        topics: HashMap::new(),
        next_id: 0,
        number: 0,
    };
    let mut tick = tokio::time::interval(TICK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut stalled_until: Option<Instant> = None;
    loop {
        let stalled = stalled_until.is_some_and(|until| Instant::now() < until);
        tokio::select! {
            // Stalled, nothing is read either, so pings go unanswered (no pongs), as on a dead path.
            message = rx.next(), if !stalled => match message {
                Some(Ok(Message::Binary(frame))) => {
                    for reply in this.answer(&frame) {
                        if tx.send(reply).await.is_err() {
                            return;
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            _ = tick.tick(), if !stalled && !this.topics.is_empty() => {
                let garbage_left = shared.market_garbage.swap(0, Ordering::SeqCst);
                for n in 0..garbage_left {
                    if tx.send(garbage(n)).await.is_err() {
                        return;
                    }
                }
                if !this.alive() {
                    // The token died: the server hangs up.
                    return;
                }
                if let Some(frame) = this.ticks()
                    && tx.send(frame).await.is_err()
                {
                    return;
                }
            }
            control = control.recv() => match control {
                Ok(Control::Drop) | Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                Ok(Control::Stall(duration)) => stalled_until = Some(Instant::now() + duration),
                Ok(Control::Recheck) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    if this.key.is_some() && !this.alive() {
                        return;
                    }
                }
            },
            _ = tokio::time::sleep_until(stalled_until.unwrap_or_else(Instant::now).into()), if stalled => {
                stalled_until = None;
            }
        }
    }
}

struct OpenGuard(Arc<Shared>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0
            .stats
            .market_connections_open
            .fetch_sub(1, Ordering::SeqCst);
    }
}
