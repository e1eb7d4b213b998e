//! Ingest throughput: parse only; parse + apply to the store; end to end from the simulator over
//! loopback into the store. Targets on a 2-core machine: parse + apply ≥ 1,000,000 order frames/s,
//! end to end ≥ 300,000 frames/s.
//!
//! `parse_apply/*` runs the feed's two stages as the feed runs them: batches go to the ingest
//! (`feed::Inlet::submit`), with as many in flight as the feed allows; the parsing pool (a thread
//! per core) parses them and applies each in its turn under the store's lock, while the session's
//! stand-in takes the replies in order. `parse_apply/*/in_turn` does the same work on one thread,
//! for comparison.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use orderwatch::feed::{self, FeedConfig, Ingest, Parsed, SharedStore};
use orderwatch::fyers::model::{Event, EventKind};
use orderwatch::fyers::wire::{self, Frame};
use orderwatch::sim::{Day, DayConfig, Sim, SimConfig};
use orderwatch::store::{Origin, Store};
use parking_lot::RwLock;
use rayon::prelude::*;
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

/// Parses and applies batches of messages into a store, one way or another.
type Run = fn(SharedStore, Vec<Vec<Message>>);

/// The feed's pipeline: a reader submits each batch to the ingest, with as many batches in flight
/// as the feed allows; the parsing pool parses them and applies each in its turn under the
/// store's lock; the session takes the replies in order.
fn parse_and_apply(store: SharedStore, batches: Vec<Vec<Message>>) {
    let ingest = Ingest::new(store);
    let inlet = ingest.inlet(false);
    // A pool thread lets go of the ingest (and the store) just after its last reply: wait for
    // that, so the store is not freed there while the next round is measured.
    let released = Arc::downgrade(&ingest);
    drop(ingest);
    let (queue, replies) = std::sync::mpsc::sync_channel(feed::READS_AHEAD);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for batch in batches {
                if queue.send(inlet.submit(batch, None)).is_err() {
                    return;
                }
            }
        });
        for reply in replies {
            let Ok(applied) = reply.blocking_recv() else {
                break;
            };
            black_box(applied);
        }
    });
    while released.strong_count() > 0 {
        std::thread::yield_now();
    }
}

/// The same two stages taking turns on one thread.
fn parse_then_apply(store: SharedStore, batches: Vec<Vec<Message>>) {
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
    let batches = messages(&orders);
    // As the feed's pool parses: a batch per thread, every core busy.
    group.bench_function("parse/order_frames", |b| {
        b.iter(|| {
            batches
                .par_iter()
                .for_each(|batch| drop(black_box(feed::parse_messages(batch))))
        })
    });
    drop(batches);
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
    let shapes: [(&str, &[String], Run); 3] = [
        ("parse_apply/order_frames", &orders, parse_and_apply),
        ("parse_apply/order_frames/in_turn", &orders, parse_then_apply),
        ("parse_apply/mixed_frames", &all, parse_and_apply),
    ];
    for (name, frames, run) in shapes {
        group.throughput(Throughput::Elements(frames.len() as u64));
        group.bench_function(name, |b| {
            b.iter_batched(
                || fresh_store(frames),
                |(store, batches)| {
                    run(store.clone(), batches);
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

criterion_group!(benches, offline, end_to_end);
criterion_main!(benches);
