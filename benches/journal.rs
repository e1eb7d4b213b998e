//! The journal's cost: end to end from the simulator over loopback into the store, with and
//! without the journal (with it, a round ends only once every frame is also committed to the
//! SQLite file). Target: with ≥ 80 % of without. And a 100k-row CSV export (target: < 1 s).

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use orderwatch::feed::{self, FeedConfig};
use orderwatch::fyers::model::{Event, EventKind, Order, OrderStatus};
use orderwatch::fyers::wire;
use orderwatch::journal::{self, Journal, JournalOptions, Rows, Table};
use orderwatch::sim::{Day, DayConfig, Sim, SimConfig};
use orderwatch::store::{Origin, Store};
use parking_lot::RwLock;

/// Raw frames of a simulated day.
fn day_frames(steps: u64) -> Vec<String> {
    let mut day = Day::new(DayConfig::default());
    (0..steps)
        .flat_map(|_| day.step(None).iter().map(wire::to_raw_frame).collect::<Vec<_>>())
        .collect()
}

/// The same frames with ids no earlier round used, so every round inserts new orders and trades.
fn fresh(frames: &[String], round: u64) -> Vec<String> {
    let id = format!(r#""id":"r{round}-"#);
    let fill = format!(r#""id_fill":"r{round}-"#);
    frames
        .iter()
        .map(|frame| frame.replace(r#""id":""#, &id).replace(r#""id_fill":""#, &fill))
        .collect()
}

fn end_to_end(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let all = day_frames(40_000);
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("journal");
    group.throughput(Throughput::Elements(all.len() as u64));
    group.sample_size(10);
    for with_journal in [false, true] {
        let config = SimConfig {
            start_paused: true,
            rate: None,
            realtime_clock: false,
            ..SimConfig::default()
        };
        let sim = runtime
            .block_on(Sim::start(config, ([127, 0, 0, 1], 0).into()))
            .unwrap();
        let store = Arc::new(RwLock::new(Store::default()));
        let mut feed_config = FeedConfig::new(&sim.socket_url(), &sim.rest_url(), Some(sim.authorization()));
        let journal = with_journal.then(|| {
            let path = dir.path().join(format!("bench-{}.sqlite3", std::process::id()));
            Journal::open(&path, JournalOptions::default()).unwrap()
        });
        feed_config.journal = journal.clone();
        let feed = runtime.block_on(async { feed::spawn(feed_config, store.clone(), Box::new(|| {}), None) });
        let deadline = Instant::now() + Duration::from_secs(10);
        while store.read().subscriptions.acknowledged.len() < EventKind::ALL.len() {
            assert!(Instant::now() < deadline, "feed did not subscribe");
            std::thread::sleep(Duration::from_millis(10));
        }
        let handle = sim.handle();
        let mut round = if with_journal { 1_000_000 } else { 0 };
        let name = if with_journal {
            "end_to_end/with_journal"
        } else {
            "end_to_end/without_journal"
        };
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    round += 1;
                    let frames = fresh(&all, round);
                    let target = store.read().frames() + frames.len() as u64;
                    let started = Instant::now();
                    handle.replay(frames);
                    // Sleep between looks: a spinning watcher would take one of the two cores.
                    while store.read().frames() < target {
                        std::thread::sleep(Duration::from_micros(500));
                    }
                    let applied_in = started.elapsed();
                    if let Some(journal) = &journal {
                        journal.flush(Duration::from_secs(60)).unwrap();
                    }
                    total += started.elapsed();
                    if std::env::var_os("JOURNAL_BENCH_VERBOSE").is_some() {
                        eprintln!(
                            "round {round}: applied in {applied_in:?}, on disk in {:?}",
                            started.elapsed()
                        );
                    }
                }
                total
            })
        });
        if let Some(journal) = &journal {
            let health = journal.health().borrow().clone();
            eprintln!(
                "journal: {} batches committed, {} events turned away, {} MB on disk",
                health.committed,
                health.dropped,
                health.bytes / 1_000_000
            );
            assert_eq!(health.dropped, 0, "the journal kept up");
        }
        drop(feed);
        drop(sim);
    }
    group.finish();
}

/// The writer alone (no feed, no simulator): batches of a simulated day recorded and committed;
/// and the JSON encoding alone, to tell the two costs apart.
fn writer(c: &mut Criterion) {
    let mut day = Day::new(DayConfig::default());
    let events: Vec<Event> = (0..40_000).flat_map(|_| day.step(None)).collect();
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(&dir.path().join("writer.sqlite3"), JournalOptions::default()).unwrap();
    let today = orderwatch::store::trading_day(orderwatch::store::now_ms());
    let mut group = c.benchmark_group("journal");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.sample_size(10);
    group.bench_function("writer/record_and_commit", |b| {
        b.iter(|| {
            for batch in events.chunks(4096) {
                journal.record(today, 1, Origin::Socket, batch.to_vec(), vec![]);
            }
            journal.flush(Duration::from_secs(60)).unwrap();
        })
    });
    group.bench_function("writer/json_only", |b| {
        let mut buf = Vec::with_capacity(4096);
        b.iter(|| {
            let mut bytes = 0;
            for event in &events {
                buf.clear();
                match event {
                    Event::Order(order) => serde_json::to_writer(&mut buf, &**order).unwrap(),
                    Event::Trade(trade) => serde_json::to_writer(&mut buf, &**trade).unwrap(),
                    Event::Position(position) => serde_json::to_writer(&mut buf, &**position).unwrap(),
                    Event::General(general) => serde_json::to_writer(&mut buf, &general.raw).unwrap(),
                }
                bytes += buf.len();
            }
            bytes
        })
    });
    group.finish();
}

fn export(c: &mut Criterion) {
    let mut store = Store::default();
    let events: Vec<Event> = (0..100_000)
        .map(|n| {
            Event::Order(Box::new(Order {
                id: format!("26120100{n:06}").into(),
                symbol: Some("NSE:SBIN-EQ".into()),
                qty: Some(n % 50 + 1),
                filled_qty: Some(n % 50 + 1),
                limit_price: Some(812.35),
                traded_price: Some(812.3),
                status: Some(OrderStatus::Filled),
                message: Some("TRADE CONFIRMED".into()),
                time_epoch_oms: Some(1_764_560_000 + n),
                ..Order::default()
            }))
        })
        .collect();
    store.apply_batch(events, vec![], Origin::Socket);
    let mut group = c.benchmark_group("journal");
    group.throughput(Throughput::Elements(100_000));
    group.sample_size(10);
    group.bench_function("export/csv_100k_orders", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(16 << 20);
            journal::write_csv(&mut out, Table::Orders, &store, Rows::All).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, end_to_end, writer, export);
criterion_main!(benches);
