//! The simulated exchange's truth (orders, trades and positions by key), the instruments it trades,
//! the arithmetic of a net position, and the trade and notice frames: what `sim::day` needs beyond the
//! order life cycle itself.

use compact_str::format_compact;
use indexmap::IndexMap;
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Map, Value, json};

use crate::fyers::model::{
    Event, Exchange, GeneralEvent, Order, OrderStatus, OrderType, Position, PositionSide, ProductType,
    Segment, Side, Text, Trade,
};

/// The exchange's truth: the latest state of everything the day produced so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Book {
    /// By order id, latest state.
    pub orders: IndexMap<Text, Order>,
    /// By trade number.
    pub trades: IndexMap<Text, Trade>,
    /// By position id (`"NSE:SBIN-EQ-INTRADAY"`).
    pub positions: IndexMap<Text, Position>,
}

impl Book {
    /// Applies one event the way a client that keeps the latest state by key would.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Order(order) => {
                self.orders.insert(order.id.clone(), Order::clone(order));
            }
            Event::Trade(trade) => {
                self.trades
                    .insert(trade.trade_number.clone(), Trade::clone(trade));
            }
            Event::Position(position) => {
                self.positions
                    .insert(position.id.clone(), Position::clone(position));
            }
            Event::General(_) => {}
        }
    }
}

/// One tradable symbol and where its price starts.
#[derive(Debug)]
pub(crate) struct Instrument {
    pub symbol: &'static str,
    pub exch_sym: &'static str,
    pub desc: &'static str,
    pub token: &'static str,
    /// 10 capital market, 11 equity derivatives.
    pub segment: i64,
    /// 0 equity, 11 index future, 14 index option.
    pub instrument: i64,
    pub price: f64,
    pub lot: i64,
    pub tick: f64,
}

impl Instrument {
    pub fn is_equity(&self) -> bool {
        self.segment == 10
    }
}

const fn eq(
    exch_sym: &'static str,
    symbol: &'static str,
    desc: &'static str,
    token: &'static str,
    price: f64,
) -> Instrument {
    let tick = if price < 50.0 { 0.01 } else { 0.05 };
    Instrument {
        symbol,
        exch_sym,
        desc,
        token,
        segment: 10,
        instrument: 0,
        price,
        lot: 1,
        tick,
    }
}

#[rustfmt::skip]
const fn fo(sym: &'static str, full: &'static str, desc: &'static str, token: &'static str, ins: i64, price: f64, lot: i64) -> Instrument {
    Instrument { symbol: full, exch_sym: sym, desc, token, segment: 11, instrument: ins, price, lot, tick: 0.05 }
}

/// How many equities lead [`INSTRUMENTS`]; the index derivatives follow.
pub(crate) const EQUITIES: usize = 27;

#[rustfmt::skip]
pub(crate) static INSTRUMENTS: [Instrument; 33] = [
    eq("RELIANCE", "NSE:RELIANCE-EQ", "RELIANCE INDUSTRIES LTD", "10100000002885", 1527.4),
    eq("TCS", "NSE:TCS-EQ", "TATA CONSULTANCY SERV LT", "10100000011536", 3191.2),
    eq("INFY", "NSE:INFY-EQ", "INFOSYS LIMITED", "10100000001594", 1548.0),
    eq("SBIN", "NSE:SBIN-EQ", "STATE BANK OF INDIA", "10100000003045", 954.2),
    eq("HDFCBANK", "NSE:HDFCBANK-EQ", "HDFC BANK LTD", "10100000001333", 1007.85),
    eq("ICICIBANK", "NSE:ICICIBANK-EQ", "ICICI BANK LTD.", "10100000004963", 1387.65),
    eq("AXISBANK", "NSE:AXISBANK-EQ", "AXIS BANK LIMITED", "10100000005900", 1270.4),
    eq("KOTAKBANK", "NSE:KOTAKBANK-EQ", "KOTAK MAHINDRA BANK LTD", "10100000001922", 2083.75),
    eq("BAJFINANCE", "NSE:BAJFINANCE-EQ", "BAJAJ FINANCE LIMITED", "10100000000317", 1032.6),
    eq("WIPRO", "NSE:WIPRO-EQ", "WIPRO LTD", "10100000003787", 241.4),
    eq("HCLTECH", "NSE:HCLTECH-EQ", "HCL TECHNOLOGIES LTD", "10100000007229", 1596.35),
    eq("SUNPHARMA", "NSE:SUNPHARMA-EQ", "SUN PHARMACEUTICAL IND L", "10100000003351", 1816.6),
    eq("ASIANPAINT", "NSE:ASIANPAINT-EQ", "ASIAN PAINTS LIMITED", "10100000000236", 2891.1),
    eq("COALINDIA", "NSE:COALINDIA-EQ", "COAL INDIA LTD", "10100000020374", 378.6),
    eq("ITC", "NSE:ITC-EQ", "ITC LTD", "10100000001660", 401.8),
    eq("TATASTEEL", "NSE:TATASTEEL-EQ", "TATA STEEL LIMITED", "10100000003499", 169.95),
    eq("POWERGRID", "NSE:POWERGRID-EQ", "POWER GRID CORP. LTD.", "10100000014977", 270.3),
    eq("NTPC", "NSE:NTPC-EQ", "NTPC LTD", "10100000011630", 337.55),
    eq("ONGC", "NSE:ONGC-EQ", "OIL AND NATURAL GAS CORP.", "10100000002475", 249.85),
    eq("BHARTIARTL", "NSE:BHARTIARTL-EQ", "BHARTI AIRTEL LIMITED", "10100000010604", 2146.6),
    eq("JSWSTEEL", "NSE:JSWSTEEL-EQ", "JSW STEEL LIMITED", "10100000011723", 1149.0),
    eq("TITAN", "NSE:TITAN-EQ", "TITAN COMPANY LIMITED", "10100000003506", 3881.7),
    eq("HINDUNILVR", "NSE:HINDUNILVR-EQ", "HINDUSTAN UNILEVER LTD.", "10100000001394", 2468.4),
    eq("MARUTI", "NSE:MARUTI-EQ", "MARUTI SUZUKI INDIA LTD.", "10100000010999", 15232.7),
    eq("ADANIENT", "NSE:ADANIENT-EQ", "ADANI ENTERPRISES LIMITED", "10100000000025", 2434.55),
    eq("LT", "NSE:LT-EQ", "LARSEN & TOUBRO LTD.", "10100000011483", 4043.6),
    eq("IDEA", "NSE:IDEA-EQ", "VODAFONE IDEA LIMITED", "10100000014366", 10.72),
    fo("NIFTY25DECFUT", "NSE:NIFTY25DECFUT", "NIFTY 25 Dec 30 FUT", "10110000052175", 11, 26088.8, 75),
    fo("BANKNIFTY25DECFUT", "NSE:BANKNIFTY25DECFUT", "BANKNIFTY 25 Dec 30 FUT", "10110000052171", 11, 60726.6, 35),
    fo("NIFTY25DEC26000CE", "NSE:NIFTY25DEC26000CE", "NIFTY 25 Dec 30 26000 CE", "10110000047812", 14, 407.8, 75),
    fo("NIFTY25DEC26000PE", "NSE:NIFTY25DEC26000PE", "NIFTY 25 Dec 30 26000 PE", "10110000047813", 14, 130.55, 75),
    fo("NIFTY25DEC26500CE", "NSE:NIFTY25DEC26500CE", "NIFTY 25 Dec 30 26500 CE", "10110000047832", 14, 120.65, 75),
    fo("BANKNIFTY25DEC60000CE", "NSE:BANKNIFTY25DEC60000CE", "BANKNIFTY 25 Dec 30 60000 CE", "10110000048211", 14, 774.95, 35),
];

/// The instrument a symbol names, if the simulator trades it.
pub(crate) fn instrument_index(symbol: &str) -> Option<usize> {
    INSTRUMENTS.iter().position(|inst| inst.symbol == symbol)
}

/// Money and prices: 2 decimal places.
pub(crate) fn round2(x: f64) -> f64 {
    let r = (x * 100.0).round() / 100.0;
    if r == 0.0 { 0.0 } else { r }
}

pub(crate) fn to_tick(x: f64, tick: f64) -> f64 {
    round2((x / tick).round() * tick)
}

/// `DD-MMM-YYYY hh:mm:ss` in IST (UTC+05:30), as the OMS writes times.
pub(crate) fn ist_time(epoch: i64) -> Text {
    ist(epoch, "%d-%b-%Y %H:%M:%S")
}

/// `epoch` in IST, formatted with a chrono `format`.
pub(crate) fn ist(epoch: i64, format: &str) -> Text {
    chrono::DateTime::from_timestamp(epoch + crate::fyers::model::IST_OFFSET_SECS, 0)
        .map(|t| format_compact!("{}", t.format(format)))
        .unwrap_or_default()
}

/// RMS checks that refuse an order before it reaches the exchange.
pub(crate) const RMS_REJECTS: [&str; 4] = [
    "RMS:Rule: Check circuit limit including square off order exceeds",
    "RMS:Blocked for Intraday / MIS product",
    "RMS:Margin Shortfall:INR 12,345.60 Available:INR 1,02,410.25 for C-XA12345 [FYERS_RISK_CUG]",
    "RMS:Order Price is out of the Price band range",
];
/// The exchange refusing an acknowledged order.
pub(crate) const EXCHANGE_REJECTS: [&str; 2] = [
    "16283:Order price is out of circuit range",
    "17070:The Price is out of the current execution range",
];
/// How a user's cancel reads.
pub(crate) const USER_CANCELS: [&str; 3] = ["Order cancelled by user", "Cancelled by user", "CANCELLED"];

/// Sets an order's status with the report type and message the OMS sends with it.
pub(crate) fn set(order: &mut Order, status: OrderStatus, report: &'static str, message: &'static str) {
    let message = Text::const_new(message);
    order.status = Some(status);
    order.report_type = Some(Text::const_new(report));
    order.message = Some(message.clone());
    order.status_msg = Some(message);
}

/// One of `items`, chosen with the given weights.
pub(crate) fn weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|&(_, w)| w).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for &(item, w) in items {
        if roll < w {
            return item;
        }
        roll -= w;
    }
    items[0].0
}

/// One of `items`, uniformly.
pub(crate) fn any<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// The trade frame of one fill of `order` (already updated for that fill), at `now`.
pub(crate) fn trade_of(order: &Order, number: Text, qty: i64, price: f64, now: i64) -> Trade {
    Trade {
        trade_number: number,
        order_number: Some(order.id.clone()),
        traded_qty: Some(qty),
        trade_price: Some(price),
        trade_value: Some(round2(qty as f64 * price)),
        product_type: order.product_type.clone(),
        client_id: order.client_id.clone(),
        exchange_order_no: order.exchange_order_id.clone(),
        order_type: order.order_type,
        side: order.side,
        symbol: order.symbol.clone(),
        order_date_time: Some(ist_time(now)),
        fy_token: order.fy_token.clone(),
        exchange: order.exchange,
        segment: order.segment,
        order_tag: order.order_tag.clone(),
        id_fyers: order.id_fyers.clone(),
        fill_time_epoch: Some(now),
        symbol_desc: order.description.clone(),
    }
}

/// A general notice in the server's raw shape: a triggered price alert on `inst` at `ltp` (numbered
/// `alert_id`), a login, or an eDIS authorisation.
pub(crate) fn notice(
    rng: &mut StdRng,
    client: &str,
    inst: &Instrument,
    ltp: f64,
    now: i64,
    alert_id: u64,
) -> GeneralEvent {
    let frame = match weighted(rng, &[(0, 6), (1, 3), (2, 2)]) {
        0 => {
            let above = rng.random_bool(0.5);
            let name = format!(
                "{} {} {ltp:?}",
                inst.exch_sym,
                if above { "above" } else { "below" }
            );
            json!({"s": "ok", "pricealerts": {
                "alert_id": alert_id.to_string(), "name": name, "symbol": inst.symbol, "fy_token": inst.token,
                "comparison_type": "LTP", "condition": if above { "GT" } else { "LT" }, "value": ltp,
                "ltp": ltp, "triggered_at": ist_time(now).as_str(), "time_epoch": now, "status": 1,
            }})
        }
        1 => json!({"s": "ok", "login": {
            "client_id": client, "source": any(rng, &["W", "W", "M"]), "message": "Login successful",
            "time_epoch": now,
        }}),
        _ => {
            let letter = char::from(b'A' + rng.random_range(0..26u8));
            let isin = format!(
                "INE{:03}{letter}01{:03}",
                rng.random_range(0..1000),
                rng.random_range(0..1000)
            );
            json!({"s": "ok", "edis": {
                "client_id": client, "isin": isin, "symbol": inst.symbol, "qty": rng.random_range(1..=50),
                "status": any(rng, &["SUCCESS", "SUCCESS", "SUCCESS", "FAILURE"]),
                "message": "eDIS authorisation received from CDSL", "time_epoch": now,
            }})
        }
    };
    match frame {
        Value::Object(raw) => GeneralEvent::from_frame(raw),
        _ => GeneralEvent::from_frame(Map::new()),
    }
}

/// The stop-loss leg (leg 2, SL-M, opposite side) of a CO/BO entry that has just filled completely,
/// placed the moment the entry fills.
pub(crate) fn stop_loss_leg(parent: &Order, id: Text, inst: &Instrument) -> Order {
    let (now, tick) = (parent.update_time_epoch_oms.unwrap_or(0), inst.tick);
    let (avg, loss) = (
        parent.traded_price.unwrap_or(inst.price),
        parent.stop_loss.unwrap_or(tick),
    );
    let (side, stop) = match parent.side {
        Some(Side::Sell) => (Side::Buy, avg + loss),
        _ => (Side::Sell, avg - loss),
    };
    let mut leg = parent.clone();
    leg.parent_id = Some(std::mem::replace(&mut leg.id, id));
    leg.exchange_order_id = Some(Text::default());
    (leg.side, leg.order_type, leg.leg_type) = (Some(side), Some(OrderType::Stop), Some(2));
    (leg.limit_price, leg.stop_price) = (Some(0.0), Some(to_tick(stop, tick).max(tick)));
    (leg.remaining_qty, leg.filled_qty, leg.traded_price) = (leg.qty, Some(0), Some(0.0));
    (leg.time_epoch_oms, leg.update_time_epoch_oms) = (Some(now), Some(now));
    leg.order_date_time = Some(ist_time(now));
    set(&mut leg, OrderStatus::Transit, "NEW", "");
    leg
}

/// A flat position for (instrument, product): the fields no fill changes; `fill_position` sets the rest.
fn blank_position(inst: &Instrument, product: &ProductType) -> Position {
    Position {
        symbol: Some(Text::const_new(inst.symbol)),
        id: position_id(inst, product),
        product_type: Some(product.clone()),
        rbi_ref_rate: Some(1.0),
        fy_token: Some(Text::const_new(inst.token)),
        exchange: Some(Exchange::Nse),
        segment: Some(Segment::from_code(inst.segment)),
        cf_buy_qty: Some(0),
        cf_sell_qty: Some(0),
        qty_multiplier: Some(1.0),
        cross_currency: Some(Text::const_new("N")),
        ..Position::default()
    }
}

/// The position id of (instrument, product).
pub(crate) fn position_id(inst: &Instrument, product: &ProductType) -> Text {
    format_compact!("{}-{}", inst.symbol, product.code())
}

/// The position after one fill: sums, averages, average-cost realized P&L, then marked at `ltp`.
pub(crate) fn fill_position(
    prev: Option<&Position>,
    inst: &Instrument,
    product: &ProductType,
    side: Side,
    qty: i64,
    price: f64,
    ltp: f64,
) -> Position {
    let mut p = prev.cloned().unwrap_or_else(|| blank_position(inst, product));
    let value = round2(qty as f64 * price);
    let (mut buy_qty, mut sell_qty) = (p.buy_qty.unwrap_or(0), p.sell_qty.unwrap_or(0));
    let (mut buy_val, mut sell_val) = (p.buy_val.unwrap_or(0.0), p.sell_val.unwrap_or(0.0));
    let signed = if side == Side::Sell { -qty } else { qty };
    if signed > 0 {
        buy_qty += qty;
        buy_val = round2(buy_val + value);
    } else {
        sell_qty += qty;
        sell_val = round2(sell_val + value);
    }
    let old_net = p.net_qty.unwrap_or(0);
    let old_avg = p.net_avg.unwrap_or(0.0);
    let net = old_net + signed;
    let mut realized = p.realized_profit.unwrap_or(0.0);
    let net_avg = if old_net == 0 || old_net.signum() == signed.signum() {
        (old_avg * old_net.abs() as f64 + price * qty as f64) / net.abs() as f64
    } else {
        let closed = old_net.abs().min(qty);
        realized = round2(realized + (price - old_avg) * (closed * old_net.signum()) as f64);
        match net.signum() {
            0 => 0.0,
            s if s == old_net.signum() => old_avg,
            _ => price,
        }
    };
    let avg = |val: f64, q: i64| if q == 0 { 0.0 } else { round2(val / q as f64) };
    p.buy_qty = Some(buy_qty);
    p.sell_qty = Some(sell_qty);
    p.buy_val = Some(buy_val);
    p.sell_val = Some(sell_val);
    p.buy_avg = Some(avg(buy_val, buy_qty));
    p.sell_avg = Some(avg(sell_val, sell_qty));
    p.day_buy_qty = Some(buy_qty);
    p.day_sell_qty = Some(sell_qty);
    p.net_qty = Some(net);
    p.qty = Some(net.abs());
    p.net_avg = Some(round2(net_avg));
    p.side = Some(PositionSide::from_code(net.signum()));
    p.realized_profit = Some(realized);
    mark_position(&mut p, ltp);
    p
}

/// Re-marks a position at a new last traded price: unrealized and total P&L.
pub(crate) fn mark_position(p: &mut Position, ltp: f64) {
    let net = p.net_qty.unwrap_or(0);
    let unrealized = round2((ltp - p.net_avg.unwrap_or(0.0)) * net as f64);
    p.ltp = Some(ltp);
    p.unrealized_profit = Some(unrealized);
    p.pl = Some(round2(p.realized_profit.unwrap_or(0.0) + unrealized));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_cost_realizes_on_reduction_and_flip() {
        let inst = &INSTRUMENTS[0];
        let product = ProductType::Intraday;
        let p = fill_position(None, inst, &product, Side::Buy, 10, 100.0, 100.0);
        let p = fill_position(Some(&p), inst, &product, Side::Buy, 10, 110.0, 110.0);
        assert_eq!(
            (p.net_qty, p.net_avg, p.buy_avg),
            (Some(20), Some(105.0), Some(105.0))
        );
        let p = fill_position(Some(&p), inst, &product, Side::Sell, 25, 120.0, 120.0);
        assert_eq!(p.realized_profit, Some(300.0));
        assert_eq!(
            (p.net_qty, p.net_avg, p.side),
            (Some(-5), Some(120.0), Some(PositionSide::Short))
        );
        let p = fill_position(Some(&p), inst, &product, Side::Buy, 5, 118.0, 118.0);
        assert_eq!((p.net_qty, p.net_avg, p.qty), (Some(0), Some(0.0), Some(0)));
        assert_eq!(
            (p.realized_profit, p.unrealized_profit, p.pl),
            (Some(310.0), Some(0.0), Some(310.0))
        );
        assert_eq!(p.id, "NSE:RELIANCE-EQ-INTRADAY");
    }

    #[test]
    fn times_are_ist() {
        assert_eq!(ist_time(1766547900), "24-Dec-2025 09:15:00");
        assert_eq!(ist(1766547900, "%y%m%d"), "251224");
    }
}
