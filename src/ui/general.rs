//! The General tab: price alerts, eDIS and login notices, server errors; raw JSON on demand.

use egui::RichText;

use super::{format, table, theme};
use crate::store::Store;

#[derive(Debug, Default)]
pub struct GeneralView {
    pub search: String,
    /// Which message (by position from the newest) shows its raw JSON.
    pub expanded: Option<usize>,
}

impl GeneralView {
    pub fn ui(&mut self, ui: &mut egui::Ui, store: &Store, focus_search: bool) {
        ui.horizontal(|ui| {
            table::search_ui(ui, &mut self.search, "Search messages…", focus_search);
            ui.label(RichText::new(format!("{} messages kept", store.general().len())).weak());
        });
        ui.add_space(theme::SPACING / 2.0);
        let needle = self.search.trim().to_ascii_lowercase();
        let palette = theme::palette(ui);
        egui::ScrollArea::vertical()
            .id_salt("general messages")
            .auto_shrink(false)
            .show(ui, |ui| {
                egui::Grid::new("general grid")
                    .num_columns(4)
                    .striped(true)
                    .spacing([12.0, 6.0])
                    .show(ui, |ui| {
                        for (index, entry) in store.general().rev().enumerate() {
                            let summary = entry.event.summary();
                            let kind = entry.event.kind.label();
                            if !table::contains_ignore_case(&summary, &needle)
                                && !table::contains_ignore_case(kind, &needle)
                            {
                                continue;
                            }
                            let when = entry.event.time_epoch().unwrap_or(entry.received_ms / 1000);
                            ui.label(format::clock(when));
                            let color = match entry.event.kind {
                                crate::fyers::model::GeneralKind::Error => palette.error,
                                crate::fyers::model::GeneralKind::PriceAlert => palette.pending,
                                _ => palette.muted,
                            };
                            ui.label(RichText::new(kind).color(color).strong());
                            ui.label(summary);
                            let open = self.expanded == Some(index);
                            if ui
                                .small_button(if open { "Hide JSON" } else { "Raw JSON" })
                                .clicked()
                            {
                                self.expanded = if open { None } else { Some(index) };
                            }
                            ui.end_row();
                            if open {
                                ui.label("");
                                ui.label("");
                                let raw = serde_json::to_string_pretty(&entry.event.raw).unwrap_or_default();
                                ui.label(RichText::new(raw).monospace());
                                ui.end_row();
                            }
                        }
                    });
            });
    }
}
