//! The Positions tab: net positions with coloured P&L, a totals row, and the day's P&L chart.

use egui::RichText;
use egui_extras::{Column, TableBuilder};
use egui_plot::{Line, Plot, PlotPoints};

use super::{format, table, theme};
use crate::fyers::model::{IST_OFFSET_SECS, Position, PositionSide};
use crate::store::{Freshness, LivePnl, Store, day_label, now_ms, session_ms, trading_day};

/// Seconds since midnight IST, as hours, for the chart's x axis.
fn ist_hours(at_ms: i64) -> f64 {
    let ist_secs = at_ms / 1000 + IST_OFFSET_SECS;
    ist_secs.rem_euclid(86_400) as f64 / 3600.0
}

fn side_label(position: &Position) -> &'static str {
    match position.side {
        Some(PositionSide::Long) => "Long",
        Some(PositionSide::Short) => "Short",
        Some(PositionSide::Closed) => "Closed",
        _ => match position.net_qty.unwrap_or(0) {
            0 => "Closed",
            net if net > 0 => "Long",
            _ => "Short",
        },
    }
}

pub fn positions_ui(ui: &mut egui::Ui, store: &Store) {
    let palette = theme::palette(ui);
    let aggregates = store.aggregates();
    let points: Vec<[f64; 2]> = store
        .pnl_history()
        .map(|point| [ist_hours(point.at_ms), point.total])
        .collect();
    // The axis is that day's trading session (09:15 to 15:30 IST), widened to any point outside it.
    let session = store
        .day()
        .map(session_ms)
        .map(|(open, close)| (ist_hours(open), ist_hours(close)));
    let title = match store.day() {
        Some(day) if day != trading_day(now_ms()) => format!("Total P&L on {}", day_label(day)),
        _ => "Total P&L today".to_owned(),
    };
    ui.horizontal(|ui| {
        ui.label(RichText::new(title).strong());
        ui.label(
            RichText::new(format::rupees(aggregates.total_pnl))
                .color(palette.pnl(aggregates.total_pnl))
                .strong(),
        );
        ui.label(
            RichText::new(format!(
                "{} open of {} positions",
                aggregates.open_positions,
                store.positions().len()
            ))
            .weak(),
        );
        prices_ui(ui, store);
    });
    let line_color = palette.pnl(aggregates.total_pnl);
    let mut plot = Plot::new("pnl chart");
    if let Some((open, close)) = session {
        plot = plot.include_x(open).include_x(close);
    }
    plot.height(130.0)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .x_axis_formatter(|mark, range| {
            // Hours since midnight IST; seconds matter when the chart spans only minutes.
            let seconds = (mark.value * 3600.0).round() as i64;
            let (hours, minutes, secs) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
            if range.end() - range.start() < 0.25 {
                format!("{hours:02}:{minutes:02}:{secs:02}")
            } else {
                format!("{hours:02}:{minutes:02}")
            }
        })
        .y_axis_formatter(|mark, _range| format::rupees(mark.value))
        .show(ui, |plot| {
            plot.line(Line::new("Total P&L", PlotPoints::from(points)).color(line_color));
        });
    ui.add_space(theme::SPACING);
    let now = now_ms();
    let mut positions: Vec<(&Position, LivePnl)> = store
        .positions()
        .map(|entry| (&entry.position, store.live_pnl(entry, now)))
        .collect();
    // Open positions first, then by symbol.
    positions.sort_by(|(a, _), (b, _)| {
        (a.net_qty.unwrap_or(0) == 0)
            .cmp(&(b.net_qty.unwrap_or(0) == 0))
            .then_with(|| a.symbol.cmp(&b.symbol))
    });
    let titles = [
        "Symbol",
        "Product",
        "Side",
        "Net qty",
        "Buy qty",
        "Buy avg",
        "Sell qty",
        "Sell avg",
        "LTP",
        "Realized",
        "Unrealized",
        "Total P&L",
    ];
    // Narrow windows scroll sideways rather than hide columns.
    egui::ScrollArea::horizontal()
        .id_salt("positions scroll")
        .show(ui, |ui| {
            let mut builder = TableBuilder::new(ui)
                .id_salt("positions table")
                .striped(true)
                .resizable(true)
                .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
                .column(Column::remainder().at_least(150.0).clip(true));
            // Fixed numeric columns, the last one clear of the scroll bar.
            for width in [
                80.0, 56.0, 70.0, 70.0, 90.0, 70.0, 90.0, 90.0, 110.0, 110.0, 118.0,
            ] {
                builder = builder.column(Column::exact(width));
            }
            builder
                .header(22.0, |mut header| {
                    for title in titles {
                        header.col(|ui| {
                            ui.label(RichText::new(title).strong());
                        });
                    }
                })
                .body(|body| {
                    let money = |ui: &mut egui::Ui, amount: f64| {
                        table::right_ui(
                            ui,
                            RichText::new(format::rupees(amount)).color(palette.pnl(amount)),
                        );
                    };
                    // One more row than positions: the totals.
                    body.rows(22.0, positions.len() + 1, |mut row| {
                        let Some((position, live)) = positions.get(row.index()) else {
                            row.col(|ui| {
                                ui.label(RichText::new("Total").strong());
                            });
                            for _ in 0..8 {
                                row.col(|_| {});
                            }
                            row.col(|ui| money(ui, aggregates.realized_pnl));
                            row.col(|ui| money(ui, aggregates.unrealized_pnl));
                            row.col(|ui| money(ui, aggregates.total_pnl));
                            return;
                        };
                        row.col(|ui| {
                            ui.label(position.symbol.as_deref().unwrap_or(position.id.as_str()));
                        });
                        row.col(|ui| {
                            ui.label(
                                position
                                    .product_type
                                    .as_ref()
                                    .map_or("—", |product| product.code()),
                            );
                        });
                        row.col(|ui| {
                            ui.label(side_label(position));
                        });
                        row.col(|ui| table::right_ui(ui, format::quantity(position.net_qty.unwrap_or(0))));
                        row.col(|ui| table::right_ui(ui, format::quantity(position.buy_qty.unwrap_or(0))));
                        row.col(|ui| table::right_ui(ui, format::price(position.buy_avg.unwrap_or(0.0))));
                        row.col(|ui| table::right_ui(ui, format::quantity(position.sell_qty.unwrap_or(0))));
                        row.col(|ui| table::right_ui(ui, format::price(position.sell_avg.unwrap_or(0.0))));
                        row.col(|ui| ltp_ui(ui, live));
                        row.col(|ui| money(ui, position.realized_profit.unwrap_or(0.0)));
                        row.col(|ui| money(ui, live.unrealized));
                        row.col(|ui| money(ui, live.total));
                    });
                });
        });
}

/// A position's last traded price: live, stale (dimmed, and says why), or Fyers' own.
fn ltp_ui(ui: &mut egui::Ui, live: &LivePnl) {
    let Some(ltp) = live.ltp else {
        table::right_ui(ui, RichText::new("—").weak());
        return;
    };
    let (text, hover) = match live.freshness {
        Freshness::Live => (
            RichText::new(format::price(ltp)),
            "Live from the market-data socket",
        ),
        Freshness::Stale => (
            RichText::new(format!("{} !", format::price(ltp))).weak(),
            "Stale: the market-data socket is down, or no tick came for a minute in market hours",
        ),
        Freshness::Fyers => (
            RichText::new(format::price(ltp)),
            "As Fyers last sent it with the position",
        ),
    };
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        ui.label(text).on_hover_text(hover);
    });
}

/// Where the prices come from, beside the day's total.
fn prices_ui(ui: &mut egui::Ui, store: &Store) {
    let marks = store.marks();
    if marks.status.is_empty() {
        return;
    }
    let text = if marks.live {
        RichText::new(format!("Prices {}", marks.status)).weak()
    } else {
        RichText::new(format!("Prices not live: {}", marks.status)).color(theme::palette(ui).connecting)
    };
    ui.label(text);
}
