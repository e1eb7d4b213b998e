//! The one writer: keeps the order socket up, merges REST snapshots after every (re)connect, and
//! applies everything to the `Store` in batches (socket batches on its parsing threads, one at a
//! time in the order read: see `ingest`). Commands come in over a bounded channel.

mod backoff;
mod clock;
mod config;
mod ingest;
mod parse;
mod reader;
mod resync;
mod session;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::RwLock;
use rand::SeedableRng;
use tokio::sync::mpsc;

use crate::fyers::auth::Authorization;
use crate::fyers::model::{Event, EventKind};
use crate::fyers::rest::RestClient;
use crate::fyers::socket::{self, SocketError};
use crate::store::{ConnectionState, Origin, Store};

pub use backoff::Backoff;
pub use config::{FeedConfig, Timing};
pub use ingest::{Applied, Ingest, Inlet};
pub use parse::{Parsed, parse_messages};
pub use reader::READS_AHEAD;
use session::SessionEnd;

pub type SharedStore = Arc<RwLock<Store>>;

/// Called after every change to the store, so a window can wake up and redraw.
pub type RepaintHook = Box<dyn Fn() + Send + Sync>;

/// What the feed is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Start streaming (and keep reconnecting until told to stop).
    Connect,
    /// Stop streaming and close the socket.
    Disconnect,
    /// Subscribe and unsubscribe live to reach this set.
    SetSubscriptions(BTreeSet<EventKind>),
    /// Merge the REST books now.
    Resync,
    /// A new token (after a login): reconnects with it.
    SetAuthorization(Authorization),
    /// The user has looked at this kind's tab: its "new" count starts again from zero.
    MarkSeen(EventKind),
    /// The feed's own session clock: the token is about to die, or has died. Harmless to send.
    SessionClock,
    Shutdown,
}

/// A copy of what the feed applies, for consumers that want a stream (headless mode).
#[derive(Debug, Clone, PartialEq)]
pub enum Tap {
    /// Events as applied; from a resync, only those that changed the store.
    Events { events: Vec<Event>, origin: Origin },
    /// The connection state changed.
    Status(serde_json::Value),
}

/// The UI's and CLI's end of the feed.
#[derive(Debug, Clone)]
pub struct FeedHandle {
    commands: mpsc::Sender<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("the feed is busy; try again")]
    Busy,
    #[error("the feed has stopped")]
    Stopped,
}

impl FeedHandle {
    /// Never blocks: for the UI thread.
    pub fn send(&self, command: Command) -> Result<(), SendError> {
        self.commands.try_send(command).map_err(|err| match err {
            mpsc::error::TrySendError::Full(_) => SendError::Busy,
            mpsc::error::TrySendError::Closed(_) => SendError::Stopped,
        })
    }

    pub async fn command(&self, command: Command) -> Result<(), SendError> {
        self.commands.send(command).await.map_err(|_| SendError::Stopped)
    }
}

/// Starts the feed on the current tokio runtime.
pub fn spawn(
    config: FeedConfig,
    store: SharedStore,
    repaint: RepaintHook,
    tap: Option<mpsc::Sender<Tap>>,
) -> (FeedHandle, tokio::task::JoinHandle<()>) {
    let (commands_tx, commands) = mpsc::channel(64);
    store.write().subscriptions.wanted = config.subscriptions.clone();
    let feed = Feed {
        ingest: Ingest::new(store.clone()),
        weak_commands: commands_tx.downgrade(),
        clock: None,
        rest: None,
        streaming: config.autostart,
        config,
        store,
        repaint,
        tap,
        commands,
        rng: rand::rngs::SmallRng::from_os_rng(),
        bad_frames_unlogged: 0,
        bad_frames_logged_at: None,
    };
    (
        FeedHandle {
            commands: commands_tx,
        },
        tokio::spawn(feed.run()),
    )
}

/// Why the stream stopped when the token's time ran out.
pub const SESSION_EXPIRED: &str = "the session has expired (Fyers tokens last one trading day)";

/// What to do after a command outside a session.
enum Flow {
    Continue,
    ConnectNow,
    Stop,
    Shutdown,
}

struct Feed {
    config: FeedConfig,
    rest: Option<RestClient>,
    streaming: bool,
    store: SharedStore,
    /// Applies socket batches to the store in the order read, across connections.
    ingest: Arc<Ingest>,
    repaint: RepaintHook,
    tap: Option<mpsc::Sender<Tap>>,
    commands: mpsc::Receiver<Command>,
    rng: rand::rngs::SmallRng,
    bad_frames_unlogged: u64,
    bad_frames_logged_at: Option<Instant>,
    /// For the session clock to reach the feed without keeping it alive.
    weak_commands: mpsc::WeakSender<Command>,
    clock: Option<tokio::task::AbortHandle>,
}

impl Feed {
    async fn run(mut self) {
        let mut attempt = 0u32;
        self.arm_session_clock().await;
        loop {
            let auth_ok = !matches!(self.store.read().connection, ConnectionState::AuthRejected { .. });
            let Some(auth) = self.config.auth.clone().filter(|_| self.streaming && auth_ok) else {
                match self.commands.recv().await {
                    None | Some(Command::Shutdown) => return,
                    Some(command) => {
                        self.handle_outside_session(command).await;
                        continue;
                    }
                }
            };
            self.set_state(ConnectionState::Connecting, "connecting").await;
            let url = self.config.socket_url.clone();
            let connecting = socket::connect(&url, &auth, self.config.timing.connect_timeout);
            let connected = tokio::select! {
                result = connecting => Some(result),
                command = self.commands.recv() => {
                    match command {
                        None | Some(Command::Shutdown) => return,
                        Some(command) => self.handle_outside_session(command).await,
                    };
                    None
                }
            };
            let reason = match connected {
                None => continue,
                Some(Err(err)) if err.is_auth() || !err.is_retryable() => {
                    self.refuse(&err).await;
                    continue;
                }
                Some(Err(err)) => err.to_string(),
                Some(Ok(socket)) => {
                    let since = Instant::now();
                    let note = if attempt > 0 { "reconnected" } else { "connected" };
                    self.set_state(ConnectionState::Connected { since }, note).await;
                    match self.session(socket).await {
                        SessionEnd::Shutdown => return,
                        SessionEnd::Stopped => {
                            self.streaming = false;
                            self.set_state(ConnectionState::Disconnected, "stream stopped")
                                .await;
                            attempt = 0;
                            continue;
                        }
                        SessionEnd::AuthRejected(reason) => {
                            self.set_state(
                                ConnectionState::AuthRejected {
                                    reason: reason.clone(),
                                },
                                reason,
                            )
                            .await;
                            attempt = 0;
                            continue;
                        }
                        SessionEnd::Reconnect => {
                            attempt = 0;
                            continue;
                        }
                        SessionEnd::Lost(reason) => {
                            if since.elapsed() >= self.config.timing.stable_after {
                                attempt = 0;
                            }
                            reason
                        }
                    }
                }
            };
            attempt += 1;
            match self.wait_to_retry(attempt, reason).await {
                Flow::Shutdown => return,
                Flow::Stop => {
                    attempt = 0;
                    self.set_state(ConnectionState::Disconnected, "stream stopped")
                        .await;
                }
                Flow::Continue | Flow::ConnectNow => {}
            }
        }
    }

    /// Reports a refused connection and stops trying until a command changes something.
    async fn refuse(&mut self, err: &SocketError) {
        let reason = err.to_string();
        tracing::warn!(%reason, "order socket refused");
        if err.is_auth() {
            self.set_state(
                ConnectionState::AuthRejected {
                    reason: reason.clone(),
                },
                reason,
            )
            .await;
        } else {
            self.streaming = false;
            self.set_state(ConnectionState::Disconnected, reason).await;
        }
    }

    /// Sleeps out the backoff, still answering commands.
    async fn wait_to_retry(&mut self, attempt: u32, reason: String) -> Flow {
        let delay = self.config.timing.backoff.delay(attempt, &mut self.rng);
        let next_at = Instant::now() + delay;
        tracing::info!(attempt, delay_ms = delay.as_millis() as u64, %reason, "reconnecting");
        let note = format!(
            "connection lost ({reason}); retry {attempt} in {:.1} s",
            delay.as_secs_f64()
        );
        self.set_state(
            ConnectionState::Reconnecting {
                attempt,
                next_at,
                reason,
            },
            note,
        )
        .await;
        let sleep = tokio::time::sleep_until(next_at.into());
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => return Flow::Continue,
                command = self.commands.recv() => match command {
                    None | Some(Command::Shutdown) => return Flow::Shutdown,
                    Some(command) => match self.handle_outside_session(command).await {
                        Flow::Continue => {}
                        flow => return flow,
                    },
                },
            }
        }
    }

    async fn handle_outside_session(&mut self, command: Command) -> Flow {
        match command {
            Command::Connect => {
                self.streaming = true;
                Flow::ConnectNow
            }
            Command::Disconnect => {
                self.streaming = false;
                self.set_state(ConnectionState::Disconnected, "stream stopped")
                    .await;
                Flow::Stop
            }
            Command::SetSubscriptions(kinds) => {
                let mut store = self.store.write();
                store.subscriptions.wanted = kinds;
                store.subscriptions.acknowledged.clear();
                drop(store);
                (self.repaint)();
                Flow::Continue
            }
            Command::Resync => Flow::Continue,
            Command::MarkSeen(kind) => {
                self.mark_seen(kind);
                Flow::Continue
            }
            Command::SetAuthorization(auth) => {
                self.set_authorization(auth).await;
                if self.streaming {
                    Flow::ConnectNow
                } else {
                    Flow::Continue
                }
            }
            Command::SessionClock => {
                self.check_session_outside().await;
                Flow::Continue
            }
            Command::Shutdown => Flow::Shutdown,
        }
    }

    /// Records the state, tells the tap, wakes the UI.
    async fn set_state(&mut self, state: ConnectionState, note: impl Into<String>) {
        let status = state.to_json(Instant::now());
        self.store.write().set_connection(state, note);
        (self.repaint)();
        if let Some(tap) = &self.tap {
            let _ = tap.send(Tap::Status(status)).await;
        }
    }

    fn mark_seen(&self, kind: EventKind) {
        self.store.write().mark_seen(kind);
        (self.repaint)();
    }

    fn rest_client(&mut self) -> Option<RestClient> {
        if self.rest.is_none() {
            let auth = self.config.auth.clone()?;
            match RestClient::new(&self.config.rest_url, auth) {
                Ok(client) => self.rest = Some(client),
                Err(err) => tracing::error!(%err, "cannot build the REST client"),
            }
        }
        self.rest.clone()
    }
}
