//! Live mark-to-market beside the order feed: follows the open positions' symbols on the
//! market-data socket and puts each new price into the store. The positions are looked at twice
//! a second, so a position that opens is priced within about half a second of its fill, and one
//! that closes is unsubscribed as quickly. Quotes are never polled over REST.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::SharedStore;
use crate::fyers::auth::Authorization;
use crate::fyers::market::client::{MarketStatus, MarketTiming};
use crate::fyers::market::{MarketClient, MarketConfig, MarketEvent};
use crate::store::now_ms;

/// How often the open positions are looked at.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// Runs until dropped with the task that owns it.
pub(super) async fn run(
    socket_url: String,
    auth: watch::Receiver<Option<Authorization>>,
    timing: MarketTiming,
    store: SharedStore,
    repaint: Arc<dyn Fn() + Send + Sync>,
) {
    let (events_tx, mut events) = mpsc::channel(256);
    let config = MarketConfig {
        socket_url,
        auth,
        timing,
    };
    let client = MarketClient::spawn(config, events_tx);
    let mut follow = tokio::time::interval(FOLLOW_EVERY);
    follow.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { return };
                apply(&store, event);
                repaint();
            }
            _ = follow.tick() => {
                let topics = store.read().market_topics();
                client.follow(topics);
            }
        }
    }
}

fn apply(store: &SharedStore, event: MarketEvent) {
    match event {
        MarketEvent::Prices(prices) => {
            let at = now_ms();
            store
                .write()
                .apply_prices(prices.iter().map(|(symbol, ltp)| (symbol.as_str(), *ltp)), at);
        }
        MarketEvent::Status(status) => {
            let line = match &status {
                MarketStatus::Idle => "no open positions to price".to_owned(),
                MarketStatus::Connecting => "connecting".to_owned(),
                MarketStatus::Live { topics } => format!("live, {topics} symbols"),
                MarketStatus::Down { error, retry_in } => {
                    format!("down ({error}); retrying in {} s", retry_in.as_secs().max(1))
                }
                MarketStatus::NoToken(why) => format!("off: {why}"),
            };
            store.write().set_market_status(status.is_live(), line);
        }
        MarketEvent::Notice(notice) => {
            tracing::warn!(%notice, "market data");
            store.write().set_market_status(store.read().marks().live, notice);
        }
    }
}
