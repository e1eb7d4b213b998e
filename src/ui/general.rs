//! The General tab: price alerts, eDIS and login notices, server errors; raw JSON on demand. Only
//! the rows in sight are laid out, each summary was worked out once when its message arrived, and
//! the message whose raw JSON is open stays open while new ones arrive.

use std::time::Instant;

use egui::RichText;
use egui_extras::{Column, TableBuilder};

use super::table::{self, RowCache};
use super::{format, theme};
use crate::fyers::model::GeneralKind;
use crate::store::Store;

const ROW_HEIGHT: f32 = 22.0;

#[derive(Debug, Default)]
pub struct GeneralView {
    pub search: String,
    /// The message (by its number) that shows its raw JSON.
    pub expanded: Option<u64>,
    /// The messages shown, newest first, by number.
    rows: RowCache<u64>,
    /// The open message's JSON, pretty-printed once.
    raw: Option<(u64, String)>,
}

impl GeneralView {
    /// The rows as shown: filtered and sorted.
    pub fn rows(&self) -> &[u64] {
        &self.rows.rows
    }

    /// Another store is on screen: the cached rows are not its.
    pub fn forget_rows(&mut self) {
        self.rows = RowCache::default();
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, store: &Store, focus_search: bool) {
        ui.horizontal(|ui| {
            table::search_ui(ui, &mut self.search, "Search messages…", focus_search);
            ui.label(RichText::new(format!("{} messages kept", store.general().len())).weak());
        });
        ui.add_space(theme::SPACING / 2.0);
        let needle = self.search.trim().to_ascii_lowercase();
        let pending = self.rows.refresh(
            store.version(),
            table::query_hash(&needle),
            Instant::now(),
            || {
                store
                    .general()
                    .rev()
                    .filter(|entry| {
                        table::contains_ignore_case(&entry.summary, &needle)
                            || table::contains_ignore_case(entry.event.kind.label(), &needle)
                    })
                    .map(|entry| entry.seq)
                    .collect()
            },
        );
        if let Some(after) = pending {
            ui.ctx().request_repaint_after(after);
        }
        if let Some(seq) = self.expanded
            && self.raw.as_ref().is_none_or(|(shown, _)| *shown != seq)
        {
            self.raw = store.general_entry(seq).map(|entry| {
                (
                    seq,
                    serde_json::to_string_pretty(&entry.event.raw).unwrap_or_default(),
                )
            });
        }
        let raw_lines = self.raw.as_ref().map_or(0, |(_, raw)| raw.lines().count());
        let json_line = ui.text_style_height(&egui::TextStyle::Monospace) + 1.0;
        let heights: Vec<f32> = self
            .rows
            .rows
            .iter()
            .map(|seq| match self.expanded {
                Some(open) if open == *seq => ROW_HEIGHT + raw_lines as f32 * json_line + 8.0,
                _ => ROW_HEIGHT,
            })
            .collect();
        let palette = theme::palette(ui);
        let mut toggled = None;
        TableBuilder::new(ui)
            .id_salt("general messages")
            .striped(true)
            .resizable(true)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Min))
            .column(Column::exact(70.0))
            .column(Column::exact(90.0))
            .column(Column::remainder().at_least(200.0).clip(true))
            .column(Column::exact(90.0))
            .body(|body| {
                body.heterogeneous_rows(heights.into_iter(), |mut row| {
                    let Some(entry) = self
                        .rows
                        .rows
                        .get(row.index())
                        .and_then(|seq| store.general_entry(*seq))
                    else {
                        return;
                    };
                    let open = self.expanded == Some(entry.seq);
                    let when = entry.event.time_epoch().unwrap_or(entry.received_ms / 1000);
                    row.col(|ui| {
                        ui.label(format::clock(when));
                    });
                    let color = match entry.event.kind {
                        GeneralKind::Error => palette.error,
                        GeneralKind::PriceAlert => palette.pending,
                        _ => palette.muted,
                    };
                    row.col(|ui| {
                        ui.label(RichText::new(entry.event.kind.label()).color(color).strong());
                    });
                    row.col(|ui| {
                        ui.vertical(|ui| {
                            ui.label(&entry.summary);
                            if open && let Some((_, raw)) = &self.raw {
                                // Every line of it: table cells truncate labels to one line.
                                ui.add(egui::Label::new(RichText::new(raw).monospace()).wrap());
                            }
                        });
                    });
                    row.col(|ui| {
                        if ui
                            .small_button(if open { "Hide JSON" } else { "Raw JSON" })
                            .clicked()
                        {
                            toggled = Some(entry.seq);
                        }
                    });
                });
            });
        if let Some(seq) = toggled {
            self.expanded = if self.expanded == Some(seq) {
                None
            } else {
                Some(seq)
            };
        }
    }
}
