//! The window shell's desktop behaviour, driven by label with egui_kittest: closing hides instead of
//! quitting (and the stream goes on), Quit really quits, and the Settings window's toggles persist
//! across a restart and reach launch-at-login and the notifier.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use egui::{ViewportCommand, ViewportEvent, ViewportId};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use orderwatch::config::Settings;
use orderwatch::desktop::autostart;
use orderwatch::feed::FeedConfig;
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
        let entry = self.autostart_entry();
        let services = Services {
            runtime: self.runtime.handle().clone(),
            socket_url: self.sim.socket_url(),
            rest_url: self.sim.rest_url(),
            vault: Err("not needed".into()),
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
