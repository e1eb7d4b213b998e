//! The feed's configuration: where to connect, with what, and the protocol's timings.

use std::collections::BTreeSet;
use std::time::Duration;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use super::Backoff;
use crate::fyers::auth::Authorization;
use crate::fyers::model::EventKind;
use crate::journal::Journal;
use crate::store::now_ms;

/// How often and how long: the protocol's numbers, shortened in tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub ping_every: Duration,
    /// No frame and no pong for this long: the connection is dead.
    pub dead_after: Duration,
    pub ack_timeout: Duration,
    pub connect_timeout: Duration,
    pub backoff: Backoff,
    pub resync_backoff: Backoff,
    /// A connection up this long resets the backoff.
    pub stable_after: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            ping_every: Duration::from_secs(10),
            dead_after: Duration::from_secs(30),
            ack_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
            backoff: Backoff::SOCKET,
            resync_backoff: Backoff::REST,
            stable_after: Duration::from_secs(60),
        }
    }
}

/// Where to connect and with what.
#[derive(Debug, Clone)]
pub struct FeedConfig {
    pub socket_url: String,
    pub rest_url: String,
    pub auth: Option<Authorization>,
    /// What the window (or headless) asks for.
    pub subscriptions: BTreeSet<EventKind>,
    /// What programs on the local API ask for; the connection subscribes to both.
    pub api_subscriptions: BTreeSet<EventKind>,
    /// Connect as soon as the feed starts.
    pub autostart: bool,
    pub timing: Timing,
    /// After a failure (a caught panic) start the feed again, after the socket's backoff (the
    /// window); or end it and let the caller say why (headless).
    pub restart_on_failure: bool,
    /// A fault to inject, for tests of what a failing feed does.
    pub fault: Option<FeedFault>,
    /// Where each applied batch is recorded, and the day restored from on start.
    pub journal: Option<Journal>,
    /// The clock that says which trading day it is (tests move it to the next day).
    pub clock: Clock,
    /// The market-data socket for live mark-to-market of open positions (`None`: off).
    pub market_url: Option<String>,
    pub market_timing: crate::fyers::market::client::MarketTiming,
    /// What a price tick calls to have the window redrawn (`None`: the feed's own hook). The
    /// window paces ticks more than order events: a price moving is worth fewer frames.
    pub price_repaint: Option<PriceRepaint>,
    /// The token the market-data socket uses: follows `auth` when the feed gets a new one.
    pub(crate) market_auth: Arc<tokio::sync::watch::Sender<Option<Authorization>>>,
}

/// The wall clock, shifted by an offset tests can change while the feed runs.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now_ms(&self) -> i64 {
        now_ms().saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of it) by `by_ms` from the wall clock.
    pub fn set_offset(&self, by_ms: i64) {
        self.offset_ms.store(by_ms, Ordering::Relaxed);
    }
}

/// The price ticks' repaint hook.
#[derive(Clone)]
pub struct PriceRepaint(pub Arc<dyn Fn() + Send + Sync>);

impl std::fmt::Debug for PriceRepaint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PriceRepaint(..)")
    }
}

/// A failure to inject into the feed itself (the simulator injects the network's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFault {
    /// Panic once, after applying this many socket batches.
    PanicAfterBatches(u64),
}

impl FeedConfig {
    /// What the connection subscribes to: what the window and the programs ask for.
    pub fn wanted(&self) -> BTreeSet<EventKind> {
        self.subscriptions
            .union(&self.api_subscriptions)
            .copied()
            .collect()
    }

    /// The store's record of who asked for what (before the server acknowledges anything).
    pub fn subscriptions_asked(&self) -> crate::store::Subscriptions {
        crate::store::Subscriptions {
            wanted: self.wanted(),
            acknowledged: BTreeSet::new(),
            window: self.subscriptions.clone(),
            api: self.api_subscriptions.clone(),
        }
    }

    pub fn new(socket_url: &str, rest_url: &str, auth: Option<Authorization>) -> Self {
        Self {
            socket_url: socket_url.to_owned(),
            rest_url: rest_url.to_owned(),
            auth: auth.clone(),
            subscriptions: EventKind::ALL.into(),
            api_subscriptions: BTreeSet::new(),
            autostart: true,
            timing: Timing::default(),
            restart_on_failure: true,
            fault: None,
            journal: None,
            clock: Clock::default(),
            market_url: None,
            market_auth: Arc::new(tokio::sync::watch::Sender::new(auth.clone())),
            market_timing: Default::default(),
            price_repaint: None,
        }
    }
}
