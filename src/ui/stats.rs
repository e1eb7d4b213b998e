//! The statistics cards: counts with "+N new", order states, traded value and P&L.

use egui::RichText;

use super::{format, theme, widgets};
use crate::fyers::model::EventKind;
use crate::store::Store;

pub fn stats_ui(ui: &mut egui::Ui, store: &Store) {
    let palette = theme::palette(ui);
    let aggregates = store.aggregates();
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing = egui::vec2(theme::SPACING, theme::SPACING);
        let mut total = 0;
        let mut unseen_total = 0;
        for (kind, title) in [
            (EventKind::Orders, "Orders"),
            (EventKind::Trades, "Trades"),
            (EventKind::Positions, "Positions"),
            (EventKind::General, "General"),
        ] {
            let count = store.count(kind);
            total += count.total;
            unseen_total += count.unseen;
            let note = (count.unseen > 0)
                .then(|| RichText::new(format!("+{} new", count.unseen)).color(palette.pending));
            let value = RichText::new(format::quantity(count.total as i64));
            widgets::card_ui(ui, title, theme::COUNT_CARD_WIDTH, &[(value, note)]);
        }
        let note =
            (unseen_total > 0).then(|| RichText::new(format!("+{unseen_total} new")).color(palette.pending));
        let value = RichText::new(format::quantity(total as i64));
        widgets::card_ui(ui, "Total", theme::COUNT_CARD_WIDTH, &[(value, note)]);
        let orders = aggregates.orders;
        let states: Vec<(RichText, Option<RichText>)> = [
            ("open", orders.open, palette.pending),
            ("filled", orders.filled, palette.filled),
            ("rejected", orders.rejected, palette.rejected),
            ("cancelled", orders.cancelled, palette.cancelled),
        ]
        .into_iter()
        .map(|(label, count, color)| {
            (
                RichText::new(format::quantity(count as i64)).color(color),
                Some(RichText::new(label).color(palette.muted)),
            )
        })
        .collect();
        widgets::card_ui(ui, "Orders by state", 200.0, &states);
        let traded = RichText::new(format::rupees(aggregates.traded_value));
        widgets::card_ui(ui, "Traded value", 120.0, &[(traded, None)]);
        let pnl: Vec<(RichText, Option<RichText>)> = [
            ("realized", aggregates.realized_pnl),
            ("unrealized", aggregates.unrealized_pnl),
            ("total", aggregates.total_pnl),
        ]
        .into_iter()
        .map(|(label, amount)| {
            (
                RichText::new(format::rupees(amount)).color(palette.pnl(amount)),
                Some(RichText::new(label).color(palette.muted)),
            )
        })
        .collect();
        widgets::card_ui(ui, "P&L", 200.0, &pnl);
    });
}
