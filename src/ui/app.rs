//! The app shell: reads the store once per frame, lays out the bar, cards, banners and tabs, and
//! turns what the user asked for into feed commands after drawing.

use std::time::{Duration, Instant};

use egui::{Key, KeyboardShortcut, Modifiers, RichText};

mod banners;

use super::diagnostics::diagnostics_ui;
use super::general::GeneralView;
use super::history::JournalView;
use super::orders::{self, OrdersView};
use super::positions::positions_ui;
use super::session::{SessionPanel, ShellRequest, session_ui};
use super::stats::stats_ui;
use super::toolbar::toolbar_ui;
use super::trades::TradesView;
use super::{Intent, Tab, session, theme};
use crate::feed::{Command, FeedHandle, SharedStore};
use crate::fyers::auth::Secret;
use crate::journal::{Rows, Table};
use crate::store::Store;

pub struct OrderwatchApp {
    store: SharedStore,
    feed: FeedHandle,
    account: String,
    tab: Tab,
    orders: OrdersView,
    trades: TradesView,
    general: GeneralView,
    focus_search: bool,
    dismissed: Vec<String>,
    /// Bad frames already acknowledged by dismissing their banner.
    bad_frames_dismissed: u64,
    /// A command the feed could not take (it is busy or stopped).
    command_error: Option<String>,
    /// Per event kind, the total at which "mark seen" was last sent.
    seen_sent: [u64; 4],
    /// The login behind the stream, as the shell reports it.
    pub session: SessionPanel,
    /// Something the user should know, shown as a banner until dismissed.
    pub notice: Option<String>,
    shell_requests: Vec<ShellRequest>,
    /// The journal (or why there is none): its health, past days, exports.
    pub journal: Option<Result<JournalView, String>>,
    /// The day whose store was drawn last frame (`None`: live), to drop rows cached for another.
    drawn_day: Option<chrono::NaiveDate>,
    /// Frames drawn lately, for Diagnostics.
    frames: super::repaint::FrameRate,
}

impl OrderwatchApp {
    pub fn new(store: SharedStore, feed: FeedHandle, account: impl Into<String>) -> Self {
        Self {
            store,
            feed,
            account: account.into(),
            tab: Tab::Orders,
            orders: OrdersView::default(),
            trades: TradesView::default(),
            general: GeneralView::default(),
            focus_search: false,
            dismissed: Vec::new(),
            bad_frames_dismissed: 0,
            command_error: None,
            seen_sent: [0; 4],
            session: SessionPanel::default(),
            notice: None,
            shell_requests: Vec::new(),
            journal: None,
            drawn_day: None,
            frames: Default::default(),
        }
    }

    /// The journal's view, when there is a journal.
    pub fn journal_view(&mut self) -> Option<&mut JournalView> {
        self.journal.as_mut().and_then(|journal| journal.as_mut().ok())
    }

    /// The store on screen: a past day's when one is being viewed, else the live one.
    fn shown_store(&mut self) -> (SharedStore, Option<chrono::NaiveDate>) {
        let viewing = self
            .journal_view()
            .and_then(|view| view.viewing().map(|(day, store)| (store.clone(), day)));
        let (store, day) = match viewing {
            Some((store, day)) => (store, Some(day)),
            None => (self.store.clone(), None),
        };
        if day != self.drawn_day {
            self.drawn_day = day;
            self.orders.forget_rows();
            self.trades.forget_rows();
            self.general.forget_rows();
        }
        (store, day)
    }

    /// Exports the current tab's table as shown.
    fn export(&mut self, ctx: &egui::Context, store: &Store) {
        let (table, rows) = match self.tab {
            Tab::Orders => (Table::Orders, Rows::Orders(self.orders.rows())),
            Tab::Trades => (Table::Trades, Rows::Trades(self.trades.rows())),
            Tab::Positions => (Table::Positions, Rows::All),
            Tab::General => (Table::General, Rows::General(self.general.rows())),
            Tab::Diagnostics => return,
        };
        if let Some(Ok(view)) = self.journal.as_mut() {
            view.export(ctx, table, store, rows);
        }
    }

    /// What the user asked of the account since the last call (log in again, renew, log out).
    pub fn take_requests(&mut self) -> Vec<ShellRequest> {
        std::mem::take(&mut self.shell_requests)
    }

    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    pub fn feed(&self) -> &FeedHandle {
        &self.feed
    }

    pub fn tab(&self) -> Tab {
        self.tab
    }

    /// Shows `tab`, as its number key does.
    pub fn set_tab(&mut self, tab: Tab) {
        self.tab = tab;
    }

    /// The order whose detail panel is open.
    pub fn selected_order(&self) -> Option<&str> {
        self.orders.selected.as_deref()
    }

    fn send(&mut self, command: Command) {
        if let Err(err) = self.feed.send(command) {
            self.command_error = Some(format!("Could not do that: {err}"));
        }
    }

    fn apply(&mut self, intent: Intent, ctx: &egui::Context) {
        match intent {
            Intent::Connect => self.send(Command::Connect),
            Intent::Disconnect => self.send(Command::Disconnect),
            Intent::Resync => self.send(Command::Resync),
            Intent::Subscribe(kind, on) => {
                let mut kinds = self.store.read().subscriptions.window.clone();
                if on {
                    kinds.insert(kind);
                } else {
                    kinds.remove(&kind);
                }
                self.send(Command::SetSubscriptions(kinds));
            }
            Intent::SetDark(dark) => ctx.set_theme(if dark {
                egui::Theme::Dark
            } else {
                egui::Theme::Light
            }),
            Intent::LogInAgain => self.shell_requests.push(ShellRequest::LogInAgain),
            Intent::RenewWithPin => {
                let pin = Secret::new(&std::mem::take(&mut self.session.pin));
                self.shell_requests.push(ShellRequest::Renew {
                    pin,
                    remember: self.session.remember_pin,
                });
            }
            Intent::LogOut => self.shell_requests.push(ShellRequest::LogOut),
            Intent::OpenSettings => self.shell_requests.push(ShellRequest::OpenSettings),
            Intent::Quit => self.shell_requests.push(ShellRequest::Quit),
        }
    }

    /// 1–5 switch tabs (unless typing), Ctrl+F searches, Esc clears the search or closes the detail.
    fn keys(&mut self, ctx: &egui::Context) {
        let find = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);
        if ctx.input_mut(|input| input.consume_shortcut(&find)) {
            self.focus_search = true;
        }
        if ctx.input_mut(|input| input.consume_key(Modifiers::NONE, Key::Escape)) {
            let search = match self.tab {
                Tab::Orders => Some(&mut self.orders.search),
                Tab::Trades => Some(&mut self.trades.search),
                Tab::General => Some(&mut self.general.search),
                Tab::Positions | Tab::Diagnostics => None,
            };
            match search {
                Some(search) if !search.is_empty() => search.clear(),
                _ => self.orders.selected = None,
            }
        }
        // A clicked button keeps keyboard focus, so only typing in a search box stops the keys.
        if !super::table::typing_in_search(ctx) {
            for tab in Tab::ALL {
                if ctx.input_mut(|input| input.consume_key(Modifiers::NONE, tab.key())) {
                    self.tab = tab;
                }
            }
        }
    }

    fn tabs_ui(&mut self, ui: &mut egui::Ui, store: &Store, wants_export: &mut bool) {
        let palette = theme::palette(ui);
        ui.horizontal(|ui| {
            for tab in Tab::ALL {
                let unseen = tab.kind().map_or(0, |kind| store.count(kind).unseen);
                let mut title = RichText::new(tab.label());
                if self.tab == tab {
                    title = title.strong();
                }
                let response = ui
                    .selectable_label(self.tab == tab, title)
                    .on_hover_text(format!("Key {}", tab.number()));
                if unseen > 0 && self.tab != tab {
                    ui.label(RichText::new(format!("+{unseen}")).small().color(palette.pending));
                }
                if response.clicked() {
                    self.tab = tab;
                }
            }
            let live_day = self.store.try_read().and_then(|live| live.day());
            let exportable = self.tab != Tab::Diagnostics;
            if let Some(Ok(view)) = self.journal.as_mut() {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let export = ui
                        .add_enabled(exportable, egui::Button::new("Export CSV"))
                        .on_hover_text("Save this table, as filtered and sorted, as a CSV file");
                    if export.clicked() {
                        *wants_export = true;
                    }
                    view.picker_ui(ui, live_day.or(store.day()));
                });
            }
        });
        ui.separator();
    }
}

/// A panel along the top, drawn on the window's clear colour.
fn top_panel(id: &'static str, ui: &egui::Ui) -> egui::Panel {
    egui::Panel::top(id).frame(theme::bare_panel(egui::Frame::side_top_panel(ui.style())))
}

impl eframe::App for OrderwatchApp {
    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        theme::clear_color(visuals)
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.keys(&ctx);
        let now = Instant::now();
        self.frames.frame(now);
        if let Some(view) = self.journal_view() {
            view.poll();
        }
        let (shared, history) = self.shown_store();
        let store = shared.read();
        // The bar, the session and the banners are the live connection's, whatever day is shown.
        // (A separate lock: on the live day `store` is already the live store.)
        let live_shared = self.store.clone();
        let live_lock = history.is_some().then(|| live_shared.read());
        let live: &Store = live_lock.as_deref().unwrap_or(&store);
        let refresh_in = match self.tab {
            Tab::Orders => self.orders.refresh(&store, now),
            Tab::Trades => self.trades.refresh(&store, now),
            Tab::Positions | Tab::General | Tab::Diagnostics => None,
        };
        let mut intents = Vec::new();
        top_panel("toolbar", ui).show(ui, |ui| {
            ui.add_space(4.0);
            toolbar_ui(ui, live, &self.account, &self.session, &mut intents);
            ui.add_space(2.0);
        });
        top_panel("stats", ui).show(ui, |ui| {
            ui.add_space(theme::SPACING / 2.0);
            stats_ui(ui, &store);
            ui.add_space(theme::SPACING / 2.0);
        });
        if session::session_over(live) || live.session.ending_soon {
            top_panel("session", ui).show(ui, |ui| {
                session_ui(ui, live, &mut self.session, &mut intents);
            });
        }
        let banners = self.banners(live);
        let bad_frames = live.bad_frames();
        if !banners.is_empty() {
            top_panel("banners", ui).show(ui, |ui| self.banners_ui(ui, banners, bad_frames));
        }
        if history.is_some()
            && let Some(view) = self.journal_view()
        {
            top_panel("history", ui).show(ui, |ui| view.viewing_ui(ui));
        }
        let mut wants_export = false;
        let selected = (self.tab == Tab::Orders)
            .then(|| self.orders.selected.as_ref().and_then(|id| store.orders.get(id)))
            .flatten();
        if let Some(entry) = selected {
            egui::Panel::right("order detail")
                .frame(theme::bare_panel(egui::Frame::side_top_panel(ui.style())))
                .default_size(380.0)
                .resizable(true)
                .show(ui, |ui| {
                    if !orders::detail_ui(ui, entry) {
                        self.orders.selected = None;
                    }
                });
        }
        egui::CentralPanel::default()
            .frame(theme::bare_panel(egui::Frame::central_panel(ui.style())))
            .show(ui, |ui| {
                self.tabs_ui(ui, &store, &mut wants_export);
                let focus = std::mem::take(&mut self.focus_search);
                match self.tab {
                    Tab::Orders => self.orders.ui(ui, &store, focus),
                    Tab::Trades => self.trades.ui(ui, &store, focus),
                    Tab::Positions => positions_ui(ui, &store),
                    Tab::General => self.general.ui(ui, &store, focus),
                    Tab::Diagnostics => diagnostics_ui(ui, &store, self.frames.per_second(now)),
                }
            });
        if wants_export {
            self.export(&ctx, &store);
        }
        // A past day is read-only: nothing is marked seen on the live store from it.
        let visible_unseen = self.tab.kind().filter(|_| history.is_none()).and_then(|kind| {
            let count = store.count(kind);
            (count.unseen > 0 && count.total > self.seen_sent[kind.index()]).then_some((kind, count.total))
        });
        // Timers on screen ("last message 12 s ago", the reconnect countdown) tick once a second;
        // otherwise the feed's repaint request is the only thing that wakes the window.
        let ticking = !live.connection.is_at_rest();
        drop(live_lock);
        drop(store);
        if let Some((kind, total)) = visible_unseen {
            // Not the user's request: if the feed is busy, the next frame tries again.
            if self.feed.send(Command::MarkSeen(kind)).is_ok() {
                self.seen_sent[kind.index()] = total;
            }
        }
        for intent in intents {
            self.apply(intent, &ctx);
        }
        if let Some(wait) = refresh_in {
            ctx.request_repaint_after(wait);
        }
        if ticking {
            ctx.request_repaint_after(Duration::from_secs(1));
        }
    }
}
