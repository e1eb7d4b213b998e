//! The journal end to end, against the simulator over loopback and a real SQLite file: a restart
//! restores the day (and tells once what happened meanwhile), a headless process killed with
//! SIGKILL mid-burst loses nothing it printed, a new trading day starts empty, past days export.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{day, differences, feed_config, start_sim, wait_until};
use orderwatch::config::NotificationSettings;
use orderwatch::desktop::notify::Notifier;
use orderwatch::feed::{self, Clock, Command as FeedCommand, Tap};
use orderwatch::fyers::model::{Event, EventKind};
use orderwatch::journal::{self, Journal, JournalOptions, Table};
use orderwatch::sim::{Book, DayConfig, Sim};
use orderwatch::store::{Store, trading_day};
use parking_lot::RwLock;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_orderwatch");
const CONVERGE: Duration = Duration::from_secs(20);

fn open_journal(dir: &tempfile::TempDir) -> Journal {
    Journal::open(&dir.path().join(journal::FILE_NAME), JournalOptions::default()).expect("journal opens")
}

/// A store rebuilt from the journal's day, as a restart would.
fn restore_day(path: &std::path::Path, day: chrono::NaiveDate) -> Store {
    let mut store = Store::default();
    journal::restore(
        &mut store,
        journal::load_day(path, day).expect("the day reads back"),
    );
    store
}

struct Running {
    store: feed::SharedStore,
    handle: feed::FeedHandle,
    task: tokio::task::JoinHandle<()>,
    taps: tokio::sync::mpsc::Receiver<Tap>,
}

fn start(config: feed::FeedConfig) -> Running {
    let store = Arc::new(RwLock::new(Store::default()));
    let (tap, taps) = tokio::sync::mpsc::channel(100_000);
    let (handle, task) = feed::spawn(config, store.clone(), Box::new(|| {}), Some(tap));
    Running {
        store,
        handle,
        task,
        taps,
    }
}

impl Running {
    async fn stop(self) -> Vec<Tap> {
        let Running {
            handle,
            task,
            mut taps,
            ..
        } = self;
        let _ = handle.command(FeedCommand::Shutdown).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        let mut seen = Vec::new();
        while let Ok(tap) = taps.try_recv() {
            seen.push(tap);
        }
        seen
    }

    async fn converge(&self, sim: &Sim) {
        let handle = sim.handle();
        let ok = wait_until(CONVERGE, || {
            differences(&self.store.read(), &handle.book()).is_empty()
        })
        .await;
        assert!(
            ok,
            "the store never matched the truth: {:#?}",
            differences(&self.store.read(), &handle.book())
        );
    }
}

/// A feed (with `config`) on `sim` through the whole of its day, until the store is the truth.
async fn stream_the_day(config: feed::FeedConfig, sim: &Sim) -> Running {
    let running = start(config);
    common::wait_until(Duration::from_secs(5), || {
        running.store.read().connection.is_connected()
    })
    .await;
    sim.handle().resume();
    sim.handle().finished().await;
    running.converge(sim).await;
    running
}

/// What a restart shows of the day: equal text, equal day.
fn picture(store: &Store) -> String {
    let orders: Vec<_> = store
        .orders
        .entries()
        .map(|entry| format!("{:?} {:?} {}", entry.order, entry.history, entry.updates))
        .collect();
    let general: Vec<_> = store.general().map(|entry| entry.summary.clone()).collect();
    let pnl: Vec<_> = store.pnl_history().collect();
    let counts = EventKind::ALL.map(|kind| store.count(kind).total);
    format!(
        "{orders:?}\n{general:?}\n{pnl:?}\n{counts:?}\n{:?}",
        store.aggregates()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_restores_the_day_and_tells_once_what_happened_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(day(11, 1_500, Some(2_000.0))).await;
    let journal = open_journal(&dir);
    let mut config = feed_config(&sim);
    config.journal = Some(journal.clone());
    let running = stream_the_day(config, &sim).await;
    let before = picture(&running.store.read());
    let today = running.store.read().day().expect("the store knows its day");
    running.stop().await;
    journal.flush(Duration::from_secs(10)).unwrap();

    // The day goes on while Orderwatch is closed: orders fill, get rejected.
    let book_before = sim.handle().book();
    sim.handle().advance(400);
    let book_after = sim.handle().book();
    assert_ne!(
        book_before.orders, book_after.orders,
        "something happened meanwhile"
    );

    // Restart, not yet connected: the day is back as it was.
    let mut config = feed_config(&sim);
    config.journal = Some(journal.clone());
    config.autostart = false;
    let mut running = start(config);
    let restored_tap = tokio::time::timeout(Duration::from_secs(10), running.taps.recv())
        .await
        .expect("a tap in time")
        .expect("the feed taps");
    let Tap::Restored(restored) = restored_tap else {
        panic!("the first tap is the restore: {restored_tap:?}");
    };
    assert_eq!(restored.day, today);
    assert_eq!(
        picture(&running.store.read()),
        before,
        "restored before connecting"
    );
    assert!(!running.store.read().connection.is_connected());

    // Then the REST resync merges what happened while it was down.
    let mut notifier = Notifier::new(Duration::from_millis(10));
    let t0 = Instant::now();
    notifier.observe(&Tap::Restored(restored), t0);
    running.handle.command(FeedCommand::Connect).await.unwrap();
    running.converge(&sim).await;
    common::wait_until(Duration::from_secs(5), || {
        running.store.read().resync.last_ok_ms.is_some()
    })
    .await;
    let taps = running.stop().await;
    for tap in &taps {
        notifier.observe(tap, t0);
    }
    let shown = notifier.due(t0 + Duration::from_secs(1), &NotificationSettings::default());
    let filled_meanwhile = book_after
        .orders
        .values()
        .filter(|order| {
            order.status() == orderwatch::fyers::model::OrderStatus::Filled
                && book_before
                    .orders
                    .get(&order.id)
                    .is_none_or(|was| was.status() != order.status())
        })
        .count();
    assert!(filled_meanwhile > 0, "orders filled while closed");
    let summaries: Vec<_> = shown
        .iter()
        .filter(|note| note.summary == "While Orderwatch was closed")
        .collect();
    assert_eq!(summaries.len(), 1, "one summary, not a burst: {shown:#?}");
    let body = &summaries[0].body;
    assert!(
        body.starts_with(&format!("While Orderwatch was closed: {filled_meanwhile} order")),
        "{body}"
    );
    assert_eq!(
        shown.len(),
        1,
        "nothing else is notified from the resync: {shown:#?}"
    );

    // And the journal now holds the whole day: a third start would see the truth.
    journal.flush(Duration::from_secs(10)).unwrap();
    let again = restore_day(journal.path(), today);
    assert_eq!(differences(&again, &sim.handle().book()), Vec::<String>::new());
}

/// Reads a headless child's stdout lines as they come.
fn lines_of(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::sync_channel(1 << 20);
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn headless(sim: &Sim, data_dir: &std::path::Path, extra: &[&str]) -> Command {
    let auth = sim.authorization();
    let mut command = Command::new(BIN);
    command
        .args([
            "headless",
            "--socket-url",
            &sim.socket_url(),
            "--rest-url",
            &sim.rest_url(),
            "--access-token",
            auth.expose(),
            "--data-dir",
        ])
        .arg(data_dir)
        .args(extra)
        .env_remove("ORDERWATCH_ACCESS_TOKEN")
        .env_remove("ORDERWATCH_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

/// An event line's body as the journal keeps it: the record, or the general message.
fn body(line: &Value) -> Option<(String, String)> {
    let kind = match line["type"].as_str()? {
        "OnOrders" => "orders",
        "OnTrades" => "trades",
        "OnPositions" => "positions",
        "OnGeneral" => return Some(("general".into(), line["data"].to_string())),
        _ => return None,
    };
    Some((kind.into(), line["data"][kind].to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_headless_process_killed_mid_burst_loses_nothing_it_printed() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(day(21, 6_000, Some(3_000.0))).await;
    let mut child = headless(&sim, dir.path(), &[]).spawn().expect("headless starts");
    let lines = lines_of(&mut child);
    // Connected and subscribed, then the burst starts.
    let wait = Instant::now();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(10))
            .expect("a status line");
        if line.contains("\"subscribed\"") {
            break;
        }
        assert!(wait.elapsed() < Duration::from_secs(10));
    }
    sim.handle().resume();
    let mut printed = Vec::new();
    while printed.len() < 1_500 {
        let line = lines
            .recv_timeout(Duration::from_secs(10))
            .expect("the stream goes on");
        let value: Value = serde_json::from_str(&line).expect("JSON lines");
        if let Some(body) = body(&value) {
            printed.push(body);
        }
    }
    // SIGKILL: no chance to flush anything.
    let killed = Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let _ = child.wait();
    // Whatever it printed before dying (lines still in the pipe included) was on disk first.
    while let Ok(line) = lines.recv_timeout(Duration::from_millis(500)) {
        if let Some(body) = serde_json::from_str(&line).ok().as_ref().and_then(body) {
            printed.push(body);
        }
    }
    assert!(
        sim.handle().steps() < 6_000,
        "killed mid-burst, not after the day ended"
    );
    let path = journal::journal_path(dir.path(), false);
    let today = trading_day(orderwatch::store::now_ms());
    let conn = rusqlite::Connection::open(&path).expect("the journal survived");
    let mut query = conn
        .prepare("SELECT kind, data FROM events WHERE day = ?1")
        .unwrap();
    let journaled: HashSet<(String, String)> = query
        .query_map([today.to_string()], |row| {
            let kind: String = row.get(0)?;
            let data: String = row.get(1)?;
            Ok((kind, data))
        })
        .unwrap()
        .map(Result::unwrap)
        .map(|(kind, data)| {
            // Compare as JSON values: the same record however its keys were spaced.
            let value: Value = serde_json::from_str(&data).unwrap();
            (kind, value.to_string())
        })
        .collect();
    let missing: Vec<_> = printed.iter().filter(|body| !journaled.contains(*body)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} printed events are not in the journal, e.g. {:?}",
        missing.len(),
        printed.len(),
        missing.first()
    );
    drop(query);
    drop(conn);

    // Restarted on the same data dir: the day comes back, the rest arrives, the truth is reached.
    let mut child = headless(&sim, dir.path(), &["--idle-exit", "3"])
        .spawn()
        .expect("restarts");
    let lines = lines_of(&mut child);
    let first = lines.recv_timeout(Duration::from_secs(10)).expect("a first line");
    let first: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["type"], "restored", "{first}");
    assert!(
        first["events"].as_u64().unwrap() >= printed.len() as u64,
        "{first}"
    );
    sim.handle().finished().await;
    let ended = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(ended.success(), "{ended:?}");
    let store = restore_day(&path, today);
    assert_eq!(differences(&store, &sim.handle().book()), Vec::<String>::new());

    // No secret ever reaches the file.
    let token = sim.authorization().expose().split_once(':').unwrap().1.to_owned();
    for file in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&token), "the access token is in the journal");
    }
}

/// Aggregates of a book alone: what the cards must show for that day.
fn book_store(book: &Book) -> Store {
    let mut store = Store::default();
    let events: Vec<Event> = book
        .orders
        .values()
        .map(|order| Event::Order(Box::new(order.clone())))
        .chain(
            book.trades
                .values()
                .map(|trade| Event::Trade(Box::new(trade.clone()))),
        )
        .chain(
            book.positions
                .values()
                .map(|p| Event::Position(Box::new(p.clone()))),
        )
        .collect();
    store.apply_snapshot(events, Vec::new(), 0);
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_renewed_into_the_next_day_starts_it_empty() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(day(31, 800, Some(2_000.0))).await;
    let journal = open_journal(&dir);
    let clock = Clock::default();
    let mut config = feed_config(&sim);
    config.journal = Some(journal.clone());
    config.clock = clock.clone();
    let running = stream_the_day(config, &sim).await;
    let day_one = running.store.read().day().unwrap();
    let day_one_book = sim.handle().book();

    // The night passes: the clock reaches tomorrow, the exchange opens a new day with other
    // positions, and the morning's login brings a new token.
    clock.set_offset(24 * 3600 * 1000);
    sim.handle().new_day(DayConfig {
        seed: 32,
        start_epoch: DayConfig::default().start_epoch + 86_400,
        ..DayConfig::default()
    });
    let rolled_at = orderwatch::store::now_ms();
    let token = sim.handle().issue_token(Duration::from_secs(3600));
    running
        .handle
        .command(FeedCommand::SetAuthorization(token))
        .await
        .unwrap();
    sim.handle().advance(600);
    running.converge(&sim).await;
    let day_two_book = sim.handle().book();
    {
        let store = running.store.read();
        assert_eq!(store.day(), Some(day_one.succ_opt().unwrap()));
        let (ours, truth) = (store.aggregates(), book_store(&day_two_book).aggregates());
        // Nothing of yesterday in today's cards (sums compared to the paisa: their order differs).
        assert_eq!(ours.orders, truth.orders);
        assert_eq!(ours.open_positions, truth.open_positions);
        for (what, ours, truth) in [
            ("traded value", ours.traded_value, truth.traded_value),
            ("realized", ours.realized_pnl, truth.realized_pnl),
            ("unrealized", ours.unrealized_pnl, truth.unrealized_pnl),
            ("total", ours.total_pnl, truth.total_pnl),
        ] {
            assert!(
                (ours - truth).abs() < 0.01,
                "{what}: {ours} against day two's {truth}"
            );
        }
        assert!(
            day_one_book
                .orders
                .keys()
                .all(|id| store.orders.get(id).is_none()),
            "no order of day one is left"
        );
        assert!(
            store.pnl_history().all(|point| point.at_ms >= rolled_at),
            "the chart holds the new day only"
        );
        assert!(store.pnl_history().len() > 0);
    }
    running.stop().await;
    journal.flush(Duration::from_secs(10)).unwrap();

    // Yesterday stays in the journal, whole, and exports.
    let yesterday = restore_day(journal.path(), day_one);
    assert_eq!(differences(&yesterday, &day_one_book), Vec::<String>::new());
    let days: Vec<_> = journal::days(journal.path())
        .unwrap()
        .into_iter()
        .map(|(day, _)| day)
        .collect();
    assert_eq!(days, vec![day_one.succ_opt().unwrap(), day_one]);
    let mut csv = Vec::new();
    let rows = journal::export_csv(journal.path(), day_one, Table::Positions, &mut csv).unwrap();
    assert_eq!(rows, day_one_book.positions.len());
}

/// A day journaled by a feed on the simulator: the journal's dir, the day, and its truth.
async fn journaled_day(seed: u64, steps: u64) -> (tempfile::TempDir, chrono::NaiveDate, Book) {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(day(seed, steps, Some(3_000.0))).await;
    let journal = open_journal(&dir);
    let mut config = feed_config(&sim);
    config.journal = Some(journal.clone());
    let running = stream_the_day(config, &sim).await;
    let today = running.store.read().day().unwrap();
    running.stop().await;
    journal.flush(Duration::from_secs(10)).unwrap();
    (dir, today, sim.handle().book())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journaled_day_replays_through_the_simulator() {
    let (dir, today, truth) = journaled_day(41, 900).await;
    let recorded = journal::load_day(&journal::journal_path(dir.path(), false), today).unwrap();
    let frames: usize = recorded.batches.iter().map(|batch| batch.events.len()).sum();
    // A simulator that generates nothing of its own; a client connects, then the day plays.
    let replay = start_sim(day(1, 1, None)).await;
    let running = start(feed_config(&replay));
    common::wait_until(Duration::from_secs(5), || {
        running.store.read().subscriptions.acknowledged.len() == 4
    })
    .await;
    let sent = orderwatch::sim::replay::play(replay.handle(), recorded, Some(20_000.0)).await;
    assert!(sent as usize <= frames && sent > 0, "{sent} of {frames}");
    // What the recording client learnt only from REST (a resync that raced the socket) is in the
    // replay's REST books, not its frames: a resync brings it, as it did for the recording client.
    running.handle.command(FeedCommand::Resync).await.unwrap();
    running.converge(&replay).await;
    // The replay's truth is the recorded day's.
    assert_eq!(differences(&running.store.read(), &truth), Vec::<String>::new());
    running.stop().await;
}

fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = reader
        .records()
        .map(|row| row.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (headers, rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orderwatch_export_writes_each_table_of_a_day() {
    let (dir, today, truth) = journaled_day(51, 900).await;
    let out = dir.path().join("out.csv");
    let export = |what: &str| {
        let output = Command::new(BIN)
            .args([
                "export",
                "--date",
                &today.to_string(),
                "--what",
                what,
                "--data-dir",
            ])
            .arg(dir.path())
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        read_csv(&std::fs::read(&out).unwrap())
    };
    let column = |headers: &[String], name: &str| headers.iter().position(|h| h == name).unwrap();

    let (headers, rows) = export("orders");
    assert_eq!(headers, Table::Orders.headers());
    assert_eq!(rows.len(), truth.orders.len());
    let (id, status, price, qty) = (
        column(&headers, "id"),
        column(&headers, "status"),
        column(&headers, "limitPrice"),
        column(&headers, "qty"),
    );
    for row in &rows {
        let order = &truth.orders[row[id].as_str()];
        let status_code = serde_json::to_value(order.status).unwrap().to_string();
        assert_eq!(row[status], status_code, "order {}", order.id);
        assert_eq!(row[qty], order.qty.map(|q| q.to_string()).unwrap_or_default());
        // Money unformatted: the number itself, no grouping, no rupee sign.
        let limit: Option<f64> = (!row[price].is_empty()).then(|| row[price].parse().unwrap());
        assert_eq!(limit, order.limit_price, "order {}", order.id);
    }

    let (headers, rows) = export("trades");
    assert_eq!(headers, Table::Trades.headers());
    assert_eq!(rows.len(), truth.trades.len());
    let (number, value) = (column(&headers, "tradeNumber"), column(&headers, "tradeValue"));
    let total: f64 = rows.iter().map(|row| row[value].parse::<f64>().unwrap()).sum();
    let expected: f64 = truth.trades.values().filter_map(|trade| trade.trade_value).sum();
    assert!((total - expected).abs() < 0.01, "{total} against {expected}");
    assert!(
        rows.iter()
            .all(|row| truth.trades.contains_key(row[number].as_str()))
    );

    let (headers, rows) = export("positions");
    assert_eq!(headers, Table::Positions.headers());
    assert_eq!(rows.len(), truth.positions.len());
    let net = column(&headers, "netQty");
    let open = rows.iter().filter(|row| row[net] != "0").count();
    let expected = truth.positions.values().filter(|p| p.net_qty != Some(0)).count();
    assert_eq!(open, expected);

    let (headers, rows) = export("general");
    assert_eq!(headers, Table::General.headers());
    let data = column(&headers, "data");
    assert!(
        rows.iter()
            .all(|row| serde_json::from_str::<Value>(&row[data]).is_ok())
    );

    // A day with nothing journaled, and a bad table name, say so.
    let output = Command::new(BIN)
        .args(["export", "--date", "2001-01-01", "--what", "orders", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing for 2001-01-01"));
    let output = Command::new(BIN)
        .args(["export", "--date", "2001-01-01", "--what", "fills"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("use orders, trades, positions or general"));
}
