//! The field tables of the fast reader: for each struct, every key it answers to (raw and
//! friendly) and how to read the value. Kept apart from the reader: these are data.

use super::scan::Pattern;
use super::{Cursor, Fields, Name};
use crate::fyers::model::{
    Exchange, Order, OrderSource, OrderStatus, OrderType, Position, PositionSide, ProductType, Segment, Side,
    Trade, Validity,
};

/// Generates a struct's field table from `field: kind ["raw", "friendly"]` lines.
macro_rules! fields {
    ($name:ident: $ty:ty { $($field:ident: $kind:ident [$($key:literal),+]),+ $(,)? } required [$($req:ident),*]) => {
        #[allow(non_camel_case_types, dead_code)]
        #[repr(u8)]
        pub(super) enum $name { $($field),+ }

        impl $name {
            pub(super) const TABLE: Fields = Fields {
                names: &[$($(Name {
                    key: $key,
                    quoted: Pattern::new(concat!("\"", $key, "\":")),
                    field: $name::$field as u8,
                }),+),+],
                required: 0 $(| (1u64 << ($name::$req as u8)))*,
            };

            /// Every field, by number.
            const ALL: &[$name] = &[$($name::$field),+];

            /// Reads field number `field`'s value into `value`. A `match` on the field, not a
            /// table of functions: the compiler makes it a jump into code inlined in the reader,
            /// where the cursor stays in registers.
            #[inline(always)]
            pub(super) fn set(value: &mut $ty, field: u8, cursor: &mut Cursor) -> Option<()> {
                match Self::ALL.get(usize::from(field))? {
                    $($name::$field => fields!(@set $kind, value.$field, cursor),)+
                }
                Some(())
            }
        }
    };
    (@set text, $slot:expr, $c:ident) => { $c.text_into(&mut $slot)? };
    (@set id, $slot:expr, $c:ident) => { $c.id_into(&mut $slot)? };
    (@set $kind:ident, $slot:expr, $c:ident) => { $slot = fields!(@read $kind, $c) };
    (@read int, $c:ident) => { $c.int()? };
    (@read float, $c:ident) => { $c.float()? };
    (@read bool, $c:ident) => { $c.boolean()? };
    (@read status, $c:ident) => { $c.int()?.map(OrderStatus::from_code) };
    (@read order_type, $c:ident) => { $c.int()?.map(OrderType::from_code) };
    (@read side, $c:ident) => { $c.int()?.map(Side::from_code) };
    (@read position_side, $c:ident) => { $c.int()?.map(PositionSide::from_code) };
    (@read exchange, $c:ident) => { $c.int()?.map(Exchange::from_code) };
    (@read segment, $c:ident) => { $c.int()?.map(Segment::from_code) };
    (@read product, $c:ident) => { $c.nullable(|c| c.string().map(ProductType::from_code))? };
    (@read source, $c:ident) => { $c.nullable(|c| c.string().map(OrderSource::from_code))? };
    (@read validity, $c:ident) => { $c.nullable(|c| c.string().map(Validity::from_code))? };
}

fields!(OrderField: Order {
    client_id: text ["client_id", "clientId"],
    id: id ["id"],
    parent_id: text ["id_parent", "parentId"],
    exchange_order_id: text ["id_exchange", "exchOrdId"],
    qty: int ["qty"],
    remaining_qty: int ["qty_remaining", "remainingQuantity"],
    filled_qty: int ["qty_filled", "filledQty"],
    limit_price: float ["price_limit", "limitPrice"],
    stop_price: float ["price_stop", "stopPrice"],
    traded_price: float ["price_traded", "tradedPrice"],
    order_type: order_type ["ord_type", "type"],
    fy_token: text ["fy_token", "fyToken"],
    exchange: exchange ["exchange"],
    segment: segment ["segment"],
    symbol: text ["symbol"],
    instrument: int ["instrument"],
    message: text ["oms_msg", "message"],
    offline_order: bool ["offline_flag", "offlineOrder"],
    order_date_time: text ["time_oms", "orderDateTime"],
    validity: validity ["validity", "orderValidity"],
    product_type: product ["product_type", "productType"],
    side: side ["tran_side", "side"],
    status: status ["org_ord_status", "status"],
    source: source ["ord_source", "source"],
    exchange_symbol: text ["symbol_exch", "ex_sym"],
    description: text ["symbol_desc", "description"],
    order_tag: text ["ordertag", "orderTag"],
    take_profit: float ["take_profit", "takeProfit"],
    stop_loss: float ["stop_loss", "stopLoss"],
    leg_type: int ["leg_type", "legType"],
    id_fyers: text ["id_fyers"],
    update_time_epoch_oms: int ["update_time_epoch_oms"],
    time_epoch_oms: int ["time_epoch_oms"],
    report_type: text ["report_type"],
    status_msg: text ["status_msg"],
} required [id]);

fields!(TradeField: Trade {
    trade_number: id ["id_fill", "tradeNumber"],
    order_number: text ["id", "orderNumber"],
    traded_qty: int ["qty_traded", "tradedQty"],
    trade_price: float ["price_traded", "tradePrice"],
    trade_value: float ["traded_val", "tradeValue"],
    product_type: product ["product_type", "productType"],
    client_id: text ["client_id", "clientId"],
    exchange_order_no: text ["id_exchange", "exchangeOrderNo"],
    order_type: order_type ["ord_type", "orderType"],
    side: side ["tran_side", "side"],
    symbol: text ["symbol"],
    order_date_time: text ["fill_time", "orderDateTime"],
    fy_token: text ["fy_token", "fyToken"],
    exchange: exchange ["exchange"],
    segment: segment ["segment"],
    order_tag: text ["ordertag", "orderTag"],
    id_fyers: text ["id_fyers"],
    fill_time_epoch: int ["fill_time_epoch"],
    symbol_desc: text ["symbol_desc"],
} required [trade_number]);

fields!(PositionField: Position {
    symbol: text ["symbol"],
    id: id ["id"],
    buy_avg: float ["buy_avg", "buyAvg"],
    buy_qty: int ["buy_qty", "buyQty"],
    buy_val: float ["buy_val", "buyVal"],
    sell_avg: float ["sell_avg", "sellAvg"],
    sell_qty: int ["sell_qty", "sellQty"],
    sell_val: float ["sell_val", "sellVal"],
    net_avg: float ["net_avg", "netAvg"],
    net_qty: int ["net_qty", "netQty"],
    side: position_side ["tran_side", "side"],
    qty: int ["qty"],
    product_type: product ["product_type", "productType"],
    realized_profit: float ["pl_realized", "realized_profit"],
    rbi_ref_rate: float ["rbirefrate", "rbiRefRate"],
    fy_token: text ["fy_token", "fyToken"],
    exchange: exchange ["exchange"],
    segment: segment ["segment"],
    day_buy_qty: int ["day_buy_qty", "dayBuyQty"],
    day_sell_qty: int ["day_sell_qty", "daySellQty"],
    cf_buy_qty: int ["cf_buy_qty", "cfBuyQty"],
    cf_sell_qty: int ["cf_sell_qty", "cfSellQty"],
    qty_multiplier: float ["qty_multiplier", "qtyMulti_com"],
    pl: float ["pl_total", "pl"],
    cross_currency: text ["cross_curr_flag", "crossCurrency"],
    unrealized_profit: float ["pl_unrealized", "unrealized_profit"],
    take_profit: float ["take_profit", "takeProfit"],
    stop_loss: float ["stop_loss", "stopLoss"],
    leg_type: int ["leg_type", "legType"],
    id_fyers: text ["id_fyers"],
    ltp: float ["ltp"],
} required [id]);
