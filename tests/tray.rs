//! The tray icon on a real D-Bus session bus, as a desktop panel sees it: it registers with the
//! StatusNotifierWatcher, shows the stream's state in its properties and menu, and its "Stop
//! stream" item, clicked over D-Bus, stops a real feed against the simulator.
//!
//! Run it under `dbus-run-session`; without a session bus it skips, unless
//! `ORDERWATCH_REQUIRE_DESKTOP=1` says it must not.

mod common;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use orderwatch::desktop::tray::{Tray, TrayAction, TrayState, TrayStatus};
use orderwatch::feed::Command;
use orderwatch::fyers::model::EventKind;
use orderwatch::store::ConnectionState;
use orderwatch::tokens::DARK;
use parking_lot::Mutex;
use zbus::object_server::SignalEmitter;
use zbus::proxy::CacheProperties;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

const WATCHER_NAME: &str = "org.kde.StatusNotifierWatcher";
const WATCHER_PATH: &str = "/StatusNotifierWatcher";
/// Where an item lives when it registers by bus name (the StatusNotifierItem spec's default).
const ITEM_PATH: &str = "/StatusNotifierItem";
const WAIT: Duration = Duration::from_secs(5);

/// The part of a desktop panel the tray talks to: it records who registered, and says a host is
/// there so the item does not hold back.
#[derive(Default)]
struct Watcher {
    items: Arc<Mutex<Vec<Registered>>>,
}

#[derive(Debug, Clone)]
struct Registered {
    /// The bus name to call the item on.
    destination: String,
    path: String,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    async fn register_status_notifier_item(
        &self,
        service: &str,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> zbus::fdo::Result<()> {
        // `service` is a bus name, or (some implementations) an object path on the caller.
        let sender = header.sender().map(ToString::to_string).unwrap_or_default();
        let registered = if service.starts_with('/') {
            Registered {
                destination: sender,
                path: service.to_owned(),
            }
        } else {
            Registered {
                destination: service.to_owned(),
                path: ITEM_PATH.to_owned(),
            }
        };
        let name = format!("{}{}", registered.destination, registered.path);
        self.items.lock().push(registered);
        Self::status_notifier_item_registered(&emitter, &name).await?;
        Ok(())
    }

    async fn register_status_notifier_host(&self, _service: &str) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        let items = self.items.lock();
        items
            .iter()
            .map(|item| format!("{}{}", item.destination, item.path))
            .collect()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }

    #[zbus(signal)]
    async fn status_notifier_item_registered(emitter: &SignalEmitter<'_>, service: &str) -> zbus::Result<()>;
}

type Pixmap = (i32, i32, Vec<u8>);

#[zbus::proxy(interface = "org.kde.StatusNotifierItem")]
trait Item {
    #[zbus(property)]
    fn title(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn status(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn tool_tip(&self) -> zbus::Result<(String, Vec<Pixmap>, String, String)>;
    #[zbus(property)]
    fn icon_pixmap(&self) -> zbus::Result<Vec<Pixmap>>;
    #[zbus(property)]
    fn menu(&self) -> zbus::Result<OwnedObjectPath>;
}

type Layout = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);

#[zbus::proxy(interface = "com.canonical.dbusmenu")]
trait DbusMenu {
    fn get_layout(
        &self,
        parent_id: i32,
        recursion_depth: i32,
        property_names: &[&str],
    ) -> zbus::Result<(u32, Layout)>;

    fn event(&self, id: i32, event_id: &str, data: &Value<'_>, timestamp: u32) -> zbus::Result<()>;
}

/// A menu item as a panel would draw it.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    id: i32,
    label: String,
    kind: String,
    enabled: bool,
    toggle_type: String,
    toggle_state: Option<i32>,
}

/// A variant's content, however deeply wrapped.
fn plain<'v, 'a>(value: &'v Value<'a>) -> &'v Value<'a> {
    match value {
        Value::Value(inner) => plain(inner),
        other => other,
    }
}

fn entry(value: &Value<'_>) -> Option<Entry> {
    let Value::Structure(node) = plain(value) else {
        return None;
    };
    let [id, properties, _children] = node.fields() else {
        return None;
    };
    let (Value::I32(id), Value::Dict(properties)) = (plain(id), plain(properties)) else {
        return None;
    };
    let mut entry = Entry {
        id: *id,
        label: String::new(),
        kind: "standard".to_owned(),
        enabled: true,
        toggle_type: String::new(),
        toggle_state: None,
    };
    for (key, value) in properties.iter() {
        let Value::Str(key) = plain(key) else { continue };
        match (key.as_str(), plain(value)) {
            ("label", Value::Str(label)) => entry.label = label.to_string(),
            ("type", Value::Str(kind)) => entry.kind = kind.to_string(),
            ("enabled", Value::Bool(enabled)) => entry.enabled = *enabled,
            ("toggle-type", Value::Str(kind)) => entry.toggle_type = kind.to_string(),
            ("toggle-state", Value::I32(state)) => entry.toggle_state = Some(*state),
            _ => {}
        }
    }
    Some(entry)
}

async fn menu_entries(menu: &DbusMenuProxy<'_>) -> Vec<Entry> {
    let (_revision, (_root, _properties, children)) =
        menu.get_layout(0, -1, &[]).await.expect("GetLayout answers");
    children.iter().filter_map(|child| entry(child)).collect()
}

/// The labels a panel shows, separators left out.
fn labels(entries: &[Entry]) -> Vec<&str> {
    entries
        .iter()
        .filter(|entry| entry.kind != "separator")
        .map(|entry| entry.label.as_str())
        .collect()
}

/// The colour at the badge's centre, from an ARGB32 (network order) pixmap.
fn badge_centre(pixmaps: &[Pixmap]) -> [u8; 3] {
    let (width, height, data) = pixmaps.first().expect("the item has an icon pixmap");
    assert_eq!((*width, *height), (64, 64));
    assert_eq!(data.len(), 64 * 64 * 4);
    let at = (45 * 64 + 45) * 4;
    [data[at + 1], data[at + 2], data[at + 3]]
}

/// Retries `probe` until it gives a value or `WAIT` passes.
async fn eventually<T, F: Future<Output = Option<T>>>(mut probe: impl FnMut() -> F) -> Option<T> {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(value) = probe().await {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// `None` (the test may run) or why it cannot.
fn missing_desktop() -> Option<&'static str> {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS")
        .is_none()
        .then_some("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset); run under dbus-run-session")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tray_registers_follows_the_stream_and_stops_it_from_its_menu() {
    if let Some(why) = missing_desktop() {
        let required = std::env::var("ORDERWATCH_REQUIRE_DESKTOP").is_ok_and(|value| value == "1");
        assert!(!required, "ORDERWATCH_REQUIRE_DESKTOP=1, but {why}");
        skipped(why);
        return;
    }

    // A panel's watcher on the bus, before the tray looks for one.
    let bus = zbus::Connection::session()
        .await
        .expect("the session bus answers");
    let watcher = Watcher::default();
    let registered = watcher.items.clone();
    bus.object_server()
        .at(WATCHER_PATH, watcher)
        .await
        .expect("the watcher is served");
    bus.request_name(WATCHER_NAME)
        .await
        .expect("the watcher's name is free on a test bus");

    let first = TrayState {
        status: TrayStatus::Streaming,
        open_orders: 12,
        total_pnl: 1_234.4,
        window_visible: false,
        muted: false,
    };
    let mut tray = Tray::new(&first).expect("the tray starts on a session bus");
    let wakes = Arc::new(AtomicUsize::new(0));
    tray.set_waker({
        let wakes = wakes.clone();
        move || {
            wakes.fetch_add(1, Ordering::SeqCst);
        }
    });

    // It registers, and reads as the state it was given.
    let at = eventually(|| async { registered.lock().first().cloned() })
        .await
        .expect("the tray registers with the watcher");
    let item = ItemProxy::builder(&bus)
        .destination(at.destination.clone())
        .expect("a bus name")
        .path(at.path.clone())
        .expect("an object path")
        .cache_properties(CacheProperties::No)
        .build()
        .await
        .expect("an item proxy");
    assert_eq!(item.title().await.expect("Title"), "Orderwatch");
    assert_eq!(item.status().await.expect("Status"), "Active");
    let (_, _, heading, text) = item.tool_tip().await.expect("ToolTip");
    assert_eq!(heading, "Orderwatch");
    assert_eq!(text, "streaming · 12 open orders · P&L ₹1,234.00");
    let streaming_icon = item.icon_pixmap().await.expect("IconPixmap");
    assert_eq!(badge_centre(&streaming_icon), DARK.connected, "a green dot");

    let menu = DbusMenuProxy::builder(&bus)
        .destination(at.destination.clone())
        .expect("a bus name")
        .path(item.menu().await.expect("Menu"))
        .expect("an object path")
        .build()
        .await
        .expect("a menu proxy");
    let entries = menu_entries(&menu).await;
    assert_eq!(
        labels(&entries),
        ["Show window", "Stop stream", "Mute notifications", "Quit"]
    );
    let mute = entries
        .iter()
        .find(|entry| entry.label == "Mute notifications")
        .expect("a mute item");
    assert_eq!(
        (mute.toggle_type.as_str(), mute.toggle_state),
        ("checkmark", Some(0))
    );

    // A real feed streaming from the simulator.
    let sim = start_sim(day(51, 400, None)).await;
    let running = start_feed(feed_config(&sim));
    wait_subscribed(&running, &EventKind::ALL).await;
    sim.handle().resume();
    sim.handle().finished().await;
    assert_converges(&running, &sim, Duration::from_secs(20)).await;
    let streaming = TrayState::from_store(&running.store.read(), false, false);
    assert_eq!(streaming.status, TrayStatus::Streaming);
    tray.update(&streaming);
    let want = streaming.summary();
    let shown = eventually(|| async {
        let (_, _, _, text) = item.tool_tip().await.ok()?;
        (text == want).then_some(text)
    })
    .await;
    assert_eq!(
        shown.as_deref(),
        Some(want.as_str()),
        "the tooltip follows the store"
    );

    // "Stop stream", clicked as a panel clicks it, comes out of `actions` and stops the feed.
    let stop = entries
        .iter()
        .find(|entry| entry.label == "Stop stream")
        .expect("a stop item")
        .id;
    menu.event(stop, "clicked", &Value::from(0i32), 0)
        .await
        .expect("the click is taken");
    let mut actions = Vec::new();
    let clicked = wait_until(WAIT, || {
        actions.extend(tray.actions());
        !actions.is_empty()
    })
    .await;
    assert!(clicked, "the click reaches the app");
    assert_eq!(actions, [TrayAction::StopStream]);
    assert!(wakes.load(Ordering::SeqCst) > 0, "the click woke the UI");
    for action in actions {
        if let Some(command) = action.command() {
            running
                .handle
                .command(command)
                .await
                .expect("the feed takes commands");
        }
    }
    let stopped = wait_until(WAIT, || {
        running.store.read().connection == ConnectionState::Disconnected
    })
    .await;
    assert!(stopped, "the feed stops: {:?}", running.store.read().connection);

    // The tray follows: tooltip, icon and menu.
    let stopped = TrayState::from_store(&running.store.read(), false, false);
    assert_eq!(stopped.status, TrayStatus::Stopped);
    tray.update(&stopped);
    let want = stopped.summary();
    assert!(want.starts_with("stopped · "), "{want}");
    let shown = eventually(|| async {
        let (_, _, _, text) = item.tool_tip().await.ok()?;
        (text == want).then_some(text)
    })
    .await;
    assert_eq!(shown.as_deref(), Some(want.as_str()), "the tooltip says stopped");
    let stopped_icon = item.icon_pixmap().await.expect("IconPixmap");
    assert_ne!(stopped_icon, streaming_icon);
    assert_eq!(badge_centre(&stopped_icon), DARK.disconnected, "a grey square");
    let entries = eventually(|| async {
        let entries = menu_entries(&menu).await;
        labels(&entries).contains(&"Start stream").then_some(entries)
    })
    .await
    .expect("the menu offers to start the stream");
    assert_eq!(
        labels(&entries),
        ["Show window", "Start stream", "Mute notifications", "Quit"]
    );

    // Gone from the bus when dropped.
    drop(tray);
    let dbus = zbus::fdo::DBusProxy::new(&bus)
        .await
        .expect("the bus's own proxy");
    let name = zbus::names::BusName::try_from(at.destination.as_str()).expect("a bus name");
    let gone = eventually(|| async { (!dbus.name_has_owner(name.clone()).await.ok()?).then_some(()) }).await;
    assert!(gone.is_some(), "the item leaves the bus with the tray");
    let _ = running.handle.command(Command::Shutdown).await;
}
