//! The journal in the window: its health (banner), the day picker beside the tabs with the past
//! day being viewed (read-only, loaded on a thread), and CSV exports of the table on screen (the
//! CSV is made here, written to disk on a thread).

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use egui::RichText;
use parking_lot::RwLock;
use poll_promise::Promise;
use tokio::sync::watch;

use super::theme;
use crate::feed::SharedStore;
use crate::journal::{self, Health, Journal, Rows, Table};
use crate::store::{Store, day_label};

/// The folder exports go to, inside the data dir.
pub const EXPORTS_DIR: &str = "exports";

type Loading = Promise<Result<Store, String>>;

pub struct JournalView {
    journal: Journal,
    health: watch::Receiver<Health>,
    demo: bool,
    /// The days in the journal, newest first, once listed.
    days: Vec<NaiveDate>,
    listing: Option<Promise<Result<Vec<NaiveDate>, String>>>,
    loading: Option<(NaiveDate, Loading)>,
    /// The past day on screen instead of the live one.
    viewing: Option<(NaiveDate, SharedStore)>,
    exporting: Option<Promise<Result<(PathBuf, usize), String>>>,
    /// The last export's or load's outcome, for a banner: (is an error, text).
    pub message: Option<(bool, String)>,
}

impl std::fmt::Debug for JournalView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalView")
            .field("path", &self.journal.path())
            .field("viewing", &self.viewing.as_ref().map(|(day, _)| day))
            .finish_non_exhaustive()
    }
}

impl JournalView {
    pub fn new(journal: Journal, demo: bool) -> Self {
        let health = journal.health();
        Self {
            journal,
            health,
            demo,
            days: Vec::new(),
            listing: None,
            loading: None,
            viewing: None,
            exporting: None,
            message: None,
        }
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    pub fn health(&self) -> Health {
        self.health.borrow().clone()
    }

    /// The day on screen when it is not the live one.
    pub fn viewing(&self) -> Option<(NaiveDate, &SharedStore)> {
        self.viewing.as_ref().map(|(day, store)| (*day, store))
    }

    pub fn back_to_live(&mut self) {
        self.viewing = None;
        self.loading = None;
    }

    /// The days the picker offers (newest first), as last listed.
    pub fn days(&self) -> &[NaiveDate] {
        &self.days
    }

    /// Lists the journal's days again, on a thread.
    pub fn list_days(&mut self, ctx: &egui::Context) {
        if self.listing.is_some() {
            return;
        }
        let path = self.journal.path().to_path_buf();
        let ctx = ctx.clone();
        self.listing = Some(Promise::spawn_thread("journal days", move || {
            let days = journal::days(&path)
                .map(|days| days.into_iter().map(|(day, _)| day).collect())
                .map_err(|err| err.to_string());
            ctx.request_repaint();
            days
        }));
    }

    /// Opens a past day: read from the journal on a thread, shown when ready.
    pub fn open_day(&mut self, ctx: &egui::Context, day: NaiveDate) {
        let path = self.journal.path().to_path_buf();
        let ctx = ctx.clone();
        let loading = Promise::spawn_thread("journal day", move || {
            let loaded = journal::load_day(&path, day).map(|recorded| {
                let mut store = Store::new(journal::history_store_config());
                journal::restore(&mut store, recorded);
                store
            });
            ctx.request_repaint();
            loaded.map_err(|err| err.to_string())
        });
        self.loading = Some((day, loading));
    }

    /// Takes in what the threads finished.
    pub fn poll(&mut self) {
        if let Some(listing) = self.listing.take() {
            match listing.try_take() {
                Ok(Ok(days)) => self.days = days,
                Ok(Err(err)) => {
                    self.message = Some((true, format!("Could not list the journal's days: {err}")))
                }
                Err(listing) => self.listing = Some(listing),
            }
        }
        if let Some((day, loading)) = self.loading.take() {
            match loading.try_take() {
                Ok(Ok(store)) => self.viewing = Some((day, Arc::new(RwLock::new(store)))),
                Ok(Err(err)) => {
                    self.message = Some((true, format!("Could not open {}: {err}", day_label(day))));
                }
                Err(loading) => self.loading = Some((day, loading)),
            }
        }
        if let Some(exporting) = self.exporting.take() {
            match exporting.try_take() {
                Ok(Ok((path, rows))) => {
                    self.message = Some((false, format!("Exported {rows} rows to {}", path.display())));
                }
                Ok(Err(err)) => self.message = Some((true, format!("The export failed: {err}"))),
                Err(exporting) => self.exporting = Some(exporting),
            }
        }
    }

    pub fn is_loading(&self) -> Option<NaiveDate> {
        self.loading.as_ref().map(|(day, _)| *day)
    }

    /// Makes the CSV of `table` as shown (here: CPU only) and writes it on a thread.
    pub fn export(&mut self, ctx: &egui::Context, table: Table, store: &Store, rows: Rows<'_>) {
        let mut csv = Vec::new();
        let written = match journal::write_csv(&mut csv, table, store, rows) {
            Ok(written) => written,
            Err(err) => {
                self.message = Some((true, format!("The export failed: {err}")));
                return;
            }
        };
        let day = store
            .day()
            .map_or_else(|| "today".to_owned(), |day| day.to_string());
        let stamp = chrono::Local::now().format("%H%M%S");
        let name = format!("{}-{day}-{stamp}.csv", table.name());
        let dir = self.exports_dir();
        let ctx = ctx.clone();
        self.exporting = Some(Promise::spawn_thread("csv export", move || {
            let path = dir.join(name);
            let result = std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(&path, csv))
                .map(|()| (path, written))
                .map_err(|err| format!("cannot write {}: {err}", dir.display()));
            ctx.request_repaint();
            result
        }));
    }

    /// Where exports go: beside the journal.
    pub fn exports_dir(&self) -> PathBuf {
        let base = self
            .journal
            .path()
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default();
        base.join(if self.demo { "demo-exports" } else { EXPORTS_DIR })
    }

    /// The day picker: "Live" or a past day. Returns true if the choice changed.
    pub fn picker_ui(&mut self, ui: &mut egui::Ui, live_day: Option<NaiveDate>) {
        let shown = match (&self.viewing, self.is_loading()) {
            (_, Some(day)) => format!("Opening {}…", day_label(day)),
            (Some((day, _)), None) => day_label(*day),
            (None, None) => "Live (today)".to_owned(),
        };
        let mut chosen: Option<Option<NaiveDate>> = None;
        let response = egui::ComboBox::from_label("Day")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                if ui
                    .selectable_label(self.viewing.is_none(), "Live (today)")
                    .clicked()
                {
                    chosen = Some(None);
                }
                let viewing = self.viewing.as_ref().map(|(day, _)| *day);
                for day in self.days.iter().copied().filter(|day| Some(*day) != live_day) {
                    if ui
                        .selectable_label(viewing == Some(day), day_label(day))
                        .clicked()
                    {
                        chosen = Some(Some(day));
                    }
                }
                if self.days.iter().all(|day| Some(*day) == live_day) {
                    ui.label(RichText::new("No earlier days in the journal yet").weak());
                }
            });
        if response.response.clicked() {
            self.list_days(ui.ctx());
        }
        response
            .response
            .on_hover_text("Show a past trading day from the journal (read-only)");
        match chosen {
            Some(None) => self.back_to_live(),
            Some(Some(day)) => self.open_day(ui.ctx(), day),
            None => {}
        }
    }

    /// The strip that says a past day is on screen, with the way back.
    pub fn viewing_ui(&mut self, ui: &mut egui::Ui) {
        let Some((day, _)) = &self.viewing else {
            return;
        };
        let text = format!("Viewing {} from the journal: read-only", day_label(*day));
        let palette = theme::palette(ui);
        egui::Frame::new()
            .fill(palette.banner_warning)
            .inner_margin(egui::Margin::symmetric(10, 6))
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.horizontal(|ui| {
                    ui.label(RichText::new(text).strong());
                    if ui.button("Back to live").clicked() {
                        self.back_to_live();
                    }
                });
            });
    }
}
