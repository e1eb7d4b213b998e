//! The journal against real SQLite files: what goes in comes back in order, a restored store is
//! the live one, the schema is versioned, retention deletes whole days, and a disk that refuses
//! or lags is reported and never blocks the caller.

use std::time::{Duration, Instant};

use super::*;
use crate::fyers::model::{EventKind, Order, OrderStatus, Text};
use crate::sim::{Day, DayConfig};
use crate::store::{Store, trading_day};

const WAIT: Duration = Duration::from_secs(10);

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap_or_else(|err| panic!("{text}: {err}"))
}

fn open(dir: &tempfile::TempDir, options: JournalOptions) -> Journal {
    Journal::open(&dir.path().join(FILE_NAME), options).unwrap_or_else(|err| panic!("open: {err}"))
}

/// A simulated day's steps, as socket batches of a few steps each.
fn simulated_batches(seed: u64, steps: usize) -> Vec<Vec<Event>> {
    let mut sim = Day::new(DayConfig {
        seed,
        ..DayConfig::default()
    });
    let events: Vec<Event> = (0..steps).flat_map(|_| sim.step(None)).collect();
    events.chunks(7).map(<[Event]>::to_vec).collect()
}

/// What a user sees of a store's day, as text: equal text, equal day.
fn picture(store: &Store) -> String {
    let orders: Vec<_> = store
        .orders
        .entries()
        .map(|entry| {
            format!(
                "{:?} {:?} {} {}",
                entry.order, entry.history, entry.updates, entry.first_seen_ms
            )
        })
        .collect();
    let trades: Vec<_> = store.trades().map(|entry| format!("{entry:?}")).collect();
    let positions: Vec<_> = store
        .positions()
        .map(|entry| format!("{:?} {}", entry.position, entry.updated_ms))
        .collect();
    let general: Vec<_> = store.general().map(|entry| format!("{entry:?}")).collect();
    let counts: Vec<_> = EventKind::ALL.map(|kind| store.count(kind).total).into();
    let pnl: Vec<_> = store.pnl_history().collect();
    format!(
        "{orders:#?}\n{trades:#?}\n{positions:#?}\n{general:#?}\n{counts:?}\n{:?}\n{pnl:?}\n{} {} {}",
        store.aggregates(),
        store.frames(),
        store.duplicates(),
        store.bad_frames()
    )
}

#[test]
fn a_day_comes_back_as_it_was_applied() {
    let dir = tempfile::tempdir().unwrap();
    let journal = open(&dir, JournalOptions::default());
    let today = day("2026-12-01");
    let mut live = Store::default();
    live.start_day(today);
    for (n, events) in simulated_batches(7, 600).into_iter().enumerate() {
        let received_ms = 1_764_560_000_000 + n as i64 * 250;
        let bad = if n % 50 == 3 {
            vec![BadFrame::new(received_ms, "not JSON".into(), "{oops")]
        } else {
            Vec::new()
        };
        let origin = if n % 40 == 39 {
            Origin::Resync
        } else {
            Origin::Socket
        };
        let seq = journal.record(today, received_ms, origin, events.clone(), bad.clone());
        assert!(seq.is_some(), "batch {n} was queued");
        live.replay_batch(events, bad, origin, received_ms);
    }
    journal.record_status(
        today,
        1_764_560_000_000,
        &FeedStatus::Connected { reconnected: false },
    );
    journal.flush(WAIT).unwrap();
    let recorded = load_day(journal.path(), today).unwrap();
    assert_eq!(recorded.unreadable, 0);
    assert_eq!(recorded.gaps, 0);
    assert_eq!(recorded.notes.len(), 1);
    let mut restored = Store::default();
    restore(&mut restored, recorded);
    assert_eq!(restored.day(), Some(today));
    assert_eq!(picture(&restored), picture(&live));
    assert!(
        restored.orders.len() > 50,
        "a real day: {} orders",
        restored.orders.len()
    );
    assert_eq!(restored.count(EventKind::Orders).unseen, 0, "restored is not new");
    let health = journal.health().borrow().clone();
    assert!(health.committed > 0 && health.bytes > 0, "{health:?}");
    assert_eq!(health.days, 1);
    assert!(!health.is_failing());
}

#[test]
fn days_stay_apart_and_batch_numbers_go_on_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let batches = simulated_batches(3, 100);
    let (first, second) = batches.split_at(batches.len() / 2);
    let last_seq = {
        let journal = open(&dir, JournalOptions::default());
        let mut last = 0;
        for events in first {
            last = journal
                .record(day("2026-12-01"), 1, Origin::Socket, events.clone(), vec![])
                .unwrap();
        }
        journal.flush(WAIT).unwrap();
        last
    };
    let journal = open(&dir, JournalOptions::default());
    for events in second {
        let seq = journal
            .record(day("2026-12-02"), 2, Origin::Socket, events.clone(), vec![])
            .unwrap();
        assert!(
            seq > last_seq,
            "batch numbers rise across opens: {seq} after {last_seq}"
        );
    }
    journal.flush(WAIT).unwrap();
    let one = load_day(journal.path(), day("2026-12-01")).unwrap();
    let two = load_day(journal.path(), day("2026-12-02")).unwrap();
    assert_eq!(one.events(), first.iter().map(Vec::len).sum::<usize>());
    assert_eq!(two.events(), second.iter().map(Vec::len).sum::<usize>());
    let listed = days(journal.path()).unwrap();
    assert_eq!(
        listed,
        vec![
            (day("2026-12-02"), two.events() as u64),
            (day("2026-12-01"), one.events() as u64)
        ]
    );
}

#[test]
fn the_schema_is_versioned_and_a_newer_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    drop(open(&dir, JournalOptions::default()));
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let refused = Journal::open(&path, JournalOptions::default()).unwrap_err();
    assert!(matches!(refused, JournalError::TooNew { .. }), "{refused}");
    assert!(refused.to_string().contains("newer Orderwatch"), "{refused}");
    assert!(matches!(
        load_day(&path, day("2026-12-01")),
        Err(JournalError::TooNew { .. })
    ));
}

#[test]
fn retention_deletes_whole_old_days() {
    let dir = tempfile::tempdir().unwrap();
    let journal = open(&dir, JournalOptions::default());
    let order = |id: &str| {
        vec![Event::Order(Box::new(Order {
            id: id.into(),
            status: Some(OrderStatus::Pending),
            ..Order::default()
        }))]
    };
    for date in ["2026-11-27", "2026-11-30", "2026-12-01", "2026-12-02"] {
        journal.record(day(date), 1, Origin::Socket, order(date), vec![]);
        journal.record_status(day(date), 1, &FeedStatus::Connected { reconnected: false });
    }
    journal.retain(2);
    journal.flush(WAIT).unwrap();
    let kept: Vec<_> = days(journal.path())
        .unwrap()
        .into_iter()
        .map(|(day, _)| day)
        .collect();
    assert_eq!(kept, vec![day("2026-12-02"), day("2026-12-01")]);
    assert!(
        load_day(journal.path(), day("2026-11-30"))
            .unwrap()
            .batches
            .is_empty()
    );
    assert!(
        load_day(journal.path(), day("2026-11-30"))
            .unwrap()
            .notes
            .is_empty()
    );
    assert_eq!(load_day(journal.path(), day("2026-12-01")).unwrap().events(), 1);
    assert_eq!(journal.health().borrow().days, 2);
}

#[test]
fn a_full_disk_is_reported_and_the_caller_never_waits() {
    let dir = tempfile::tempdir().unwrap();
    let options = JournalOptions {
        // A few pages: the schema fits, a day does not (SQLITE_FULL, as on a full disk).
        max_pages: Some(16),
        max_queued_events: 500,
        retry_every: Duration::from_millis(20),
        ..JournalOptions::default()
    };
    let journal = open(&dir, options);
    let started = Instant::now();
    let mut queued = 0;
    let mut turned_away = 0;
    for events in simulated_batches(5, 3_000) {
        let weight = events.len() as u64;
        match journal.record(day("2026-12-01"), 1, Origin::Socket, events, vec![]) {
            Some(_) => queued += weight,
            None => turned_away += weight,
        }
    }
    assert!(started.elapsed() < Duration::from_secs(2), "record never blocks");
    assert!(
        queued > 0 && turned_away > 0,
        "{queued} queued, {turned_away} turned away"
    );
    let deadline = Instant::now() + WAIT;
    let failing = loop {
        let now = journal.health().borrow().clone();
        if now.error.is_some() || Instant::now() > deadline {
            break now;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let error = failing.error.clone().unwrap_or_default();
    assert!(error.contains("full"), "the error says why: {error:?}");
    assert_eq!(failing.dropped, turned_away);
    let problem = failing.problem().unwrap_or_default();
    assert!(problem.contains(&turned_away.to_string()), "{problem}");
    // A waiter on a batch that cannot be written is released with the error, not left hanging.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let released = runtime.block_on(async { tokio::time::timeout(WAIT, journal.committed(u64::MAX)).await });
    assert!(released.is_ok_and(|health| health.error.is_some()));
}

#[test]
fn a_slow_disk_turns_batches_away_then_records_the_gap() {
    let dir = tempfile::tempdir().unwrap();
    let options = JournalOptions {
        slow_writes: Some(Duration::from_millis(300)),
        max_queued_events: 50,
        ..JournalOptions::default()
    };
    let journal = open(&dir, options);
    let today = trading_day(crate::store::now_ms());
    let mut turned_away = 0;
    let mut queued = 0;
    for events in simulated_batches(9, 400) {
        let weight = events.len();
        match journal.record(today, 1, Origin::Socket, events, vec![]) {
            Some(_) => queued += weight,
            None => turned_away += weight,
        }
    }
    assert!(turned_away > 0, "a slow disk fills the queue");
    assert_eq!(journal.health().borrow().dropped, turned_away as u64);
    // A later batch, once the disk has caught up, carries the gap with it.
    journal.flush(WAIT).unwrap();
    journal.record(
        today,
        2,
        Origin::Socket,
        simulated_batches(10, 1).remove(0),
        vec![],
    );
    journal.flush(WAIT).unwrap();
    let recorded = load_day(journal.path(), today).unwrap();
    assert_eq!(recorded.gaps, turned_away as u64, "the gap says how many");
    assert!(
        recorded.events() >= queued,
        "{} of {queued} queued",
        recorded.events()
    );
}

#[test]
fn damaged_rows_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let journal = open(&dir, JournalOptions::default());
    let today = day("2026-12-01");
    journal.record(
        today,
        1,
        Origin::Socket,
        simulated_batches(2, 5).remove(0),
        vec![],
    );
    journal.flush(WAIT).unwrap();
    let conn = rusqlite::Connection::open(journal.path()).unwrap();
    conn.execute("UPDATE events SET data = '{not json' WHERE id = 1", [])
        .unwrap();
    conn.execute("UPDATE events SET kind = 'mystery' WHERE id = 2", [])
        .unwrap_or(0);
    drop(conn);
    let recorded = load_day(journal.path(), today).unwrap();
    assert_eq!(recorded.unreadable, 1);
    let mut store = Store::default();
    restore(&mut store, recorded);
}

#[test]
fn an_export_of_100k_orders_has_every_row_as_the_view_orders_them() {
    let mut store = Store::default();
    let events: Vec<Event> = (0..100_000)
        .map(|n| {
            Event::Order(Box::new(Order {
                id: format!("26120100{n:06}").into(),
                symbol: Some("NSE:SBIN-EQ".into()),
                qty: Some(n % 50 + 1),
                limit_price: Some(812.35 + n as f64),
                status: Some(OrderStatus::Pending),
                time_epoch_oms: Some(1_764_560_000 + n),
                ..Order::default()
            }))
        })
        .collect();
    store.apply_batch(events, vec![], Origin::Socket);
    let mut csv = Vec::new();
    assert_eq!(
        write_csv(&mut csv, Table::Orders, &store, Rows::All).unwrap(),
        100_000
    );
    let text = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 100_001);
    assert_eq!(lines[0], Table::Orders.headers().join(","));
    // Chronological; money as the number itself.
    assert_eq!(lines[1], ",NSE:SBIN-EQ,,,,1,,,812.35,,,6,,26120100000000");
    assert!(
        lines[100_000].ends_with(",NSE:SBIN-EQ,,,,50,,,100811.35,,,6,,26120100099999"),
        "{}",
        lines[100_000]
    );
    // A view's rows, in its order, are exactly what is written.
    let ids: Vec<Text> = ["26120100000007", "26120100000003"].map(Text::from).into();
    let mut csv = Vec::new();
    assert_eq!(
        write_csv(&mut csv, Table::Orders, &store, Rows::Orders(&ids)).unwrap(),
        2
    );
    let text = String::from_utf8(csv).unwrap();
    let ids_written: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|line| line.rsplit(',').next().unwrap())
        .collect();
    assert_eq!(ids_written, ["26120100000007", "26120100000003"]);
}

#[test]
fn the_trades_export_carries_each_trades_part_of_the_days_charges() {
    let mut store = Store::default();
    for batch in simulated_batches(3, 600) {
        store.apply_batch(batch, vec![], crate::store::Origin::Socket);
    }
    let mut out = Vec::new();
    let rows = write_csv(&mut out, Table::Trades, &store, Rows::All).unwrap();
    assert!(rows > 20, "the day has trades ({rows})");
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let charges = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "charges")
        .expect("a charges column");
    let parts: f64 = reader
        .records()
        .map(|record| {
            record.unwrap()[charges]
                .parse::<f64>()
                .expect("every simulated trade is charged")
        })
        .sum();
    let day = store.aggregates().charges;
    assert!(day > 0.0);
    // Each part is rounded to 1/100 paisa: the sum is the day's within that per row.
    assert!(
        (parts - day).abs() < rows as f64 * 0.000_05 + 1e-6,
        "{parts} vs {day}"
    );
}
