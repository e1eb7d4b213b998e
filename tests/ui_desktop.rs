//! The window shell's desktop behaviour, driven by label with egui_kittest: closing hides instead of
//! quitting (and the stream goes on), Quit really quits, the Settings window's toggles persist
//! across a restart and reach launch-at-login and the notifier, and its local API toggle starts and
//! stops a real server that real HTTP and WebSocket clients reach.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use egui::{ViewportCommand, ViewportEvent, ViewportId};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use orderwatch::config::{ApiSettings, Settings};
use orderwatch::desktop::autostart;
use orderwatch::feed::FeedConfig;
use orderwatch::secrets::Vault;
use orderwatch::shell::{DesktopApp, Services, Start};
use orderwatch::sim::{Sim, SimConfig};

struct World {
    runtime: tokio::runtime::Runtime,
    sim: Sim,
    dir: PathBuf,
}

impl World {
    fn new(name: &str) -> Self {
        let runtime = runtime();
        let sim = runtime.block_on(start_sim(SimConfig {
            rate: Some(20.0),
            steps: None,
            ..day(71, 0, None)
        }));
        sim.handle().resume();
        let dir = std::env::temp_dir().join(format!("orderwatch-ui-desktop-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        World { runtime, sim, dir }
    }

    fn settings_path(&self) -> PathBuf {
        self.dir.join("settings.json")
    }

    fn autostart_entry(&self) -> PathBuf {
        self.dir.join("autostart").join("orderwatch.desktop")
    }

    fn harness(&self, settings: Settings) -> Harness<'static, DesktopApp> {
        self.harness_with(settings, Err("not needed".into()))
    }

    fn harness_with(&self, settings: Settings, vault: Result<Vault, String>) -> Harness<'static, DesktopApp> {
        let entry = self.autostart_entry();
        let services = Services {
            runtime: self.runtime.handle().clone(),
            socket_url: self.sim.socket_url(),
            market_url: None,
            rest_url: self.sim.rest_url(),
            vault,
            settings_path: Some(self.settings_path()),
            browser: Arc::new(|_: &str| Ok(())),
            timing: fast_timing(),
            demo: day(1, 10, None),
            start_hidden: false,
            tray: false,
            notifications: None,
            autostart: Arc::new(move |enabled| {
                autostart::set_linux(&entry, Path::new("/usr/bin/orderwatch"), enabled)
                    .map_err(|err| err.to_string())
            }),
            data_dir: Some(self.dir.join("data")),
        };
        let start = Start::Monitor {
            config: FeedConfig::new(
                &self.sim.socket_url(),
                &self.sim.rest_url(),
                Some(self.sim.authorization()),
            ),
            account: "Demo".into(),
            saved: None,
            sim: None,
        };
        Harness::builder()
            .with_size(egui::vec2(1280.0, 800.0))
            .build_eframe(move |cc| DesktopApp::new(&cc.egui_ctx, services, settings, start))
    }
}

fn connected(harness: &Harness<'_, DesktopApp>) -> bool {
    harness
        .state()
        .monitor()
        .is_some_and(|app| app.store().read().connection.is_connected())
}

/// The user clicks the window's close button.
fn press_close(harness: &mut Harness<'_, DesktopApp>) {
    let input = harness.input_mut();
    let root = input.viewports.entry(ViewportId::ROOT).or_default();
    root.events.push(ViewportEvent::Close);
}

fn commands(harness: &Harness<'_, DesktopApp>) -> Vec<ViewportCommand> {
    harness.state().window_commands().to_vec()
}

fn checkbox(harness: &Harness<'_, DesktopApp>, label: &str) -> bool {
    harness.get_by_label(label).accesskit_node().toggled() == Some(egui::accesskit::Toggled::True)
}

#[test]
fn closing_hides_the_window_and_the_stream_goes_on_until_quit() {
    let world = World::new("close");
    let mut harness = world.harness(Settings::default());
    step_until(&mut harness, "streaming", connected);

    press_close(&mut harness);
    harness.step();
    let sent = commands(&harness);
    assert!(sent.contains(&ViewportCommand::CancelClose), "{sent:?}");
    // No tray in this test: out of sight by minimising (with a tray it is hidden instead).
    assert!(sent.contains(&ViewportCommand::Minimized(true)), "{sent:?}");
    let told = Settings::load(&world.settings_path()).unwrap();
    assert!(
        told.told_about_tray,
        "the first close is explained once, and remembered"
    );
    // Still streaming after the close.
    let before = harness.state().monitor().unwrap().store().read().version();
    step_until(&mut harness, "more data after the close", |h| {
        let store = h.state().monitor().unwrap().store().read();
        store.connection.is_connected() && store.version() > before
    });

    // Quit really closes.
    harness.get_by_label("Quit").click();
    harness.step();
    harness.step();
    let sent = commands(&harness);
    assert!(sent.contains(&ViewportCommand::Close), "{sent:?}");
    assert!(harness.state().quitting());
    let sent_before = commands(&harness).len();
    press_close(&mut harness);
    harness.step();
    assert_eq!(
        commands(&harness).len(),
        sent_before,
        "the close goes through: nothing cancels it"
    );
}

#[test]
fn with_close_to_tray_off_the_close_button_quits() {
    let world = World::new("noclose");
    let settings = Settings {
        close_to_tray: false,
        ..Settings::default()
    };
    let mut harness = world.harness(settings);
    harness.step();
    press_close(&mut harness);
    harness.step();
    assert!(!commands(&harness).contains(&ViewportCommand::CancelClose));
    assert!(harness.state().quitting());
}

#[test]
fn settings_toggles_persist_across_a_restart() {
    let world = World::new("settings");
    let mut harness = world.harness(Settings::default());
    harness.step();
    harness.get_by_label("Settings").click();
    harness.step();
    harness.step();
    assert!(checkbox(&harness, "Closing the window hides it to the tray"));
    assert!(checkbox(&harness, "Order rejected (with the exchange's reason)"));
    harness
        .get_by_label("Order rejected (with the exchange's reason)")
        .click();
    harness.get_by_label("Start minimised to the tray").click();
    harness.get_by_label("Launch at login (minimised)").click();
    harness.step();
    harness.step();

    let saved = Settings::load(&world.settings_path()).unwrap();
    assert!(!saved.notifications.order_rejected);
    assert!(saved.start_minimised && saved.launch_at_login);
    let entry = std::fs::read_to_string(world.autostart_entry()).expect("the autostart entry is written");
    assert!(entry.contains("--minimised"), "{entry}");
    eframe::App::on_exit(harness.state_mut(), None);
    drop(harness);

    // Restart: the same choices are on screen.
    let mut harness = world.harness(Settings::load(&world.settings_path()).unwrap());
    harness.step();
    harness.get_by_label("Settings").click();
    harness.step();
    harness.step();
    assert!(!checkbox(&harness, "Order rejected (with the exchange's reason)"));
    assert!(checkbox(&harness, "Start minimised to the tray"));
    assert!(checkbox(&harness, "Launch at login (minimised)"));
    // Turning launch at login off removes the entry.
    harness.get_by_label("Launch at login (minimised)").click();
    harness.step();
    assert!(!world.autostart_entry().exists());
    assert!(!Settings::load(&world.settings_path()).unwrap().launch_at_login);
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// `GET /status` with `key`: the HTTP code, or `None` when nothing listens.
fn status_code(world: &World, port: u16, key: &str) -> Option<u16> {
    let url = format!("http://127.0.0.1:{port}/api/order-stream/status");
    let sent = world
        .runtime
        .block_on(async { http_client().get(&url).bearer_auth(key).send().await });
    sent.ok().map(|response| response.status().as_u16())
}

fn open_settings(harness: &mut Harness<'_, DesktopApp>) {
    harness.get_by_label("Settings").click();
    harness.step();
    harness.step();
}

/// Clicks a widget of the Settings window, which scrolls: brought into view first with the mouse
/// wheel over the window, as a user would.
fn click_in_view(harness: &mut Harness<'_, DesktopApp>, label: &str) {
    let window = settings_rect(harness);
    for _ in 0..40 {
        let rect = harness.get_by_label(label).rect();
        if window.contains_rect(rect) {
            break;
        }
        let input = harness.input_mut();
        input.events.push(egui::Event::PointerMoved(window.center()));
        input.events.push(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, if rect.top() > window.bottom() { -60.0 } else { 60.0 }),
            modifiers: egui::Modifiers::NONE,
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
        });
        harness.step();
    }
    harness.step();
    harness.get_by_label(label).click();
}

/// The open Settings window (its title button has the same label, and is small).
fn settings_rect(harness: &Harness<'_, DesktopApp>) -> egui::Rect {
    harness
        .get_all_by_label("Settings")
        .map(|node| node.rect())
        .find(|rect| rect.height() > 100.0)
        .expect("the Settings window is open")
}

const API_TOGGLE: &str = "Serve the order stream to programs on this computer";

#[test]
fn the_settings_toggle_starts_and_stops_the_local_api() {
    let world = World::new("api");
    let vault = Vault::session_only();
    let port = free_port();
    let settings = Settings {
        api: ApiSettings {
            port,
            ..ApiSettings::default()
        },
        ..Settings::default()
    };
    let mut harness = world.harness_with(settings, Ok(vault.clone()));
    step_until(&mut harness, "streaming", connected);
    assert_eq!(harness.state().api_addr(), None, "off by default");
    assert_eq!(status_code(&world, port, "anything"), None, "nothing listens");

    open_settings(&mut harness);
    assert!(!checkbox(&harness, API_TOGGLE));
    click_in_view(&mut harness, API_TOGGLE);
    step_until(&mut harness, "the API listening", |h| {
        h.state().api_addr().is_some()
    });
    assert!(Settings::load(&world.settings_path()).unwrap().api.enabled);
    assert!(has_text(
        &harness,
        &format!("Listening on http://127.0.0.1:{port}/api/order-stream")
    ));
    // The key was made in the keychain and is what the server wants; it is never drawn.
    let key = vault.load_api_key().unwrap().expect("the key is in the keychain");
    let key = key.expose().to_owned();
    assert!(!has_text(&harness, &key[3..12]), "the key is on screen");
    assert_eq!(status_code(&world, port, &key), Some(200));
    assert_eq!(
        status_code(&world, port, "ow_not-the-key-at-all-no-no"),
        Some(401)
    );

    // A program's WebSocket reads the window's stream, and Settings counts it.
    let url =
        format!("ws://127.0.0.1:{port}/api/order-stream/stream?event_types=OnOrders,OnTrades&api_key={key}");
    let (mut socket, _) = world
        .runtime
        .block_on(tokio_tungstenite::connect_async(&url))
        .expect("the WebSocket opens");
    let first = world
        .runtime
        .block_on(next_text(&mut socket))
        .expect("a status message");
    assert!(first.contains(r#""type":"status""#), "{first}");
    let event = world.runtime.block_on(async {
        loop {
            match next_text(&mut socket).await {
                Some(text) if text.contains(r#""type":"On"#) => break Some(text),
                Some(_) => continue,
                None => break None,
            }
        }
    });
    assert!(event.is_some(), "the window's events reach the program");
    step_until(&mut harness, "one program counted", |h| {
        has(h, "1 program connected")
    });

    // Copy puts the key on the clipboard.
    click_in_view(&mut harness, "Copy");
    harness.step();
    let copied = harness
        .output()
        .platform_output
        .commands
        .iter()
        .any(|command| matches!(command, egui::OutputCommand::CopyText(text) if *text == key));
    assert!(copied, "Copy puts the key on the clipboard");

    // Regenerate: a new key in the keychain; the old one is refused, the program's stream closed.
    click_in_view(&mut harness, "Regenerate");
    step_until(&mut harness, "a new key, served", |h| {
        h.state().api_addr().is_some()
            && vault
                .load_api_key()
                .ok()
                .flatten()
                .is_some_and(|new| new.expose() != key)
    });
    let new_key = vault.load_api_key().unwrap().unwrap().expose().to_owned();
    assert_eq!(status_code(&world, port, &key), Some(401));
    assert_eq!(status_code(&world, port, &new_key), Some(200));
    let closed = world.runtime.block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while next_text(&mut socket).await.is_some() {}
        })
        .await
    });
    assert!(closed.is_ok(), "the old key's stream is closed");

    // Off: nothing listens, and it stays off after a restart.
    click_in_view(&mut harness, API_TOGGLE);
    step_until(&mut harness, "the API stopped", |h| {
        h.state().api_addr().is_none()
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while status_code(&world, port, &new_key).is_some() {
        assert!(std::time::Instant::now() < deadline, "still listening after Off");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(!Settings::load(&world.settings_path()).unwrap().api.enabled);
    eframe::App::on_exit(harness.state_mut(), None);
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text message, or `None` once the socket closes (10 s at most).
async fn next_text(socket: &mut Socket) -> Option<String> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next()).await;
        match next.ok()?? {
            Ok(Message::Text(text)) => return Some(text.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

#[test]
fn on_a_small_screen_settings_stays_on_it_and_scrolls_to_its_last_section() {
    let world = World::new("small");
    let mut harness = world.harness_with(Settings::default(), Ok(Vault::session_only()));
    harness.set_size(egui::vec2(1024.0, 600.0));
    step_until(&mut harness, "streaming", connected);
    open_settings(&mut harness);
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1024.0, 600.0));
    let window = settings_rect(&harness);
    assert!(screen.contains_rect(window), "{window:?} runs off {screen:?}");
    // The toggle is below the fold at first, and on screen (inside the window) once scrolled to.
    let toggle = harness.get_by_label(API_TOGGLE).rect();
    assert!(toggle.top() > window.bottom(), "{toggle:?} was in view already");
    click_in_view(&mut harness, API_TOGGLE);
    let toggle = harness.get_by_label(API_TOGGLE).rect();
    assert!(
        window.contains_rect(toggle),
        "{toggle:?} not scrolled into {window:?}"
    );
    step_until(&mut harness, "the API listening", |h| {
        h.state().api_addr().is_some()
    });
    eframe::App::on_exit(harness.state_mut(), None);
}
