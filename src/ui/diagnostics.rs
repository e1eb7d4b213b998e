//! The Diagnostics tab: throughput, bad frames with their payloads, the connection log.

use std::time::Instant;

use egui::RichText;

use super::{format, theme};
use crate::store::{Store, now_ms};

/// `repaints`: frames the window drew per second lately.
pub fn diagnostics_ui(ui: &mut egui::Ui, store: &Store, repaints: f64) {
    let palette = theme::palette(ui);
    let now = now_ms();
    egui::ScrollArea::vertical()
        .id_salt("diagnostics")
        .auto_shrink(false)
        .show(ui, |ui| {
            egui::Grid::new("diagnostics numbers")
                .num_columns(2)
                .spacing([24.0, 4.0])
                .show(ui, |ui| {
                    let rows = [
                        (
                            "Frames per second",
                            format!("{:.0}", store.frames_per_second(Instant::now())),
                        ),
                        ("Frames received", format::quantity(store.frames() as i64)),
                        (
                            "Window repaints per second",
                            format!("{repaints:.1} (at most ~10 while streaming)"),
                        ),
                        ("Bad frames", format::quantity(store.bad_frames() as i64)),
                        ("Duplicates dropped", format::quantity(store.duplicates() as i64)),
                        (
                            "Out-of-order updates kept out",
                            format::quantity(store.stale() as i64),
                        ),
                        ("Reconnects", store.reconnects().to_string()),
                        (
                            "Orders held / evicted",
                            format!("{} / {}", store.orders.len(), store.orders.evicted()),
                        ),
                        (
                            "Last REST resync",
                            store.resync.last_ok_ms.map_or_else(
                                || "never".to_owned(),
                                |at| {
                                    let ago = crate::store::age(now, at).as_secs();
                                    format!(
                                        "{} ago: {} rows, {} changed",
                                        format::duration(ago),
                                        store.resync.rows,
                                        store.resync.changed
                                    )
                                },
                            ),
                        ),
                    ];
                    for (label, value) in rows {
                        ui.label(RichText::new(label).weak());
                        ui.label(value);
                        ui.end_row();
                    }
                    if let Some(error) = &store.resync.error {
                        ui.label(RichText::new("REST resync").weak());
                        ui.label(RichText::new(error).color(palette.error));
                        ui.end_row();
                    }
                    market_rows(ui, store, palette.error);
                });
            mismatches_ui(ui, store, palette.error);
            ui.add_space(theme::SPACING);
            ui.heading("Recent bad frames");
            if store.recent_bad_frames().len() == 0 {
                ui.label(RichText::new("None: every frame so far was read.").weak());
            }
            for bad in store.recent_bad_frames().rev() {
                ui.horizontal_wrapped(|ui| {
                    ui.label(format::clock(bad.received_ms / 1000));
                    ui.label(RichText::new(&bad.error).color(palette.error));
                    ui.label(RichText::new(format!("{} bytes", format::quantity(bad.len as i64))).weak());
                });
                let mut shown: String = bad.payload.chars().take(300).collect();
                if bad.len > shown.len() {
                    shown.push('…');
                }
                ui.label(RichText::new(shown).monospace().small());
                ui.separator();
            }
            ui.add_space(theme::SPACING);
            ui.heading("Connection log");
            for note in store.connection_log().rev().take(100) {
                ui.horizontal_wrapped(|ui| {
                    ui.label(format::clock(note.at_ms / 1000));
                    ui.label(&note.text);
                });
            }
        });
}

/// The market-data socket, and how the live P&L formula fares against Fyers' own numbers.
fn market_rows(ui: &mut egui::Ui, store: &Store, error: egui::Color32) {
    let marks = store.marks();
    let state = if marks.status.is_empty() {
        "off"
    } else {
        marks.status.as_str()
    };
    let mismatched = marks.mismatches.len();
    let check = format!(
        "{} resync rows checked, {mismatched} differ (unrealized = (LTP − net avg) × net qty × multiplier)",
        format::quantity(marks.checked as i64)
    );
    let rows = [
        ("Market data", RichText::new(state)),
        (
            "Price ticks received",
            RichText::new(format::quantity(marks.ticks as i64)),
        ),
        (
            "P&L formula vs Fyers",
            if mismatched > 0 {
                RichText::new(check).color(error)
            } else {
                RichText::new(check)
            },
        ),
    ];
    for (label, value) in rows {
        ui.label(RichText::new(label).weak());
        ui.label(value);
        ui.end_row();
    }
}

fn mismatches_ui(ui: &mut egui::Ui, store: &Store, error: egui::Color32) {
    let mismatches = &store.marks().mismatches;
    if mismatches.is_empty() {
        return;
    }
    ui.add_space(theme::SPACING);
    ui.heading("P&L that differs from Fyers");
    for mismatch in mismatches.iter().rev() {
        ui.horizontal_wrapped(|ui| {
            ui.label(format::clock(mismatch.at_ms / 1000));
            ui.label(mismatch.symbol.as_str());
            ui.label(
                RichText::new(format!(
                    "ours {} · Fyers {}",
                    format::rupees(mismatch.ours),
                    format::rupees(mismatch.fyers)
                ))
                .color(error),
            );
        });
    }
}
