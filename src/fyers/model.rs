//! The typed events of the order socket and the REST books.
//!
//! Each struct deserialises from both the server's **raw** keys (`org_ord_status`, `qty_remaining`…)
//! and the **friendly** keys of the SDK and REST API (`status`, `remainingQuantity`…), and always
//! serialises with the friendly keys, so a frame comes out exactly as the official SDK hands it to its
//! callback. Keys the SDK drops but a monitor wants (`update_time_epoch_oms`, `report_type`…) are
//! kept under their raw names.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

pub use super::codes::{
    Exchange, OrderSource, OrderStatus, OrderType, PositionSide, ProductType, Segment, Side, Validity,
};
pub use super::event::{Event, EventKind, GeneralEvent, GeneralKind};

/// Short strings (ids, symbols, tokens) live inline: no allocation per field on the hot path.
pub type Text = CompactString;

/// One order's full current state, as one order frame or one order-book row carries it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Order {
    #[serde(
        rename = "clientId",
        alias = "client_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_id: Option<Text>,
    pub id: Text,
    #[serde(
        rename = "parentId",
        alias = "id_parent",
        skip_serializing_if = "Option::is_none"
    )]
    pub parent_id: Option<Text>,
    #[serde(
        rename = "exchOrdId",
        alias = "id_exchange",
        skip_serializing_if = "Option::is_none"
    )]
    pub exchange_order_id: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qty: Option<i64>,
    #[serde(
        rename = "remainingQuantity",
        alias = "qty_remaining",
        skip_serializing_if = "Option::is_none"
    )]
    pub remaining_qty: Option<i64>,
    #[serde(
        rename = "filledQty",
        alias = "qty_filled",
        skip_serializing_if = "Option::is_none"
    )]
    pub filled_qty: Option<i64>,
    #[serde(
        rename = "limitPrice",
        alias = "price_limit",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit_price: Option<f64>,
    #[serde(
        rename = "stopPrice",
        alias = "price_stop",
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_price: Option<f64>,
    #[serde(
        rename = "tradedPrice",
        alias = "price_traded",
        skip_serializing_if = "Option::is_none"
    )]
    pub traded_price: Option<f64>,
    #[serde(rename = "type", alias = "ord_type", skip_serializing_if = "Option::is_none")]
    pub order_type: Option<OrderType>,
    #[serde(
        rename = "fyToken",
        alias = "fy_token",
        skip_serializing_if = "Option::is_none"
    )]
    pub fy_token: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<Segment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instrument: Option<i64>,
    #[serde(
        rename = "message",
        alias = "oms_msg",
        skip_serializing_if = "Option::is_none"
    )]
    pub message: Option<Text>,
    #[serde(
        rename = "offlineOrder",
        alias = "offline_flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub offline_order: Option<bool>,
    #[serde(
        rename = "orderDateTime",
        alias = "time_oms",
        skip_serializing_if = "Option::is_none"
    )]
    pub order_date_time: Option<Text>,
    #[serde(
        rename = "orderValidity",
        alias = "validity",
        skip_serializing_if = "Option::is_none"
    )]
    pub validity: Option<Validity>,
    #[serde(
        rename = "productType",
        alias = "product_type",
        skip_serializing_if = "Option::is_none"
    )]
    pub product_type: Option<ProductType>,
    #[serde(alias = "tran_side", skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
    #[serde(alias = "org_ord_status", skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderStatus>,
    #[serde(alias = "ord_source", skip_serializing_if = "Option::is_none")]
    pub source: Option<OrderSource>,
    #[serde(
        rename = "ex_sym",
        alias = "symbol_exch",
        skip_serializing_if = "Option::is_none"
    )]
    pub exchange_symbol: Option<Text>,
    #[serde(
        rename = "description",
        alias = "symbol_desc",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Text>,
    #[serde(
        rename = "orderTag",
        alias = "ordertag",
        skip_serializing_if = "Option::is_none"
    )]
    pub order_tag: Option<Text>,
    #[serde(
        rename = "takeProfit",
        alias = "take_profit",
        skip_serializing_if = "Option::is_none"
    )]
    pub take_profit: Option<f64>,
    #[serde(
        rename = "stopLoss",
        alias = "stop_loss",
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_loss: Option<f64>,
    #[serde(
        rename = "legType",
        alias = "leg_type",
        skip_serializing_if = "Option::is_none"
    )]
    pub leg_type: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_fyers: Option<Text>,
    // Kept beyond the SDK's mapping: they order updates and explain them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_time_epoch_oms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_epoch_oms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_type: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_msg: Option<Text>,
}

impl Order {
    pub fn status(&self) -> OrderStatus {
        self.status.unwrap_or(OrderStatus::Other(0))
    }

    pub fn filled(&self) -> i64 {
        self.filled_qty.unwrap_or(0)
    }

    /// When the order was placed, in Unix seconds: the OMS epoch, else `orderDateTime` read as IST
    /// (REST rows carry only the latter).
    pub fn placed_epoch(&self) -> Option<i64> {
        self.time_epoch_oms
            .or_else(|| self.order_date_time.as_deref().and_then(parse_ist))
    }
}

/// Reads Fyers' IST date-times (`24-Dec-2025 09:15:00`, or `24-12-2025 09:15:00` in trade rows)
/// as Unix seconds.
pub fn parse_ist(text: &str) -> Option<i64> {
    const IST_OFFSET_SECS: i64 = 5 * 3600 + 30 * 60;
    ["%d-%b-%Y %H:%M:%S", "%d-%m-%Y %H:%M:%S"]
        .into_iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(text.trim(), format).ok())
        .map(|time| time.and_utc().timestamp() - IST_OFFSET_SECS)
}

/// One fill, as one trade frame or one trade-book row carries it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Trade {
    #[serde(rename = "tradeNumber", alias = "id_fill")]
    pub trade_number: Text,
    #[serde(rename = "orderNumber", alias = "id", skip_serializing_if = "Option::is_none")]
    pub order_number: Option<Text>,
    #[serde(
        rename = "tradedQty",
        alias = "qty_traded",
        skip_serializing_if = "Option::is_none"
    )]
    pub traded_qty: Option<i64>,
    #[serde(
        rename = "tradePrice",
        alias = "price_traded",
        skip_serializing_if = "Option::is_none"
    )]
    pub trade_price: Option<f64>,
    #[serde(
        rename = "tradeValue",
        alias = "traded_val",
        skip_serializing_if = "Option::is_none"
    )]
    pub trade_value: Option<f64>,
    #[serde(
        rename = "productType",
        alias = "product_type",
        skip_serializing_if = "Option::is_none"
    )]
    pub product_type: Option<ProductType>,
    #[serde(
        rename = "clientId",
        alias = "client_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_id: Option<Text>,
    #[serde(
        rename = "exchangeOrderNo",
        alias = "id_exchange",
        skip_serializing_if = "Option::is_none"
    )]
    pub exchange_order_no: Option<Text>,
    #[serde(
        rename = "orderType",
        alias = "ord_type",
        skip_serializing_if = "Option::is_none"
    )]
    pub order_type: Option<OrderType>,
    #[serde(alias = "tran_side", skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<Text>,
    #[serde(
        rename = "orderDateTime",
        alias = "fill_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub order_date_time: Option<Text>,
    #[serde(
        rename = "fyToken",
        alias = "fy_token",
        skip_serializing_if = "Option::is_none"
    )]
    pub fy_token: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<Segment>,
    #[serde(
        rename = "orderTag",
        alias = "ordertag",
        skip_serializing_if = "Option::is_none"
    )]
    pub order_tag: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_fyers: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fill_time_epoch: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol_desc: Option<Text>,
}

impl Trade {
    /// When the fill happened, in Unix seconds.
    pub fn fill_epoch(&self) -> Option<i64> {
        self.fill_time_epoch
            .or_else(|| self.order_date_time.as_deref().and_then(parse_ist))
    }
}

/// One net position, as one position frame or one `netPositions` row carries it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Position {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<Text>,
    pub id: Text,
    #[serde(rename = "buyAvg", alias = "buy_avg", skip_serializing_if = "Option::is_none")]
    pub buy_avg: Option<f64>,
    #[serde(rename = "buyQty", alias = "buy_qty", skip_serializing_if = "Option::is_none")]
    pub buy_qty: Option<i64>,
    #[serde(rename = "buyVal", alias = "buy_val", skip_serializing_if = "Option::is_none")]
    pub buy_val: Option<f64>,
    #[serde(
        rename = "sellAvg",
        alias = "sell_avg",
        skip_serializing_if = "Option::is_none"
    )]
    pub sell_avg: Option<f64>,
    #[serde(
        rename = "sellQty",
        alias = "sell_qty",
        skip_serializing_if = "Option::is_none"
    )]
    pub sell_qty: Option<i64>,
    #[serde(
        rename = "sellVal",
        alias = "sell_val",
        skip_serializing_if = "Option::is_none"
    )]
    pub sell_val: Option<f64>,
    #[serde(rename = "netAvg", alias = "net_avg", skip_serializing_if = "Option::is_none")]
    pub net_avg: Option<f64>,
    #[serde(rename = "netQty", alias = "net_qty", skip_serializing_if = "Option::is_none")]
    pub net_qty: Option<i64>,
    #[serde(alias = "tran_side", skip_serializing_if = "Option::is_none")]
    pub side: Option<PositionSide>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qty: Option<i64>,
    #[serde(
        rename = "productType",
        alias = "product_type",
        skip_serializing_if = "Option::is_none"
    )]
    pub product_type: Option<ProductType>,
    #[serde(
        rename = "realized_profit",
        alias = "pl_realized",
        skip_serializing_if = "Option::is_none"
    )]
    pub realized_profit: Option<f64>,
    #[serde(
        rename = "rbiRefRate",
        alias = "rbirefrate",
        skip_serializing_if = "Option::is_none"
    )]
    pub rbi_ref_rate: Option<f64>,
    #[serde(
        rename = "fyToken",
        alias = "fy_token",
        skip_serializing_if = "Option::is_none"
    )]
    pub fy_token: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<Segment>,
    #[serde(
        rename = "dayBuyQty",
        alias = "day_buy_qty",
        skip_serializing_if = "Option::is_none"
    )]
    pub day_buy_qty: Option<i64>,
    #[serde(
        rename = "daySellQty",
        alias = "day_sell_qty",
        skip_serializing_if = "Option::is_none"
    )]
    pub day_sell_qty: Option<i64>,
    #[serde(
        rename = "cfBuyQty",
        alias = "cf_buy_qty",
        skip_serializing_if = "Option::is_none"
    )]
    pub cf_buy_qty: Option<i64>,
    #[serde(
        rename = "cfSellQty",
        alias = "cf_sell_qty",
        skip_serializing_if = "Option::is_none"
    )]
    pub cf_sell_qty: Option<i64>,
    #[serde(
        rename = "qtyMulti_com",
        alias = "qty_multiplier",
        skip_serializing_if = "Option::is_none"
    )]
    pub qty_multiplier: Option<f64>,
    #[serde(rename = "pl", alias = "pl_total", skip_serializing_if = "Option::is_none")]
    pub pl: Option<f64>,
    #[serde(
        rename = "crossCurrency",
        alias = "cross_curr_flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub cross_currency: Option<Text>,
    #[serde(
        rename = "unrealized_profit",
        alias = "pl_unrealized",
        skip_serializing_if = "Option::is_none"
    )]
    pub unrealized_profit: Option<f64>,
    #[serde(
        rename = "takeProfit",
        alias = "take_profit",
        skip_serializing_if = "Option::is_none"
    )]
    pub take_profit: Option<f64>,
    #[serde(
        rename = "stopLoss",
        alias = "stop_loss",
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_loss: Option<f64>,
    #[serde(
        rename = "legType",
        alias = "leg_type",
        skip_serializing_if = "Option::is_none"
    )]
    pub leg_type: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_fyers: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ltp: Option<f64>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn ist_date_times() {
        assert_eq!(super::parse_ist("24-Dec-2025 09:15:00"), Some(1_766_547_900));
        assert_eq!(super::parse_ist("24-12-2025 09:15:00"), Some(1_766_547_900));
        assert_eq!(super::parse_ist("NA"), None);
    }
}
