//! The feed: the one writer of the `Store`. It keeps the order socket up, merges the REST books
//! after every (re)connect and applies everything in the order it happened.
//!
//! - `connection`: the connection's logic, a state machine with no I/O (inputs in, effects out);
//! - `driver`: the async shell around it, which does the I/O and alone writes the store: each
//!   socket batch is parsed outside the lock and applied under one write lock, in read order;
//!   REST merges, connection state and subscriptions are written by the same task;
//! - this file: the handle the UI and the CLI hold, and the supervisor that restarts a failed feed.
//!
//! Everything downstream (headless, notifications) gets what a batch changed from the one tap,
//! after the lock is released, with the connection's [`FeedStatus`] in band.

mod backoff;
mod config;
mod connection;
mod driver;
mod mtm;
mod parse;
mod resync;

use std::collections::{BTreeSet, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use parking_lot::RwLock;
use tokio::sync::mpsc;

use crate::fyers::auth::Authorization;
use crate::fyers::model::{Event, EventKind, Order};
use crate::store::{Origin, Store};

pub use crate::store::{FeedStatus, SESSION_EXPIRED};
pub use backoff::Backoff;
pub use config::{Clock, FeedConfig, FeedFault, PriceRepaint, Timing};
pub use connection::{Connection, Effect, Input, MIN_RESYNC_SPACING, Request, ResyncOutcome};
pub use driver::MAX_BATCH;
pub use parse::{Parsed, parse_messages};

pub type SharedStore = Arc<RwLock<Store>>;

/// Called after every change to the store, so a window can wake up and redraw.
pub type RepaintHook = Box<dyn Fn() + Send + Sync>;

/// Stops a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the feed is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Start streaming (and keep reconnecting until told to stop).
    Connect,
    /// Stop streaming and close the socket.
    Disconnect,
    /// What the window (or headless) wants streamed: the connection subscribes and unsubscribes
    /// live to reach this set joined with the API's.
    SetSubscriptions(BTreeSet<EventKind>),
    /// What programs on the local API want streamed, joined with the window's likewise.
    SetApiSubscriptions(BTreeSet<EventKind>),
    /// Merge the REST books now.
    Resync,
    /// A new token (after a login): reconnects with it.
    SetAuthorization(Authorization),
    /// The user has looked at this kind's tab: its "new" count starts again from zero.
    MarkSeen(EventKind),
    Shutdown,
}

/// A copy of what the feed applies, for consumers that want a stream (headless, notifications).
#[derive(Debug, Clone, PartialEq)]
pub enum Tap {
    /// Events as applied; from a resync, only those that changed the store. `journaled`: the
    /// journal's number for the batch (wait for it to be on disk with `Journal::committed`), or
    /// `None` when there is no journal or the batch did not fit in its queue.
    Events {
        events: Vec<Event>,
        origin: Origin,
        journaled: Option<u64>,
    },
    /// On start, before connecting: the day so far was rebuilt from the journal.
    Restored(Restored),
    /// What the connection did, in band with the events.
    Status(FeedStatus),
    /// The day's P&L with live prices, when it changed (at most twice a second), for P&L alerts.
    Pnl(PnlSnapshot),
}

/// The day's P&L at a moment: the totals the cards show, and each position's total.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PnlSnapshot {
    pub total: f64,
    pub realized: f64,
    pub unrealized: f64,
    /// Prices are live (the market-data socket is up).
    pub live: bool,
    pub positions: Vec<PositionPnl>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PositionPnl {
    /// The position's symbol (its id when it has none).
    pub symbol: crate::fyers::model::Text,
    pub total: f64,
    pub ltp: Option<f64>,
}

/// What a restart brought back from the journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    pub day: chrono::NaiveDate,
    /// Events replayed.
    pub events: u64,
    /// Each order's latest state as restored: what happened to it next is news.
    pub orders: Vec<Order>,
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

/// Starts the feed on the current tokio runtime. A feed that fails (a panic: a bug, caught) is
/// reported as [`FeedStatus::Failed`] and, if `config.restart_on_failure`, started again after the
/// socket's backoff; otherwise the task ends.
pub fn spawn(
    config: FeedConfig,
    store: SharedStore,
    repaint: RepaintHook,
    tap: Option<mpsc::Sender<Tap>>,
) -> (FeedHandle, tokio::task::JoinHandle<()>) {
    let (commands_tx, commands) = mpsc::channel(64);
    store.write().subscriptions = config.subscriptions_asked();
    config.market_auth.send_replace(config.auth.clone());
    let repaint: Arc<dyn Fn() + Send + Sync> = Arc::from(repaint);
    let mtm = config.market_url.clone().map(|url| {
        tokio::spawn(mtm::run(
            url,
            config.market_auth.subscribe(),
            config.market_timing,
            store.clone(),
            config
                .price_repaint
                .as_ref()
                .map_or_else(|| repaint.clone(), |hook| hook.0.clone()),
            tap.clone(),
        ))
    });
    let feed_repaint: RepaintHook = Box::new(move || repaint());
    let task = tokio::spawn(async move {
        // Live prices run as long as the feed does.
        let _mtm = mtm.map(AbortOnDrop);
        supervise(config, store, feed_repaint, tap, commands).await;
    });
    (
        FeedHandle {
            commands: commands_tx,
        },
        task,
    )
}

async fn supervise(
    mut config: FeedConfig,
    store: SharedStore,
    repaint: RepaintHook,
    tap: Option<mpsc::Sender<Tap>>,
    commands: mpsc::Receiver<Command>,
) {
    let mut commands = Commands {
        rx: commands,
        held: VecDeque::new(),
    };
    let mut failures = 0u32;
    loop {
        let shared = driver::Context {
            config: &mut config,
            store: &store,
            repaint: &repaint,
            tap: &tap,
        };
        let run = AssertUnwindSafe(driver::run(shared, &mut commands))
            .catch_unwind()
            .await;
        let Err(panic) = run else { return };
        let reason = panic_message(panic.as_ref());
        failures = failures.saturating_add(1);
        let restart_in = config
            .restart_on_failure
            .then(|| config.timing.backoff.delay(failures, &mut rand::rng()));
        tracing::error!(%reason, ?restart_in, "the feed failed");
        let shared = driver::Context {
            config: &mut config,
            store: &store,
            repaint: &repaint,
            tap: &tap,
        };
        driver::report(&shared, FeedStatus::Failed { reason, restart_in }).await;
        let Some(delay) = restart_in else { return };
        if !wait_to_restart(delay, &mut commands).await {
            return;
        }
    }
}

/// Sleeps out the restart delay; false if the feed was shut down meanwhile. Other commands are
/// held for the restarted feed.
async fn wait_to_restart(delay: Duration, commands: &mut Commands) -> bool {
    let sleep = tokio::time::sleep(delay);
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            () = &mut sleep => return true,
            command = commands.rx.recv() => match command {
                None | Some(Command::Shutdown) => return false,
                Some(command) => commands.held.push_back(command),
            },
        }
    }
}

/// The feed's commands, with those that came while it was being restarted.
pub(crate) struct Commands {
    rx: mpsc::Receiver<Command>,
    held: VecDeque<Command>,
}

impl Commands {
    /// The next command; `None` once every handle is gone.
    pub(crate) async fn recv(&mut self) -> Option<Command> {
        match self.held.pop_front() {
            Some(command) => Some(command),
            None => self.rx.recv().await,
        }
    }
}

/// What a panic said, for the user and the log.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".to_owned())
}
