//! The deterministic trading day of the local Fyers exchange simulator.
//!
//! A [`Day`] owns a seeded random generator, a clock, a random-walk price per instrument and the
//! exchange's [`Book`]. Each [`Day::step`] performs one exchange action — a new order, one step of an
//! open order's life (ack, reject, modify, partial or full fill, cancel), a position re-mark, or a rare
//! general notice — and returns the frames in the order the server sends them, already applied to the
//! book. The same seed always produces the same day.

use compact_str::format_compact;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use super::book::Book;
use super::book::{
    EQUITIES, EXCHANGE_REJECTS, INSTRUMENTS, Instrument, RMS_REJECTS, USER_CANCELS, any, fill_position,
    instrument_index, ist, ist_time, mark_position, notice, position_id, round2, set, stop_loss_leg, to_tick,
    trade_of, weighted,
};
use crate::fyers::model::{
    Event, Exchange, Order, OrderSource, OrderStatus, OrderType, Position, ProductType, Segment, Side, Text,
    Validity,
};

/// What a simulated day starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayConfig {
    pub seed: u64,
    /// Unix seconds of the first event (e.g. 2025-12-24 09:15:00 IST = 1766547900).
    pub start_epoch: i64,
    pub client_id: String,
}

impl Default for DayConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            start_epoch: 1_766_547_900,
            client_id: "XE84606".into(),
        }
    }
}

const ORDER_TYPES: [(OrderType, u32); 4] = [
    (OrderType::Limit, 60),
    (OrderType::Market, 18),
    (OrderType::Stop, 11),
    (OrderType::StopLimit, 11),
];
const EQUITY_PRODUCTS: [(&str, u32); 4] = [("INTRADAY", 40), ("CNC", 22), ("CO", 14), ("BO", 12)];
const TAGS: [(&str, u32); 3] = [("2:Untagged", 50), ("1:momentum01", 25), ("1:meanrev02", 25)];
const SOURCES: [(&str, u32); 4] = [("API", 55), ("W", 22), ("M", 20), ("R", 3)];

/// An order that can still change: its slot in `Book::orders` (slots never move) and its instrument.
#[derive(Debug, Clone, Copy)]
struct Live {
    idx: usize,
    inst: usize,
}

/// What one progress step does to a pending order.
enum Act {
    Modify,
    Fill(i64),
    /// Cancelled or rejected: (status, report type, message).
    End(OrderStatus, &'static str, &'static str),
}

/// The simulated exchange's trading day.
#[derive(Debug, Clone)]
pub struct Day {
    rng: StdRng,
    client: Text,
    clock: i64,
    steps: u64,
    book: Book,
    ltp: Vec<f64>,
    open: Vec<Live>,
    date_prefix: Text,
    next_order: u64,
    next_exchange: u64,
    next_trade: u64,
    next_alert: u64,
}

impl Day {
    pub fn new(config: DayConfig) -> Self {
        let mut rng = StdRng::seed_from_u64(config.seed);
        Self {
            next_order: 11_000 + rng.random_range(0..900),
            next_exchange: 14_270_000 + rng.random_range(0..10_000),
            next_trade: 115_820_000 + rng.random_range(0..10_000),
            next_alert: 199_700 + rng.random_range(0..100),
            rng,
            client: Text::from(config.client_id.as_str()),
            clock: config.start_epoch,
            steps: 0,
            book: Book::default(),
            ltp: INSTRUMENTS.iter().map(|inst| inst.price).collect(),
            open: Vec::with_capacity(48),
            date_prefix: ist(config.start_epoch, "%y%m%d"),
        }
    }

    /// One step of the day. `now_epoch`: Some(wall-clock unix secs) when pacing in real time, None
    /// for a virtual clock that advances 1..=3 s per step. Returns the events in the order the server
    /// sends them, and has already applied them to `book()`.
    pub fn step(&mut self, now_epoch: Option<i64>) -> Vec<Event> {
        match now_epoch {
            Some(now) => self.clock = self.clock.max(now),
            None if self.steps > 0 => self.clock += self.rng.random_range(1..=3),
            None => {}
        }
        self.steps += 1;
        let mut out = Vec::with_capacity(4);
        // Between ~5 and 40 orders stay open: placing slows down as the open book fills up.
        let open = self.open.len();
        let place = [70, 24, 0][usize::from(open >= 5) + usize::from(open >= 40)];
        let progress = if open == 0 { 0 } else { 64 };
        match self.rng.random_range(0..place + progress + 7) {
            roll if roll < place => self.place(&mut out),
            roll if roll < place + progress => self.progress(&mut out),
            roll if roll < place + progress + 6 => self.mark(&mut out),
            _ => self.general(&mut out),
        }
        if out.is_empty() {
            if open < 40 {
                self.place(&mut out)
            } else {
                self.progress(&mut out)
            }
        }
        out
    }

    /// Instrument `index`'s last traded price now (the price its next market fill is near).
    pub fn ltp(&self, index: usize) -> Option<f64> {
        self.ltp.get(index).copied()
    }

    pub fn book(&self) -> &Book {
        &self.book
    }

    /// The truth, for a replay that brings its own events.
    pub(crate) fn book_mut(&mut self) -> &mut Book {
        &mut self.book
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Moves instrument `i`'s last traded price one random step, within 8% of where the day began.
    fn walk(&mut self, i: usize) -> f64 {
        let inst = &INSTRUMENTS[i];
        let moved = self.ltp[i] * (1.0 + self.rng.random_range(-0.0015..=0.0015));
        self.ltp[i] = to_tick(moved.clamp(inst.price * 0.92, inst.price * 1.08), inst.tick);
        self.ltp[i]
    }

    fn next_order_id(&mut self) -> Text {
        self.next_order += 1;
        format_compact!("{}{:08}", self.date_prefix, self.next_order)
    }

    fn next_exchange_id(&mut self, inst: &Instrument) -> Text {
        self.next_exchange += self.rng.random_range(20..=400);
        let prefix = if inst.is_equity() { "11" } else { "13" };
        format_compact!("{prefix}{:014}", self.next_exchange)
    }

    /// Emits an order frame; a new order joins the open orders.
    fn emit_order(&mut self, out: &mut Vec<Event>, order: Order, inst: usize) {
        let (idx, old) = self.book.orders.insert_full(order.id.clone(), order.clone());
        if old.is_none() {
            self.open.push(Live { idx, inst });
        }
        out.push(Event::Order(Box::new(order)));
    }

    /// Emits an update of the open order at `open[k]`, retiring it once terminal.
    fn emit_update(&mut self, out: &mut Vec<Event>, k: usize, order: Order) {
        let terminal = order.status().is_terminal();
        let inst = self.open[k].inst;
        self.emit_order(out, order, inst);
        if terminal {
            self.open.swap_remove(k);
        }
    }

    fn place(&mut self, out: &mut Vec<Event>) {
        let id = self.next_order_id();
        let i = self.rng.random_range(0..INSTRUMENTS.len());
        let (inst, ltp) = (&INSTRUMENTS[i], self.walk(i));
        let (rng, tick) = (&mut self.rng, inst.tick);
        let side = any(rng, &[Side::Buy, Side::Sell]);
        let product = match inst.is_equity() {
            true => weighted(rng, &EQUITY_PRODUCTS),
            false => any(rng, &["INTRADAY", "INTRADAY", "MARGIN"]),
        };
        let order_type = match product {
            "BO" => OrderType::Limit,
            "CO" => any(rng, &[OrderType::Limit, OrderType::Market]),
            _ => weighted(rng, &ORDER_TYPES),
        };
        let qty = match inst.is_equity() {
            true => rng.random_range(1..=((60_000.0 / inst.price) as i64).max(3)),
            false => inst.lot * rng.random_range(1..=if inst.instrument == 14 { 10 } else { 5 }),
        };
        // A buy rests below the market and stops above it; a sell the other way round.
        let dir = if side == Side::Buy { tick } else { -tick };
        let stop = to_tick(ltp + dir * rng.random_range(1..=10) as f64, tick);
        let (limit, stop) = match order_type {
            OrderType::Limit => (to_tick(ltp - dir * rng.random_range(-2..=8) as f64, tick), 0.0),
            OrderType::Market => (0.0, 0.0),
            OrderType::Stop => (0.0, stop),
            _ => (to_tick(stop + dir * rng.random_range(0..=4) as f64, tick), stop),
        };
        let bracket = matches!(product, "CO" | "BO");
        let stop_loss = to_tick(ltp * rng.random_range(0.003..0.008), tick).max(tick);
        let take_profit = if product == "BO" {
            to_tick(stop_loss * 2.0, tick)
        } else {
            0.0
        };
        let ioc =
            !bracket && matches!(order_type, OrderType::Limit | OrderType::Market) && rng.random_bool(0.05);
        let (tag, source) = (weighted(rng, &TAGS), weighted(rng, &SOURCES));
        let id_fyers = rng
            .random_bool(0.09)
            .then(|| format_compact!("{:06x}-{:08x}", rng.random::<u32>() >> 8, rng.random::<u32>()));
        let now = self.clock;
        let mut order = Order {
            client_id: Some(self.client.clone()),
            id,
            exchange_order_id: Some(Text::default()),
            qty: Some(qty),
            remaining_qty: Some(qty),
            filled_qty: Some(0),
            limit_price: Some(limit),
            stop_price: Some(stop),
            traded_price: Some(0.0),
            order_type: Some(order_type),
            fy_token: Some(Text::const_new(inst.token)),
            exchange: Some(Exchange::Nse),
            segment: Some(Segment::from_code(inst.segment)),
            symbol: Some(Text::const_new(inst.symbol)),
            instrument: Some(inst.instrument),
            offline_order: Some(false),
            order_date_time: Some(ist_time(now)),
            validity: Some(if ioc { Validity::Ioc } else { Validity::Day }),
            product_type: Some(ProductType::from_code(product)),
            side: Some(side),
            source: Some(OrderSource::from_code(source)),
            exchange_symbol: Some(Text::const_new(inst.exch_sym)),
            description: Some(Text::const_new(inst.desc)),
            order_tag: Some(Text::const_new(tag)),
            take_profit: bracket.then_some(take_profit),
            stop_loss: bracket.then_some(stop_loss),
            leg_type: bracket.then_some(1),
            id_fyers,
            update_time_epoch_oms: Some(now),
            time_epoch_oms: Some(now),
            ..Order::default()
        };
        set(&mut order, OrderStatus::Transit, "NEW", "");
        self.emit_order(out, order, i);
    }

    /// The stop-loss leg (leg 2) of a CO/BO entry that has just filled completely.
    fn place_leg(&mut self, out: &mut Vec<Event>, inst: usize, parent: &Order) {
        let id = self.next_order_id();
        self.emit_order(out, stop_loss_leg(parent, id, &INSTRUMENTS[inst]), inst);
    }

    /// Orders the exchange answers within seconds: unacknowledged, market and IOC orders.
    fn urgent(&self, idx: usize) -> bool {
        self.book.orders.get_index(idx).is_some_and(|(_, o)| {
            o.status() == OrderStatus::Transit
                || o.order_type == Some(OrderType::Market)
                || o.validity == Some(Validity::Ioc)
        })
    }

    /// One step in the life of an open order.
    fn progress(&mut self, out: &mut Vec<Event>) {
        let n = self.open.len();
        if n == 0 {
            return;
        }
        let mut k = self.rng.random_range(0..n);
        if self.rng.random_bool(0.6) {
            k = (0..n)
                .map(|d| (k + d) % n)
                .find(|&j| self.urgent(self.open[j].idx))
                .unwrap_or(k);
        }
        let live = self.open[k];
        let Some(mut order) = self.book.orders.get_index(live.idx).map(|(_, o)| o.clone()) else {
            self.open.swap_remove(k);
            return;
        };
        let inst = &INSTRUMENTS[live.inst];
        order.update_time_epoch_oms = Some(self.clock.max(order.update_time_epoch_oms.unwrap_or(0) + 1));
        let ltp = self.walk(live.inst);
        let leg = order.leg_type == Some(2);
        let rng = &mut self.rng;
        if order.status() == OrderStatus::Transit {
            if !leg && rng.random_bool(0.08) {
                order.remaining_qty = Some(0);
                set(
                    &mut order,
                    OrderStatus::Rejected,
                    "REJECT",
                    any(rng, &RMS_REJECTS),
                );
            } else {
                order.exchange_order_id = Some(self.next_exchange_id(inst));
                set(&mut order, OrderStatus::Pending, "NEW_ACK", "CONFIRMED");
            }
            return self.emit_update(out, k, order);
        }
        let remaining = order.remaining_qty.unwrap_or(0);
        let lots = remaining / inst.lot;
        let part = if lots > 1 {
            inst.lot * rng.random_range(1..lots)
        } else {
            remaining
        };
        let ioc = order.validity == Some(Validity::Ioc);
        let market = order.order_type == Some(OrderType::Market);
        let act = match (ioc, leg, market, rng.random_range(0..100)) {
            (true, .., 0..60) | (_, true, _, 0..40) => Act::Fill(remaining),
            (true, ..) => Act::End(OrderStatus::Cancelled, "CAN_ACK", "IOC order cancelled"),
            (_, true, _, 40..85) => Act::End(
                OrderStatus::Cancelled,
                "CAN_ACK",
                "Cancelled by system: exit order",
            ),
            (_, true, ..) => Act::Modify,
            (_, _, true, 0..30) => Act::Fill(part),
            (_, _, true, _) => Act::Fill(remaining),
            (.., 0..14) => Act::Modify,
            (.., 14..36) => Act::Fill(part),
            (.., 36..70) => Act::Fill(remaining),
            (.., roll) if roll < 93 || order.filled() > 0 => {
                Act::End(OrderStatus::Cancelled, "CAN_ACK", any(rng, &USER_CANCELS))
            }
            _ => Act::End(OrderStatus::Rejected, "REJECT", any(rng, &EXCHANGE_REJECTS)),
        };
        match act {
            Act::Fill(qty) => return self.fill(out, k, order, qty, ltp),
            Act::Modify => {
                let shift = inst.tick * rng.random_range(1..=5) as f64 * any(rng, &[1.0, -1.0]);
                let moved =
                    |p: Option<f64>| p.map(|p| if p > 0.0 { to_tick(p + shift, inst.tick) } else { p });
                order.limit_price = moved(order.limit_price);
                order.stop_price = moved(order.stop_price);
                set(&mut order, OrderStatus::Pending, "MOD_ACK", "MODIFIED");
            }
            Act::End(status, report, message) => {
                order.remaining_qty = Some(0);
                set(&mut order, status, report, message);
            }
        }
        self.emit_update(out, k, order);
    }

    /// A fill of `qty`: the order frame, the trade, the position; then a CO/BO entry's stop-loss leg.
    fn fill(&mut self, out: &mut Vec<Event>, k: usize, mut order: Order, qty: i64, ltp: f64) {
        let i = self.open[k].inst;
        let inst = &INSTRUMENTS[i];
        let side = order.side.unwrap_or(Side::Buy);
        let adverse = if side == Side::Sell { -inst.tick } else { inst.tick };
        let slip = |rng: &mut StdRng, most: i32| adverse * f64::from(rng.random_range(0..=most));
        let price = match order.order_type {
            Some(OrderType::Limit | OrderType::StopLimit) => order.limit_price.unwrap_or(ltp),
            Some(OrderType::Stop) => order.stop_price.unwrap_or(ltp) + slip(&mut self.rng, 2),
            _ => ltp + slip(&mut self.rng, 1),
        };
        let price = to_tick(price, inst.tick);
        self.ltp[i] = price;
        let before = order.filled();
        let filled = before + qty;
        let remaining = order.qty.unwrap_or(filled) - filled;
        let average =
            (order.traded_price.unwrap_or(0.0) * before as f64 + price * qty as f64) / filled as f64;
        (order.filled_qty, order.remaining_qty) = (Some(filled), Some(remaining));
        order.traded_price = Some(round2(average));
        match remaining {
            0 => set(&mut order, OrderStatus::Filled, "TRADE", "TRADE CONFIRMED"),
            _ => set(&mut order, OrderStatus::Pending, "TRADE", "PARTIALLY EXECUTED"),
        }
        let now = order.update_time_epoch_oms.unwrap_or(self.clock);
        self.next_trade += self.rng.random_range(1..=40);
        let trade = trade_of(&order, format_compact!("{}", self.next_trade), qty, price, now);
        let product = order.product_type.clone().unwrap_or(ProductType::Intraday);
        let previous = self.book.positions.get(&position_id(inst, &product));
        let position = fill_position(previous, inst, &product, side, qty, price, price);
        let entry = (remaining == 0 && order.leg_type == Some(1)).then(|| order.clone());
        self.emit_update(out, k, order);
        self.book.trades.insert(trade.trade_number.clone(), trade.clone());
        out.push(Event::Trade(Box::new(trade)));
        self.book.positions.insert(position.id.clone(), position.clone());
        out.push(Event::Position(Box::new(position)));
        if let Some(entry) = entry {
            self.place_leg(out, i, &entry);
        }
    }

    /// The last traded price of an open position's symbol moved: its unrealized P&L is re-marked.
    fn mark(&mut self, out: &mut Vec<Event>) {
        let is_open = |p: &&Position| p.net_qty.unwrap_or(0) != 0;
        let count = self.book.positions.values().filter(is_open).count();
        if count == 0 {
            return;
        }
        let nth = self.rng.random_range(0..count);
        let Some(mut position) = self.book.positions.values().filter(is_open).nth(nth).cloned() else {
            return;
        };
        let Some(i) = position.symbol.as_deref().and_then(instrument_index) else {
            return;
        };
        let ltp = self.walk(i);
        mark_position(&mut position, ltp);
        self.book.positions.insert(position.id.clone(), position.clone());
        out.push(Event::Position(Box::new(position)));
    }

    /// A rare general notice: a triggered price alert, a login, an eDIS authorisation.
    fn general(&mut self, out: &mut Vec<Event>) {
        let i = self.rng.random_range(0..EQUITIES);
        let ltp = self.walk(i);
        self.next_alert += 1;
        let notice = notice(
            &mut self.rng,
            &self.client,
            &INSTRUMENTS[i],
            ltp,
            self.clock,
            self.next_alert,
        );
        out.push(Event::General(notice));
    }
}

#[cfg(test)]
mod tests;
