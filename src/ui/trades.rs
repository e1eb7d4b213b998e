//! The Trades tab: every fill, newest first.

use std::cmp::Ordering;
use std::time::{Duration, Instant};

use egui::RichText;
use egui_extras::Column;

use super::orders::SideFilter;
use super::table::{self, RowCache, Sort};
use super::{format, theme, widgets};

use crate::store::{Store, TradeEntry, TradeKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TradeColumn {
    Time,
    Symbol,
    Side,
    Qty,
    Price,
    Value,
    Order,
    Trade,
}

#[derive(Debug)]
pub struct TradesView {
    pub search: String,
    pub side: SideFilter,
    pub sort: Sort<TradeColumn>,
    rows: RowCache<TradeKey>,
}

impl Default for TradesView {
    fn default() -> Self {
        Self {
            search: String::new(),
            side: SideFilter::All,
            sort: Sort {
                column: TradeColumn::Time,
                ascending: false,
            },
            rows: RowCache::default(),
        }
    }
}

fn when(entry: &TradeEntry) -> i64 {
    entry.trade.fill_epoch().unwrap_or(entry.received_ms / 1000)
}

fn compare(a: &TradeEntry, b: &TradeEntry, column: TradeColumn) -> Ordering {
    let (x, y) = (&a.trade, &b.trade);
    match column {
        TradeColumn::Time => when(a)
            .cmp(&when(b))
            .then_with(|| a.received_ms.cmp(&b.received_ms)),
        TradeColumn::Symbol => x.symbol.cmp(&y.symbol),
        TradeColumn::Side => x.side.map(|s| s.code()).cmp(&y.side.map(|s| s.code())),
        TradeColumn::Qty => x.traded_qty.cmp(&y.traded_qty),
        TradeColumn::Price => x
            .trade_price
            .unwrap_or(0.0)
            .total_cmp(&y.trade_price.unwrap_or(0.0)),
        TradeColumn::Value => x
            .trade_value
            .unwrap_or(0.0)
            .total_cmp(&y.trade_value.unwrap_or(0.0)),
        TradeColumn::Order => x.order_number.cmp(&y.order_number),
        TradeColumn::Trade => x.trade_number.cmp(&y.trade_number),
    }
    .then_with(|| x.trade_number.cmp(&y.trade_number))
}

impl TradesView {
    /// The rows as shown: filtered and sorted.
    pub fn rows(&self) -> &[TradeKey] {
        &self.rows.rows
    }

    /// Another store is on screen: the cached rows are not its.
    pub fn forget_rows(&mut self) {
        self.rows = RowCache::default();
    }

    pub fn refresh(&mut self, store: &Store, now: Instant) -> Option<Duration> {
        let query = table::query_hash(&(&self.search, self.side, self.sort));
        let needle = self.search.trim().to_ascii_lowercase();
        let (side, sort) = (self.side, self.sort);
        self.rows.refresh(store.version(), query, now, || {
            let mut entries: Vec<&TradeEntry> = store
                .trades()
                .filter(|entry| side.accepts(entry.trade.side))
                .filter(|entry| {
                    let trade = &entry.trade;
                    [&trade.symbol, &trade.order_number]
                        .into_iter()
                        .flatten()
                        .chain([&trade.trade_number])
                        .any(|text| table::contains_ignore_case(text, &needle))
                })
                .collect();
            let time_key =
                |entry: &&TradeEntry| (when(entry), entry.received_ms, entry.trade.trade_number.clone());
            table::sort_rows(&mut entries, sort, TradeColumn::Time, time_key, |a, b, column| {
                compare(a, b, column)
            });
            entries
                .into_iter()
                .map(|entry| TradeKey::of(&entry.trade))
                .collect()
        })
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, store: &Store, focus_search: bool) {
        ui.horizontal(|ui| {
            table::search_ui(
                ui,
                &mut self.search,
                "Search symbol, order or trade number…",
                focus_search,
            );
            widgets::choice_ui(ui, "Side", &mut self.side, &SideFilter::ALL, |f| f.label());
            let total = store.trades().len();
            ui.label(RichText::new(format!("{} of {total} trades", self.rows.rows.len())).weak());
        });
        ui.add_space(theme::SPACING / 2.0);
        let palette = theme::palette(ui);
        let columns: [(&str, TradeColumn, Column); 8] = [
            ("Time", TradeColumn::Time, Column::exact(64.0)),
            (
                "Symbol",
                TradeColumn::Symbol,
                Column::initial(190.0).at_least(80.0).clip(true),
            ),
            ("Side", TradeColumn::Side, Column::exact(40.0)),
            ("Qty", TradeColumn::Qty, Column::exact(64.0)),
            ("Price", TradeColumn::Price, Column::exact(90.0)),
            ("Value", TradeColumn::Value, Column::exact(120.0)),
            ("Order number", TradeColumn::Order, Column::initial(130.0)),
            (
                "Trade number",
                TradeColumn::Trade,
                Column::remainder().at_least(100.0),
            ),
        ];
        // Narrow windows scroll sideways rather than hide columns.
        egui::ScrollArea::horizontal()
            .id_salt("trades scroll")
            .show(ui, |ui| {
                table::sortable_table(ui, "trades table", &columns, &mut self.sort, false).body(|body| {
                    body.rows(22.0, self.rows.rows.len(), |mut row| {
                        let Some(entry) = self.rows.rows.get(row.index()).and_then(|key| store.trade(key))
                        else {
                            return;
                        };
                        let trade = &entry.trade;
                        row.col(|ui| {
                            ui.label(format::clock(when(entry)));
                        });
                        row.col(|ui| {
                            ui.label(trade.symbol.as_deref().unwrap_or("—"));
                        });
                        row.col(|ui| {
                            let side = trade.side.map_or_else(|| "—".into(), |side| side.label());
                            ui.label(RichText::new(side).color(palette.side(trade.side)));
                        });
                        row.col(|ui| table::right_ui(ui, format::quantity(trade.traded_qty.unwrap_or(0))));
                        row.col(|ui| table::right_ui(ui, format::price(trade.trade_price.unwrap_or(0.0))));
                        row.col(|ui| table::right_ui(ui, format::rupees(trade.trade_value.unwrap_or(0.0))));
                        row.col(|ui| {
                            ui.label(RichText::new(trade.order_number.as_deref().unwrap_or("—")).monospace());
                        });
                        row.col(|ui| {
                            ui.label(RichText::new(trade.trade_number.as_str()).monospace());
                        });
                    });
                });
            });
    }
}
