//! The typed events of the order socket and the REST books.
//!
//! Each struct deserialises from both the server's **raw** keys (`org_ord_status`, `qty_remaining`…)
//! and the **friendly** keys of the SDK and REST API (`status`, `remainingQuantity`…), and always
//! serialises with the friendly keys, so a frame comes out exactly as the official SDK hands it to its
//! callback. Keys the SDK drops but a monitor wants (`update_time_epoch_oms`, `report_type`…) are
//! kept under their raw names.
//!
//! Each field's two names are written once, in the `record!` declarations below: the macro makes
//! the serde attributes (friendly name, raw alias) and the `KEYS` table that writes raw frames.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

pub use super::codes::{
    Exchange, OrderSource, OrderStatus, OrderType, PositionSide, ProductType, Segment, Side, Validity,
};
pub use super::event::{Event, EventKind, GeneralEvent, GeneralKind};

/// Short strings (ids, symbols, tokens) live inline: no allocation per field on the hot path.
pub type Text = CompactString;

/// Declares a Fyers record: each field as `name: Type = "raw" => "friendly"`. Generates the struct
/// (serialised with the friendly names, read from either) and `KEYS`, its (raw, friendly) pairs.
macro_rules! record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$field_meta:meta])* $field:ident: $ty:ty = $raw:literal => $friendly:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                #[serde(rename = $friendly, alias = $raw, skip_serializing_if = "Absent::absent")]
                pub $field: $ty,
            )*
        }

        impl $name {
            /// Every field's (raw, friendly) key, in the order the SDK writes them.
            pub const KEYS: &'static [(&'static str, &'static str)] = &[$(($raw, $friendly)),*];
        }
    };
}

/// Which fields a frame leaves out: every absent optional one. Required ones are always written.
trait Absent {
    fn absent(&self) -> bool;
}

impl<T> Absent for Option<T> {
    fn absent(&self) -> bool {
        self.is_none()
    }
}

impl Absent for Text {
    fn absent(&self) -> bool {
        false
    }
}

record! {
    /// One order's full current state, as one order frame or one order-book row carries it.
    pub struct Order {
        client_id: Option<Text> = "client_id" => "clientId",
        id: Text = "id" => "id",
        parent_id: Option<Text> = "id_parent" => "parentId",
        exchange_order_id: Option<Text> = "id_exchange" => "exchOrdId",
        qty: Option<i64> = "qty" => "qty",
        remaining_qty: Option<i64> = "qty_remaining" => "remainingQuantity",
        filled_qty: Option<i64> = "qty_filled" => "filledQty",
        limit_price: Option<f64> = "price_limit" => "limitPrice",
        stop_price: Option<f64> = "price_stop" => "stopPrice",
        traded_price: Option<f64> = "price_traded" => "tradedPrice",
        order_type: Option<OrderType> = "ord_type" => "type",
        fy_token: Option<Text> = "fy_token" => "fyToken",
        exchange: Option<Exchange> = "exchange" => "exchange",
        segment: Option<Segment> = "segment" => "segment",
        symbol: Option<Text> = "symbol" => "symbol",
        instrument: Option<i64> = "instrument" => "instrument",
        message: Option<Text> = "oms_msg" => "message",
        offline_order: Option<bool> = "offline_flag" => "offlineOrder",
        order_date_time: Option<Text> = "time_oms" => "orderDateTime",
        validity: Option<Validity> = "validity" => "orderValidity",
        product_type: Option<ProductType> = "product_type" => "productType",
        side: Option<Side> = "tran_side" => "side",
        status: Option<OrderStatus> = "org_ord_status" => "status",
        source: Option<OrderSource> = "ord_source" => "source",
        exchange_symbol: Option<Text> = "symbol_exch" => "ex_sym",
        description: Option<Text> = "symbol_desc" => "description",
        order_tag: Option<Text> = "ordertag" => "orderTag",
        take_profit: Option<f64> = "take_profit" => "takeProfit",
        stop_loss: Option<f64> = "stop_loss" => "stopLoss",
        leg_type: Option<i64> = "leg_type" => "legType",
        id_fyers: Option<Text> = "id_fyers" => "id_fyers",
        // Kept beyond the SDK's mapping: they order updates and explain them.
        update_time_epoch_oms: Option<i64> = "update_time_epoch_oms" => "update_time_epoch_oms",
        time_epoch_oms: Option<i64> = "time_epoch_oms" => "time_epoch_oms",
        report_type: Option<Text> = "report_type" => "report_type",
        status_msg: Option<Text> = "status_msg" => "status_msg",
    }
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

/// India Standard Time's offset from UTC: Fyers' times and the trading day are in IST, which has
/// no daylight saving. The one definition; everything else derives from it.
pub const IST_OFFSET_SECS: i64 = 5 * 3600 + 30 * 60;

/// Reads Fyers' IST date-times (`24-Dec-2025 09:15:00`, or `24-12-2025 09:15:00` in trade rows)
/// as Unix seconds.
pub fn parse_ist(text: &str) -> Option<i64> {
    ["%d-%b-%Y %H:%M:%S", "%d-%m-%Y %H:%M:%S"]
        .into_iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(text.trim(), format).ok())
        .map(|time| time.and_utc().timestamp() - IST_OFFSET_SECS)
}

record! {
    /// One fill, as one trade frame or one trade-book row carries it.
    pub struct Trade {
        trade_number: Text = "id_fill" => "tradeNumber",
        order_number: Option<Text> = "id" => "orderNumber",
        traded_qty: Option<i64> = "qty_traded" => "tradedQty",
        trade_price: Option<f64> = "price_traded" => "tradePrice",
        trade_value: Option<f64> = "traded_val" => "tradeValue",
        product_type: Option<ProductType> = "product_type" => "productType",
        client_id: Option<Text> = "client_id" => "clientId",
        exchange_order_no: Option<Text> = "id_exchange" => "exchangeOrderNo",
        order_type: Option<OrderType> = "ord_type" => "orderType",
        side: Option<Side> = "tran_side" => "side",
        symbol: Option<Text> = "symbol" => "symbol",
        order_date_time: Option<Text> = "fill_time" => "orderDateTime",
        fy_token: Option<Text> = "fy_token" => "fyToken",
        exchange: Option<Exchange> = "exchange" => "exchange",
        segment: Option<Segment> = "segment" => "segment",
        order_tag: Option<Text> = "ordertag" => "orderTag",
        id_fyers: Option<Text> = "id_fyers" => "id_fyers",
        fill_time_epoch: Option<i64> = "fill_time_epoch" => "fill_time_epoch",
        symbol_desc: Option<Text> = "symbol_desc" => "symbol_desc",
    }
}

impl Trade {
    /// When the fill happened, in Unix seconds.
    pub fn fill_epoch(&self) -> Option<i64> {
        self.fill_time_epoch
            .or_else(|| self.order_date_time.as_deref().and_then(parse_ist))
    }
}

record! {
    /// One net position, as one position frame or one `netPositions` row carries it.
    pub struct Position {
        symbol: Option<Text> = "symbol" => "symbol",
        id: Text = "id" => "id",
        buy_avg: Option<f64> = "buy_avg" => "buyAvg",
        buy_qty: Option<i64> = "buy_qty" => "buyQty",
        buy_val: Option<f64> = "buy_val" => "buyVal",
        sell_avg: Option<f64> = "sell_avg" => "sellAvg",
        sell_qty: Option<i64> = "sell_qty" => "sellQty",
        sell_val: Option<f64> = "sell_val" => "sellVal",
        net_avg: Option<f64> = "net_avg" => "netAvg",
        net_qty: Option<i64> = "net_qty" => "netQty",
        side: Option<PositionSide> = "tran_side" => "side",
        qty: Option<i64> = "qty" => "qty",
        product_type: Option<ProductType> = "product_type" => "productType",
        realized_profit: Option<f64> = "pl_realized" => "realized_profit",
        rbi_ref_rate: Option<f64> = "rbirefrate" => "rbiRefRate",
        fy_token: Option<Text> = "fy_token" => "fyToken",
        exchange: Option<Exchange> = "exchange" => "exchange",
        segment: Option<Segment> = "segment" => "segment",
        day_buy_qty: Option<i64> = "day_buy_qty" => "dayBuyQty",
        day_sell_qty: Option<i64> = "day_sell_qty" => "daySellQty",
        cf_buy_qty: Option<i64> = "cf_buy_qty" => "cfBuyQty",
        cf_sell_qty: Option<i64> = "cf_sell_qty" => "cfSellQty",
        qty_multiplier: Option<f64> = "qty_multiplier" => "qtyMulti_com",
        pl: Option<f64> = "pl_total" => "pl",
        cross_currency: Option<Text> = "cross_curr_flag" => "crossCurrency",
        unrealized_profit: Option<f64> = "pl_unrealized" => "unrealized_profit",
        take_profit: Option<f64> = "take_profit" => "takeProfit",
        stop_loss: Option<f64> = "stop_loss" => "stopLoss",
        leg_type: Option<i64> = "leg_type" => "legType",
        id_fyers: Option<Text> = "id_fyers" => "id_fyers",
        ltp: Option<f64> = "ltp" => "ltp",
    }
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
