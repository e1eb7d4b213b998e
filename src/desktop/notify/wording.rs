//! The words of every notification, in one place so they read alike.

use crate::format::capitalised;
use std::time::Duration;

use indexmap::IndexSet;

use super::NotifyKind;
use crate::format::{duration, quantity, rupees};
use crate::fyers::model::Side;

/// Symbols named in a coalesced notification before "+N more".
const NAMED: usize = 3;

/// A lone notification's headline.
pub(super) fn title(kind: NotifyKind) -> &'static str {
    match kind {
        NotifyKind::OrderFilled => "Order filled",
        NotifyKind::OrderPartiallyFilled => "Order partly filled",
        NotifyKind::OrderRejected => "Order rejected",
        NotifyKind::OrderCancelled => "Order cancelled",
        NotifyKind::TradeExecuted => "Trade executed",
        NotifyKind::PriceAlert => "Price alert",
        NotifyKind::StreamLost => "Stream lost",
        NotifyKind::StreamRestored => "Stream restored",
        NotifyKind::SessionEnding => "Session ending soon",
        NotifyKind::SessionExpired => "Session expired",
        NotifyKind::PnlAlert => "P&L alert",
    }
}

/// A coalesced notification's headline: "40 orders filled".
pub(super) fn count_title(kind: NotifyKind, count: usize) -> String {
    let count = quantity(i64::try_from(count).unwrap_or(i64::MAX));
    match kind {
        NotifyKind::OrderFilled => format!("{count} orders filled"),
        NotifyKind::OrderPartiallyFilled => format!("{count} orders partly filled"),
        NotifyKind::OrderRejected => format!("{count} orders rejected"),
        NotifyKind::OrderCancelled => format!("{count} orders cancelled"),
        NotifyKind::TradeExecuted => format!("{count} trades executed"),
        NotifyKind::PriceAlert => format!("{count} price alerts"),
        NotifyKind::PnlAlert => format!("{count} P&L alerts"),
        // Never coalesced; worded anyway so nothing is lost if that changes.
        other => format!("{} ({count})", title(other)),
    }
}

/// What was dealt: "BUY 10 NSE:RELIANCE-EQ @ ₹2,950.00". `qty` is already worded ("30 of 100"
/// for a part fill); a missing or zero price (market orders) is left out.
pub(super) fn deal(side: Option<Side>, qty: &str, symbol: &str, price: Option<f64>) -> String {
    let mut line = String::new();
    match side {
        Some(Side::Buy) => line.push_str("BUY "),
        Some(Side::Sell) => line.push_str("SELL "),
        Some(Side::Other(_)) | None => {}
    }
    line.push_str(qty);
    line.push(' ');
    line.push_str(symbol);
    if let Some(price) = price.filter(|price| price.is_finite() && *price > 0.0) {
        line.push_str(" @ ");
        line.push_str(&rupees(price));
    }
    line
}

/// A symbol as a trader says it in a list: `NSE:RELIANCE-EQ` → `RELIANCE`.
pub(super) fn short_name(symbol: &str) -> &str {
    let name = symbol.split_once(':').map_or(symbol, |(_, name)| name);
    // The series suffix (`-EQ`, `-BE`) is noise in a list; derivative names have none.
    match name.rsplit_once('-') {
        Some((base, series))
            if !base.is_empty()
                && (1..=2).contains(&series.len())
                && series.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            base
        }
        _ => name,
    }
}

/// "RELIANCE, TCS, INFY, +37 more".
pub(super) fn names(names: &IndexSet<String>) -> String {
    let mut list: Vec<&str> = names.iter().take(NAMED).map(String::as_str).collect();
    let more = names.len().saturating_sub(NAMED);
    let more = format!("+{more} more");
    if names.len() > NAMED {
        list.push(&more);
    }
    list.join(", ")
}

/// "₹12,34,567.00 traded · RELIANCE, TCS, INFY, +37 more"; either half may be missing.
pub(super) fn traded_summary(traded: f64, symbols: &IndexSet<String>) -> String {
    let mut parts = Vec::with_capacity(2);
    if traded > 0.0 {
        parts.push(format!("{} traded", rupees(traded)));
    }
    if !symbols.is_empty() {
        parts.push(names(symbols));
    }
    parts.join(" · ")
}

pub(super) fn stream_lost(after: Duration, reason: Option<&str>) -> String {
    let after = duration(after.as_secs());
    match reason {
        Some(reason) => format!("No connection to Fyers for {after} ({reason}). Still retrying."),
        None => format!("No connection to Fyers for {after}. Still retrying."),
    }
}

pub(super) fn stream_restored(down: Duration) -> String {
    // Updates missed meanwhile are merged from REST without notifications (they would all arrive
    // at once, late): say so, so the trader looks at the window.
    format!(
        "Connected again after {}. Changes made meanwhile are in the window, not notified.",
        duration(down.as_secs())
    )
}

pub(super) fn session_ending() -> String {
    "The Fyers login ends in 15 minutes or less. Log in again to keep the stream running.".to_owned()
}

pub(super) fn session_expired(reason: Option<&str>) -> String {
    let log_in = "Log in again to resume the stream.";
    match reason.map(str::trim).filter(|reason| !reason.is_empty()) {
        Some(reason) => format!("{}.\n{log_in}", capitalised(reason.trim_end_matches('.'))),
        None => log_in.to_owned(),
    }
}
