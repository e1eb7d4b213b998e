//! Live mark-to-market beside the order feed: follows the open positions' symbols on the
//! market-data socket and puts each new price into the store. The positions are looked at twice
//! a second, so a position that opens is priced within about half a second of its fill, and one
//! that closes is unsubscribed as quickly. Quotes are never polled over REST.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::{PnlSnapshot, PositionPnl, SharedStore, Tap};
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
    tap: Option<mpsc::Sender<Tap>>,
) {
    let mut sent: Option<PnlSnapshot> = None;
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
                let (topics, snapshot) = {
                    let store = store.read();
                    // The user stopped the stream: the market-data socket goes quiet with it (its
                    // prices then show as not live), and comes back when the stream starts again.
                    let topics = if store.connection.is_stopped() {
                        Default::default()
                    } else {
                        store.market_topics()
                    };
                    (topics, snapshot(&store))
                };
                client.follow(topics);
                // P&L alerts see the day move with the prices; an unchanged day is not sent again,
                // and a full channel only delays it to the next look.
                if let Some(tap) = &tap
                    && sent.as_ref() != Some(&snapshot)
                    && tap.try_send(Tap::Pnl(snapshot.clone())).is_ok()
                {
                    sent = Some(snapshot);
                }
            }
        }
    }
}

/// The day's P&L now, in paise (so that float noise is not a change).
fn snapshot(store: &crate::store::Store) -> PnlSnapshot {
    let paise = |rupees: f64| (rupees * 100.0).round() / 100.0;
    let now = now_ms();
    let aggregates = store.aggregates();
    PnlSnapshot {
        total: paise(aggregates.total_pnl),
        realized: paise(aggregates.realized_pnl),
        unrealized: paise(aggregates.unrealized_pnl),
        live: store.marks().live,
        positions: store
            .positions()
            .map(|entry| {
                let live = store.live_pnl(entry, now);
                PositionPnl {
                    symbol: entry
                        .position
                        .symbol
                        .clone()
                        .unwrap_or_else(|| entry.position.id.clone()),
                    total: paise(live.total),
                    ltp: live.ltp,
                }
            })
            .collect(),
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
            let mut store = store.write();
            let line = match &status {
                MarketStatus::Idle if store.connection.is_stopped() => {
                    "off while the stream is stopped".to_owned()
                }
                MarketStatus::Idle => "no open positions to price".to_owned(),
                MarketStatus::Connecting => "connecting".to_owned(),
                MarketStatus::Live { topics } => format!("live, {topics} symbols"),
                MarketStatus::Down { error, retry_in } => {
                    format!("down ({error}); retrying in {} s", retry_in.as_secs().max(1))
                }
                MarketStatus::NoToken(why) => format!("off: {why}"),
            };
            store.set_market_status(status.is_live(), line);
        }
        MarketEvent::Notice(notice) => {
            tracing::warn!(%notice, "market data");
            let mut store = store.write();
            let live = store.marks().live;
            store.set_market_status(live, notice);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use parking_lot::RwLock;

    use super::*;
    use crate::store::Store;

    #[test]
    fn each_market_event_lands_in_the_store() {
        let store: SharedStore = Arc::new(RwLock::new(Store::default()));
        apply(&store, MarketEvent::Status(MarketStatus::Live { topics: 3 }));
        assert!(store.read().marks().live);
        assert_eq!(store.read().marks().status, "live, 3 symbols");
        apply(
            &store,
            MarketEvent::Notice("market data: over the plan's limit (code 51001)".into()),
        );
        assert!(
            store.read().marks().live,
            "a notice does not change whether prices are live"
        );
        assert_eq!(
            store.read().marks().status,
            "market data: over the plan's limit (code 51001)"
        );
        apply(&store, MarketEvent::Prices(vec![("NSE:SBIN-EQ".into(), 812.5)]));
        assert_eq!(store.read().mark("NSE:SBIN-EQ").map(|mark| mark.ltp), Some(812.5));
        let down = MarketStatus::Down {
            error: "refused".into(),
            retry_in: std::time::Duration::from_millis(400),
        };
        apply(&store, MarketEvent::Status(down));
        assert!(!store.read().marks().live);
        assert_eq!(store.read().marks().status, "down (refused); retrying in 1 s");
    }
}
