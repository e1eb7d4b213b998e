//! The thin async driver around [`Connection`]: it does the I/O (socket, REST, timers), feeds the
//! core what happened and carries out what the core decides. It is the store's one writer: socket
//! batches, REST merges, connection state and subscriptions are all applied here, one at a time,
//! in the order they happened, with nothing slow done under the lock.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::connection::{Connection, Effect, Input, Request};
use super::parse::{Parsed, parse_messages};
use super::{Command, Commands, FeedConfig, FeedFault, RepaintHook, SharedStore, Tap};
use crate::fyers::auth::Authorization;
use crate::fyers::login::token_expiry;
use crate::fyers::rest::RestClient;
use crate::fyers::socket::{self, Socket, SocketError};
use crate::store::{FeedStatus, Origin, SessionInfo, Store, now_ms, trading_day};
use chrono::NaiveDate;

/// Frames taken from the socket per batch, and per write lock, at most.
pub const MAX_BATCH: usize = 4096;

/// Bad frames are logged at most this often (they are all counted and kept in the store).
const BAD_FRAME_LOG_EVERY: Duration = Duration::from_secs(10);

/// Socket batches read in a row before timers and resyncs get a turn.
const READS_BEFORE_A_TURN: u32 = 16;

/// How long a closing connection may take to hand over what the server already sent.
const DRAIN_FOR: Duration = Duration::from_secs(2);

mod journal;
mod rest;
mod wait;

use wait::{expiry_instant, read_batch, sleep_until};

use rest::ResyncDone;

type Sink = SplitSink<Socket, Message>;
type Stream = SplitStream<Socket>;
type Opening = Pin<Box<dyn Future<Output = Result<Socket, SocketError>> + Send>>;

/// What the feed keeps between its restarts (after a caught failure): its configuration, with the
/// token and wishes it was last given.
pub(super) struct Context<'a> {
    pub config: &'a mut FeedConfig,
    pub store: &'a SharedStore,
    pub repaint: &'a RepaintHook,
    pub tap: &'a Option<mpsc::Sender<Tap>>,
}

struct Driver<'a> {
    shared: Context<'a>,
    core: Connection,
    rest: Option<RestClient>,
    socket: Option<(Sink, Stream)>,
    opening: Option<Opening>,
    resyncs: (mpsc::Sender<ResyncDone>, mpsc::Receiver<ResyncDone>),
    socket_batches: u64,
    /// Socket batches read since anything else had a turn.
    reads_in_a_row: u32,
    bad_frames_unlogged: u64,
    bad_frames_logged_at: Option<Instant>,
    /// The trading day the store holds.
    day: Option<NaiveDate>,
}

/// Runs the feed until it is shut down (or its command channel closes).
pub(super) async fn run(shared: Context<'_>, commands: &mut Commands) {
    let config = &shared.config;
    let core = Connection::new(config.timing, config.wanted(), config.autostart, rand::random());
    let mut driver = Driver {
        shared,
        core,
        rest: None,
        socket: None,
        opening: None,
        resyncs: mpsc::channel(4),
        socket_batches: 0,
        reads_in_a_row: 0,
        bad_frames_unlogged: 0,
        bad_frames_logged_at: None,
        day: None,
    };
    driver.start().await;
    while let Some(input) = driver.next_input(commands).await {
        let effects = driver.core.handle(Instant::now(), input);
        if driver.carry_out(effects).await.is_break() {
            return;
        }
    }
}

impl Driver<'_> {
    async fn start(&mut self) {
        self.restore().await;
        self.roll_day();
        let mut effects = vec![Effect::Subscriptions {
            wanted: self.core.wanted().clone(),
            acknowledged: Default::default(),
        }];
        if let Some(auth) = self.shared.config.auth.clone() {
            let expires_at = self.take_token(auth);
            effects.extend(self.core.handle(Instant::now(), Input::Token { expires_at }));
        }
        let _ = self.carry_out(effects).await;
    }

    /// Waits for the next thing that happens; `None` once the feed is shut down.
    async fn next_input(&mut self, commands: &mut Commands) -> Option<Input> {
        loop {
            let deadline = self.core.next_deadline();
            let day_ends = self.day_ends();
            let fair = self.reads_in_a_row < READS_BEFORE_A_TURN;
            let Self {
                socket,
                opening,
                resyncs,
                ..
            } = self;
            let input = tokio::select! {
                biased;
                command = commands.recv() => match command {
                    None => Input::Request(Request::Shutdown),
                    Some(command) => match self.route(command) {
                        Some(input) => input,
                        None => continue,
                    },
                },
                opened = async { Some(opening.as_mut()?.await) }, if opening.is_some() => {
                    self.opening = None;
                    match opened {
                        Some(Ok(socket)) => {
                            self.socket = Some(socket.split());
                            Input::Opened
                        }
                        Some(Err(err)) => Input::OpenFailed(err),
                        None => continue,
                    }
                }
                // Frames first, so a late timer never judges a socket whose frames are waiting;
                // but a socket that is always ready (a flood) gives the rest a turn now and then.
                read = read_batch(socket.as_mut().map(|(_, stream)| stream)), if socket.is_some() && fair => {
                    self.reads_in_a_row += 1;
                    let (messages, end) = read;
                    let (count, acks) = self.apply_frames(messages).await;
                    if let Some(reason) = end {
                        self.socket = None;
                        if count > 0 {
                            let effects = self.core.handle(Instant::now(), Input::Frames { count, acks });
                            if self.carry_out(effects).await.is_break() {
                                return None;
                            }
                        }
                        Input::Closed { reason }
                    } else {
                        Input::Frames { count, acks }
                    }
                }
                Some(done) = resyncs.1.recv() => self.merge(done).await,
                () = sleep_until(deadline), if deadline.is_some() => Input::Tick,
                // A new trading day starts empty; the REST books fill it.
                () = sleep_until(day_ends), if day_ends.is_some() => {
                    if !self.roll_day() {
                        continue;
                    }
                    Input::Request(Request::Resync)
                }
                // Nothing else was ready: back to reading.
                () = std::future::ready(()), if !fair => {
                    self.reads_in_a_row = 0;
                    continue;
                }
            };
            if !matches!(input, Input::Frames { .. }) {
                self.reads_in_a_row = 0;
            }
            return Some(input);
        }
    }

    /// Turns a command into the core's input, or carries it out here when it is only the store's.
    fn route(&mut self, command: Command) -> Option<Input> {
        Some(match command {
            Command::Connect => {
                self.shared.config.autostart = true;
                Input::Request(Request::Connect)
            }
            Command::Disconnect => {
                self.shared.config.autostart = false;
                Input::Request(Request::Disconnect)
            }
            Command::SetSubscriptions(kinds) => {
                self.shared.config.subscriptions = kinds;
                self.asked()
            }
            Command::SetApiSubscriptions(kinds) => {
                self.shared.config.api_subscriptions = kinds;
                self.asked()
            }
            Command::Resync => Input::Request(Request::Resync),
            Command::SetAuthorization(auth) => Input::Token {
                expires_at: self.take_token(auth),
            },
            Command::MarkSeen(kind) => {
                self.write(|store| store.mark_seen(kind));
                return None;
            }
            Command::Shutdown => Input::Request(Request::Shutdown),
        })
    }

    /// Who asks for what changed: the store keeps each asker's set, the core subscribes to both.
    fn asked(&mut self) -> Input {
        let asked = self.shared.config.subscriptions_asked();
        let wanted = asked.wanted.clone();
        self.write(|store| {
            store.subscriptions.window = asked.window;
            store.subscriptions.api = asked.api;
        });
        Input::Request(Request::SetSubscriptions(wanted))
    }

    /// Keeps a new token: a new REST client, the session's clock reset. Returns when it dies.
    fn take_token(&mut self, auth: Authorization) -> Option<Instant> {
        let expires_at = token_expiry(auth.access_token().expose());
        // A new login on a new day: the store starts that day before the token's first resync.
        self.roll_day();
        self.shared.config.market_auth.send_replace(Some(auth.clone()));
        self.shared.config.auth = Some(auth);
        self.rest = None;
        self.shared.store.write().session = SessionInfo {
            expires_at,
            ..SessionInfo::default()
        };
        expiry_instant(Instant::now(), now_ms(), expires_at?)
    }

    /// Carries out the core's decisions; what they lead to (a failed send) goes back to the core.
    async fn carry_out(&mut self, effects: Vec<Effect>) -> std::ops::ControlFlow<()> {
        let mut queue = std::collections::VecDeque::from(effects);
        while let Some(effect) = queue.pop_front() {
            let input = match effect {
                Effect::Open => {
                    self.open();
                    None
                }
                Effect::Send(text) => self.send(text).await,
                Effect::Close => {
                    self.close().await;
                    None
                }
                Effect::Resync { kinds, generation } => {
                    self.start_resync(kinds, generation);
                    None
                }
                Effect::Subscriptions { wanted, acknowledged } => {
                    self.write(|store| {
                        store.subscriptions.wanted = wanted;
                        store.subscriptions.acknowledged = acknowledged;
                    });
                    None
                }
                Effect::ResyncFailed { error, retry_in } => {
                    tracing::warn!(%error, retry_in_ms = retry_in.as_millis() as u64, "REST resync failed");
                    let shown = format!("{error}; retrying in {:.0} s", retry_in.as_secs_f64());
                    self.write(|store| {
                        store.resync.error = Some(shown);
                        store.resync.failures += 1;
                    });
                    None
                }
                Effect::Session { ending_soon, expired } => {
                    self.write(|store| {
                        store.session.ending_soon = ending_soon;
                        store.session.expired = expired;
                    });
                    None
                }
                Effect::Status(status) => {
                    report(&self.shared, status).await;
                    None
                }
                Effect::Stop => return std::ops::ControlFlow::Break(()),
            };
            if let Some(input) = input {
                queue.extend(self.core.handle(Instant::now(), input));
            }
        }
        std::ops::ControlFlow::Continue(())
    }

    /// One small change to the store under its lock, then a repaint.
    fn write(&self, change: impl FnOnce(&mut Store)) {
        change(&mut self.shared.store.write());
        (self.shared.repaint)();
    }

    fn open(&mut self) {
        let Some(auth) = self.shared.config.auth.clone() else {
            return;
        };
        let url = self.shared.config.socket_url.clone();
        let timeout = self.shared.config.timing.connect_timeout;
        self.opening = Some(Box::pin(
            async move { socket::connect(&url, &auth, timeout).await },
        ));
    }

    async fn send(&mut self, text: String) -> Option<Input> {
        let (sink, _) = self.socket.as_mut()?;
        let sent = sink.send(Message::text(text)).await;
        sent.err().map(|err| Input::SendFailed {
            reason: format!("cannot send: {err}"),
        })
    }

    /// Closes the socket and applies every frame the server sent before it saw the close: frames
    /// read are never dropped, whatever ended the connection.
    async fn close(&mut self) {
        self.opening = None;
        let Some((mut sink, mut stream)) = self.socket.take() else {
            return;
        };
        let drain = async {
            let _ = sink.close().await;
            loop {
                let (messages, end) = read_batch(Some(&mut stream)).await;
                self.apply_frames(messages).await;
                if end.is_some() {
                    return;
                }
            }
        };
        if tokio::time::timeout(DRAIN_FOR, drain).await.is_err() {
            tracing::debug!("the closing socket did not finish within {DRAIN_FOR:?}");
        }
    }

    /// Parses a batch outside the lock and applies it under one write lock; the journal and the
    /// tap get it after. Returns the frames read and the acknowledgements among them.
    async fn apply_frames(&mut self, messages: Vec<Message>) -> (usize, Vec<String>) {
        if messages.is_empty() {
            return (0, Vec::new());
        }
        let Parsed {
            events,
            bad,
            acks,
            frames,
        } = parse_messages(&messages);
        drop(messages);
        if let Some(error) = bad.last().map(|bad| bad.error.clone()) {
            self.log_bad_frames(bad.len(), &error);
        }
        self.roll_day();
        let copy = self.wants_copy().then(|| events.clone());
        let bad_copy = self.journal_bad(&bad);
        let report = self.shared.store.write().apply_batch(events, bad, Origin::Socket);
        (self.shared.repaint)();
        self.publish(copy, bad_copy, &report, Origin::Socket).await;
        self.socket_batches += 1;
        if let Some(FeedFault::PanicAfterBatches(limit)) = self.shared.config.fault
            && self.socket_batches >= limit
        {
            self.shared.config.fault = None;
            panic!("fault injected: the feed panics after {limit} socket batches");
        }
        (frames, acks)
    }

    fn log_bad_frames(&mut self, count: usize, last_error: &str) {
        self.bad_frames_unlogged += count as u64;
        let due = self
            .bad_frames_logged_at
            .is_none_or(|at| at.elapsed() >= BAD_FRAME_LOG_EVERY);
        if due {
            tracing::warn!(count = self.bad_frames_unlogged, error = %last_error, "skipped bad frames");
            self.bad_frames_unlogged = 0;
            self.bad_frames_logged_at = Some(Instant::now());
        }
    }
}

/// Records a status in the store (and the journal) and sends it down the tap, in band with the
/// events.
pub(super) async fn report(shared: &Context<'_>, status: FeedStatus) {
    tracing::info!(status = %status.to_json(), "feed");
    let day = {
        let mut store = shared.store.write();
        store.record_status(&status, Instant::now());
        store.day()
    };
    if let Some(journal) = &shared.config.journal {
        let day = day.unwrap_or_else(|| trading_day(shared.config.clock.now_ms()));
        journal.record_status(day, now_ms(), &status);
    }
    (shared.repaint)();
    if let Some(tap) = shared.tap {
        let _ = tap.send(Tap::Status(status)).await;
    }
}
