//! The journal in the window (kittest, driven by label): a past day picked beside the tabs shows
//! read-only with its mark, its tabs search as live ones do, one click goes back to live, and
//! "Export CSV" saves the table exactly as filtered.

mod common;

use std::time::Duration;

use common::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use orderwatch::fyers::model::Event;
use orderwatch::journal::{self, Journal, JournalOptions};
use orderwatch::sim::{Day, DayConfig, Sim, SimConfig};
use orderwatch::store::{Origin, day_label, now_ms, trading_day};
use orderwatch::ui::OrderwatchApp;
use orderwatch::ui::history::JournalView;

struct World {
    _runtime: tokio::runtime::Runtime,
    _sim: Sim,
    running: Running,
    journal: Journal,
    yesterday: chrono::NaiveDate,
    /// Yesterday's orders, and those of them on RELIANCE.
    past_orders: (usize, usize),
    _dir: tempfile::TempDir,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(&dir.path().join(journal::FILE_NAME), JournalOptions::default()).unwrap();
    // Yesterday, journaled: a simulated day of its own.
    let yesterday = trading_day(now_ms()).pred_opt().unwrap();
    let mut past = Day::new(DayConfig {
        seed: 77,
        start_epoch: DayConfig::default().start_epoch - 86_400,
        ..DayConfig::default()
    });
    let events: Vec<Event> = (0..600).flat_map(|_| past.step(None)).collect();
    for batch in events.chunks(16) {
        journal.record(
            yesterday,
            now_ms() - 86_400_000,
            Origin::Socket,
            batch.to_vec(),
            vec![],
        );
    }
    journal.flush(Duration::from_secs(10)).unwrap();
    let orders = past.book().orders.len();
    let reliance = past
        .book()
        .orders
        .values()
        .filter(|order| order.symbol.as_deref() == Some("NSE:RELIANCE-EQ"))
        .count();
    // Today, live from the simulator, journaled as it streams.
    let runtime = runtime();
    let config = SimConfig {
        warmup_steps: 300,
        rate: Some(20.0),
        start_paused: false,
        steps: None,
        ..day(31, 0, None)
    };
    let sim = runtime.block_on(start_sim(config));
    let mut feed = feed_config(&sim);
    feed.journal = Some(journal.clone());
    let running = runtime.block_on(async { start_feed(feed) });
    World {
        _runtime: runtime,
        _sim: sim,
        running,
        journal,
        yesterday,
        past_orders: (orders, reliance),
        _dir: dir,
    }
}

fn harness(world: &World) -> Harness<'static, OrderwatchApp> {
    let store = world.running.store.clone();
    let feed = world.running.handle.clone();
    let journal = world.journal.clone();
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |_| {
            let mut app = OrderwatchApp::new(store, feed, "Demo");
            app.journal = Some(Ok(JournalView::new(journal, false)));
            app
        })
}

fn click_first(harness: &mut Harness<'_, OrderwatchApp>, label: &str) {
    harness
        .query_all_by_label(label)
        .next()
        .unwrap_or_else(|| panic!("no {label:?}"))
        .click();
    harness.step();
}

#[test]
fn a_past_day_shows_read_only_and_one_click_goes_back_to_live() {
    let world = world();
    let mut harness = harness(&world);
    let store = world.running.store.clone();
    step_until(&mut harness, "live orders", |_| store.read().orders.len() > 20);
    let (past, past_reliance) = world.past_orders;
    let day = day_label(world.yesterday);

    // Pick yesterday beside the tabs.
    click_first(&mut harness, "Day");
    step_until(&mut harness, "yesterday in the picker", |h| has(h, &day));
    click_first(&mut harness, &day);
    let mark = format!("Viewing {day} from the journal: read-only");
    step_until(&mut harness, "the viewing mark", |h| has(h, &mark));
    // The bar is still the live connection's.
    assert!(has(&harness, "Stop stream"), "the live stream's controls stay");
    step_until(&mut harness, "yesterday's orders", |h| {
        has(h, &format!("{past} of {past} orders"))
    });

    // Search works the same on a past day.
    let search = harness.get_by_role(egui::accesskit::Role::TextInput);
    search.click();
    search.type_text("reliance");
    std::thread::sleep(Duration::from_millis(300));
    step_until(&mut harness, "filtered", |h| {
        has(h, &format!("{past_reliance} of {past} orders"))
    });

    // Export the table as shown: yesterday's RELIANCE orders only.
    click_first(&mut harness, "Export CSV");
    step_until(&mut harness, "the export's banner", |h| {
        has_text(h, &format!("Exported {past_reliance} rows to"))
    });
    let exports = world.journal.path().parent().unwrap().join("exports");
    let file = std::fs::read_dir(&exports)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut reader = csv::Reader::from_path(&file).unwrap();
    let symbol = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "symbol")
        .unwrap();
    let rows: Vec<_> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), past_reliance);
    assert!(rows.iter().all(|row| &row[symbol] == "NSE:RELIANCE-EQ"));
    assert!(
        file.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(&format!("orders-{}", world.yesterday))
    );

    // Back to live: the mark goes, today's orders come back.
    click_first(&mut harness, "Back to live");
    step_until(&mut harness, "live again", |h| !has(h, &mark));
    harness.key_press(egui::Key::Escape);
    step_until(&mut harness, "today's orders", |h| {
        let live = store.read().orders.len();
        has_text(h, &format!("of {live} orders"))
    });
    assert!(!has_text(&harness, &format!("of {past} orders")) || store.read().orders.len() == past);
}

#[test]
fn a_journal_that_cannot_write_shows_a_banner() {
    let dir = tempfile::tempdir().unwrap();
    let options = JournalOptions {
        max_pages: Some(16),
        retry_every: Duration::from_millis(20),
        ..JournalOptions::default()
    };
    let journal = Journal::open(&dir.path().join(journal::FILE_NAME), options).unwrap();
    let runtime = runtime();
    let sim = runtime.block_on(start_sim(SimConfig {
        warmup_steps: 300,
        rate: Some(50.0),
        start_paused: false,
        steps: None,
        ..day(32, 0, None)
    }));
    let mut feed = feed_config(&sim);
    feed.journal = Some(journal.clone());
    let running = runtime.block_on(async { start_feed(feed) });
    let world = World {
        _runtime: runtime,
        _sim: sim,
        running,
        journal,
        yesterday: trading_day(now_ms()),
        past_orders: (0, 0),
        _dir: dir,
    };
    let mut harness = harness(&world);
    step_until(&mut harness, "the journal's banner", |h| {
        has_text(h, "The journal cannot write") || has_text(h, "The journal could not keep")
    });
    // The monitor goes on meanwhile.
    let store = world.running.store.clone();
    let before = store.read().frames();
    step_until(&mut harness, "more frames", |_| store.read().frames() > before);
}
