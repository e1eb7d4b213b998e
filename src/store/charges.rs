//! The day's brokerage and statutory charges, computed from each trade's segment, product and
//! side with a versioned rate table, so the P&L card can say what the day made after costs.
//!
//! **The default table** (`RateTable::default`, version 1) holds NSE rates as they stood on
//! 2025-12-01 to the best of our knowledge, from these sources (check them before relying on the
//! result; every number is editable in Settings and saved with them):
//! - Brokerage: Fyers' published pricing: 0.03% or ₹20 per executed order, whichever is lower, for
//!   intraday equity and futures; ₹20 flat per executed order for options; 0.3% or ₹20 for
//!   equity delivery.
//! - STT (Finance (No. 2) Act 2024, from 2024-10-01): delivery 0.1% on buy and sell; intraday
//!   0.025% on sell; futures 0.02% on sell; options 0.1% of premium on sell.
//! - Exchange transaction charges (NSE circular, from 2024-10-01): cash 0.00297%, futures
//!   0.00173%, options 0.03503% of premium.
//! - SEBI turnover fee: ₹10 per crore (0.0001%) on all.
//! - Stamp duty (Indian Stamp Act, from 2020-07-01), buy side only: delivery 0.015%, intraday
//!   0.003%, futures 0.002%, options 0.003%.
//! - GST: 18% of brokerage + exchange transaction charges + SEBI fee.
//!
//! Left out: DP charges on delivery sells, IPFT, call-and-trade fees, and exercise/assignment STT.
//! Brokerage is per executed order, so the trades of one order share one cap.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::fyers::model::{ProductType, Segment, Side, Trade};

/// How a trade is charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TradeClass {
    EquityDelivery,
    EquityIntraday,
    Futures,
    Options,
}

impl TradeClass {
    pub const ALL: [TradeClass; 4] = [
        Self::EquityDelivery,
        Self::EquityIntraday,
        Self::Futures,
        Self::Options,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::EquityDelivery => "Equity delivery",
            Self::EquityIntraday => "Equity intraday",
            Self::Futures => "Futures",
            Self::Options => "Options",
        }
    }

    /// From the trade: the derivatives segment by its symbol's suffix (`…CE`/`…PE` options,
    /// the rest futures), cash by its product (CNC and MTF are delivery). `None`: currency and
    /// commodity, which this table does not cover.
    pub fn of(trade: &Trade) -> Option<Self> {
        let symbol = trade.symbol.as_deref().unwrap_or("");
        match trade.segment {
            Some(Segment::Derivatives) => Some(if symbol.ends_with("CE") || symbol.ends_with("PE") {
                Self::Options
            } else {
                Self::Futures
            }),
            Some(Segment::CapitalMarket) | None if !symbol.starts_with("MCX:") => {
                Some(match trade.product_type {
                    Some(ProductType::Cnc | ProductType::Mtf) => Self::EquityDelivery,
                    _ => Self::EquityIntraday,
                })
            }
            _ => None,
        }
    }
}

/// One class's rates, as fractions of turnover (0.0003 = 0.03%).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    /// Brokerage per executed order: this fraction of the order's turnover...
    pub brokerage_rate: f64,
    /// ...capped at this many rupees (a flat fee when the rate is 0).
    pub brokerage_cap: f64,
    pub stt_buy: f64,
    pub stt_sell: f64,
    pub exchange: f64,
    pub stamp_buy: f64,
}

/// Every rate the charges use, with where they came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateTable {
    pub version: u32,
    /// When the rates were last checked, and against what.
    pub as_of: String,
    pub source: String,
    pub delivery: Rates,
    pub intraday: Rates,
    pub futures: Rates,
    pub options: Rates,
    /// SEBI's turnover fee, as a fraction.
    pub sebi: f64,
    /// GST on brokerage, exchange charges and the SEBI fee.
    pub gst: f64,
}

impl Default for RateTable {
    fn default() -> Self {
        Self {
            version: 1,
            as_of: "2025-12-01".into(),
            source: "Fyers pricing page; Finance (No. 2) Act 2024 (STT); NSE transaction-charge circular \
                     of 2024-10-01; SEBI fee notification; Indian Stamp Act rates of 2020-07-01"
                .into(),
            delivery: Rates {
                brokerage_rate: 0.003,
                brokerage_cap: 20.0,
                stt_buy: 0.001,
                stt_sell: 0.001,
                exchange: 0.000_029_7,
                stamp_buy: 0.000_15,
            },
            intraday: Rates {
                brokerage_rate: 0.000_3,
                brokerage_cap: 20.0,
                stt_buy: 0.0,
                stt_sell: 0.000_25,
                exchange: 0.000_029_7,
                stamp_buy: 0.000_03,
            },
            futures: Rates {
                brokerage_rate: 0.000_3,
                brokerage_cap: 20.0,
                stt_buy: 0.0,
                stt_sell: 0.000_2,
                exchange: 0.000_017_3,
                stamp_buy: 0.000_02,
            },
            options: Rates {
                brokerage_rate: 0.0,
                brokerage_cap: 20.0,
                stt_buy: 0.0,
                stt_sell: 0.001,
                exchange: 0.000_350_3,
                stamp_buy: 0.000_03,
            },
            sebi: 0.000_001,
            gst: 0.18,
        }
    }
}

impl RateTable {
    pub fn rates(&self, class: TradeClass) -> &Rates {
        match class {
            TradeClass::EquityDelivery => &self.delivery,
            TradeClass::EquityIntraday => &self.intraday,
            TradeClass::Futures => &self.futures,
            TradeClass::Options => &self.options,
        }
    }

    pub fn rates_mut(&mut self, class: TradeClass) -> &mut Rates {
        match class {
            TradeClass::EquityDelivery => &mut self.delivery,
            TradeClass::EquityIntraday => &mut self.intraday,
            TradeClass::Futures => &mut self.futures,
            TradeClass::Options => &mut self.options,
        }
    }
}

/// Charges by kind, in rupees.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Charges {
    pub brokerage: f64,
    pub stt: f64,
    pub exchange: f64,
    pub sebi: f64,
    pub stamp: f64,
    pub gst: f64,
}

impl Charges {
    pub fn total(&self) -> f64 {
        self.brokerage + self.stt + self.exchange + self.sebi + self.stamp + self.gst
    }

    fn add(&mut self, other: &Charges) {
        self.brokerage += other.brokerage;
        self.stt += other.stt;
        self.exchange += other.exchange;
        self.sebi += other.sebi;
        self.stamp += other.stamp;
        self.gst += other.gst;
    }
}

fn turnover(trade: &Trade) -> f64 {
    trade
        .trade_value
        .unwrap_or_else(|| trade.trade_price.unwrap_or(0.0) * trade.traded_qty.unwrap_or(0) as f64)
}

/// The statutory charges of one trade (no brokerage, no GST: those are per order).
fn statutory(trade: &Trade, rates: &Rates, table: &RateTable) -> Charges {
    let value = turnover(trade);
    let buy = trade.side == Some(Side::Buy);
    Charges {
        stt: value * if buy { rates.stt_buy } else { rates.stt_sell },
        exchange: value * rates.exchange,
        sebi: value * table.sebi,
        stamp: if buy { value * rates.stamp_buy } else { 0.0 },
        ..Charges::default()
    }
}

/// The charges of a day's trades: statutory per trade, brokerage per order (its trades' turnover
/// together, capped once), GST on brokerage + exchange + SEBI. Trades of classes the table does
/// not cover are counted in the second place.
pub fn day_charges<'a>(trades: impl IntoIterator<Item = &'a Trade>, table: &RateTable) -> (Charges, usize) {
    let mut total = Charges::default();
    let mut orders: HashMap<&str, (TradeClass, f64)> = HashMap::new();
    let mut uncovered = 0;
    for trade in trades {
        let Some(class) = TradeClass::of(trade) else {
            uncovered += 1;
            continue;
        };
        total.add(&statutory(trade, table.rates(class), table));
        let order = trade
            .order_number
            .as_deref()
            .unwrap_or(trade.trade_number.as_str());
        orders.entry(order).or_insert((class, 0.0)).1 += turnover(trade);
    }
    for (class, value) in orders.values() {
        let rates = table.rates(*class);
        total.brokerage += if rates.brokerage_rate > 0.0 {
            (value * rates.brokerage_rate).min(rates.brokerage_cap)
        } else {
            rates.brokerage_cap
        };
    }
    total.gst = (total.brokerage + total.exchange + total.sebi) * table.gst;
    (total, uncovered)
}

/// The day's charges kept up to date trade by trade (the cards read them every frame).
#[derive(Debug, Clone, Default)]
pub struct ChargeBook {
    pub table: RateTable,
    charges: Charges,
    /// Each order's class and turnover so far, for its one brokerage cap.
    orders: HashMap<crate::fyers::model::Text, (TradeClass, f64)>,
    uncovered: usize,
}

impl ChargeBook {
    fn brokerage(rates: &Rates, value: f64) -> f64 {
        if rates.brokerage_rate > 0.0 {
            (value * rates.brokerage_rate).min(rates.brokerage_cap)
        } else {
            rates.brokerage_cap
        }
    }

    /// A new trade (each counted once).
    pub fn add(&mut self, trade: &Trade) {
        let Some(class) = TradeClass::of(trade) else {
            self.uncovered += 1;
            return;
        };
        let rates = *self.table.rates(class);
        let statutory = statutory(trade, &rates, &self.table);
        self.charges.add(&statutory);
        let order = trade
            .order_number
            .clone()
            .unwrap_or_else(|| trade.trade_number.clone());
        let (_, value) = self.orders.entry(order).or_insert((class, 0.0));
        let before = if *value > 0.0 {
            Self::brokerage(&rates, *value)
        } else {
            0.0
        };
        *value += turnover(trade);
        self.charges.brokerage += Self::brokerage(&rates, *value) - before;
    }

    /// The day's charges, GST included.
    pub fn charges(&self) -> Charges {
        Charges {
            gst: (self.charges.brokerage + self.charges.exchange + self.charges.sebi) * self.table.gst,
            ..self.charges
        }
    }

    /// One trade's part of the day's charges: its statutory charges, its share of its order's
    /// brokerage (by turnover), and the GST on both. The parts of all trades add up to the day's.
    /// `None` for a class the table does not cover.
    pub fn trade_charges(&self, trade: &Trade) -> Option<f64> {
        let class = TradeClass::of(trade)?;
        let rates = self.table.rates(class);
        let statutory = statutory(trade, rates, &self.table);
        let order = trade
            .order_number
            .as_deref()
            .unwrap_or(trade.trade_number.as_str());
        let value = turnover(trade);
        let brokerage = match self.orders.get(order) {
            Some((_, total)) if *total > 0.0 => Self::brokerage(rates, *total) * value / total,
            _ => Self::brokerage(rates, value),
        };
        let gst = (brokerage + statutory.exchange + statutory.sebi) * self.table.gst;
        Some(brokerage + statutory.stt + statutory.exchange + statutory.sebi + statutory.stamp + gst)
    }

    /// Trades of classes the table does not cover (currency, commodity): not in the charges.
    pub fn uncovered(&self) -> usize {
        self.uncovered
    }

    /// New rates: the charges are worked out again from `trades`.
    pub fn reprice<'a>(&mut self, table: RateTable, trades: impl IntoIterator<Item = &'a Trade>) {
        *self = Self {
            table,
            ..Self::default()
        };
        for trade in trades {
            self.add(trade);
        }
    }
}

#[cfg(test)]
mod tests;
