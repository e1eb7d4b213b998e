//! Shared set-up for the integration tests: a simulator on loopback and a feed with short timers.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use orderwatch::feed::{self, Backoff, FeedConfig, FeedHandle, SharedStore, Timing};
use orderwatch::fyers::model::{Event, EventKind};
use orderwatch::sim::{Book, DayConfig, Sim, SimConfig};
use orderwatch::store::{Store, StoreConfig};
use parking_lot::RwLock;
use serde_json::Value;

/// The protocol's timers scaled down so faults play out in a second or two.
pub fn fast_timing() -> Timing {
    Timing {
        ping_every: Duration::from_millis(300),
        dead_after: Duration::from_millis(1500),
        ack_timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(2),
        backoff: Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(400),
            jitter: 0.25,
        },
        resync_backoff: Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(500),
            jitter: 0.25,
        },
        stable_after: Duration::from_secs(60),
    }
}

/// A seeded day of `steps` steps that waits for `resume()`.
pub fn day(seed: u64, steps: u64, rate: Option<f64>) -> SimConfig {
    SimConfig {
        day: DayConfig {
            seed,
            ..DayConfig::default()
        },
        rate,
        steps: Some(steps),
        realtime_clock: false,
        start_paused: true,
        ..SimConfig::default()
    }
}

pub async fn start_sim(config: SimConfig) -> Sim {
    Sim::start(config, ([127, 0, 0, 1], 0).into())
        .await
        .expect("simulator starts")
}

pub fn feed_config(sim: &Sim) -> FeedConfig {
    let mut config = FeedConfig::new(&sim.socket_url(), &sim.rest_url(), Some(sim.authorization()));
    config.timing = fast_timing();
    config
}

pub struct Running {
    pub store: SharedStore,
    pub handle: FeedHandle,
    pub task: tokio::task::JoinHandle<()>,
}

pub fn start_feed(config: FeedConfig) -> Running {
    start_feed_with(config, StoreConfig::default())
}

/// A feed on a store with these caps.
pub fn start_feed_with(config: FeedConfig, caps: StoreConfig) -> Running {
    let store = Arc::new(RwLock::new(Store::new(caps)));
    let (handle, task) = feed::spawn(config, store.clone(), Box::new(|| {}), None);
    Running { store, handle, task }
}

/// A price alert as the server sends it; `n` is its id.
pub fn price_alert(n: usize) -> String {
    format!(
        r#"{{"s":"ok","pricealerts":{{"alert_id":"{n}","name":"NIFTY above {n}","symbol":"NSE:NIFTY50-INDEX","comparison_type":"LTP","condition":"GT","value":{n}.0,"ltp":{n}.5,"time_epoch":1766551774,"status":1}}}}"#
    )
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
pub async fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn wait_subscribed(running: &Running, kinds: &[EventKind]) {
    let want: std::collections::BTreeSet<_> = kinds.iter().copied().collect();
    let ok = wait_until(Duration::from_secs(5), || {
        running.store.read().subscriptions.acknowledged == want
    })
    .await;
    assert!(
        ok,
        "subscription not acknowledged: {:?}",
        running.store.read().subscriptions
    );
}

/// The friendly keys both the socket and REST carry (the socket-only extras removed).
pub fn comparable(event: Event) -> Value {
    let mut json = event.to_sdk_json();
    for body in ["orders", "trades", "positions"] {
        if let Some(object) = json.get_mut(body).and_then(Value::as_object_mut) {
            for extra in [
                "update_time_epoch_oms",
                "time_epoch_oms",
                "report_type",
                "status_msg",
                "fill_time_epoch",
                "symbol_desc",
            ] {
                object.remove(extra);
            }
        }
    }
    json
}

/// Differences between the store and the exchange's truth, empty when they agree.
pub fn differences(store: &Store, book: &Book) -> Vec<String> {
    let mut diffs = Vec::new();
    if store.orders.len() != book.orders.len() {
        diffs.push(format!(
            "orders: store {} vs truth {}",
            store.orders.len(),
            book.orders.len()
        ));
    }
    for order in book.orders.values() {
        let ours = store
            .orders
            .get(&order.id)
            .map(|entry| comparable(Event::Order(entry.order.clone())));
        if ours.as_ref() != Some(&comparable(Event::Order(Box::new(order.clone())))) {
            diffs.push(format!(
                "order {} differs: {:?}",
                order.id,
                ours.map(|o| o["orders"]["status"].clone())
            ));
        }
    }
    if store.trades().len() != book.trades.len() {
        diffs.push(format!(
            "trades: store {} vs truth {}",
            store.trades().len(),
            book.trades.len()
        ));
    }
    for trade in book.trades.values() {
        let ours = store
            .trade(&orderwatch::store::TradeKey::of(trade))
            .map(|entry| comparable(Event::Trade(Box::new(entry.trade.clone()))));
        if ours != Some(comparable(Event::Trade(Box::new(trade.clone())))) {
            diffs.push(format!("trade {} differs", trade.trade_number));
        }
    }
    if store.positions().len() != book.positions.len() {
        diffs.push(format!(
            "positions: store {} vs truth {}",
            store.positions().len(),
            book.positions.len()
        ));
    }
    for position in book.positions.values() {
        if store.position(&position.id).map(|entry| &entry.position) != Some(position) {
            diffs.push(format!("position {} differs", position.id));
        }
    }
    diffs.truncate(10);
    diffs
}

/// Waits for the store to equal the truth, and says how it differs if it never does.
pub async fn assert_converges(running: &Running, sim: &Sim, timeout: Duration) {
    let handle = sim.handle();
    let converged = wait_until(timeout, || {
        differences(&running.store.read(), &handle.book()).is_empty()
    })
    .await;
    if !converged {
        let diffs = differences(&running.store.read(), &handle.book());
        panic!("store never matched the simulator's truth: {diffs:#?}");
    }
}

/// A loopback redirect URI on a port nobody is using.
pub fn free_redirect_uri() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port");
    format!("http://127.0.0.1:{port}/fyers/callback")
}

/// A whole browser login against the simulator: Orderwatch listens on a loopback redirect URI,
/// an HTTP client plays the browser (loads the login page, follows its redirect), and the auth
/// code comes back.
pub async fn browser_auth_code(sim: &Sim) -> orderwatch::fyers::auth::Secret {
    let login = orderwatch::account::BrowserLogin::start(
        &sim.rest_url(),
        sim.handle().app_id(),
        &free_redirect_uri(),
    )
    .await
    .expect("the listener binds");
    let url = login.url.clone();
    tokio::spawn(async move { reqwest::get(url).await.map(drop) });
    login
        .wait(Duration::from_secs(10))
        .await
        .expect("the browser comes back")
}

/// Steps a kittest window (the feed runs meanwhile on its own threads) until `done` holds.
pub fn step_until<S>(
    harness: &mut egui_kittest::Harness<'_, S>,
    what: &str,
    mut done: impl FnMut(&egui_kittest::Harness<'_, S>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done(harness) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        harness.step();
        std::thread::sleep(Duration::from_millis(30));
    }
    harness.step();
}

/// Is there a widget with exactly this label (one or more)?
pub fn has<S>(harness: &egui_kittest::Harness<'_, S>, label: &str) -> bool {
    use egui_kittest::kittest::Queryable;
    harness.query_all_by_label(label).next().is_some()
}

/// Is there a widget whose label contains `part`?
pub fn has_text<S>(harness: &egui_kittest::Harness<'_, S>, part: &str) -> bool {
    use egui_kittest::kittest::Queryable;
    harness.query_all_by_label_contains(part).next().is_some()
}

/// Says, where the person running the tests sees it, that a test did not run and why. (The test
/// harness swallows a passing test's own output, so this writes to the process's stderr directly.)
pub fn skipped(why: &str) {
    use std::io::Write;
    let line = format!(
        "SKIPPED {}: {why}\n",
        std::thread::current().name().unwrap_or("a test")
    );
    match std::fs::OpenOptions::new().write(true).open("/dev/stderr") {
        Ok(mut stderr) => {
            let _ = stderr.write_all(line.as_bytes());
        }
        Err(_) => eprint!("{line}"),
    }
}

/// A two-thread runtime for tests that drive a window (kittest) or processes from plain threads.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A plain HTTP client for talking to the simulator directly (5 s timeout).
pub fn http_client() -> reqwest::Client {
    orderwatch::fyers::auth::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("an HTTP client")
}
