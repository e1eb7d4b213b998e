//! CSV export: a table's rows with the SDK's friendly key names as headers and values as the
//! Fyers API gives them (money unformatted, codes as numbers), from the window's current view or
//! from a day in the journal.

use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

use super::{JournalError, load_day, restore};
use crate::fyers::model::{Order, Text};
use crate::store::{OrderEntry, Store, StoreConfig, TradeKey};

/// The four tables, as the tabs and `orderwatch export --what` name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    Orders,
    Trades,
    Positions,
    General,
}

impl Table {
    pub const ALL: [Self; 4] = [Self::Orders, Self::Trades, Self::Positions, Self::General];

    pub fn name(self) -> &'static str {
        match self {
            Self::Orders => "orders",
            Self::Trades => "trades",
            Self::Positions => "positions",
            Self::General => "general",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|table| table.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The columns of the table in the window, by the friendly key each shows.
    pub fn headers(self) -> &'static [&'static str] {
        match self {
            Self::Orders => &[
                "orderDateTime",
                "symbol",
                "side",
                "type",
                "productType",
                "qty",
                "filledQty",
                "remainingQuantity",
                "limitPrice",
                "stopPrice",
                "tradedPrice",
                "status",
                "message",
                "id",
            ],
            Self::Trades => &[
                "orderDateTime",
                "symbol",
                "side",
                "tradedQty",
                "tradePrice",
                "tradeValue",
                "orderNumber",
                "tradeNumber",
                "charges",
            ],
            Self::Positions => &[
                "symbol",
                "productType",
                "side",
                "netQty",
                "buyQty",
                "buyAvg",
                "sellQty",
                "sellAvg",
                "realized_profit",
                "unrealized_profit",
                "pl",
            ],
            Self::General => &["received", "kind", "summary", "data"],
        }
    }
}

/// Which rows, in which order: everything (chronological), or a view's rows as it shows them.
#[derive(Debug, Clone, Copy)]
pub enum Rows<'a> {
    All,
    Orders(&'a [Text]),
    Trades(&'a [TradeKey]),
    Positions(&'a [Text]),
    General(&'a [u64]),
}

/// Writes `table` from `store` as CSV; returns the rows written.
pub fn write_csv(out: impl Write, table: Table, store: &Store, rows: Rows<'_>) -> csv::Result<usize> {
    let mut writer = csv::Writer::from_writer(out);
    let headers = table.headers();
    writer.write_record(headers)?;
    let mut cells: Vec<String> = Vec::with_capacity(headers.len());
    let mut written = 0;
    let mut record = |writer: &mut csv::Writer<_>, value: serde_json::Value| -> csv::Result<()> {
        cells.clear();
        cells.extend(headers.iter().map(|key| cell(value.get(key))));
        written += 1;
        writer.write_record(&cells)
    };
    match (table, rows) {
        (Table::Orders, Rows::Orders(ids)) => {
            for entry in ids.iter().filter_map(|id| store.orders.get(id)) {
                record(&mut writer, json(&entry.order))?;
            }
        }
        (Table::Orders, _) => {
            let mut entries: Vec<&OrderEntry> = store.orders.entries().collect();
            entries.sort_by_key(|entry| (placed(&entry.order, entry.first_seen_ms), entry.first_seq));
            for entry in entries {
                record(&mut writer, json(&entry.order))?;
            }
        }
        (Table::Trades, Rows::Trades(keys)) => {
            for entry in keys.iter().filter_map(|key| store.trade(key)) {
                record(&mut writer, trade_json(store, &entry.trade))?;
            }
        }
        (Table::Trades, _) => {
            for entry in store.trades() {
                record(&mut writer, trade_json(store, &entry.trade))?;
            }
        }
        (Table::Positions, Rows::Positions(ids)) => {
            for entry in ids.iter().filter_map(|id| store.position(id)) {
                record(&mut writer, json(&entry.position))?;
            }
        }
        (Table::Positions, _) => {
            let mut positions: Vec<_> = store.positions().map(|entry| &entry.position).collect();
            positions.sort_by(|a, b| {
                (a.net_qty.unwrap_or(0) == 0)
                    .cmp(&(b.net_qty.unwrap_or(0) == 0))
                    .then_with(|| a.symbol.cmp(&b.symbol))
            });
            for position in positions {
                record(&mut writer, json(position))?;
            }
        }
        (Table::General, rows) => {
            let chosen: Vec<_> = match rows {
                Rows::General(seqs) => seqs.iter().filter_map(|seq| store.general_entry(*seq)).collect(),
                _ => store.general().collect(),
            };
            for entry in chosen {
                let data = serde_json::Value::Object(entry.event.raw.clone()).to_string();
                let value = serde_json::json!({
                    "received": crate::format::iso_time(entry.received_ms),
                    "kind": entry.event.kind.label(),
                    "summary": entry.summary,
                    "data": data,
                });
                record(&mut writer, value)?;
            }
        }
    }
    writer.flush()?;
    Ok(written)
}

fn json(record: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(record).unwrap_or_default()
}

/// A trade's row with its part of the day's charges.
fn trade_json(store: &Store, trade: &crate::fyers::model::Trade) -> serde_json::Value {
    let mut value = json(trade);
    if let Some(charges) = store.charges().trade_charges(trade) {
        value["charges"] = serde_json::json!((charges * 10_000.0).round() / 10_000.0);
    }
    value
}

fn placed(order: &Order, first_seen_ms: i64) -> i64 {
    order.placed_epoch().unwrap_or(first_seen_ms / 1000)
}

/// A JSON value as a CSV cell: text as is, numbers as JSON writes them (no grouping, no rounding).
fn cell(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// A store big enough for a whole recorded day, whatever the window's caps.
pub fn history_store_config() -> StoreConfig {
    StoreConfig {
        max_orders: 2_000_000,
        max_trades: 4_000_000,
        max_general: 1_000_000,
        ..StoreConfig::default()
    }
}

/// `orderwatch export`: one table of one journaled day as CSV. Returns the rows written.
pub fn export_csv(
    journal: &Path,
    day: NaiveDate,
    table: Table,
    out: impl Write,
) -> Result<usize, ExportError> {
    let recorded = load_day(journal, day)?;
    if recorded.batches.is_empty() {
        return Err(ExportError::NoSuchDay(day));
    }
    let mut store = Store::new(history_store_config());
    restore(&mut store, recorded);
    Ok(write_csv(out, table, &store, Rows::All)?)
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("the journal has nothing for {0}")]
    NoSuchDay(NaiveDate),
    #[error("cannot write the CSV: {0}")]
    Csv(#[from] csv::Error),
}
