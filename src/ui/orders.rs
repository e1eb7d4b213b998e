//! The Orders tab: every order's latest state, filterable and sortable, and a detail panel with
//! all fields and the order's update history.

use std::cmp::Ordering;
use std::time::Instant;

use egui::RichText;
use egui_extras::Column;

use super::table::{self, RowCache, Sort};
use super::theme::{self, Palette};
use super::{format, widgets};
use crate::fyers::model::{Order, OrderStatus, Side, Text};
use crate::store::{OrderEntry, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderColumn {
    Time,
    Symbol,
    Side,
    Type,
    Product,
    Qty,
    Filled,
    Limit,
    Stop,
    AvgPrice,
    Status,
    Message,
    Id,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StatusFilter {
    #[default]
    All,
    Open,
    Filled,
    Cancelled,
    Rejected,
}

impl StatusFilter {
    const ALL: [Self; 5] = [
        Self::All,
        Self::Open,
        Self::Filled,
        Self::Cancelled,
        Self::Rejected,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::All => "All statuses",
            Self::Open => "Open",
            Self::Filled => "Filled",
            Self::Cancelled => "Cancelled",
            Self::Rejected => "Rejected",
        }
    }

    fn accepts(self, status: OrderStatus) -> bool {
        match self {
            Self::All => true,
            Self::Open => matches!(status, OrderStatus::Transit | OrderStatus::Pending),
            Self::Filled => status == OrderStatus::Filled,
            Self::Cancelled => status == OrderStatus::Cancelled,
            Self::Rejected => status == OrderStatus::Rejected,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SideFilter {
    #[default]
    All,
    Buy,
    Sell,
}

impl SideFilter {
    pub const ALL: [Self; 3] = [Self::All, Self::Buy, Self::Sell];

    pub fn label(self) -> &'static str {
        match self {
            Self::All => "Buy and sell",
            Self::Buy => "Buy",
            Self::Sell => "Sell",
        }
    }

    pub fn accepts(self, side: Option<Side>) -> bool {
        match self {
            Self::All => true,
            Self::Buy => side == Some(Side::Buy),
            Self::Sell => side == Some(Side::Sell),
        }
    }
}

/// The Orders tab's own state: filters, sort, selection, and the cached rows.
#[derive(Debug)]
pub struct OrdersView {
    pub search: String,
    pub status: StatusFilter,
    pub side: SideFilter,
    pub sort: Sort<OrderColumn>,
    pub selected: Option<Text>,
    rows: RowCache<Text>,
}

impl Default for OrdersView {
    fn default() -> Self {
        Self {
            search: String::new(),
            status: StatusFilter::All,
            side: SideFilter::All,
            sort: Sort {
                column: OrderColumn::Time,
                ascending: false,
            },
            selected: None,
            rows: RowCache::default(),
        }
    }
}

/// When the order was placed, for the Time column: the OMS epoch, else first arrival.
fn placed(entry: &OrderEntry) -> (i64, u64) {
    (
        entry.order.placed_epoch().unwrap_or(entry.first_seen_ms / 1000),
        entry.first_seq,
    )
}

fn compare(a: &OrderEntry, b: &OrderEntry, column: OrderColumn) -> Ordering {
    let (x, y) = (&a.order, &b.order);
    let float = |f: fn(&Order) -> Option<f64>| f(x).unwrap_or(0.0).total_cmp(&f(y).unwrap_or(0.0));
    match column {
        OrderColumn::Time => placed(a).cmp(&placed(b)),
        OrderColumn::Symbol => x.symbol.cmp(&y.symbol),
        OrderColumn::Side => x.side.map(|s| s.code()).cmp(&y.side.map(|s| s.code())),
        OrderColumn::Type => x
            .order_type
            .map(|t| t.code())
            .cmp(&y.order_type.map(|t| t.code())),
        OrderColumn::Product => x
            .product_type
            .as_ref()
            .map(|p| p.code())
            .cmp(&y.product_type.as_ref().map(|p| p.code())),
        OrderColumn::Qty => x.qty.cmp(&y.qty),
        OrderColumn::Filled => x.filled_qty.cmp(&y.filled_qty),
        OrderColumn::Limit => float(|o| o.limit_price),
        OrderColumn::Stop => float(|o| o.stop_price),
        OrderColumn::AvgPrice => float(|o| o.traded_price),
        OrderColumn::Status => x.status().label().cmp(&y.status().label()),
        OrderColumn::Message => x.message.cmp(&y.message),
        OrderColumn::Id => x.id.cmp(&y.id),
    }
    .then_with(|| a.first_seq.cmp(&b.first_seq))
}

impl OrdersView {
    fn matches(&self, entry: &OrderEntry, needle: &str) -> bool {
        let order = &entry.order;
        self.status.accepts(order.status())
            && self.side.accepts(order.side)
            && (needle.is_empty()
                || [
                    &order.symbol,
                    &order.message,
                    &order.exchange_order_id,
                    &order.order_tag,
                ]
                .into_iter()
                .flatten()
                .chain([&order.id])
                .any(|text| table::contains_ignore_case(text, needle)))
    }

    /// Brings the cached rows up to date; returns when a pending refresh is due.
    pub fn refresh(&mut self, store: &Store, now: Instant) -> Option<std::time::Duration> {
        let query = table::query_hash(&(&self.search, self.status, self.side, self.sort));
        let needle = self.search.trim().to_ascii_lowercase();
        let mut rows = std::mem::take(&mut self.rows);
        let wait = rows.refresh(store.version(), query, now, || {
            let mut entries: Vec<&OrderEntry> = store
                .orders
                .entries()
                .filter(|entry| self.matches(entry, &needle))
                .collect();
            table::sort_rows(
                &mut entries,
                self.sort,
                OrderColumn::Time,
                |entry| placed(entry),
                |a, b, column| compare(a, b, column),
            );
            entries.into_iter().map(|entry| entry.order.id.clone()).collect()
        });
        self.rows = rows;
        wait
    }

    pub fn row_count(&self) -> usize {
        self.rows.rows.len()
    }

    /// The rows as shown: filtered and sorted.
    pub fn rows(&self) -> &[Text] {
        &self.rows.rows
    }

    /// Another store is on screen: the cached rows are not its.
    pub fn forget_rows(&mut self) {
        self.rows = RowCache::default();
        self.selected = None;
    }

    /// Filters, search and the table.
    pub fn ui(&mut self, ui: &mut egui::Ui, store: &Store, focus_search: bool) {
        ui.horizontal(|ui| {
            table::search_ui(
                ui,
                &mut self.search,
                "Search symbol, order id, message…",
                focus_search,
            );
            widgets::choice_ui(ui, "Status", &mut self.status, &StatusFilter::ALL, |f| f.label());
            widgets::choice_ui(ui, "Side", &mut self.side, &SideFilter::ALL, |f| f.label());
            ui.label(RichText::new(format!("{} of {} orders", self.row_count(), store.orders.len())).weak());
        });
        ui.add_space(theme::SPACING / 2.0);
        let palette = theme::palette(ui);
        // Rows are clicked to open the detail; selectable text would take the click.
        ui.style_mut().interaction.selectable_labels = false;
        let columns: [(&str, OrderColumn, Column); 13] = [
            ("Time", OrderColumn::Time, Column::exact(64.0)),
            (
                "Symbol",
                OrderColumn::Symbol,
                Column::initial(170.0).at_least(80.0).clip(true),
            ),
            ("Side", OrderColumn::Side, Column::exact(40.0)),
            ("Type", OrderColumn::Type, Column::exact(52.0)),
            ("Product", OrderColumn::Product, Column::exact(70.0)),
            ("Qty", OrderColumn::Qty, Column::exact(56.0)),
            ("Filled / Rem.", OrderColumn::Filled, Column::exact(88.0)),
            ("Limit", OrderColumn::Limit, Column::exact(80.0)),
            ("Stop", OrderColumn::Stop, Column::exact(72.0)),
            ("Avg price", OrderColumn::AvgPrice, Column::exact(80.0)),
            ("Status", OrderColumn::Status, Column::exact(84.0)),
            (
                "Message",
                OrderColumn::Message,
                Column::initial(200.0).at_least(60.0).clip(true),
            ),
            ("Order id", OrderColumn::Id, Column::remainder().at_least(110.0)),
        ];
        let mut clicked = None;
        // Narrow windows scroll sideways rather than hide columns.
        egui::ScrollArea::horizontal()
            .id_salt("orders scroll")
            .show(ui, |ui| {
                table::sortable_table(ui, "orders table", &columns, &mut self.sort, true).body(|body| {
                    body.rows(22.0, self.rows.rows.len(), |mut row| {
                        let Some(entry) = self
                            .rows
                            .rows
                            .get(row.index())
                            .and_then(|id| store.orders.get(id))
                        else {
                            return;
                        };
                        row.set_selected(self.selected.as_ref() == Some(&entry.order.id));
                        order_row_ui(&mut row, entry, palette);
                        if row.response().clicked() {
                            clicked = Some(entry.order.id.clone());
                        }
                    });
                });
            });
        if let Some(id) = clicked {
            self.selected = if self.selected.as_ref() == Some(&id) {
                None
            } else {
                Some(id)
            };
        }
    }
}

fn order_row_ui(row: &mut egui_extras::TableRow<'_, '_>, entry: &OrderEntry, palette: &Palette) {
    let order = &entry.order;
    let opt_price = |value: Option<f64>| {
        value
            .filter(|v| *v != 0.0)
            .map_or_else(String::new, format::price)
    };
    row.col(|ui| {
        ui.label(format::clock(placed(entry).0));
    });
    row.col(|ui| {
        ui.label(order.symbol.as_deref().unwrap_or("—"))
            .on_hover_text(order.description.as_deref().unwrap_or(""));
    });
    row.col(|ui| {
        let side = order.side.map_or_else(|| "—".into(), |side| side.label());
        ui.label(RichText::new(side).color(palette.side(order.side)));
    });
    row.col(|ui| {
        ui.label(order.order_type.map_or_else(|| "—".into(), |kind| kind.label()));
    });
    row.col(|ui| {
        ui.label(order.product_type.as_ref().map_or("—", |product| product.code()));
    });
    row.col(|ui| table::right_ui(ui, format::quantity(order.qty.unwrap_or(0))));
    row.col(|ui| {
        let text = format!("{} / {}", order.filled(), order.remaining_qty.unwrap_or(0));
        table::right_ui(ui, text);
    });
    row.col(|ui| table::right_ui(ui, opt_price(order.limit_price)));
    row.col(|ui| table::right_ui(ui, opt_price(order.stop_price)));
    row.col(|ui| table::right_ui(ui, opt_price(order.traded_price)));
    row.col(|ui| {
        widgets::status_badge_ui(ui, order.status(), palette);
    });
    row.col(|ui| {
        let message = order.message.as_deref().unwrap_or("");
        ui.label(message).on_hover_text(message);
    });
    row.col(|ui| {
        ui.label(RichText::new(order.id.as_str()).monospace());
    });
}

/// The detail panel: every field, then the history. Returns false when closed.
pub fn detail_ui(ui: &mut egui::Ui, entry: &OrderEntry) -> bool {
    let mut open = true;
    let palette = theme::palette(ui);
    let order = &entry.order;
    ui.horizontal(|ui| {
        ui.heading(order.symbol.as_deref().unwrap_or("Order"));
        widgets::status_badge_ui(ui, order.status(), palette);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Close").on_hover_text("Esc").clicked() {
                open = false;
            }
        });
    });
    if let Some(message) = order.message.as_deref().filter(|m| !m.is_empty()) {
        let color = if order.status() == OrderStatus::Rejected {
            palette.rejected
        } else {
            palette.muted
        };
        ui.label(RichText::new(message).color(color));
    }
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt("order detail")
        .show(ui, |ui| {
            egui::Grid::new("order fields")
                .num_columns(2)
                .striped(true)
                .show(ui, |ui| {
                    if let serde_json::Value::Object(fields) = serde_json::to_value(order).unwrap_or_default()
                    {
                        for (key, value) in fields {
                            ui.label(RichText::new(key).weak());
                            let text = match value {
                                serde_json::Value::String(text) => text,
                                other => other.to_string(),
                            };
                            ui.label(text);
                            ui.end_row();
                        }
                    }
                });
            ui.add_space(theme::SPACING);
            ui.heading(format!("History ({} updates)", entry.updates));
            for update in entry.history.iter().rev() {
                ui.horizontal_wrapped(|ui| {
                    let when = update
                        .update_time_epoch
                        .map_or_else(|| "—".to_owned(), format::clock);
                    ui.label(RichText::new(when).monospace());
                    widgets::status_badge_ui(ui, update.status.unwrap_or(OrderStatus::Other(0)), palette);
                    ui.label(format!(
                        "filled {} / rem. {}",
                        update.filled_qty.unwrap_or(0),
                        update.remaining_qty.unwrap_or(0)
                    ));
                    if let Some(price) = update.traded_price.filter(|p| *p != 0.0) {
                        ui.label(format!("@ {}", format::price(price)));
                    }
                    if let Some(report) = &update.report_type {
                        ui.label(RichText::new(report.as_str()).weak());
                    }
                    if update.origin == crate::store::Origin::Resync {
                        ui.label(RichText::new("from resync").weak());
                    }
                    if !update.applied {
                        ui.label(RichText::new("older than held: not applied").color(palette.pending));
                    }
                });
                if let Some(message) = update.message.as_deref().filter(|m| !m.is_empty()) {
                    ui.label(RichText::new(message).weak());
                }
                ui.separator();
            }
        });
    open
}
