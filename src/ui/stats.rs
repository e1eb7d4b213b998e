//! The statistics cards, each saying what it counts: updates received per kind (with "+N new
//! updates" since last seen), the orders by state, traded value and P&L. They sit on one row when
//! it fits; narrower, they reflow by group (the counts, then the money), never leaving one card
//! alone on a row.

use egui::RichText;

use super::widgets::Card;
use super::{format, theme};
use crate::fyers::model::EventKind;
use crate::store::Store;

/// The cards: what was received, then the day's orders and money.
pub fn cards(ui: &egui::Ui, store: &Store) -> [Vec<Card>; 2] {
    let palette = theme::palette(ui);
    let aggregates = store.aggregates();
    let counts = [
        (EventKind::Orders, "Order updates", "updates"),
        (EventKind::Trades, "Trades", "trades"),
        (EventKind::Positions, "Position updates", "updates"),
        (EventKind::General, "Messages", "messages"),
    ]
    .into_iter()
    .map(|(kind, title, what)| {
        let count = store.count(kind);
        let what = if count.unseen == 1 {
            what.trim_end_matches('s')
        } else {
            what
        };
        let note = (count.unseen > 0)
            .then(|| RichText::new(format!("+{} new {what}", count.unseen)).color(palette.pending));
        let value = RichText::new(format::quantity(count.total as i64));
        Card::new(title, theme::COUNT_CARD_WIDTH, vec![(value, note)])
    })
    .collect();
    let orders = aggregates.orders;
    let states = [
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
    let held = store.orders.len();
    let orders_title = format!(
        "{} order{} by state",
        format::quantity(held as i64),
        if held == 1 { "" } else { "s" }
    );
    let traded = RichText::new(format::rupees(aggregates.traded_value));
    let pnl = [
        ("realized", aggregates.realized_pnl),
        ("unrealized", aggregates.unrealized_pnl),
        ("total", aggregates.total_pnl),
        // Costs are money out: shown negative, and the total after them.
        ("charges", -aggregates.charges),
        ("net", aggregates.net_pnl),
    ]
    .into_iter()
    .map(|(label, amount)| {
        (
            RichText::new(format::rupees(amount)).color(palette.pnl(amount)),
            Some(RichText::new(label).color(palette.muted)),
        )
    })
    .collect();
    let money = vec![
        Card::new(orders_title, 200.0, states),
        Card::new("Traded value", 120.0, vec![(traded, None)]),
        // Charges and net are details of the day's P&L: smaller, so all cards fit one row at 1280.
        Card::new("P&L", 200.0, pnl).with_details_from(3),
    ];
    [counts, money]
}

pub fn stats_ui(ui: &mut egui::Ui, store: &Store) {
    let groups = cards(ui, store);
    let gap = theme::SPACING;
    let width = |cards: &[Card]| {
        cards.iter().map(|card| card.width(ui)).sum::<f32>() + gap * cards.len().saturating_sub(1) as f32
    };
    let all = width(&groups[0]) + gap + width(&groups[1]);
    ui.spacing_mut().item_spacing = egui::vec2(gap, gap);
    if all <= ui.available_width() {
        ui.horizontal(|ui| groups.iter().flatten().for_each(|card| drop(card.ui(ui))));
    } else {
        for group in &groups {
            ui.horizontal_wrapped(|ui| group.iter().for_each(|card| drop(card.ui(ui))));
        }
    }
}
