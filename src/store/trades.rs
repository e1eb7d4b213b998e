//! The day's fills: one per (order number, trade number), counted once even when the cap has
//! let them go.

use super::{Store, TradeEntry, orders};
use crate::fyers::model::{Text, Trade};
use crate::store::Outcome;

/// What tells two fills apart: their order's number and their trade number. A trade number alone
/// is not enough: two orders (or two exchanges) may each have a fill numbered the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TradeKey {
    pub order_number: Text,
    pub trade_number: Text,
}

impl TradeKey {
    pub fn of(trade: &Trade) -> Self {
        Self {
            order_number: trade.order_number.clone().unwrap_or_default(),
            trade_number: trade.trade_number.clone(),
        }
    }
}

impl Store {
    pub(super) fn apply_trade(&mut self, trade: Trade, received_ms: i64) -> Outcome {
        let key = TradeKey::of(&trade);
        if self.trades.contains_key(&key) || self.evicted_trades.contains(&key) {
            return Outcome::Duplicate;
        }
        self.traded_value += trade.trade_value.unwrap_or(0.0);
        self.charges.add(&trade);
        self.trades.insert(key, TradeEntry { trade, received_ms });
        if self.trades.len() > self.config.max_trades {
            // Oldest first, by a twentieth of the cap at a time: the shift is a pass over them all.
            let drop =
                self.trades.len() - self.config.max_trades + self.config.max_trades / orders::TRIM_SHARE;
            let dropped = self.trades.drain(..drop.min(self.trades.len()));
            self.evicted_trades.extend(dropped.map(|(key, _)| key));
            let most = orders::tombstones_for(self.config.max_trades);
            if self.evicted_trades.len() > most {
                let excess = self.evicted_trades.len() - most + most / orders::TRIM_SHARE;
                self.evicted_trades.drain(..excess.min(self.evicted_trades.len()));
            }
        }
        Outcome::New
    }

    /// The day's charges at the current rates.
    pub fn charges(&self) -> &super::ChargeBook {
        &self.charges
    }

    /// New rates: the day's charges are worked out again from the trades held.
    pub fn set_rates(&mut self, table: super::RateTable) {
        if self.charges.table == table {
            return;
        }
        let trades = self.trades.values().map(|entry| &entry.trade);
        self.charges.reprice(table, trades);
        self.version += 1;
    }

    pub fn trades(&self) -> impl ExactSizeIterator<Item = &TradeEntry> {
        self.trades.values()
    }

    pub fn trade(&self, key: &TradeKey) -> Option<&TradeEntry> {
        self.trades.get(key)
    }
}
