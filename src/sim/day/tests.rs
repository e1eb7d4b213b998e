use crate::fyers::model::Trade;
use std::collections::{BTreeSet, HashMap};

use super::*;
use crate::fyers::model::PositionSide;

/// Runs a day of `steps` virtual-clock steps; also returns the most orders ever open at once.
fn run(seed: u64, steps: usize) -> (Day, Vec<Event>, usize) {
    let mut day = Day::new(DayConfig {
        seed,
        ..DayConfig::default()
    });
    let (mut events, mut most_open) = (Vec::new(), 0);
    for _ in 0..steps {
        let batch = day.step(None);
        assert!(!batch.is_empty());
        events.extend(batch);
        most_open = most_open.max(day.open.len());
    }
    (day, events, most_open)
}

#[test]
fn a_seed_replays_the_same_day() {
    let (a, events_a, _) = run(7, 5_000);
    let (b, events_b, _) = run(7, 5_000);
    let (_, events_c, _) = run(8, 5_000);
    assert_eq!(events_a, events_b);
    assert_eq!(a.book(), b.book());
    assert_ne!(events_a, events_c);
    assert_eq!(a.steps(), 5_000);
}

#[test]
fn the_book_agrees_with_the_fills() {
    let (day, events, most_open) = run(42, 20_000);
    let book = day.book();
    let mut replay = Book::default();
    let mut last_update: HashMap<Text, i64> = HashMap::new();
    let mut filled: HashMap<Text, i64> = HashMap::new();
    let mut traded: HashMap<String, (i64, i64, f64, f64)> = HashMap::new();
    let (mut statuses, mut trades, mut generals) = (BTreeSet::new(), 0, 0);
    for event in &events {
        match event {
            Event::Order(o) => {
                let t = o.update_time_epoch_oms.unwrap();
                if let Some(previous) = last_update.insert(o.id.clone(), t) {
                    assert!(t > previous, "{o:?}");
                }
                statuses.insert(o.status().code());
                replay.orders.insert(o.id.clone(), Order::clone(o));
            }
            Event::Trade(t) => {
                trades += 1;
                let qty = t.traded_qty.unwrap();
                *filled.entry(t.order_number.clone().unwrap()).or_default() += qty;
                let key = format!(
                    "{}-{}",
                    t.symbol.as_ref().unwrap(),
                    t.product_type.as_ref().unwrap().code()
                );
                let sums = traded.entry(key).or_default();
                let value = t.trade_value.unwrap();
                assert!((value - qty as f64 * t.trade_price.unwrap()).abs() < 0.006);
                let (qty_sum, value_sum) = match t.side {
                    Some(Side::Buy) => (&mut sums.0, &mut sums.2),
                    _ => (&mut sums.1, &mut sums.3),
                };
                (*qty_sum, *value_sum) = (*qty_sum + qty, *value_sum + value);
                replay.trades.insert(t.trade_number.clone(), Trade::clone(t));
            }
            Event::Position(p) => {
                replay.positions.insert(p.id.clone(), Position::clone(p));
            }
            Event::General(_) => generals += 1,
        }
    }
    assert_eq!(&replay, book);
    let mut finished = 0;
    for o in book.orders.values() {
        let (qty, done, left) = (o.qty.unwrap(), o.filled(), o.remaining_qty.unwrap());
        assert_eq!(done, filled.get(&o.id).copied().unwrap_or(0), "{o:?}");
        if matches!(
            o.status(),
            OrderStatus::Pending | OrderStatus::Filled | OrderStatus::Transit
        ) {
            assert_eq!(done + left, qty, "{o:?}");
        } else {
            assert_eq!(left, 0, "{o:?}");
        }
        finished += usize::from(o.status().is_terminal());
    }
    for p in book.positions.values() {
        let (buy, sell, buy_val, sell_val) = traded[p.id.as_str()];
        assert_eq!((p.buy_qty, p.sell_qty), (Some(buy), Some(sell)), "{p:?}");
        assert!((p.buy_val.unwrap() - buy_val).abs() < 0.01 && (p.sell_val.unwrap() - sell_val).abs() < 0.01);
        let net = buy - sell;
        assert_eq!((p.net_qty, p.qty), (Some(net), Some(net.abs())));
        assert_eq!(p.side, Some(PositionSide::from_code(net.signum())));
        let (realized, unrealized) = (p.realized_profit.unwrap(), p.unrealized_profit.unwrap());
        assert!((realized + unrealized - p.pl.unwrap()).abs() < 0.011, "{p:?}");
        let expected = (p.ltp.unwrap() - p.net_avg.unwrap()) * net as f64;
        assert!((unrealized - expected).abs() < 0.006, "{p:?}");
    }
    for status in [1, 2, 4, 5, 6] {
        assert!(statuses.contains(&status), "status {status} never appears");
    }
    let share = |n: usize| n as f64 / events.len() as f64;
    assert!(
        (0.12..0.4).contains(&share(trades)),
        "trades are {:.3} of events",
        share(trades)
    );
    assert!(
        generals > 0 && share(generals) < 0.02,
        "{generals} general events"
    );
    assert!(most_open <= 45, "{most_open} orders open at once");
    assert!(finished as f64 > 0.97 * book.orders.len() as f64);
}

#[test]
fn frames_carry_every_field_the_server_sends() {
    const ORDER: &str = "clientId id exchOrdId qty remainingQuantity filledQty limitPrice stopPrice \
        tradedPrice type fyToken exchange segment symbol instrument message offlineOrder orderDateTime \
        orderValidity productType side status source ex_sym description orderTag update_time_epoch_oms \
        time_epoch_oms report_type status_msg";
    const TRADE: &str = "tradeNumber orderNumber tradedQty tradePrice tradeValue productType clientId \
        exchangeOrderNo orderType side symbol orderDateTime fyToken exchange segment orderTag \
        fill_time_epoch symbol_desc";
    const POSITION: &str = "symbol id buyAvg buyQty buyVal sellAvg sellQty sellVal netAvg netQty side \
        qty productType realized_profit rbiRefRate fyToken exchange segment dayBuyQty daySellQty \
        cfBuyQty cfSellQty qtyMulti_com pl crossCurrency unrealized_profit ltp";
    let (_, events, _) = run(3, 4_000);
    let start = DayConfig::default().start_epoch;
    let mut legs = 0;
    for event in &events {
        let json = event.to_sdk_json();
        let has = |keys: &str, body: &str| keys.split_whitespace().all(|k| json[body].get(k).is_some());
        match event {
            Event::Order(o) => {
                assert!(has(ORDER, "orders"), "{json}");
                assert!(o.time_epoch_oms.unwrap() >= start);
                assert_eq!(o.order_date_time, Some(ist_time(o.time_epoch_oms.unwrap())));
                assert!(o.id.starts_with("251224") && o.id.len() == 14);
                if matches!(
                    o.product_type,
                    Some(ProductType::CoverOrder | ProductType::BracketOrder)
                ) {
                    assert!(has("takeProfit stopLoss legType", "orders"), "{json}");
                    legs += usize::from(o.leg_type == Some(2) && o.parent_id.is_some());
                }
            }
            Event::Trade(_) => assert!(has(TRADE, "trades"), "{json}"),
            Event::Position(_) => assert!(has(POSITION, "positions"), "{json}"),
            Event::General(g) => assert!(g.time_epoch().is_some() && g.body().is_some(), "{json}"),
        }
    }
    assert!(legs > 0);
    let first = match &events[0] {
        Event::Order(o) => o.update_time_epoch_oms,
        Event::General(g) => g.time_epoch(),
        _ => None,
    };
    assert_eq!(first, Some(start));
}

#[test]
fn a_paced_day_follows_the_wall_clock() {
    let mut day = Day::new(DayConfig::default());
    let now = 1_766_550_000;
    let mut times = day.step(Some(now));
    times.extend(day.step(Some(now - 100)));
    for event in times {
        if let Event::Order(o) = event {
            assert!(o.update_time_epoch_oms >= Some(now) && o.time_epoch_oms >= Some(now));
        }
    }
    assert_eq!(day.clock, now);
}
