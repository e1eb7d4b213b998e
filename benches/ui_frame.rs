//! One UI frame (egui pass + tessellation at 1280×800, no GPU) with 100,000 orders, 50,000 trades
//! and 500 positions in the store, Orders tab visible: idle, and while a writer applies 10,000
//! order frames a second. Targets: median ≤ 2 ms idle, ≤ 4 ms while streaming.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[path = "support/window.rs"]
mod window;

use criterion::{Criterion, criterion_group, criterion_main};
use orderwatch::feed::{self, FeedConfig};
use orderwatch::fyers::model::{Event, Order, Position, Trade};
use orderwatch::sim::{Day, DayConfig};
use orderwatch::store::{Origin, Store};
use orderwatch::ui::OrderwatchApp;
use parking_lot::RwLock;
use window::Window;

/// Realistic rows from a simulated day, copied out to the sizes the target names.
fn big_store() -> (Store, Vec<Order>) {
    let mut day = Day::new(DayConfig::default());
    for _ in 0..4_000 {
        day.step(None);
    }
    let book = day.book();
    let orders: Vec<Order> = book.orders.values().cloned().collect();
    let trades: Vec<Trade> = book.trades.values().cloned().collect();
    let positions: Vec<Position> = book.positions.values().cloned().collect();
    let mut store = Store::default();
    let mut events: Vec<Event> = Vec::with_capacity(150_500);
    for n in 0..100_000 {
        let mut order = orders[n % orders.len()].clone();
        order.id = format!("26{n:012}").into();
        events.push(Event::Order(Box::new(order)));
    }
    for n in 0..50_000 {
        let mut trade = trades[n % trades.len()].clone();
        trade.trade_number = format!("T{n:09}").into();
        events.push(Event::Trade(Box::new(trade)));
    }
    for n in 0..500 {
        let mut position = positions[n % positions.len()].clone();
        position.id = format!("{}-{n}", position.id).into();
        events.push(Event::Position(Box::new(position)));
    }
    for chunk in events.chunks(4096) {
        store.apply_batch(chunk.to_vec(), Vec::new(), Origin::Socket);
    }
    (store, orders)
}

fn ui_frame(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (store, templates) = big_store();
    let store = Arc::new(RwLock::new(store));
    // A feed that never connects: the window only needs its command channel here.
    let mut config = FeedConfig::new("ws://127.0.0.1:9/trade/v3", "http://127.0.0.1:9/api/v3", None);
    config.autostart = false;
    let (handle, _task) =
        runtime.block_on(async { feed::spawn(config, store.clone(), Box::new(|| {}), None) });
    let mut window = Window::new(OrderwatchApp::new(store.clone(), handle, "Demo"));
    for _ in 0..3 {
        window.frame();
    }
    let mut group = c.benchmark_group("ui");
    group.bench_function("frame/orders_tab/100k_orders_idle", |b| b.iter(|| window.frame()));

    // The writer: 100 order updates every 10 ms, as the feed would apply them.
    let streaming = Arc::new(AtomicBool::new(true));
    let writer = {
        let (store, streaming) = (store.clone(), streaming.clone());
        std::thread::spawn(move || {
            let mut n = 0usize;
            while streaming.load(Ordering::Relaxed) {
                let batch: Vec<Event> = (0..100)
                    .map(|_| {
                        n += 1;
                        let mut order = templates[n % templates.len()].clone();
                        order.id = format!("26{:012}", n % 100_000).into();
                        order.update_time_epoch_oms = Some(2_000_000_000 + n as i64);
                        Event::Order(Box::new(order))
                    })
                    .collect();
                store.write().apply_batch(batch, Vec::new(), Origin::Socket);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    group.bench_function("frame/orders_tab/100k_orders_streaming_10k_per_s", |b| {
        b.iter(|| window.frame())
    });
    streaming.store(false, Ordering::Relaxed);
    let _ = writer.join();
    group.finish();
}

criterion_group!(benches, ui_frame);
criterion_main!(benches);
