//! Desktop notifications reach a real notification server: `dunst` on a private Xvfb display, on
//! the session bus of `dbus-run-session` (CI runs the suite inside one). A simulator session
//! supplies live fills and rejections; a burst of fills made from the simulator's orders checks
//! the coalescing; dunst's own history confirms what arrived. Without that desktop the test says
//! `SKIPPED: <why>` and passes, unless `ORDERWATCH_REQUIRE_DESKTOP=1`. A notification server
//! already on the bus is left alone (skipped), except a dunst when the desktop is required.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use orderwatch::config::NotificationSettings;
use orderwatch::desktop::notify::{self, DesktopSink, Notification, NotifyKind, Sink};
use orderwatch::feed::{self, PnlSnapshot, PositionPnl, Tap};
use orderwatch::format::{quantity, rupees};
use orderwatch::fyers::model::{Event, EventKind, Order, OrderStatus, Side};
use orderwatch::sim::{Book, SimConfig};
use orderwatch::store::{Origin, Store};
use parking_lot::{Mutex, RwLock};

const SERVER_NAME: &str = "org.freedesktop.Notifications";
const BURST: usize = 40;

/// What reached the desktop, as the notifier sent it, and every failure to show.
#[derive(Default)]
struct Shown {
    notifications: Vec<Notification>,
    failures: Vec<String>,
}

/// The real desktop sink, keeping a copy of what it showed.
struct Recording {
    desktop: DesktopSink,
    shown: Arc<Mutex<Shown>>,
}

impl Sink for Recording {
    fn show(&mut self, notification: &Notification) -> Result<(), String> {
        let result = self.desktop.show(notification);
        let mut shown = self.shown.lock();
        match &result {
            Ok(()) => shown.notifications.push(notification.clone()),
            Err(err) => shown.failures.push(err.clone()),
        }
        result
    }
}

/// Xvfb and dunst, started by this test and stopped when dropped.
struct Desktop {
    children: Vec<Child>,
    dir: PathBuf,
}

impl Drop for Desktop {
    fn drop(&mut self) {
        // dunst first, then the X server it draws on. TERM lets Xvfb remove its lock file.
        for child in self.children.iter_mut().rev() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(2);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Why the desktop cannot be had here, if it cannot.
fn missing() -> Option<String> {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none_or(|address| address.is_empty()) {
        return Some("DBUS_SESSION_BUS_ADDRESS is not set (run under dbus-run-session)".into());
    }
    ["Xvfb", "dunst", "dunstctl"]
        .into_iter()
        .find(|program| !on_path(program))
        .map(|program| format!("`{program}` is not installed (apt-get install dunst xvfb)"))
}

async fn server_present(bus: &zbus::fdo::DBusProxy<'_>) -> bool {
    let name = zbus::names::BusName::try_from(SERVER_NAME).expect("a valid bus name");
    bus.name_has_owner(name).await.unwrap_or(false)
}

/// The notification server's name ("dunst"), from the spec's `GetServerInformation`.
async fn server_name(connection: &zbus::Connection) -> Option<String> {
    let reply = connection
        .call_method(
            Some(SERVER_NAME),
            "/org/freedesktop/Notifications",
            Some(SERVER_NAME),
            "GetServerInformation",
            &(),
        )
        .await
        .ok()?;
    let (name, _vendor, _version, _spec): (String, String, String, String) =
        reply.body().deserialize().ok()?;
    Some(name)
}

/// Starts Xvfb on a display it picks itself (`-displayfd`), then dunst on it, and waits until
/// dunst owns the notification name on the bus.
async fn start_desktop(bus: &zbus::fdo::DBusProxy<'_>) -> Desktop {
    let dir = std::env::temp_dir().join(format!("orderwatch-notifications-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let mut desktop = Desktop {
        children: Vec::new(),
        dir: dir.clone(),
    };
    let mut xvfb = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1024x768x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb starts");
    let stdout = xvfb.stdout.take().expect("Xvfb's stdout");
    desktop.children.push(xvfb);
    #[allow(clippy::disallowed_methods, reason = "a test's few lines")]
    let (number_tx, number_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = number_tx.send(line);
    });
    let number = number_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("Xvfb says which display it took");
    let display = format!(":{}", number.trim());
    assert!(number.trim().parse::<u32>().is_ok(), "Xvfb's display: {number:?}");

    let config = dir.join("dunstrc");
    std::fs::write(
        &config,
        "[global]\n    notification_limit = 0\n    history_length = 1000\n    stack_duplicates = false\n",
    )
    .expect("dunst's config is written");
    let log = std::fs::File::create(dir.join("dunst.log")).expect("dunst's log");
    let dunst = Command::new("dunst")
        .arg("-config")
        .arg(&config)
        .env("DISPLAY", &display)
        .stdout(log.try_clone().expect("dunst's log"))
        .stderr(log)
        .spawn()
        .expect("dunst starts");
    desktop.children.push(dunst);
    let owned = wait_until_async(Duration::from_secs(10), || server_present(bus)).await;
    if !owned {
        let log = std::fs::read_to_string(dir.join("dunst.log")).unwrap_or_default();
        panic!("dunst never took {SERVER_NAME} on {display}:\n{log}");
    }
    desktop
}

async fn wait_until_async<F: std::future::Future<Output = bool>>(
    timeout: Duration,
    mut condition: impl FnMut() -> F,
) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn dunstctl(args: &[&str]) -> String {
    let output = Command::new("dunstctl")
        .args(args)
        .output()
        .expect("dunstctl runs");
    assert!(
        output.status.success(),
        "dunstctl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Everything dunst received, as (summary, body): closes what is on screen so it moves to the
/// history, then reads the history.
fn dunst_received() -> Vec<(String, String)> {
    for _ in 0..50 {
        dunstctl(&["close-all"]);
        std::thread::sleep(Duration::from_millis(50));
        let on_screen: u32 = ["displayed", "waiting"]
            .iter()
            .map(|what| dunstctl(&["count", what]).trim().parse::<u32>().unwrap_or(1))
            .sum();
        if on_screen == 0 {
            break;
        }
    }
    let history: serde_json::Value =
        serde_json::from_str(&dunstctl(&["history"])).expect("dunst's history is JSON");
    let text = |value: &serde_json::Value| value["data"].as_str().unwrap_or_default().to_owned();
    history["data"][0]
        .as_array()
        .expect("a list of notifications")
        .iter()
        .map(|entry| (text(&entry["summary"]), unescape(&text(&entry["body"]))))
        .collect()
}

/// dunst reads markup, so the sink escaped the bodies; dunst keeps them as sent.
fn unescape(body: &str) -> String {
    body.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn of_kind(shown: &Recorded, kind: NotifyKind) -> Vec<Notification> {
    let shown = shown.lock();
    shown
        .notifications
        .iter()
        .filter(|n| n.kind == kind)
        .cloned()
        .collect()
}

/// `order` filled completely at a price, under another id: the burst is new to the notifier.
fn filled_copy(order: &Order, id: String) -> Order {
    let qty = order.qty.filter(|qty| *qty > 0).unwrap_or(1);
    let price = order
        .traded_price
        .or(order.limit_price)
        .filter(|price| *price > 0.0)
        .unwrap_or(100.0);
    Order {
        id: id.into(),
        status: Some(OrderStatus::Filled),
        filled_qty: Some(qty),
        remaining_qty: Some(0),
        traded_price: Some(price),
        ..order.clone()
    }
}

fn live(order: Order) -> Tap {
    Tap::Events {
        events: vec![Event::Order(Box::new(order))],
        origin: Origin::Socket,
        journaled: None,
    }
}

type Recorded = Arc<Mutex<Shown>>;

/// The real desktop sink, recording into `shown`.
fn recording(shown: &Recorded) -> Box<Recording> {
    Box::new(Recording {
        desktop: DesktopSink::new(),
        shown: shown.clone(),
    })
}

/// A live simulator session through the feed until a fill and a rejection were shown; returns
/// the day's truth.
async fn live_session(shown: &Recorded, settings: Arc<RwLock<NotificationSettings>>) -> Book {
    let sim = start_sim(SimConfig {
        rate: Some(40.0),
        steps: None,
        ..day(5, 0, None)
    })
    .await;
    let (tap_tx, tap_rx) = tokio::sync::mpsc::channel(256);
    let store = Arc::new(RwLock::new(Store::default()));
    let (handle, task) = feed::spawn(feed_config(&sim), store.clone(), Box::new(|| {}), Some(tap_tx));
    let notifier = notify::spawn(tap_rx, settings, recording(shown));
    let running = Running { store, handle, task };
    wait_subscribed(&running, &EventKind::ALL).await;
    sim.handle().resume();
    let seen = wait_until(Duration::from_secs(12), || {
        !of_kind(shown, NotifyKind::OrderFilled).is_empty()
            && !of_kind(shown, NotifyKind::OrderRejected).is_empty()
    })
    .await;
    sim.handle().pause();
    // The feed drops its tap when it stops, which ends the notifier after a last flush.
    running
        .handle
        .command(feed::Command::Shutdown)
        .await
        .expect("the feed takes commands");
    tokio::time::timeout(Duration::from_secs(10), notifier)
        .await
        .expect("the notifier ends with the feed")
        .expect("the notifier does not panic");
    assert!(
        seen,
        "no fill and rejection notified: {:?}",
        shown.lock().notifications
    );
    sim.handle().book()
}

/// Live fills and rejections name the day's orders and the OMS's reasons.
fn check_live(shown: &Recorded, book: &Book) {
    for fill in of_kind(shown, NotifyKind::OrderFilled) {
        if fill.summary == "Order filled" {
            let named = book.orders.values().any(|order| {
                order.status() == OrderStatus::Filled
                    && order
                        .symbol
                        .as_deref()
                        .is_some_and(|symbol| fill.body.contains(&format!(" {symbol} @ ₹")))
            });
            assert!(named, "a filled order of the day: {fill:?}");
        } else {
            assert!(fill.summary.ends_with(" orders filled"), "{fill:?}");
            assert!(
                fill.body.starts_with('₹') && fill.body.contains(" traded · "),
                "{fill:?}"
            );
        }
    }
    let reasons: Vec<&str> = book
        .orders
        .values()
        .filter(|order| order.status() == OrderStatus::Rejected)
        .filter_map(|order| order.message.as_deref())
        .collect();
    for rejection in of_kind(shown, NotifyKind::OrderRejected) {
        assert!(rejection.urgent);
        let said = rejection.body.lines().filter(|line| !line.starts_with('+'));
        // A lone rejection's first line is the order; a coalesced one lists "NAME: reason".
        for line in said.skip(usize::from(rejection.summary == "Order rejected")) {
            assert!(
                reasons.iter().any(|reason| line.ends_with(reason)),
                "a reason of the day: {rejection:?}"
            );
        }
    }
}

/// 40 fills made from the day's orders within half a second, then one alone.
async fn burst_then_lone(shown: &Recorded, settings: Arc<RwLock<NotificationSettings>>, book: &Book) {
    let (burst_tx, burst_rx) = tokio::sync::mpsc::channel(16);
    let notifier = notify::spawn(burst_rx, settings, recording(shown));
    let orders: Vec<&Order> = book.orders.values().collect();
    let burst: Vec<Order> = (0..BURST)
        .map(|i| filled_copy(orders[i % orders.len()], format!("BURST-{i}")))
        .collect();
    let total: f64 = burst
        .iter()
        .map(|order| order.filled_qty.unwrap_or(0) as f64 * order.traded_price.unwrap_or(0.0))
        .sum();
    for order in burst {
        burst_tx.send(live(order)).await.expect("the notifier listens");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let burst_seen = wait_until(Duration::from_secs(5), || {
        of_kind(shown, NotifyKind::OrderFilled)
            .iter()
            .any(|n| n.summary == "40 orders filled")
    })
    .await;
    let fills = of_kind(shown, NotifyKind::OrderFilled);
    assert!(burst_seen, "the burst was not coalesced: {fills:?}");
    let coalesced = fills.iter().find(|n| n.summary == "40 orders filled");
    let body = coalesced.map(|n| n.body.as_str()).unwrap_or_default();
    assert!(
        body.starts_with(&format!("{} traded · ", rupees(total))),
        "{body} (total {total})"
    );

    let lone = filled_copy(orders[0], "LONE".into());
    let side = if lone.side == Some(Side::Sell) {
        "SELL"
    } else {
        "BUY"
    };
    let lone_body = format!(
        "{side} {} {} @ {}",
        quantity(lone.filled_qty.unwrap_or(0)),
        lone.symbol.as_deref().unwrap_or_default(),
        rupees(lone.traded_price.unwrap_or(0.0)),
    );
    burst_tx.send(live(lone)).await.expect("the notifier listens");
    let sent_at = Instant::now();
    let lone_seen = wait_until(Duration::from_secs(5), || {
        of_kind(shown, NotifyKind::OrderFilled)
            .iter()
            .any(|n| n.summary == "Order filled" && n.body == lone_body)
    })
    .await;
    assert!(
        lone_seen,
        "the lone fill: {:?}",
        of_kind(shown, NotifyKind::OrderFilled)
    );
    assert!(
        sent_at.elapsed() < Duration::from_millis(3_500),
        "a lone fill waits out the window (2 s), not longer"
    );
    drop(burst_tx);
    tokio::time::timeout(Duration::from_secs(5), notifier)
        .await
        .expect("the notifier ends with its channel")
        .expect("the notifier does not panic");
}

/// The day's P&L crossing the Settings' lines: one alert per crossing (with a sound), none while it
/// hovers at a line, another once it came back and crossed again.
async fn pnl_alerts(shown: &Recorded) {
    let settings = Arc::new(RwLock::new(NotificationSettings {
        pnl_day_loss: Some(5_000),
        pnl_position_loss: Some(2_000),
        sounds: true,
        ..NotificationSettings::default()
    }));
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let notifier = notify::spawn(rx, settings, recording(shown));
    let day = |total: f64, position: f64| {
        Tap::Pnl(PnlSnapshot {
            total,
            realized: -1_000.0,
            unrealized: total + 1_000.0,
            live: true,
            positions: vec![PositionPnl {
                symbol: "NSE:SBIN-EQ".into(),
                total: position,
                ltp: Some(805.5),
            }],
        })
    };
    // Down through −₹5,000, hovering within the margin, back up past it, down again; and one
    // position through −₹2,000.
    for (total, position) in [
        (-3_000.0, -500.0),
        (-5_050.0, -500.0),
        (-4_950.0, -500.0),
        (-5_200.0, -2_100.0),
        (-4_300.0, -1_900.0),
        (-5_600.0, -1_950.0),
    ] {
        tx.send(day(total, position)).await.expect("the notifier listens");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let seen = wait_until(Duration::from_secs(5), || {
        of_kind(shown, NotifyKind::PnlAlert).len() >= 3
    })
    .await;
    drop(tx);
    tokio::time::timeout(Duration::from_secs(5), notifier)
        .await
        .expect("the notifier ends with its channel")
        .expect("the notifier does not panic");
    let alerts = of_kind(shown, NotifyKind::PnlAlert);
    assert!(seen, "P&L alerts: {alerts:?}");
    let summaries: Vec<&str> = alerts.iter().map(|alert| alert.summary.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "Day's loss beyond ₹5,000.00",
            "NSE:SBIN-EQ: loss beyond ₹2,000.00",
            "Day's loss beyond ₹5,000.00"
        ]
    );
    assert_eq!(
        alerts[0].body,
        "Day's P&L -₹5,050.00 (realized -₹1,000.00, unrealized -₹4,050.00)"
    );
    assert!(
        alerts
            .iter()
            .all(|alert| alert.urgent && alert.sound == Some("dialog-warning"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_reach_a_real_notification_server() {
    let required = std::env::var("ORDERWATCH_REQUIRE_DESKTOP").is_ok_and(|value| value == "1");
    let skip = |why: String| {
        assert!(!required, "ORDERWATCH_REQUIRE_DESKTOP=1 but {why}");
        skipped(&why);
    };
    if let Some(why) = missing() {
        return skip(why);
    }
    let connection = match zbus::Connection::session().await {
        Ok(connection) => connection,
        Err(err) => return skip(format!("cannot reach the session bus: {err}")),
    };
    let bus = zbus::fdo::DBusProxy::new(&connection)
        .await
        .expect("the bus's own proxy");
    let _desktop = if !server_present(&bus).await {
        Some(start_desktop(&bus).await)
    } else if required && server_name(&connection).await.as_deref() == Some("dunst") {
        // CI's private bus, where an earlier test's notification D-Bus-activated dunst: use it.
        eprintln!("using the dunst already on this bus");
        None
    } else {
        // Maybe someone's real desktop: never replace it or fill it with test notifications.
        return skip(format!(
            "{SERVER_NAME} is already owned on this bus (not a dbus-run-session bus?)"
        ));
    };
    let shown = Recorded::default();
    let settings = Arc::new(RwLock::new(NotificationSettings::default()));

    let book = live_session(&shown, settings.clone()).await;
    check_live(&shown, &book);
    burst_then_lone(&shown, settings, &book).await;
    pnl_alerts(&shown).await;

    // Everything shown was received by dunst itself.
    let shown = std::mem::take(&mut *shown.lock());
    assert!(
        shown.failures.is_empty(),
        "the desktop refused: {:?}",
        shown.failures
    );
    let received = dunst_received();
    for notification in &shown.notifications {
        let pair = (notification.summary.clone(), notification.body.clone());
        assert!(
            received.contains(&pair),
            "dunst never got {pair:?}; it has {received:#?}"
        );
    }
    println!("dunst received {} notifications:", received.len());
    for (summary, body) in &received {
        println!("  {summary} | {}", body.replace('\n', " / "));
    }
}
