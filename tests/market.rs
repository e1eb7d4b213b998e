//! Live mark-to-market over loopback: the feed follows the open positions on the simulator's
//! market-data socket, prices them from its ticks, and marks them stale when the socket is down.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use orderwatch::feed::Backoff;
use orderwatch::fyers::market::client::MarketTiming;
use orderwatch::sim::{Fault, Sim};
use orderwatch::store::{Freshness, Store, now_ms};

fn fast_market() -> MarketTiming {
    MarketTiming {
        ping_every: Duration::from_millis(300),
        dead_after: Duration::from_millis(1500),
        connect_timeout: Duration::from_secs(2),
        backoff: Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(400),
            jitter: 0.25,
        },
        stable_after: Duration::from_secs(60),
    }
}

/// A simulator playing day `seed` and a feed that prices its positions on the market socket.
async fn priced(seed: u64) -> (Sim, common::Running) {
    let sim = common::start_sim(common::day(seed, 1_000_000, Some(400.0))).await;
    let mut config = common::feed_config(&sim);
    config.market_url = Some(sim.market_url());
    config.market_timing = fast_market();
    let running = common::start_feed(config);
    sim.handle().resume();
    (sim, running)
}

/// Every open position is priced live at the simulator's last traded price, and its unrealized
/// P&L is the formula's at that price (the simulator rounds its own to paise).
fn priced_as_the_truth(store: &Store, sim: &Sim) -> Result<usize, String> {
    let now = now_ms();
    let mut open = 0;
    for entry in store.positions() {
        let position = &entry.position;
        if position.net_qty.unwrap_or(0) == 0 {
            continue;
        }
        open += 1;
        let symbol = position.symbol.as_deref().unwrap_or("?");
        let truth = sim.handle().ltp(symbol).ok_or(format!("{symbol}: not traded"))?;
        let live = store.live_pnl(entry, now);
        if live.freshness != Freshness::Live || live.ltp != Some(truth) {
            return Err(format!("{symbol}: {live:?}, truth {truth}"));
        }
        let expected = (truth - position.net_avg.unwrap_or(0.0)) * position.net_qty.unwrap_or(0) as f64;
        if (live.unrealized - expected).abs() > 1e-6 {
            return Err(format!("{symbol}: unrealized {} != {expected}", live.unrealized));
        }
    }
    Ok(open)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_positions_follow_the_market_and_their_pnl_is_the_simulators_truth() {
    let sim = common::start_sim(common::day(11, 1_000_000, Some(400.0))).await;
    let mut config = common::feed_config(&sim);
    config.market_url = Some(sim.market_url());
    config.market_timing = fast_market();
    // The window paces price ticks apart from order events: ticks call their own hook.
    let price_repaints = Arc::new(AtomicUsize::new(0));
    let counter = price_repaints.clone();
    config.price_repaint = Some(orderwatch::feed::PriceRepaint(Arc::new(move || {
        counter.fetch_add(1, Ordering::Relaxed);
    })));
    let running = common::start_feed(config);
    sim.handle().resume();
    let mut checked = 0;
    let mut ticks_seen = 0;
    for _round in 0..6 {
        // Let the day open and close positions, then hold it still and let the ticks land.
        tokio::time::sleep(Duration::from_millis(700)).await;
        sim.handle().pause();
        let settled = common::wait_until(Duration::from_secs(5), || {
            let store = running.store.read();
            let (topics, open_sockets) = sim.handle().market_topics();
            let wanted = store.market_topics().len() as u64;
            wanted > 0 && topics == wanted && open_sockets == 1 && priced_as_the_truth(&store, &sim).is_ok()
        })
        .await;
        let store = running.store.read();
        assert!(
            settled,
            "open positions {:?}, simulator follows {:?}, pricing: {:?}, market: {}",
            store.market_topics().len(),
            sim.handle().market_topics(),
            priced_as_the_truth(&store, &sim),
            store.marks().status
        );
        checked += priced_as_the_truth(&store, &sim).unwrap();
        ticks_seen = store.marks().ticks;
        // The cards and the chart move with the ticks: the day's total is realized + live.
        let aggregates = store.aggregates();
        let live_total: f64 = store
            .positions()
            .map(|entry| store.live_pnl(entry, now_ms()).total)
            .sum();
        assert!((aggregates.total_pnl - live_total).abs() < 1e-6);
        drop(store);
        sim.handle().resume();
    }
    assert!(checked >= 6, "positions were priced ({checked})");
    assert!(ticks_seen > 20, "ticks arrived ({ticks_seen})");
    assert!(
        price_repaints.load(Ordering::Relaxed) >= 20,
        "ticks asked for frames through the price hook ({})",
        price_repaints.load(Ordering::Relaxed)
    );
    // One connection all along: following positions subscribes and unsubscribes on it.
    assert_eq!(sim.handle().market_upgrades(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_market_socket_marks_prices_stale_and_the_reconnect_subscribes_again() {
    let (sim, running) = priced(12).await;
    let live = || {
        let store = running.store.read();
        store.marks().live
            && store
                .positions()
                .any(|entry| store.live_pnl(entry, now_ms()).freshness == Freshness::Live)
    };
    assert!(
        common::wait_until(Duration::from_secs(10), live).await,
        "prices went live"
    );
    // The token dies: the socket is closed and every reconnect is refused, so prices go stale.
    sim.handle().inject(Fault::ExpireToken);
    let stale = || {
        let store = running.store.read();
        let now = now_ms();
        !store.marks().live
            && store
                .positions()
                .all(|entry| store.live_pnl(entry, now).freshness != Freshness::Live)
            && store
                .positions()
                .any(|entry| store.live_pnl(entry, now).freshness == Freshness::Stale)
    };
    assert!(
        common::wait_until(Duration::from_secs(10), stale).await,
        "prices marked stale"
    );
    let upgrades = sim.handle().market_upgrades();
    // The token is good again: the client reconnects, subscribes to the open positions again, and
    // prices are live again.
    sim.handle().inject(Fault::DropConnections);
    common::http_client()
        .post(format!("http://{}/sim/fault/renew", sim.addr()))
        .send()
        .await
        .unwrap();
    assert!(
        common::wait_until(Duration::from_secs(10), live).await,
        "prices live again"
    );
    assert!(sim.handle().market_upgrades() > upgrades, "it reconnected");
    let (topics, _) = sim.handle().market_topics();
    assert!(topics > 0, "it subscribed again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_day_pnl_with_live_prices_reaches_the_tap_for_alerts() {
    use std::sync::Arc;

    use orderwatch::feed::{self, Tap};
    use parking_lot::{Mutex, RwLock};

    let sim = common::start_sim(common::day(13, 1_000_000, Some(400.0))).await;
    let mut config = common::feed_config(&sim);
    config.market_url = Some(sim.market_url());
    config.market_timing = fast_market();
    let store = Arc::new(RwLock::new(Store::default()));
    let (tap_tx, mut taps) = tokio::sync::mpsc::channel(1024);
    let (_handle, _task) = feed::spawn(config, store.clone(), Box::new(|| {}), Some(tap_tx));
    let last = Arc::new(Mutex::new(None));
    let reader = {
        let last = last.clone();
        tokio::spawn(async move {
            while let Some(tap) = taps.recv().await {
                if let Tap::Pnl(snapshot) = tap {
                    *last.lock() = Some(snapshot);
                }
            }
        })
    };
    sim.handle().resume();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    sim.handle().pause();
    // Held still, the last snapshot sent is the store's day, in paise.
    let same = common::wait_until(Duration::from_secs(5), || {
        let store = store.read();
        let aggregates = store.aggregates();
        last.lock().as_ref().is_some_and(|snapshot| {
            snapshot.live
                && (snapshot.total - aggregates.total_pnl).abs() < 0.006
                && (snapshot.unrealized - aggregates.unrealized_pnl).abs() < 0.006
                && snapshot.positions.len() == store.positions().len()
        })
    })
    .await;
    assert!(
        same,
        "last snapshot {:?} vs {:?}",
        last.lock().as_ref().map(|s| s.total),
        store.read().aggregates()
    );
    reader.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_the_market_socket_is_survived_and_a_stalled_one_is_replaced() {
    let (sim, running) = priced(14).await;
    let ticks = || running.store.read().marks().ticks;
    assert!(
        common::wait_until(Duration::from_secs(10), || ticks() > 0).await,
        "prices flow"
    );
    // Cut frames, an unknown entry kind, a text frame and an unknown type: skipped, the same
    // connection goes on pricing.
    sim.handle().inject(Fault::Malformed(8));
    let before = ticks();
    assert!(
        common::wait_until(Duration::from_secs(5), || ticks() > before + 5).await,
        "prices go on"
    );
    assert_eq!(sim.handle().market_upgrades(), 1, "no reconnect for bad frames");
    assert!(running.store.read().marks().live);
    // The server goes silent (no data, no pongs): the connection is found dead and replaced.
    sim.handle().inject(Fault::Stall(Duration::from_secs(4)));
    assert!(
        common::wait_until(Duration::from_secs(8), || sim.handle().market_upgrades() >= 2).await,
        "a stalled market socket is replaced"
    );
    let before = ticks();
    assert!(
        common::wait_until(Duration::from_secs(10), || ticks() > before).await,
        "prices again"
    );
}

#[tokio::test]
async fn the_simulators_symbol_token_call_answers_as_fyers_does() {
    use orderwatch::fyers::market::topics::{bare_jwt, read_symbol_tokens, scrip_topic};

    let sim = common::start_sim(common::day(15, 10, None)).await;
    let http = common::http_client();
    let url = format!("{}/symbol-token", sim.data_url());
    let body = serde_json::json!({"symbols": ["NSE:SBIN-EQ", "NSE:NOPE-EQ"]});
    let auth = sim.authorization();
    let answer: serde_json::Value = http
        .post(&url)
        .header("authorization", bare_jwt(auth.expose()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tokens = read_symbol_tokens(&answer).expect("ok");
    assert_eq!(tokens.valid["NSE:SBIN-EQ"], "10100000003045");
    assert_eq!(
        scrip_topic(&tokens.valid["NSE:SBIN-EQ"]).as_deref(),
        Some("sf|nse_cm|3045")
    );
    assert_eq!(tokens.invalid, ["NSE:NOPE-EQ"]);
    // The whole APP_ID:TOKEN (as every other call takes it) is not what this call wants.
    let refused: serde_json::Value = http
        .post(&url)
        .header("authorization", format!("{}x", bare_jwt(auth.expose())))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(read_symbol_tokens(&refused).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_subscribes_and_unsubscribes_as_the_followed_set_changes() {
    use std::collections::BTreeMap;

    use orderwatch::fyers::market::client::MarketStatus;
    use orderwatch::fyers::market::{MarketClient, MarketConfig, MarketEvent};

    let sim = common::start_sim(common::day(16, 1_000_000, Some(400.0))).await;
    let (_auth_tx, auth) = tokio::sync::watch::channel(Some(sim.authorization()));
    let (events_tx, mut events) = tokio::sync::mpsc::channel(1024);
    let client = MarketClient::spawn(
        MarketConfig {
            socket_url: sim.market_url(),
            auth,
            timing: fast_market(),
        },
        events_tx,
    );
    let statuses = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
    let prices = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
    let reader = {
        let (statuses, prices) = (statuses.clone(), prices.clone());
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                match event {
                    MarketEvent::Status(status) => statuses.lock().push(status),
                    MarketEvent::Prices(batch) => prices.lock().extend(batch),
                    MarketEvent::Notice(_) => {}
                }
            }
        })
    };
    let topic = |token: &str, symbol: &str| (format!("sf|nse_cm|{token}"), symbol.to_owned());
    client.follow(BTreeMap::from([
        topic("3045", "NSE:SBIN-EQ"),
        topic("2885", "NSE:RELIANCE-EQ"),
    ]));
    let follows = |n: u64| sim.handle().market_topics() == (n, 1);
    assert!(
        common::wait_until(Duration::from_secs(5), || follows(2)).await,
        "{:?}",
        sim.handle().market_topics()
    );
    // The snapshots price both at the simulator's own prices.
    let priced = || {
        let prices = prices.lock();
        ["NSE:SBIN-EQ", "NSE:RELIANCE-EQ"]
            .iter()
            .all(|symbol| prices.iter().any(|(s, _)| s == symbol))
    };
    assert!(common::wait_until(Duration::from_secs(5), priced).await);
    client.follow(BTreeMap::from([topic("3045", "NSE:SBIN-EQ")]));
    assert!(
        common::wait_until(Duration::from_secs(5), || follows(1)).await,
        "unsubscribed"
    );
    // Nothing to follow: the connection closes; something again: a new one subscribes.
    client.follow(BTreeMap::new());
    assert!(
        common::wait_until(Duration::from_secs(5), || sim.handle().market_topics().1 == 0).await,
        "idle closes the socket"
    );
    client.follow(BTreeMap::from([topic("1594", "NSE:INFY-EQ")]));
    assert!(common::wait_until(Duration::from_secs(5), || follows(1)).await);
    assert_eq!(sim.handle().market_upgrades(), 2);
    assert!(statuses.lock().contains(&MarketStatus::Idle));
    assert!(statuses.lock().contains(&MarketStatus::Live { topics: 1 }));
    drop(client);
    reader.abort();
}

/// Stopping the stream stops live prices too (they show as not live); starting it resumes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_stream_closes_the_market_socket_and_starting_it_opens_it_again() {
    let (sim, running) = priced(13).await;
    let live = || running.store.read().marks().live && sim.handle().market_topics().1 == 1;
    assert!(
        common::wait_until(Duration::from_secs(10), live).await,
        "prices went live"
    );
    running
        .handle
        .command(orderwatch::feed::Command::Disconnect)
        .await
        .unwrap();
    let quiet = || !running.store.read().marks().live && sim.handle().market_topics().1 == 0;
    assert!(
        common::wait_until(Duration::from_secs(10), quiet).await,
        "the market socket stayed open after Stop: {:?}, {}",
        sim.handle().market_topics(),
        running.store.read().marks().status
    );
    assert_eq!(
        running.store.read().marks().status,
        "off while the stream is stopped"
    );
    let ticks = running.store.read().marks().ticks;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        running.store.read().marks().ticks,
        ticks,
        "no ticks while stopped"
    );
    running
        .handle
        .command(orderwatch::feed::Command::Connect)
        .await
        .unwrap();
    assert!(
        common::wait_until(Duration::from_secs(10), live).await,
        "prices live again after Start"
    );
}
