//! Ingest throughput: parse only; parse + apply to the store as the feed does it (each batch
//! parsed outside the lock, applied under one write lock); end to end from the simulator over
//! loopback into the store; and `orderwatch headless` writing its JSON lines. Targets on a 2-core
//! machine: parse + apply ≥ 500,000 order frames/s, end to end ≥ 250,000 frames/s, headless
//! ≥ 127,000 frames/s (ten times the official Python SDK's 12.7k on the same frames).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use orderwatch::feed::{self, FeedConfig, Parsed, SharedStore};
use orderwatch::fyers::model::{Event, EventKind, Order, Trade};
use orderwatch::fyers::rest::{RestClient, Rows, rows_from_bytes};
use orderwatch::fyers::wire::{self, Frame};
use orderwatch::headless::{self, HeadlessOptions};
use orderwatch::sim::{Day, DayConfig, Sim, SimConfig};
use orderwatch::store::{Origin, Store};
use parking_lot::RwLock;
use tokio_tungstenite::tungstenite::Message;

const BATCH: usize = 4096;

/// Raw frames of a simulated day: (all frames, order frames only).
fn day_frames(steps: u64) -> (Vec<String>, Vec<String>) {
    let mut day = Day::new(DayConfig::default());
    let mut all = Vec::new();
    for _ in 0..steps {
        all.extend(day.step(None).iter().map(wire::to_raw_frame));
    }
    let orders = all
        .iter()
        .filter(|frame| frame.contains(r#""orders":"#))
        .cloned()
        .collect();
    (all, orders)
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

/// As the socket delivers them: text messages in batches of at most `BATCH`.
fn messages(frames: &[String]) -> Vec<Vec<Message>> {
    frames
        .chunks(BATCH)
        .map(|chunk| chunk.iter().map(|frame| Message::text(frame.as_str())).collect())
        .collect()
}

/// One core only.
fn parse_serial(frames: &[String]) -> Vec<Event> {
    frames
        .iter()
        .filter_map(|frame| match wire::parse_text(frame) {
            Ok(Frame::Event(event)) => Some(event),
            _ => None,
        })
        .collect()
}

/// The feed's way: each batch parsed outside the lock, then applied under one write lock.
fn parse_and_apply(store: SharedStore, batches: Vec<Vec<Message>>) {
    for batch in batches {
        let parsed = feed::parse_messages(&batch);
        drop(batch);
        let mut store = store.write();
        black_box(store.apply_batch(parsed.events, parsed.bad, Origin::Socket));
    }
}

fn offline(c: &mut Criterion) {
    let (all, orders) = day_frames(60_000);
    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(orders.len() as u64));
    group.bench_function("parse/order_frames/one_core", |b| {
        b.iter(|| black_box(parse_serial(&orders)))
    });
    let mut round = 0;
    let mut fresh_store = |frames: &[String]| {
        round += 1;
        (
            Arc::new(RwLock::new(Store::default())),
            messages(&fresh(frames, round)),
        )
    };
    group.bench_function("apply_only/order_frames", |b| {
        b.iter_batched(
            || {
                let (store, batches) = fresh_store(&orders);
                let parsed: Vec<Parsed> = batches.iter().map(|batch| feed::parse_messages(batch)).collect();
                (store, parsed)
            },
            |(store, batches)| {
                for parsed in batches {
                    black_box(
                        store
                            .write()
                            .apply_batch(parsed.events, parsed.bad, Origin::Socket),
                    );
                }
                store
            },
            BatchSize::PerIteration,
        )
    });
    let shapes: [(&str, &[String]); 2] = [
        ("parse_apply/order_frames", &orders),
        ("parse_apply/mixed_frames", &all),
    ];
    for (name, frames) in shapes {
        group.throughput(Throughput::Elements(frames.len() as u64));
        group.bench_function(name, |b| {
            b.iter_batched(
                || fresh_store(frames),
                |(store, batches)| {
                    parse_and_apply(store.clone(), batches);
                    store
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

fn end_to_end(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (all, _) = day_frames(40_000);
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
    let feed_config = FeedConfig::new(&sim.socket_url(), &sim.rest_url(), Some(sim.authorization()));
    let _feed = runtime.block_on(async { feed::spawn(feed_config, store.clone(), Box::new(|| {}), None) });
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.read().subscriptions.acknowledged.len() < EventKind::ALL.len() {
        assert!(Instant::now() < deadline, "feed did not subscribe");
        std::thread::sleep(Duration::from_millis(10));
    }
    let handle = sim.handle();
    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(all.len() as u64));
    group.sample_size(10);
    let mut round = 0;
    group.bench_function("end_to_end/simulator_loopback_store", |b| {
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
                total += started.elapsed();
            }
            total
        })
    });
    group.finish();
    let store = store.read();
    eprintln!(
        "end to end: {} frames in {} batches",
        store.frames(),
        store.version()
    );
    drop(sim);
}

/// `orderwatch headless` as a script runs it: simulator → loopback → feed → JSON lines (into a sink).
fn headless_lines(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (all, _) = day_frames(20_000);
    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(all.len() as u64));
    group.sample_size(10);
    let mut round = 0;
    group.bench_function("headless/json_lines", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                round += 1;
                let frames = fresh(&all, round);
                total += runtime.block_on(headless_round(frames));
            }
            total
        })
    });
    group.finish();
}

/// How many data lines headless writes for `frames`: one per event that changed the store.
fn lines_written(frames: &[String]) -> u64 {
    let mut store = Store::default();
    messages(frames)
        .iter()
        .map(|batch| {
            let parsed = feed::parse_messages(batch);
            store
                .apply_batch(parsed.events, parsed.bad, Origin::Socket)
                .changed() as u64
        })
        .sum()
}

/// One headless run over `frames`, timed from the first frame sent to the last line written.
async fn headless_round(frames: Vec<String>) -> Duration {
    let config = SimConfig {
        start_paused: true,
        rate: None,
        realtime_clock: false,
        ..SimConfig::default()
    };
    let sim = Sim::start(config, ([127, 0, 0, 1], 0).into()).await.unwrap();
    let feed_config = FeedConfig::new(&sim.socket_url(), &sim.rest_url(), Some(sim.authorization()));
    let options = HeadlessOptions {
        exit_after: Some(lines_written(&frames)),
        idle_exit: Some(Duration::from_secs(20)),
        ..HeadlessOptions::default()
    };
    let handle = sim.handle();
    let stats = handle.stats();
    let feeding = async {
        while stats.subscribe_messages.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // The first resync (of an empty day) goes first, so the run times only the frames.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        handle.replay(frames);
        started
    };
    let out = Box::new(std::io::sink());
    let (started, (summary, result)) = tokio::join!(feeding, headless::run(feed_config, options, out));
    assert!(result.is_ok(), "{result:?} {:?}", summary.to_json());
    started.elapsed()
}

/// Steps of a simulated day with over 100,000 orders and some 80,000 trades.
const BIG_DAY_STEPS: u64 = 360_000;

/// A REST resync of a big day as the feed merges it: the order book's and the trade book's
/// answers read into typed rows and merged into a store. Target ≤ 1.5 s (`over_http` includes the
/// simulator writing some 100 MB of JSON; `decode_apply` is the client's part alone).
fn big_resync(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = SimConfig {
        start_paused: false,
        rate: None,
        steps: Some(BIG_DAY_STEPS),
        realtime_clock: false,
        ..SimConfig::default()
    };
    let sim = runtime
        .block_on(Sim::start(config, ([127, 0, 0, 1], 0).into()))
        .unwrap();
    runtime.block_on(sim.handle().finished());
    let book = sim.handle().book();
    eprintln!(
        "big day: {} orders, {} trades",
        book.orders.len(),
        book.trades.len()
    );
    let rows = (book.orders.len() + book.trades.len()) as u64;
    let rest = RestClient::new(&sim.rest_url(), sim.authorization()).unwrap();
    let answer = |path: &str| {
        let url = format!("{}{path}", sim.rest_url());
        let auth = sim.authorization();
        runtime.block_on(async move {
            let response = reqwest::Client::new()
                .get(url)
                .header("authorization", auth.expose())
                .send()
                .await
                .unwrap();
            response.bytes().await.unwrap().to_vec()
        })
    };
    let (orders, trades) = (answer("/orders"), answer("/tradebook"));
    eprintln!("answers: {} + {} bytes", orders.len(), trades.len());
    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(rows));
    group.sample_size(10);
    let merge = |orders: Rows<Box<Order>>, trades: Rows<Box<Trade>>| {
        let mut store = Store::default();
        let events = orders
            .rows
            .into_iter()
            .map(Event::Order)
            .chain(trades.rows.into_iter().map(Event::Trade))
            .collect();
        black_box(store.apply_snapshot(events, vec![], 0));
        store
    };
    group.bench_function("resync/big_day/decode_apply", |b| {
        b.iter_batched(
            || (orders.clone(), trades.clone()),
            |(orders, trades)| {
                let orders = rows_from_bytes::<Box<Order>>(orders, "/orders", "orderBook").unwrap();
                let trades = rows_from_bytes::<Box<Trade>>(trades, "/tradebook", "tradeBook").unwrap();
                merge(orders, trades)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("resync/big_day/over_http", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let orders = rest.orders().await.unwrap();
                let trades = rest.trades().await.unwrap();
                merge(orders, trades)
            })
        })
    });
    group.finish();
}

criterion_group!(benches, offline, end_to_end, headless_lines, big_resync);
criterion_main!(benches);
