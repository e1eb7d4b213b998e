//! The desktop app's shell, above the views (`ui`) and the desktop services (`desktop`): it wires
//! the runtime, the feed, the notifier, the simulator and the tray together, opens the window
//! (`run_desktop`), and shows the first-run "Connect your Fyers account" screen or the monitor,
//! with the account work between them (log in, renew, log out, the demo) run on the runtime and
//! picked up by polling a promise each frame. Secrets go from the login straight to the vault and
//! the feed.

mod api;
mod finish;
mod flows;
mod launch;
mod services;
mod window;

pub use launch::run_desktop;
pub use services::{
    Autostart, Browser, NotificationSinks, Services, system_autostart, system_browser, system_notifications,
};

use std::sync::Arc;

use parking_lot::RwLock;
use poll_promise::Promise;

use crate::account::{BrowserLogin, Session, Stored};
use crate::config::NotificationSettings;
use crate::config::{SavedAccount, Settings};
use crate::desktop::notify;
use crate::desktop::tray::{Tray, TrayState};
use crate::feed::{self, Command, FeedConfig};
use crate::format::capitalised;
use crate::fyers::auth::Secret;
use crate::fyers::login::{AppCredentials, LoginError};
use crate::secrets::Vault;
use crate::sim::Sim;
use crate::store::Store;
use crate::ui::OrderwatchApp;
use crate::ui::history::JournalView;
use crate::ui::login::ConnectView;
use crate::ui::theme;

/// How the window opens.
#[allow(clippy::large_enum_variant, reason = "made once, at start")]
pub enum Start {
    /// The first-run screen (no saved login, or it could not be used: `notice` says why).
    Connect {
        saved: Option<SavedAccount>,
        secret_saved: bool,
        notice: Option<String>,
    },
    /// Straight to the monitor. `saved` is the account it belongs to, if it is a saved login.
    Monitor {
        config: FeedConfig,
        account: String,
        saved: Option<(SavedAccount, Stored)>,
        sim: Option<Sim>,
    },
}

/// The saved account behind a monitor, and its secrets (needed again to renew or log in again).
struct Linked {
    saved: SavedAccount,
    stored: Stored,
}

struct Monitor {
    app: OrderwatchApp,
    linked: Option<Linked>,
    _sim: Option<Sim>,
}

enum Screen {
    Connect(Box<ConnectView>),
    Monitor(Box<Monitor>),
}

/// Work under way; one at a time.
enum Job {
    /// Binding the listener and building the login page address.
    Starting(Promise<Result<BrowserLogin, LoginError>>),
    /// Waiting for the browser to come back; `state` checks a pasted redirect.
    Waiting {
        state: String,
        url: String,
        wait: Option<Promise<Result<Secret, LoginError>>>,
    },
    /// Exchanging, checking and saving.
    Finishing(Promise<Result<Session, String>>),
    Demo(Promise<Result<Sim, String>>),
    LoggingOut(Promise<Result<(), String>>),
}

/// The account a login is for, kept until it finishes.
struct Attempt {
    app: AppCredentials,
    redirect_uri: String,
    /// Keep the PIN (renewals only, by the user's choice).
    pin: Option<Secret>,
}

pub struct DesktopApp {
    services: Services,
    settings: Settings,
    ctx: egui::Context,
    screen: Screen,
    job: Option<Job>,
    attempt: Option<Attempt>,
    /// The saved theme is applied on the first frame, after whatever the host set up.
    theme_applied: bool,
    /// Secrets of a session-only login, when there is no keychain.
    memory_vault: Option<Vault>,
    tray: Option<Tray>,
    window_visible: bool,
    /// Quit was asked for: the next close request really closes.
    quitting: bool,
    settings_open: bool,
    /// Why the last settings change could not be applied.
    settings_problem: Option<String>,
    /// What the notifier reads; replaced as the user changes the settings.
    notification_settings: Arc<RwLock<NotificationSettings>>,
    first_frame_done: bool,
    /// The window commands sent, newest last (a few): what closing, hiding and quitting did.
    window_commands: Vec<egui::ViewportCommand>,
    /// The local API for the trader's programs (Settings turns it on).
    api: api::LocalApi,
}

impl DesktopApp {
    pub fn new(ctx: &egui::Context, services: Services, settings: Settings, start: Start) -> Self {
        let settings_notifications = settings.notifications.clone();
        let api = api::LocalApi::new(&settings.api.allowed_origins);
        let mut app = Self {
            services,
            settings,
            ctx: ctx.clone(),
            screen: Screen::Connect(Box::default()),
            job: None,
            attempt: None,
            theme_applied: false,
            memory_vault: None,
            tray: None,
            window_visible: true,
            quitting: false,
            settings_open: false,
            settings_problem: None,
            notification_settings: Arc::new(RwLock::new(settings_notifications)),
            first_frame_done: false,
            window_commands: Vec::new(),
            api,
        };
        if app.services.tray {
            match Tray::new(&TrayState::default()) {
                Ok(mut tray) => {
                    // A click in the tray menu wakes a hidden, idle window to act on it.
                    let ctx = ctx.clone();
                    tray.set_waker(move || ctx.request_repaint());
                    app.tray = Some(tray);
                }
                Err(err) => tracing::warn!(%err, "no tray icon; closing the window will minimise it"),
            }
        }
        match start {
            Start::Connect {
                saved,
                secret_saved,
                notice,
            } => app.show_connect(saved.as_ref(), secret_saved, notice),
            Start::Monitor {
                config,
                account,
                saved,
                sim,
            } => {
                let linked = saved.map(|(saved, stored)| Linked { saved, stored });
                app.show_monitor(config, account, linked, sim);
            }
        }
        app
    }

    /// The monitor, when it is showing (tests).
    pub fn monitor(&self) -> Option<&OrderwatchApp> {
        match &self.screen {
            Screen::Monitor(monitor) => Some(&monitor.app),
            Screen::Connect(_) => None,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Where the local API listens, while it does.
    pub fn api_addr(&self) -> Option<std::net::SocketAddr> {
        self.api.addr()
    }

    fn connect_view(&mut self) -> Option<&mut ConnectView> {
        match &mut self.screen {
            Screen::Connect(view) => Some(view),
            Screen::Monitor(_) => None,
        }
    }

    fn show_connect(&mut self, saved: Option<&SavedAccount>, secret_saved: bool, notice: Option<String>) {
        let mut view = ConnectView::default();
        view.keychain = self
            .services
            .vault
            .as_ref()
            .map(drop)
            .map_err(|why| capitalised(why));
        view.notice = notice;
        if let Some(saved) = saved {
            view.app_id = saved.app_id.clone();
            view.redirect_uri = saved.redirect_uri.clone();
            view.secret_saved = secret_saved;
        }
        // No account: the API answers 503 and its streams are closed.
        self.api.attachment.set(None);
        self.screen = Screen::Connect(Box::new(view));
    }

    fn show_monitor(
        &mut self,
        mut config: FeedConfig,
        account: String,
        linked: Option<Linked>,
        sim: Option<Sim>,
    ) {
        config.subscriptions = self.settings.subscriptions();
        config.timing = self.services.timing;
        let journal = self.services.data_dir.as_deref().map(|dir| {
            crate::journal::open_in(Some(dir), sim.is_some(), self.settings.keep_days).map_err(|err| {
                tracing::warn!(%err, "no journal");
                err.to_string()
            })
        });
        config.journal = journal.clone().and_then(Result::ok);
        let mut fresh = Store::default();
        fresh.set_rates(self.settings.charges.clone());
        let store = Arc::new(RwLock::new(fresh));
        let ctx = self.ctx.clone();
        let (feed, hub) = {
            let _runtime = self.services.runtime.enter();
            // Notifications live beside the feed, not in drawing code: they go on while hidden.
            let notifier = self.services.notifications.as_ref().map(|sinks| {
                let (taps, received) = tokio::sync::mpsc::channel(1024);
                notify::spawn(received, self.notification_settings.clone(), sinks());
                taps
            });
            // The local API's hub sees what the feed applies first, then the notifier.
            let (hub, tap) = api::tap_for(&store, notifier);
            // Batches ask for a frame at most every 100 ms, price ticks every 250 ms; input still
            // repaints at once.
            let pacer = Arc::new(crate::ui::repaint::Pacer::new(ctx));
            let mut config = config;
            let prices = pacer.clone();
            config.price_repaint = Some(feed::PriceRepaint(Arc::new(move || prices.request_prices())));
            let (feed, _task) = feed::spawn(
                config,
                store.clone(),
                Box::new(move || pacer.request()),
                Some(tap),
            );
            (feed, hub)
        };
        self.api
            .attachment
            .set(Some(api::stream(store.clone(), feed.clone(), hub)));
        let mut app = OrderwatchApp::new(store, feed, account);
        app.journal = journal.map(|journal| journal.map(|journal| JournalView::new(journal, sim.is_some())));
        if let Some(linked) = &linked {
            app.session.account = true;
            app.session.renewable = linked.stored.refresh.is_some() && linked.stored.secret.is_some();
            app.session.pin_saved = linked.stored.pin.is_some();
            app.session.remember_pin = linked.saved.remember_pin;
        }
        self.screen = Screen::Monitor(Box::new(Monitor {
            app,
            linked,
            _sim: sim,
        }));
    }

    /// Runs `future` on the runtime and wakes the window when it is done.
    fn spawn<T: Send + 'static>(&self, future: impl Future<Output = T> + Send + 'static) -> Promise<T> {
        let _runtime = self.services.runtime.enter();
        let ctx = self.ctx.clone();
        Promise::spawn_async(async move {
            let value = future.await;
            ctx.request_repaint();
            value
        })
    }

    fn save_settings(&mut self) {
        let Some(path) = &self.services.settings_path else {
            return;
        };
        if let Err(err) = self.settings.save(path) {
            tracing::warn!(%err, "settings not saved");
        }
    }

    /// Remembers what the user set up, for next time.
    fn capture_settings(&mut self, ctx: &egui::Context) {
        self.settings.dark = ctx.theme() == egui::Theme::Dark;
        if let Some(rect) = ctx.input(|input| input.viewport().inner_rect) {
            self.settings.window_size = Some([rect.width(), rect.height()]);
        }
        if let Screen::Monitor(monitor) = &self.screen {
            let wanted = monitor.app.store().read().subscriptions.window.clone();
            self.settings.set_subscriptions(&wanted);
        }
    }
}

impl eframe::App for DesktopApp {
    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        theme::clear_color(visuals)
    }

    /// Runs every frame, even while the window is hidden in the tray.
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        if !std::mem::replace(&mut self.first_frame_done, true) && self.services.start_hidden {
            self.hide_window(ctx);
        }
        self.poll_job();
        self.api_poll();
        self.api_follow_settings();
        self.close_requested(ctx);
        self.tray_tick(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        if !std::mem::replace(&mut self.theme_applied, true) {
            ui.ctx().set_theme(if self.settings.dark {
                egui::Theme::Dark
            } else {
                egui::Theme::Light
            });
        }
        match &mut self.screen {
            Screen::Connect(view) => {
                let mut request = None;
                egui::CentralPanel::default()
                    .frame(theme::bare_panel(egui::Frame::central_panel(ui.style())))
                    .show(ui, |ui| request = view.ui(ui));
                if let Some(request) = request {
                    self.connect_request(request);
                }
            }
            Screen::Monitor(monitor) => {
                monitor.app.ui(ui, frame);
                for request in monitor.app.take_requests() {
                    self.shell_request(request);
                }
            }
        }
        if self.settings_open {
            self.settings_window(ui.ctx());
        }
        if self.job.is_some() {
            // Promises wake the window when they finish; this is a backstop.
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(250));
        }
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.tray = None;
        let ctx = self.ctx.clone();
        self.capture_settings(&ctx);
        self.save_settings();
        self.cancel_job();
        self.api_shutdown();
        if let Screen::Monitor(monitor) = &self.screen {
            let feed = monitor.app.feed().clone();
            // Close the socket cleanly before the runtime goes.
            let _ = self.services.runtime.block_on(async {
                tokio::time::timeout(std::time::Duration::from_secs(2), feed.command(Command::Shutdown)).await
            });
        }
    }
}
