//! The whole pipeline against the simulator over loopback: socket, REST resync, store.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use orderwatch::feed::{Command, FeedFault};
use orderwatch::fyers::auth::Authorization;
use orderwatch::fyers::model::EventKind;
use orderwatch::sim::Fault;
use orderwatch::store::ConnectionState;
use orderwatch::store::StoreConfig;

const ALL: [EventKind; 4] = EventKind::ALL;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_day_ends_equal_to_the_exchange() {
    let sim = start_sim(day(11, 4_000, None)).await;
    let running = start_feed(feed_config(&sim));
    wait_subscribed(&running, &ALL).await;
    sim.handle().resume();
    sim.handle().finished().await;
    assert_converges(&running, &sim, Duration::from_secs(20)).await;
    let store = running.store.read();
    assert_eq!(store.bad_frames(), 0);
    assert_eq!(store.reconnects(), 0);
    assert!(
        store.orders.len() > 500,
        "a day has many orders: {}",
        store.orders.len()
    );
    assert!(store.trades().len() > 100);
    assert!(store.general().len() > 0);
    let aggregates = store.aggregates();
    assert!(
        aggregates.orders.filled > 0 && aggregates.orders.rejected > 0 && aggregates.orders.cancelled > 0
    );
    let book = sim.handle().book();
    let traded: f64 = book.trades.values().filter_map(|trade| trade.trade_value).sum();
    assert!((aggregates.traded_value - traded).abs() < 0.01 * book.trades.len() as f64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_lose_nothing() {
    let sim = start_sim(day(12, 6_000, Some(1_500.0))).await;
    let running = start_feed(feed_config(&sim));
    wait_subscribed(&running, &ALL).await;
    sim.handle().resume();
    for drop in 1..=6 {
        tokio::time::sleep(Duration::from_millis(450)).await;
        sim.handle().inject(Fault::DropConnections);
        let back = wait_until(Duration::from_secs(5), || {
            running.store.read().reconnects() >= drop && running.store.read().connection.is_connected()
        })
        .await;
        assert!(back, "did not reconnect after drop {drop}");
    }
    sim.handle().finished().await;
    assert_converges(&running, &sim, Duration::from_secs(20)).await;
    let store = running.store.read();
    assert!(store.reconnects() >= 5, "reconnects: {}", store.reconnects());
    assert!(store.resync.last_ok_ms.is_some());
    let upgrades = sim.handle().stats().upgrades.load(Ordering::SeqCst);
    assert!(
        upgrades <= 1 + 6 * 2,
        "reconnects without a storm: {upgrades} upgrades"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_stops_all_attempts() {
    let sim = start_sim(day(13, 100, None)).await;
    let mut config = feed_config(&sim);
    config.auth = Some(Authorization::parse("SIMAPP1234-100:wrong-token").unwrap());
    let running = start_feed(config);
    let rejected = wait_until(Duration::from_secs(5), || {
        matches!(
            running.store.read().connection,
            ConnectionState::AuthRejected { .. }
        )
    })
    .await;
    assert!(rejected, "state: {:?}", running.store.read().connection);
    // Backoff here starts at 50 ms: a client that kept trying would rack up attempts.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sim.handle().stats().upgrades.load(Ordering::SeqCst), 1);
    assert!(matches!(
        running.store.read().connection,
        ConnectionState::AuthRejected { .. }
    ));

    // A good token brings the stream back.
    running
        .handle
        .command(Command::SetAuthorization(sim.authorization()))
        .await
        .unwrap();
    let connected = wait_until(Duration::from_secs(5), || {
        running.store.read().connection.is_connected()
    })
    .await;
    assert!(connected, "state: {:?}", running.store.read().connection);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_mid_stream_is_one_attempt_then_auth_rejected() {
    let sim = start_sim(day(14, 1_000_000, Some(200.0))).await;
    let running = start_feed(feed_config(&sim));
    wait_subscribed(&running, &ALL).await;
    sim.handle().resume();
    tokio::time::sleep(Duration::from_millis(300)).await;
    sim.handle().inject(Fault::ExpireToken);
    let rejected = wait_until(Duration::from_secs(5), || {
        matches!(
            running.store.read().connection,
            ConnectionState::AuthRejected { .. }
        )
    })
    .await;
    assert!(rejected, "state: {:?}", running.store.read().connection);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let handle = sim.handle();
    let stats = handle.stats();
    assert_eq!(
        stats.upgrades_refused.load(Ordering::SeqCst),
        1,
        "one attempt after expiry, no storm"
    );

    sim.handle().renew_token();
    running
        .handle
        .command(Command::SetAuthorization(sim.authorization()))
        .await
        .unwrap();
    wait_subscribed(&running, &ALL).await;
    sim.handle().pause();
    assert_converges(&running, &sim, Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_connection_is_detected_and_replaced() {
    let sim = start_sim(day(15, 1_000_000, Some(100.0))).await;
    let running = start_feed(feed_config(&sim));
    wait_subscribed(&running, &ALL).await;
    sim.handle().resume();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Silent for far longer than dead_after (1.5 s), socket left open.
    sim.handle().inject(Fault::Stall(Duration::from_secs(30)));
    let replaced = wait_until(Duration::from_secs(6), || {
        let store = running.store.read();
        store.reconnects() >= 1 && store.connection.is_connected()
    })
    .await;
    assert!(replaced, "state: {:?}", running.store.read().connection);
    let log = connection_log(&running);
    assert!(
        log.iter().any(|note| note.contains("no frame or pong")),
        "{log:#?}"
    );
    sim.handle().pause();
    assert_converges(&running, &sim, Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_duplicate_and_reordered_frames_are_survived() {
    let sim = start_sim(day(16, 5_000, Some(2_000.0))).await;
    let running = start_feed(feed_config(&sim));
    wait_subscribed(&running, &ALL).await;
    let handle = sim.handle();
    handle.inject(Fault::Malformed(6));
    handle.inject(Fault::Oversized(2));
    handle.inject(Fault::Duplicate(300));
    handle.inject(Fault::Reorder(60));
    handle.resume();
    tokio::time::sleep(Duration::from_millis(800)).await;
    handle.inject(Fault::Malformed(6));
    handle.finished().await;
    assert_converges(&running, &sim, Duration::from_secs(20)).await;
    let store = running.store.read();
    assert_eq!(
        store.bad_frames(),
        14,
        "6 + 6 malformed (incl. binary) and 2 oversized"
    );
    assert_eq!(store.recent_bad_frames().count(), 14);
    assert!(
        store.recent_bad_frames().any(|bad| bad.error.contains("limit")),
        "an oversized frame is named"
    );
    assert!(store.recent_bad_frames().any(|bad| bad.error.contains("binary")));
    assert!(
        store.duplicates() >= 250,
        "duplicates counted: {}",
        store.duplicates()
    );
    assert!(
        store.stale() >= 30,
        "reordered updates kept out: {}",
        store.stale()
    );
    assert_eq!(store.reconnects(), 0, "bad frames do not cost the connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_subscribed_kinds_arrive() {
    let sim = start_sim(day(17, 2_000, None)).await;
    let mut config = feed_config(&sim);
    config.subscriptions = BTreeSet::from([EventKind::Orders, EventKind::General]);
    let running = start_feed(config);
    wait_subscribed(&running, &[EventKind::Orders, EventKind::General]).await;
    sim.handle().resume();
    sim.handle().finished().await;
    let book = sim.handle().book();
    let all_orders = wait_until(Duration::from_secs(10), || {
        running.store.read().orders.len() == book.orders.len()
    })
    .await;
    assert!(all_orders);
    let store = running.store.read();
    assert_eq!(store.trades().len(), 0);
    assert_eq!(store.positions().len(), 0);
    assert_eq!(store.count(EventKind::Trades).total, 0);
    assert!(store.count(EventKind::General).total > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_unsubscribe_stops_that_kind() {
    let sim = start_sim(day(18, 1_000_000, Some(400.0))).await;
    let running = start_feed(feed_config(&sim));
    wait_subscribed(&running, &ALL).await;
    sim.handle().resume();
    assert!(wait_until(Duration::from_secs(5), || running.store.read().trades().len() > 5).await);
    let without_trades = BTreeSet::from([EventKind::Orders, EventKind::Positions, EventKind::General]);
    running
        .handle
        .command(Command::SetSubscriptions(without_trades))
        .await
        .unwrap();
    wait_subscribed(
        &running,
        &[EventKind::Orders, EventKind::Positions, EventKind::General],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (trades, orders) = {
        let store = running.store.read();
        (store.trades().len(), store.orders.len())
    };
    let truth_trades = sim.handle().book().trades.len();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert!(
        sim.handle().book().trades.len() > truth_trades + 5,
        "the exchange kept trading"
    );
    {
        let store = running.store.read();
        assert_eq!(store.trades().len(), trades, "no trades after unsubscribing");
        assert!(store.orders.len() > orders, "orders still stream");
    }

    // Subscribing again pulls the trades missed meanwhile from REST.
    running
        .handle
        .command(Command::SetSubscriptions(ALL.into()))
        .await
        .unwrap();
    wait_subscribed(&running, &ALL).await;
    sim.handle().pause();
    assert_converges(&running, &sim, Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_rest_api_does_not_stop_the_stream() {
    let sim = start_sim(day(19, 1_000_000, Some(300.0))).await;
    sim.handle().inject(Fault::RestDown(true));
    let running = start_feed(feed_config(&sim));
    wait_subscribed(&running, &ALL).await;
    sim.handle().resume();
    let reported = wait_until(Duration::from_secs(5), || {
        let store = running.store.read();
        store.resync.error.is_some() && store.resync.failures >= 2 && store.orders.len() > 10
    })
    .await;
    assert!(reported, "resync: {:?}", running.store.read().resync);
    let error = running.store.read().resync.error.clone().unwrap_or_default();
    assert!(error.contains("503"), "{error}");
    // Retries back off (100 ms doubling to 500 ms here): a handful of calls, not hundreds.
    let calls = sim.handle().stats().rest_calls.load(Ordering::SeqCst);
    assert!(calls < 30, "{calls} REST calls");

    sim.handle().inject(Fault::RestDown(false));
    let recovered = wait_until(Duration::from_secs(5), || {
        running.store.read().resync.error.is_none()
    })
    .await;
    assert!(recovered, "resync: {:?}", running.store.read().resync);
    sim.handle().pause();
    assert_converges(&running, &sim, Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_and_connect_commands() {
    let sim = start_sim(day(20, 1_000_000, Some(200.0))).await;
    let running = start_feed(feed_config(&sim));
    wait_subscribed(&running, &ALL).await;
    running.handle.command(Command::Disconnect).await.unwrap();
    let stopped = wait_until(Duration::from_secs(3), || {
        running.store.read().connection == ConnectionState::Disconnected
    })
    .await;
    assert!(stopped);
    assert!(
        wait_until(Duration::from_secs(3), || sim
            .handle()
            .stats()
            .connections_open
            .load(Ordering::SeqCst)
            == 0)
        .await
    );
    running.handle.command(Command::Connect).await.unwrap();
    wait_subscribed(&running, &ALL).await;
    running.handle.command(Command::Shutdown).await.unwrap();
    tokio::time::timeout(Duration::from_secs(3), running.task)
        .await
        .expect("feed stops")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_carries_no_duplicates_and_no_regressions() {
    use orderwatch::feed::Tap;
    use orderwatch::fyers::model::Event;
    let sim = start_sim(day(21, 3_000, Some(2_000.0))).await;
    let store = std::sync::Arc::new(parking_lot::RwLock::new(orderwatch::store::Store::default()));
    let (tap_tx, mut tap) = tokio::sync::mpsc::channel(4096);
    let (_handle, _task) =
        orderwatch::feed::spawn(feed_config(&sim), store.clone(), Box::new(|| {}), Some(tap_tx));
    let acknowledged = wait_until(Duration::from_secs(5), || {
        store.read().subscriptions.acknowledged.len() == 4
    })
    .await;
    assert!(acknowledged);
    sim.handle().inject(Fault::Duplicate(400));
    sim.handle().inject(Fault::Reorder(80));
    sim.handle().resume();
    sim.handle().finished().await;
    let converged = wait_until(Duration::from_secs(20), || {
        differences(&store.read(), &sim.handle().book()).is_empty()
    })
    .await;
    assert!(converged);
    let mut trades = std::collections::HashSet::new();
    let mut orders: std::collections::HashMap<String, (i64, i64)> = Default::default();
    let mut events = 0;
    while let Ok(tapped) = tap.try_recv() {
        // REST rows carry no update time; the socket's stream is the one to hold to order.
        let Tap::Events {
            events: batch,
            origin: orderwatch::store::Origin::Socket,
            ..
        } = tapped
        else {
            continue;
        };
        for event in batch {
            events += 1;
            match event {
                Event::Trade(trade) => assert!(
                    trades.insert(trade.trade_number.clone()),
                    "trade {} twice",
                    trade.trade_number
                ),
                Event::Order(order) => {
                    let now = (order.update_time_epoch_oms.unwrap_or(0), order.filled());
                    if let Some(before) = orders.insert(order.id.to_string(), now) {
                        assert!(
                            now.0 >= before.0 && now.1 >= before.1,
                            "order {} went back: {before:?} → {now:?}",
                            order.id
                        );
                    }
                }
                _ => {}
            }
        }
    }
    assert!(events > 1_000);
    assert!(
        store.read().duplicates() >= 300,
        "the faults were there: {}",
        store.read().duplicates()
    );
    assert!(
        store.read().stale() >= 20,
        "and reordered updates too: {}",
        store.read().stale()
    );
}

/// Every frame read before a connection ends is applied, whatever ended it. Price alerts have no
/// REST book: one dropped at a token renewal would be lost for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_alerts_in_flight_at_token_renewals_all_arrive_in_order() {
    let sim = start_sim(day(21, 10, None)).await;
    let caps = StoreConfig {
        max_general: 1_000_000,
        ..StoreConfig::default()
    };
    let running = start_feed_with(feed_config(&sim), caps);
    let store = running.store.clone();
    wait_subscribed(&running, &ALL).await;
    let sim_handle = sim.handle();
    let stats = sim_handle.stats();
    let mut next = 0;
    for renewal in 1..=4 {
        let alerts: Vec<String> = (next..next + 30_000).map(price_alert).collect();
        next += alerts.len();
        sim.handle().replay(alerts);
        // Renew while the alerts stream: some are read, some on the wire, some not sent yet.
        wait_until(Duration::from_secs(10), || {
            stats.frames_sent.load(Ordering::SeqCst) > 0
        })
        .await;
        tokio::time::sleep(Duration::from_millis(3)).await;
        running
            .handle
            .command(Command::SetAuthorization(sim.authorization()))
            .await
            .unwrap();
        let back = wait_until(Duration::from_secs(10), || {
            let store = store.read();
            store
                .connection_log()
                .filter(|note| note.text == "connected")
                .count()
                > renewal
                && store.subscriptions.acknowledged.len() == ALL.len()
        })
        .await;
        assert!(back, "not resubscribed after renewal {renewal}");
    }
    let sent = || stats.frames_sent.load(Ordering::SeqCst);
    let all_in = wait_until(Duration::from_secs(10), || {
        store.read().general().len() as u64 == sent()
    })
    .await;
    let store = store.read();
    assert!(
        all_in,
        "{} alerts sent, {} applied",
        sent(),
        store.general().len()
    );
    assert!(
        sent() < next as u64,
        "every renewal came mid-stream ({} of {next} sent)",
        sent()
    );
    let ids: Vec<u64> = store
        .general()
        .map(|entry| {
            entry.event.raw["pricealerts"]["alert_id"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "alerts out of order"
    );
    assert_eq!(store.bad_frames(), 0);
}

/// A feed that panics is seen (the store says why) and comes back by itself, losing nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_feed_is_reported_and_restarted_and_loses_nothing() {
    let sim = start_sim(day(22, 3_000, Some(1_500.0))).await;
    let mut config = feed_config(&sim);
    config.fault = Some(FeedFault::PanicAfterBatches(20));
    let running = start_feed(config);
    wait_subscribed(&running, &ALL).await;
    sim.handle().resume();
    let failed = wait_until(Duration::from_secs(10), || {
        running.store.read().feed_failures().0 == 1
    })
    .await;
    assert!(failed, "the injected fault did not fire");
    let reason = running.store.read().feed_failures().1.map(str::to_owned);
    assert!(reason.is_some_and(|reason| reason.contains("fault injected")));
    let log = connection_log(&running);
    assert!(
        log.iter()
            .any(|note| note.starts_with("the feed failed") && note.contains("restarting in")),
        "{log:?}"
    );
    sim.handle().finished().await;
    assert_converges(&running, &sim, Duration::from_secs(20)).await;
    let store = running.store.read();
    assert!(store.connection.is_connected(), "{:?}", store.connection);
    assert_eq!(store.feed_failures().0, 1, "the fault fires once");
}

/// At the caps (100 orders, 100 trades) through a day of thousands, with REST resyncs and
/// reconnects at any point: every row kept equals the exchange's, no evicted order or trade comes
/// back from a stale snapshot, and the cards still count the whole day exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_caps_nothing_regresses_resurrects_or_counts_twice() {
    use orderwatch::fyers::model::{Event, OrderStatus};
    let sim = start_sim(day(23, 12_000, Some(4_000.0))).await;
    let caps = StoreConfig {
        max_orders: 100,
        max_trades: 100,
        ..StoreConfig::default()
    };
    let running = start_feed_with(feed_config(&sim), caps);
    let store = running.store.clone();
    wait_subscribed(&running, &ALL).await;
    sim.handle().resume();
    for round in 0..5 {
        tokio::time::sleep(Duration::from_millis(350)).await;
        if round % 2 == 0 {
            sim.handle().inject(Fault::DropConnections);
        } else {
            running.handle.command(Command::Resync).await.unwrap();
        }
    }
    sim.handle().finished().await;
    let book = sim.handle().book();
    assert!(
        book.orders.len() > 1_000 && book.trades.len() > 500,
        "a big enough day: {} orders, {} trades",
        book.orders.len(),
        book.trades.len()
    );
    // Counts by state over the whole day, as the exchange has them.
    let truth = |statuses: &[OrderStatus]| {
        book.orders
            .values()
            .filter(|order| statuses.contains(&order.status()))
            .count() as u64
    };
    let traded: f64 = book.trades.values().filter_map(|trade| trade.trade_value).sum();
    let settled = wait_until(Duration::from_secs(20), || {
        let store = store.read();
        let counts = store.aggregates().orders;
        counts.filled == truth(&[OrderStatus::Filled])
            && counts.open == truth(&[OrderStatus::Transit, OrderStatus::Pending])
            && counts.cancelled == truth(&[OrderStatus::Cancelled])
            && counts.rejected == truth(&[OrderStatus::Rejected])
    })
    .await;
    let store = store.read();
    assert!(
        settled,
        "counts {:?}, truth filled {} open {}",
        store.aggregates().orders,
        truth(&[OrderStatus::Filled]),
        truth(&[OrderStatus::Transit, OrderStatus::Pending])
    );
    assert!(store.orders.len() <= 100 && store.trades().len() <= 100);
    assert!(store.orders.evicted() > 900);
    for entry in store.orders.entries() {
        let exchange = book
            .orders
            .get(&entry.order.id)
            .expect("an order the exchange has");
        assert_eq!(
            comparable(Event::Order(entry.order.clone())),
            comparable(Event::Order(Box::new(exchange.clone()))),
            "order {} regressed or came back stale",
            entry.order.id
        );
    }
    for entry in store.trades() {
        let exchange = book
            .trades
            .get(&entry.trade.trade_number)
            .expect("a trade the exchange has");
        assert_eq!(
            comparable(Event::Trade(Box::new(entry.trade.clone()))),
            comparable(Event::Trade(Box::new(exchange.clone())))
        );
    }
    let value = store.aggregates().traded_value;
    assert!(
        (value - traded).abs() < 0.01 * book.trades.len() as f64,
        "traded value {value} against the exchange's {traded}"
    );
}

/// The connection log's lines, oldest first.
fn connection_log(running: &Running) -> Vec<String> {
    running
        .store
        .read()
        .connection_log()
        .map(|note| note.text.clone())
        .collect()
}
