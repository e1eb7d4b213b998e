//! The real window (`OrderwatchApp`) driven by label, as a user would, on a store the feed fills
//! from the simulator over loopback.

mod common;

use std::time::{Duration, Instant};

use common::*;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use orderwatch::feed::FeedFault;
use orderwatch::fyers::auth::Authorization;
use orderwatch::fyers::model::{EventKind, OrderStatus};
use orderwatch::sim::{Sim, SimConfig};
use orderwatch::ui::session::ShellRequest;
use orderwatch::ui::{OrderwatchApp, Tab};

struct World {
    runtime: tokio::runtime::Runtime,
    sim: Sim,
    running: Running,
}

/// A simulator already an hour into its day, and a feed that waits for "Start stream".
fn world(rate: f64, autostart: bool) -> World {
    let runtime = runtime();
    let config = SimConfig {
        warmup_steps: 400,
        rate: Some(rate),
        start_paused: false,
        steps: None,
        ..day(31, 0, None)
    };
    let sim = runtime.block_on(start_sim(config));
    let mut feed = feed_config(&sim);
    feed.autostart = autostart;
    let running = runtime.block_on(async { start_feed(feed) });
    World {
        runtime,
        sim,
        running,
    }
}

fn harness(world: &World) -> Harness<'static, OrderwatchApp> {
    let store = world.running.store.clone();
    let feed = world.running.handle.clone();
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |_| OrderwatchApp::new(store, feed, "Demo"))
}

/// The text of every widget whose label contains `part`.
fn texts_containing(harness: &Harness<'_, OrderwatchApp>, part: &str) -> Vec<String> {
    harness
        .query_all_by_label_contains(part)
        .filter_map(|node| {
            let node = node.accesskit_node();
            node.label().or_else(|| node.value())
        })
        .collect()
}

fn order_rows(harness: &Harness<'_, OrderwatchApp>) -> usize {
    harness.query_all_by_label_contains("NSE:").count()
}

#[test]
fn starting_the_stream_fills_the_table() {
    let world = world(20.0, false);
    let mut harness = harness(&world);
    harness.step();
    assert!(has(&harness, "Disconnected"));
    assert_eq!(order_rows(&harness), 0);
    harness.get_by_label("Start stream").click();
    step_until(&mut harness, "rows", |h| order_rows(h) > 5);
    step_until(&mut harness, "connected", |h| has(h, "• Connected"));
    let lasts = texts_containing(&harness, "Last message");
    assert!(lasts.iter().all(|last| last.ends_with(" ago")), "{lasts:?}");
    // Stopped, the window no longer ticks: a count of seconds would freeze, a time of day does not.
    harness.get_by_label("Stop stream").click();
    step_until(&mut harness, "disconnected", |h| has(h, "Disconnected"));
    let last = world
        .running
        .store
        .read()
        .last_message_ms()
        .expect("messages came");
    let at = format!(
        "Last message at {}",
        orderwatch::format::clock(last.div_euclid(1000))
    );
    assert_eq!(texts_containing(&harness, "Last message"), vec![at]);
    drop(world.runtime);
}

#[test]
fn unticking_on_trades_stops_new_trades() {
    let world = world(40.0, true);
    let mut harness = harness(&world);
    let store = world.running.store.clone();
    step_until(&mut harness, "trades", |_| store.read().trades().len() > 3);
    harness.get_by_label("OnTrades").click();
    step_until(&mut harness, "trades unsubscribed", |_| {
        let store = store.read();
        !store.subscriptions.wanted.contains(&EventKind::Trades)
            && !store.subscriptions.acknowledged.contains(&EventKind::Trades)
    });
    std::thread::sleep(Duration::from_millis(300));
    let (trades, truth) = (
        store.read().trades().len(),
        world.sim.handle().book().trades.len(),
    );
    let later = Instant::now() + Duration::from_millis(1_500);
    while Instant::now() < later {
        harness.step();
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        world.sim.handle().book().trades.len() > truth,
        "the exchange kept trading"
    );
    assert_eq!(
        store.read().trades().len(),
        trades,
        "no new trades after unticking OnTrades"
    );
    assert!(
        store
            .read()
            .subscriptions
            .acknowledged
            .contains(&EventKind::Orders)
    );
}

#[test]
fn viewing_a_tab_clears_its_new_count() {
    let world = world(40.0, true);
    let mut harness = harness(&world);
    let store = world.running.store.clone();
    step_until(&mut harness, "unseen trades", |_| {
        store.read().count(EventKind::Trades).unseen > 0
    });
    world.sim.handle().pause();
    std::thread::sleep(Duration::from_millis(200));
    harness.step();
    let unseen = store.read().count(EventKind::Trades).unseen;
    assert!(
        has(&harness, &format!("+{unseen}")),
        "the Trades tab shows +{unseen}"
    );
    harness.get_by_role_and_label(Role::Button, "Trades").click();
    step_until(&mut harness, "trades seen", |h| {
        h.state().tab() == Tab::Trades && store.read().count(EventKind::Trades).unseen == 0
    });
    assert!(!has(&harness, &format!("+{unseen}")));
    // Orders keep their count while the user looks elsewhere.
    assert!(store.read().count(EventKind::Orders).total > 0);
}

#[test]
fn search_narrows_the_orders_table() {
    let world = world(40.0, true);
    let mut harness = harness(&world);
    let store = world.running.store.clone();
    step_until(&mut harness, "orders", |h| {
        store.read().orders.len() > 100 && order_rows(h) > 10
    });
    world.sim.handle().pause();
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..3 {
        harness.step();
    }
    let total = store.read().orders.len();
    let reliance = store
        .read()
        .orders
        .entries()
        .filter(|e| e.order.symbol.as_deref() == Some("NSE:RELIANCE-EQ"))
        .count();
    assert!(reliance > 0 && reliance < total);
    let search = harness.get_by_role(Role::TextInput);
    search.click();
    search.type_text("reliance");
    std::thread::sleep(Duration::from_millis(300));
    step_until(&mut harness, "filtered", |h| {
        has(h, &format!("{reliance} of {total} orders"))
    });
    let symbols = texts_containing(&harness, "NSE:");
    assert!(!symbols.is_empty());
    assert!(
        symbols.iter().all(|symbol| symbol.contains("RELIANCE")),
        "{symbols:?}"
    );
    // Esc clears the search.
    harness.key_press(egui::Key::Escape);
    step_until(&mut harness, "cleared", |h| {
        has(h, &format!("{total} of {total} orders"))
    });
}

#[test]
fn selecting_an_order_shows_its_history_and_a_rejection_its_reason() {
    let world = world(40.0, true);
    let mut harness = harness(&world);
    let store = world.running.store.clone();
    step_until(&mut harness, "a rejected order", |_| {
        store
            .read()
            .orders
            .entries()
            .any(|e| e.order.status() == OrderStatus::Rejected)
    });
    world.sim.handle().pause();
    std::thread::sleep(Duration::from_millis(300));
    let (id, message, updates) = {
        let store = store.read();
        let entry = store
            .orders
            .entries()
            .find(|e| e.order.status() == OrderStatus::Rejected)
            .unwrap();
        (
            entry.order.id.to_string(),
            entry.order.message.clone().unwrap_or_default().to_string(),
            entry.updates,
        )
    };
    assert!(!message.is_empty());
    let search = harness.get_by_role(Role::TextInput);
    search.click();
    search.type_text(&id);
    step_until(&mut harness, "the order's row", |h| {
        texts_containing(h, " orders")
            .iter()
            .any(|t| t.starts_with("1 of "))
    });
    assert!(has(&harness, "Rejected"), "the status badge");
    // The message cell may land a frame after the count (the table lays out rows lazily).
    step_until(&mut harness, "the OMS message in the table", |h| {
        h.query_all_by_label(&message).count() >= 1
    });
    // A synthetic click is one frame's press and release; when the suite runs in parallel on two
    // cores a frame can be laid out differently from the one the click was aimed at, so a user's
    // second click is allowed.
    for _ in 0..3 {
        if harness.state().selected_order() == Some(id.as_str()) {
            break;
        }
        harness.get_all_by_label(&message).next().unwrap().click();
        for _ in 0..3 {
            harness.step();
        }
    }
    assert_eq!(harness.state().selected_order(), Some(id.as_str()));
    step_until(&mut harness, "the detail panel", |h| {
        h.query_by_label_contains("History (").is_some()
    });
    assert!(has(&harness, &format!("History ({updates} updates)")));
    assert!(
        harness.query_all_by_label(&message).count() >= 2,
        "the reason again in the detail panel"
    );
    harness.key_press(egui::Key::Escape);
    harness.key_press(egui::Key::Escape);
    step_until(&mut harness, "detail closed", |h| {
        h.query_by_label_contains("History (").is_none()
    });
}

#[test]
fn number_keys_switch_tabs() {
    let world = world(10.0, true);
    let mut harness = harness(&world);
    harness.step();
    for (key, tab) in [
        (egui::Key::Num2, Tab::Trades),
        (egui::Key::Num3, Tab::Positions),
        (egui::Key::Num5, Tab::Diagnostics),
        (egui::Key::Num1, Tab::Orders),
    ] {
        harness.key_press(key);
        harness.step();
        assert_eq!(harness.state().tab(), tab);
    }
    harness.key_press(egui::Key::Num3);
    step_until(&mut harness, "positions tab", |h| has(h, "Total P&L today"));
    // After clicking a button the keys still switch tabs…
    harness.get_by_label("Resync").click();
    harness.step();
    harness.key_press(egui::Key::Num2);
    harness.step();
    assert_eq!(harness.state().tab(), Tab::Trades);
    // …but typing a digit in the search box is typing.
    let search = harness.get_by_role(Role::TextInput);
    search.click();
    harness.step();
    harness.get_by_role(Role::TextInput).type_text("1");
    harness.key_press(egui::Key::Num1);
    harness.step();
    harness.step();
    assert_eq!(
        harness.state().tab(),
        Tab::Trades,
        "digits typed into the search stay there"
    );
}

#[test]
fn a_refused_token_shows_session_expired_and_log_in_again() {
    let runtime = runtime();
    let sim = runtime.block_on(start_sim(day(32, 10, None)));
    let mut config = feed_config(&sim);
    config.auth = Some(Authorization::parse("SIMAPP1234-100:tok-UNSEEN-VALUE").unwrap());
    let running = runtime.block_on(async { start_feed(config) });
    let (store, feed) = (running.store.clone(), running.handle.clone());
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |_| OrderwatchApp::new(store, feed, "Demo"));
    step_until(&mut harness, "the rejection", |h| {
        h.query_by_label_contains("Streaming has stopped").is_some()
    });
    assert!(has(&harness, "Session expired"));
    assert!(
        !has(&harness, "Renew with PIN"),
        "no refresh token behind this stream"
    );
    assert!(
        harness.query_by_label_contains("UNSEEN").is_none(),
        "the token never reaches the screen"
    );
    assert!(harness.state_mut().take_requests().is_empty());
    harness.get_by_label("Log in again").click();
    harness.step();
    harness.step();
    assert_eq!(harness.state_mut().take_requests(), [ShellRequest::LogInAgain]);
}

#[test]
fn the_window_works_at_800_by_600() {
    let world = world(20.0, true);
    let store = world.running.store.clone();
    let feed = world.running.handle.clone();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(800.0, 600.0))
        .build_eframe(move |_| OrderwatchApp::new(store, feed, "Demo"));
    step_until(&mut harness, "rows", |h| order_rows(h) > 3);
    for label in [
        "Orders",
        "Trades",
        "Positions",
        "General",
        "Diagnostics",
        "P&L",
        "Order updates",
        "Stop stream",
    ] {
        assert!(
            harness.query_all_by_label(label).count() > 0,
            "{label} is on screen at 800×600"
        );
    }
}

#[test]
fn rest_trouble_and_bad_frames_show_banners() {
    let world = world(20.0, true);
    world.sim.handle().inject(orderwatch::sim::Fault::RestDown(true));
    world.sim.handle().inject(orderwatch::sim::Fault::DropConnections);
    let mut harness = harness(&world);
    step_until(&mut harness, "the resync banner", |h| {
        h.query_by_label_contains("REST resync is failing").is_some()
    });
    world.sim.handle().inject(orderwatch::sim::Fault::Malformed(4));
    step_until(&mut harness, "the bad-frames banner", |h| {
        h.query_by_label_contains("could not be read").is_some()
    });
    world.sim.handle().inject(orderwatch::sim::Fault::RestDown(false));
    step_until(&mut harness, "the resync recovering", |h| {
        h.query_by_label_contains("REST resync is failing").is_none()
    });
    harness.get_by_label("Dismiss").click();
    step_until(&mut harness, "bad frames dismissed", |h| {
        h.query_by_label_contains("could not be read").is_none()
    });
}

#[test]
fn a_failed_feed_shows_a_banner_and_comes_back() {
    let runtime = runtime();
    let config = SimConfig {
        warmup_steps: 400,
        rate: Some(50.0),
        start_paused: false,
        steps: None,
        ..day(32, 0, None)
    };
    let sim = runtime.block_on(start_sim(config));
    let mut feed = feed_config(&sim);
    feed.fault = Some(FeedFault::PanicAfterBatches(10));
    let running = runtime.block_on(async { start_feed(feed) });
    let world = World {
        runtime,
        sim,
        running,
    };
    let mut harness = harness(&world);
    step_until(&mut harness, "the failure banner", |h| {
        has_text(h, "The feed stopped on an internal error")
    });
    assert!(has_text(&harness, "fault injected"));
    step_until(&mut harness, "connected again", |h| has(h, "• Connected"));
    assert!(has_text(
        &harness,
        "It was restarted and resynced what it missed."
    ));
    drop(world.runtime);
}

#[test]
fn the_general_tab_keeps_the_open_message_open_as_new_ones_arrive() {
    let runtime = runtime();
    let sim = runtime.block_on(start_sim(day(33, 10, None)));
    let running = runtime.block_on(async { start_feed(feed_config(&sim)) });
    let world = World {
        runtime,
        sim,
        running,
    };
    let mut harness = harness(&world);
    step_until(&mut harness, "connected", |h| has(h, "• Connected"));
    world.sim.handle().replay((0..500).map(price_alert).collect());
    step_until(&mut harness, "alerts kept", |_| {
        world.running.store.read().general().len() == 500
    });
    harness.get_by_role_and_label(Role::Button, "General").click();
    step_until(&mut harness, "the newest alert", |h| has(h, "NIFTY above 499"));
    // Only what is in sight is laid out: the oldest alerts are not.
    assert!(!has(&harness, "NIFTY above 0"), "every row was laid out");
    harness.get_all_by_label("Raw JSON").next().unwrap().click();
    step_until(&mut harness, "the raw JSON", |h| {
        has_text(h, "\"alert_id\": \"499\"")
    });
    // New messages push the open one down; it stays open.
    world.sim.handle().replay((500..510).map(price_alert).collect());
    step_until(&mut harness, "the new alerts", |h| has(h, "NIFTY above 509"));
    assert!(
        has_text(&harness, "\"alert_id\": \"499\""),
        "the open message closed"
    );
    assert!(
        !has_text(&harness, "\"alert_id\": \"509\""),
        "another message opened"
    );
    drop(world.runtime);
}

/// The top edge of the widget labelled exactly `label` (a card's title).
fn top(harness: &Harness<'_, OrderwatchApp>, label: &str) -> f32 {
    harness.get_by_label(label).rect().top()
}

#[test]
fn the_cards_say_what_they_count_and_fit_one_row_or_reflow_by_group() {
    let world = world(40.0, true);
    let store = world.running.store.clone();
    let feed = world.running.handle.clone();
    let mut wide = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |_| OrderwatchApp::new(store, feed, "Demo"));
    let store = world.running.store.clone();
    step_until(&mut wide, "orders and unseen trades", |h| {
        let store = store.read();
        order_rows(h) > 10 && store.count(EventKind::Trades).unseen > 1
    });
    world.sim.handle().pause();
    std::thread::sleep(Duration::from_millis(300));
    wide.step();
    wide.step();

    // What each card counts, in its own words, and the same order count as the tab.
    let (updates, orders, unseen_trades) = {
        let store = store.read();
        (
            store.count(EventKind::Orders).total,
            store.orders.len(),
            store.count(EventKind::Trades).unseen,
        )
    };
    assert!(updates as usize > orders, "more updates than orders");
    let quantity = |n: usize| orderwatch::format::quantity(n as i64);
    let orders_card = format!("{} orders by state", quantity(orders));
    assert!(has(&wide, "Order updates") && has(&wide, &quantity(updates as usize)));
    assert!(has(&wide, &orders_card), "{orders_card}");
    assert!(
        has_text(
            &wide,
            &format!("{} of {} orders", quantity(orders), quantity(orders))
        ),
        "the tab counts the same orders as the card"
    );
    assert!(has(&wide, &format!("+{unseen_trades} new trades")));
    assert!(!has(&wide, "Total"), "no card adds up updates of different kinds");

    let counts = ["Order updates", "Position updates", "Messages"];
    let money = [orders_card.as_str(), "Traded value", "P&L"];
    let one_row = |h: &Harness<'_, OrderwatchApp>| {
        let first = top(h, counts[0]);
        counts
            .iter()
            .chain(&money)
            .all(|label| (top(h, label) - first).abs() < 1.0)
    };
    assert!(one_row(&wide), "every card on one row at 1280");

    for (width, expect_one_row) in [(1920.0, true), (1024.0, false)] {
        let store = world.running.store.clone();
        let feed = world.running.handle.clone();
        let mut harness = Harness::builder()
            .with_size(egui::vec2(width, 800.0))
            .build_eframe(move |_| OrderwatchApp::new(store, feed, "Demo"));
        harness.step();
        harness.step();
        if expect_one_row {
            assert!(one_row(&harness), "every card on one row at {width}");
            continue;
        }
        // Narrower: the counts on one row, the money cards together on the next.
        let counts_top = top(&harness, counts[0]);
        let money_top = top(&harness, money[0]);
        assert!(money_top > counts_top + 10.0, "two rows at {width}");
        for label in counts {
            assert!(
                (top(&harness, label) - counts_top).abs() < 1.0,
                "{label} at {width}"
            );
        }
        for label in money {
            assert!(
                (top(&harness, label) - money_top).abs() < 1.0,
                "{label} at {width}"
            );
        }
    }
}

/// Filled rectangles of a frame and the area each covers, nested shapes included.
fn filled_areas(shape: &egui::Shape, out: &mut Vec<(f32, egui::Color32)>) {
    match shape {
        egui::Shape::Vec(shapes) => shapes.iter().for_each(|shape| filled_areas(shape, out)),
        egui::Shape::Rect(rect) if rect.fill.a() > 0 => out.push((rect.rect.area(), rect.fill)),
        _ => {}
    }
}

#[test]
fn the_window_is_cleared_to_the_panels_colour_and_no_panel_fills_it_again() {
    // Under a software renderer every filled pixel costs: the panels' own fills had covered the
    // whole window once more on every frame.
    let world = world(40.0, true);
    let mut harness = harness(&world);
    step_until(&mut harness, "orders in the table", |h| order_rows(h) > 10);
    harness.step();
    let screen = 1280.0 * 800.0;
    let mut fills = Vec::new();
    for clipped in &harness.output().shapes {
        filled_areas(&clipped.shape, &mut fills);
    }
    assert!(
        !fills.is_empty(),
        "the frame paints filled shapes (cards, rows, badges)"
    );
    let largest = fills.iter().map(|(area, _)| *area).fold(0.0, f32::max);
    assert!(
        largest < screen * 0.25,
        "a filled rectangle covers {:.0} % of the window",
        100.0 * largest / screen
    );
    let visuals = harness.ctx.global_style().visuals.clone();
    let clear = eframe::App::clear_color(harness.state(), &visuals);
    assert_eq!(
        clear,
        visuals.panel_fill.to_normalized_gamma_f32(),
        "cleared to the panels' colour"
    );
    drop(world.runtime);
}
