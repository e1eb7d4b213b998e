//! Live prices in the window: the Positions tab shows each open position's LTP and its live P&L
//! as the simulator's market-data socket moves them, says where prices come from, and says so
//! when they are not live; Diagnostics shows the market-data connection.

mod common;

use std::time::Duration;

use common::*;
use egui_kittest::Harness;
use orderwatch::sim::{Fault, SimConfig};
use orderwatch::store::{Freshness, now_ms};
use orderwatch::ui::{OrderwatchApp, Tab};

#[test]
fn the_positions_tab_shows_live_prices_and_says_when_they_go_stale() {
    let runtime = runtime();
    let config = SimConfig {
        warmup_steps: 400,
        rate: Some(50.0),
        start_paused: false,
        steps: None,
        ..day(41, 0, None)
    };
    let sim = runtime.block_on(start_sim(config));
    let mut feed = feed_config(&sim);
    feed.market_url = Some(sim.market_url());
    let running = runtime.block_on(async { start_feed(feed) });
    let store = running.store.clone();
    let handle = running.handle.clone();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 800.0))
        .build_eframe(move |_| OrderwatchApp::new(store, handle, "Demo"));
    harness.key_press(egui::Key::Num3);
    harness.step();
    assert_eq!(harness.state().tab(), Tab::Positions);
    step_until(&mut harness, "live prices", |h| has_text(h, "Prices live, "));
    assert!(has(&harness, "LTP"));
    // Hold the day still; then the first open position's LTP on screen is the store's live mark,
    // the simulator's own price.
    sim.handle().pause();
    std::thread::sleep(Duration::from_millis(800));
    let (shown, truth) = {
        let store = running.store.read();
        let now = now_ms();
        let mut open: Vec<_> = store
            .positions()
            .filter(|entry| entry.position.net_qty.unwrap_or(0) != 0)
            .collect();
        open.sort_by(|a, b| a.position.symbol.cmp(&b.position.symbol));
        let first = open.first().expect("an open position");
        let pnl = store.live_pnl(first, now);
        assert_eq!(pnl.freshness, Freshness::Live);
        let symbol = first.position.symbol.clone().unwrap_or_default();
        (pnl.ltp, sim.handle().ltp(&symbol))
    };
    assert_eq!(shown, truth, "the mark is the simulator's price");
    let price = orderwatch::format::price(shown.expect("a live position"));
    step_until(&mut harness, "its price", |h| has_text(h, &price));
    // The token dies: prices are no longer live, and the tab says so.
    sim.handle().inject(Fault::ExpireToken);
    step_until(&mut harness, "not live", |h| has_text(h, "Prices not live"));
    harness.key_press(egui::Key::Num5);
    harness.step();
    assert!(has(&harness, "Market data"));
    assert!(has_text(&harness, "resync rows checked"));
    std::thread::sleep(Duration::from_millis(10));
    drop(harness);
    drop(running);
    drop(runtime);
}
