//! Live prices' cost. Ticks: lite-mode data frames (50 `L` entries each, over 500 topics) parsed,
//! run through the topic map, and applied to a store holding 500 open positions, as the
//! mark-to-market runner does (target: ≥ 1,000,000 ticks/s). Frame: one UI frame of the
//! Positions tab (egui pass + tessellation at 1280×800, no GPU) with those 500 open positions
//! while a writer applies 500 ticks every 100 ms (target: ≤ 2 ms).

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[path = "support/window.rs"]
mod window;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use orderwatch::feed::{self, FeedConfig};
use orderwatch::fyers::market::hsm::{self, Entry, NO_VALUE, ServerFrame};
use orderwatch::fyers::market::{Applied, Decoder};
use orderwatch::fyers::model::{Event, Position};
use orderwatch::store::{Origin, Store, now_ms};
use orderwatch::ui::{OrderwatchApp, Tab};
use parking_lot::RwLock;
use window::Window;

const POSITIONS: usize = 500;
const TICKS_PER_FRAME: usize = 50;

fn symbol(n: usize) -> String {
    format!("NSE:SYM{n:03}-EQ")
}

fn topic(n: usize) -> String {
    format!("sf|nse_cm|{}", 10_000 + n)
}

/// 500 open positions, one per symbol, and a store that holds them.
fn store() -> Store {
    let mut store = Store::default();
    let events = (0..POSITIONS)
        .map(|n| {
            Event::Position(Box::new(Position {
                id: format!("{}-INTRADAY", symbol(n)).into(),
                symbol: Some(symbol(n).into()),
                fy_token: Some(format!("1010000000{}", 10_000 + n).into()),
                net_qty: Some(if n % 2 == 0 { 10 } else { -10 }),
                net_avg: Some(1000.0 + n as f64),
                buy_qty: Some(10),
                buy_avg: Some(1000.0 + n as f64),
                realized_profit: Some(0.0),
                unrealized_profit: Some(0.0),
                pl: Some(0.0),
                ltp: Some(1000.0 + n as f64),
                ..Position::default()
            }))
        })
        .collect();
    store.apply_batch(events, Vec::new(), Origin::Socket);
    store.set_market_status(true, "live, 500 symbols");
    store
}

/// A decoder that knows the 500 topics (their snapshots applied).
fn decoder() -> Decoder {
    let mut decoder = Decoder::new(true);
    for n in 0..POSITIONS {
        decoder.subscribe(&topic(n), &symbol(n));
        let mut values = vec![NO_VALUE; hsm::SCRIP_FIELDS.len()];
        values[0] = 100_000 + n as i32 * 100;
        decoder.apply(&Entry::Snapshot {
            topic_id: (n as u16 + 1).to_be_bytes(),
            topic: topic(n),
            values,
            multiplier: 1,
            precision: 2,
            exchange: "NSE".into(),
            token: (10_000 + n).to_string(),
            symbol: symbol(n),
        });
    }
    decoder
}

/// `count` data frames of `L` entries walking the 500 prices.
fn frames(count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|f| {
            let entries: Vec<Entry> = (0..TICKS_PER_FRAME)
                .map(|i| {
                    let n = (f * TICKS_PER_FRAME + i) % POSITIONS;
                    Entry::Ltp {
                        topic_id: (n as u16 + 1).to_be_bytes(),
                        ltp: 100_000 + n as i32 * 100 + (f % 40) as i32 - 20,
                    }
                })
                .collect();
            hsm::data(f as u32 + 1, &entries)
        })
        .collect()
}

/// What the runner does with one frame: parse, map, apply.
fn ingest(decoder: &mut Decoder, store: &mut Store, frame: &[u8], prices: &mut Vec<(String, f64)>) {
    let Ok(ServerFrame::Data { entries, .. }) = hsm::parse(frame) else {
        return;
    };
    prices.clear();
    for entry in &entries {
        if let Applied::Changed { topic_id, ltp: true } = decoder.apply(entry)
            && let Some(topic) = decoder.topic(topic_id)
            && let Some(ltp) = topic.ltp()
        {
            prices.push((topic.symbol.clone(), ltp));
        }
    }
    store.apply_prices(
        prices.iter().map(|(symbol, ltp)| (symbol.as_str(), *ltp)),
        now_ms(),
    );
}

fn ticks(c: &mut Criterion) {
    let frames = frames(2_000);
    let mut group = c.benchmark_group("market");
    group.throughput(Throughput::Elements((frames.len() * TICKS_PER_FRAME) as u64));
    group.sample_size(20);
    group.bench_function("ticks/parse_map_apply_500_positions", |b| {
        let mut decoder = decoder();
        let mut store = store();
        let mut prices = Vec::with_capacity(TICKS_PER_FRAME);
        b.iter(|| {
            for frame in &frames {
                ingest(&mut decoder, &mut store, frame, &mut prices);
            }
        })
    });
    group.bench_function("ticks/parse_only", |b| {
        b.iter(|| {
            for frame in &frames {
                black_box(hsm::parse(frame).ok());
            }
        })
    });
    group.finish();
}

fn positions_frame(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let store = Arc::new(RwLock::new(store()));
    let mut config = FeedConfig::new("ws://127.0.0.1:9/trade/v3", "http://127.0.0.1:9/api/v3", None);
    config.autostart = false;
    let (handle, _task) =
        runtime.block_on(async { feed::spawn(config, store.clone(), Box::new(|| {}), None) });
    let mut window = Window::new(OrderwatchApp::new(store.clone(), handle, "Demo"));
    window.app.set_tab(Tab::Positions);
    for _ in 0..3 {
        window.frame();
    }
    let streaming = Arc::new(AtomicBool::new(true));
    let writer = {
        let (store, streaming) = (store.clone(), streaming.clone());
        std::thread::spawn(move || {
            let mut decoder = decoder();
            let frames = frames(400);
            let mut prices = Vec::new();
            let mut n = 0;
            while streaming.load(Ordering::Relaxed) {
                // 500 ticks (10 frames) every 100 ms.
                for _ in 0..10 {
                    n += 1;
                    ingest(
                        &mut decoder,
                        &mut store.write(),
                        &frames[n % frames.len()],
                        &mut prices,
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let mut group = c.benchmark_group("ui");
    group.bench_function("frame/positions_tab/500_open_positions_ticking", |b| {
        b.iter(|| window.frame())
    });
    streaming.store(false, Ordering::Relaxed);
    let _ = writer.join();
    group.finish();
}

criterion_group!(benches, ticks, positions_frame);
criterion_main!(benches);
