//! One market-data connection that follows a set of topics in lite mode and reports each new
//! last traded price. It connects only while there is something to follow, authenticates with
//! the current token's `hsm_key`, subscribes in chunks within the limits, keeps the connection
//! alive, notices a dead one, and reconnects with the order socket's backoff, subscribing again
//! to what it follows then (the server restores nothing).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::decode::Decoder;
use super::hsm::{self, CHANNEL, ServerFrame};
use super::session::{authenticated, follow, prices};
use super::topics::hsm_key;
use crate::feed::Backoff;
use crate::fyers::auth::Authorization;

/// The connection's timings; tests shorten them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarketTiming {
    pub ping_every: Duration,
    /// Nothing at all (no data, no pong) for this long: the connection is dead.
    pub dead_after: Duration,
    pub connect_timeout: Duration,
    pub backoff: Backoff,
    /// A connection up this long resets the backoff.
    pub stable_after: Duration,
}

impl Default for MarketTiming {
    fn default() -> Self {
        Self {
            ping_every: Duration::from_secs(10),
            dead_after: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            backoff: Backoff::SOCKET,
            stable_after: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone)]
pub struct MarketConfig {
    /// `wss://socket.fyers.in/hsm/v1-5/prod`, or the simulator's.
    pub socket_url: String,
    /// The current access token (`APP_ID:JWT`); a new one reconnects with its key.
    pub auth: watch::Receiver<Option<Authorization>>,
    pub timing: MarketTiming,
}

/// The connection's state, for the window and headless.
#[derive(Debug, Clone, PartialEq)]
pub enum MarketStatus {
    /// Nothing to follow: not connected.
    Idle,
    Connecting,
    /// Authenticated and subscribed to this many topics.
    Live {
        topics: usize,
    },
    /// Lost or refused; trying again in `retry_in`.
    Down {
        error: String,
        retry_in: Duration,
    },
    /// No usable token (none, expired, or without a market-data key): waiting for a new one.
    NoToken(String),
}

impl MarketStatus {
    pub fn is_live(&self) -> bool {
        matches!(self, Self::Live { .. })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum MarketEvent {
    /// New last traded prices, by the user's symbol, in the order they arrived.
    Prices(Vec<(String, f64)>),
    Status(MarketStatus),
    /// What the server said about a request (e.g. the plan's symbol limit), or a refused request.
    Notice(String),
}

/// The running connection; dropping it stops it.
pub struct MarketClient {
    wanted: watch::Sender<BTreeMap<String, String>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MarketClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MarketClient {
    /// Starts the connection task on the current runtime; events go to `events`.
    pub fn spawn(config: MarketConfig, events: mpsc::Sender<MarketEvent>) -> Self {
        let (wanted, wanted_rx) = watch::channel(BTreeMap::new());
        let task = tokio::spawn(run(config, wanted_rx, events));
        Self { wanted, task }
    }

    /// Follows exactly these topics (topic → the user's symbol) from now on. At most
    /// [`hsm::MAX_TOPICS`]; the rest are reported and left out.
    pub fn follow(&self, topics: BTreeMap<String, String>) {
        self.wanted.send_if_modified(|wanted| {
            let changed = *wanted != topics;
            *wanted = topics;
            changed
        });
    }
}

pub(super) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Why a connection ended.
enum End {
    /// Nothing left to follow.
    Idle,
    /// The token changed: connect again at once with its key.
    NewToken,
    Failed(String),
    /// Whoever listened is gone.
    Stopped,
}

async fn run(
    mut config: MarketConfig,
    mut wanted: watch::Receiver<BTreeMap<String, String>>,
    events: mpsc::Sender<MarketEvent>,
) {
    let mut attempt = 0u32;
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng();
    loop {
        let idle = wanted.borrow_and_update().is_empty();
        if idle {
            let _ = events.send(MarketEvent::Status(MarketStatus::Idle)).await;
            if wanted.wait_for(|topics| !topics.is_empty()).await.is_err() {
                return;
            }
        }
        let auth = config.auth.borrow_and_update().clone();
        let key = match auth.as_ref().map(|auth| hsm_key(auth.expose(), now_secs())) {
            Some(Ok(key)) => key,
            problem => {
                let why = match problem {
                    Some(Err(err)) => err.to_string(),
                    _ => "not logged in".to_owned(),
                };
                let _ = events.send(MarketEvent::Status(MarketStatus::NoToken(why))).await;
                if config.auth.changed().await.is_err() {
                    return;
                }
                continue;
            }
        };
        let _ = events.send(MarketEvent::Status(MarketStatus::Connecting)).await;
        let started = Instant::now();
        let end = connection(&mut config, &key, &mut wanted, &events).await;
        if started.elapsed() >= config.timing.stable_after {
            attempt = 0;
        }
        let error = match end {
            End::Stopped => return,
            End::Idle | End::NewToken => {
                attempt = 0;
                continue;
            }
            End::Failed(error) => error,
        };
        attempt = attempt.saturating_add(1);
        let retry_in = config.timing.backoff.delay(attempt, &mut rng);
        tracing::warn!(%error, ?retry_in, "market data connection lost");
        let status = MarketStatus::Down { error, retry_in };
        if events.send(MarketEvent::Status(status)).await.is_err() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(retry_in) => {}
            // A new token is worth trying at once.
            changed = config.auth.changed() => if changed.is_err() { return },
        }
    }
}

async fn open(url: &str, timeout: Duration) -> Result<Socket, String> {
    crate::fyers::auth::install_crypto_provider();
    match tokio::time::timeout(timeout, tokio_tungstenite::connect_async(url)).await {
        Err(_) => Err(format!("no answer within {timeout:?}")),
        Ok(Err(err)) => Err(err.to_string()),
        Ok(Ok((socket, _))) => Ok(socket),
    }
}

/// One connection, from the upgrade until it ends.
async fn connection(
    config: &mut MarketConfig,
    key: &str,
    wanted: &mut watch::Receiver<BTreeMap<String, String>>,
    events: &mpsc::Sender<MarketEvent>,
) -> End {
    let mut socket = match open(&config.socket_url, config.timing.connect_timeout).await {
        Ok(socket) => socket,
        Err(err) => return End::Failed(err),
    };
    // As the SDK: a ping, then auth, then the mode, without waiting between them.
    for frame in [hsm::ping(), hsm::auth(key), hsm::mode(CHANNEL, true)] {
        if let Err(err) = socket.send(Message::binary(frame)).await {
            return End::Failed(err.to_string());
        }
    }
    let ack_every = match authenticated(&mut socket, config.timing.connect_timeout).await {
        Ok(ack_every) => ack_every,
        Err(err) => return End::Failed(err),
    };
    let mut decoder = Decoder::new(true);
    let mut subscribed = BTreeSet::new();
    let topics = wanted.borrow_and_update().clone();
    if let Err(err) = follow(&mut socket, &mut decoder, &mut subscribed, &topics, events).await {
        return End::Failed(err);
    }
    let _ = events
        .send(MarketEvent::Status(MarketStatus::Live {
            topics: subscribed.len(),
        }))
        .await;
    let mut ping = tokio::time::interval(config.timing.ping_every);
    ping.tick().await;
    let mut heard = Instant::now();
    let mut frames = 0u64;
    loop {
        let dead_at = heard + config.timing.dead_after;
        tokio::select! {
            message = socket.next() => {
                heard = Instant::now();
                let bytes = match message {
                    None => return End::Failed("the server closed the connection".into()),
                    Some(Err(err)) => return End::Failed(err.to_string()),
                    Some(Ok(Message::Binary(bytes))) => bytes,
                    Some(Ok(Message::Close(frame))) => {
                        let why = frame.map_or_else(String::new, |frame| format!(": {}", frame.reason));
                        return End::Failed(format!("the server closed the connection{why}"));
                    }
                    // Text is not part of the protocol (the SDK drops it too); pings and pongs
                    // only show the connection is alive.
                    Some(Ok(_)) => continue,
                };
                let frame = match hsm::parse(&bytes) {
                    Ok(frame) => frame,
                    Err(err) => {
                        tracing::debug!(%err, "skipped a market-data frame");
                        continue;
                    }
                };
                match frame {
                    ServerFrame::Data { number, entries, fault } => {
                        if let Some(fault) = fault {
                            tracing::debug!(%fault, "a market-data frame ended early");
                        }
                        let prices = prices(&mut decoder, &entries);
                        if !prices.is_empty() && events.send(MarketEvent::Prices(prices)).await.is_err() {
                            return End::Stopped;
                        }
                        frames += 1;
                        if ack_every > 0 && frames.is_multiple_of(u64::from(ack_every))
                            && let Err(err) = socket.send(Message::binary(hsm::ack(number))).await
                        {
                            return End::Failed(err.to_string());
                        }
                    }
                    ServerFrame::Custom { code, message, .. } => {
                        let _ = events.send(MarketEvent::Notice(format!("market data: {message} (code {code})"))).await;
                    }
                    ServerFrame::Reply { kind, ok: false } => {
                        let what = match kind {
                            hsm::TYPE_SUBSCRIBE => "a subscription",
                            hsm::TYPE_UNSUBSCRIBE => "an unsubscription",
                            _ => "lite mode",
                        };
                        let _ = events.send(MarketEvent::Notice(format!("market data: the server refused {what}"))).await;
                    }
                    _ => {}
                }
            }
            changed = wanted.changed() => {
                if changed.is_err() {
                    return End::Stopped;
                }
                let topics = wanted.borrow_and_update().clone();
                if topics.is_empty() {
                    let _ = socket.close(None).await;
                    return End::Idle;
                }
                if let Err(err) = follow(&mut socket, &mut decoder, &mut subscribed, &topics, events).await {
                    return End::Failed(err);
                }
                let _ = events.send(MarketEvent::Status(MarketStatus::Live { topics: subscribed.len() })).await;
            }
            changed = config.auth.changed() => {
                if changed.is_err() {
                    return End::Stopped;
                }
                let _ = socket.close(None).await;
                return End::NewToken;
            }
            _ = ping.tick() => {
                // The protocol's keep-alive, and a WebSocket ping whose pong proves the path.
                for message in [Message::binary(hsm::ping()), Message::Ping(Default::default())] {
                    if let Err(err) = socket.send(message).await {
                        return End::Failed(err.to_string());
                    }
                }
            }
            () = tokio::time::sleep_until(dead_at) => {
                return End::Failed(format!("nothing heard for {:?}", config.timing.dead_after));
            }
        }
    }
}

fn now_secs() -> i64 {
    crate::store::now_ms() / 1000
}
