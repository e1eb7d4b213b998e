//! Coalescing: what one event says, and many events of one kind gathered into one notification.

use std::time::Instant;

use indexmap::IndexSet;

use super::wording;
use super::{Notification, NotifyKind};
use crate::format::quantity;
use crate::fyers::model::{GeneralEvent, Order, Trade};

/// Reasons or alerts listed in a coalesced notification before "+N more".
const LISTED: usize = 3;

/// One thing worth notifying, before coalescing.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Item {
    /// A lone notification's first line: "BUY 10 NSE:RELIANCE-EQ @ ₹2,950.00".
    line: String,
    /// What the OMS or exchange said, for rejections and cancellations.
    reason: Option<String>,
    /// The instrument as named in lists ("RELIANCE").
    name: Option<String>,
    /// Rupees that changed hands (fills and trades), else 0.
    traded: f64,
}

impl Item {
    /// An order that just reached `kind`; `newly_filled` is the quantity filled by this update.
    pub(super) fn order(kind: NotifyKind, order: &Order, newly_filled: i64) -> Self {
        let symbol = order.symbol.as_deref().unwrap_or(order.id.as_str());
        let filled = order.filled();
        let total = order.qty.map_or_else(|| quantity(filled), quantity);
        let traded_price = order.traded_price.filter(|price| price.is_finite());
        let (line, traded) = match kind {
            NotifyKind::OrderFilled => {
                let filled = if filled > 0 {
                    filled
                } else {
                    order.qty.unwrap_or(0)
                };
                let price = traded_price.or(order.limit_price);
                let line = wording::deal(order.side, &quantity(filled), symbol, price);
                (line, filled as f64 * traded_price.unwrap_or(0.0))
            }
            NotifyKind::OrderPartiallyFilled => {
                let so_far = format!("{} of {total}", quantity(filled));
                // The order carries only the average price of all its fills; close enough for
                // the value of the latest part.
                let traded = newly_filled as f64 * traded_price.unwrap_or(0.0);
                (wording::deal(order.side, &so_far, symbol, traded_price), traded)
            }
            _ => {
                let mut line = wording::deal(order.side, &total, symbol, order.limit_price);
                if filled > 0 {
                    line.push_str(&format!(" · {} filled", quantity(filled)));
                }
                (line, 0.0)
            }
        };
        let reason = matches!(kind, NotifyKind::OrderRejected | NotifyKind::OrderCancelled)
            .then(|| order.message.as_deref().or(order.status_msg.as_deref()))
            .flatten()
            .map(str::trim)
            .filter(|reason| !reason.is_empty())
            .map(str::to_owned);
        Self {
            line,
            reason,
            name: Some(wording::short_name(symbol).to_owned()),
            traded,
        }
    }

    pub(super) fn trade(trade: &Trade) -> Self {
        let symbol = trade.symbol.as_deref().unwrap_or(trade.trade_number.as_str());
        let qty = trade.traded_qty.unwrap_or(0);
        let traded = trade
            .trade_value
            .or_else(|| Some(qty as f64 * trade.trade_price?))
            .filter(|value| value.is_finite())
            .unwrap_or(0.0);
        Self {
            line: wording::deal(trade.side, &quantity(qty), symbol, trade.trade_price),
            reason: None,
            name: Some(wording::short_name(symbol).to_owned()),
            traded,
        }
    }

    pub(super) fn alert(alert: &GeneralEvent) -> Self {
        let name = alert
            .body()
            .and_then(|body| body.get("symbol")?.as_str())
            .map(|symbol| wording::short_name(symbol).to_owned());
        Self {
            line: alert.summary(),
            reason: None,
            name,
            traded: 0.0,
        }
    }

    /// How this item reads in a coalesced list: "RELIANCE: RMS:Margin Shortfall…".
    fn listed(&self) -> String {
        match (&self.name, &self.reason) {
            (Some(name), Some(reason)) => format!("{name}: {reason}"),
            (None, Some(reason)) => format!("{}: {reason}", self.line),
            (_, None) => self.line.clone(),
        }
    }
}

/// Items of one kind gathered since `opened_at`; shown as one when the window closes.
#[derive(Debug, Clone)]
pub(super) struct Batch {
    pub(super) kind: NotifyKind,
    pub(super) opened_at: Instant,
    count: usize,
    traded: f64,
    first: Item,
    names: IndexSet<String>,
    /// The first few items as listed (reasons, alerts); the rest are only counted.
    listed: Vec<String>,
}

impl Batch {
    pub(super) fn open(kind: NotifyKind, item: Item, now: Instant) -> Self {
        let mut batch = Self {
            kind,
            opened_at: now,
            count: 0,
            traded: 0.0,
            first: item.clone(),
            names: IndexSet::new(),
            listed: Vec::new(),
        };
        batch.add(item);
        batch
    }

    pub(super) fn add(&mut self, item: Item) {
        self.count += 1;
        self.traded += item.traded;
        if self.listed.len() < LISTED {
            self.listed.push(item.listed());
        }
        if let Some(name) = item.name {
            self.names.insert(name);
        }
    }

    pub(super) fn notification(&self) -> Notification {
        if self.count == 1 {
            let body = match &self.first.reason {
                Some(reason) => format!("{}\n{reason}", self.first.line),
                None => self.first.line.clone(),
            };
            return Notification::new(self.kind, wording::title(self.kind), body);
        }
        let body = match self.kind {
            NotifyKind::OrderRejected | NotifyKind::PriceAlert => {
                let mut lines = self.listed.clone();
                if self.count > lines.len() {
                    lines.push(format!("+{} more", self.count - lines.len()));
                }
                lines.join("\n")
            }
            _ => wording::traded_summary(self.traded, &self.names),
        };
        Notification::new(self.kind, wording::count_title(self.kind, self.count), body)
    }
}
