//! The store's merge rules as a property: a simulated day's updates delivered in any interleaving
//! (delayed, duplicated, reordered), with REST snapshots started and merged at any point, end in
//! exactly the state the in-order stream gives, and no order ever moves backwards in its life
//! (status rank, filled quantity) on the way. `PROPTEST_CASES` sets the number of days (64 by
//! default).

use std::collections::HashMap;

use orderwatch::fyers::model::{Event, Order, Trade};
use orderwatch::sim::{Book, Day, DayConfig};
use orderwatch::store::{Origin, Store, TradeKey};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(64)
}

/// The events of `steps` steps of a seeded day, in the order the exchange made them.
fn day(seed: u64, steps: usize) -> Vec<Event> {
    let mut day = Day::new(DayConfig {
        seed,
        ..DayConfig::default()
    });
    (0..steps).flat_map(|_| day.step(None)).collect()
}

/// The REST books after the first `upto` events: rows as the REST API lists them, without the
/// socket's timing keys.
fn snapshot(events: &[Event], upto: usize) -> Vec<Event> {
    let mut book = Book::default();
    for event in &events[..upto] {
        book.apply(event);
    }
    let orders = book.orders.into_values().map(|order| {
        Event::Order(Box::new(Order {
            update_time_epoch_oms: None,
            time_epoch_oms: None,
            report_type: None,
            status_msg: None,
            ..order
        }))
    });
    let trades = book.trades.into_values().map(|trade| {
        Event::Trade(Box::new(Trade {
            fill_time_epoch: None,
            symbol_desc: None,
            ..trade
        }))
    });
    orders.chain(trades).collect()
}

/// How far on an order is: what must never go down.
fn life(order: &Order) -> (u8, i64) {
    (order.status().progress_rank(), order.filled())
}

/// A resync: started after `start` deliveries (the store's mark then), its books read from the
/// exchange `ahead` events past the latest one delivered, merged `fetch` deliveries later.
#[derive(Debug, Clone, Copy)]
struct Resync {
    start: usize,
    ahead: usize,
    fetch: usize,
}

fn check_day(seed: u64, delays: &[u8], resyncs: &[(u16, u8, u8)]) -> Result<(), TestCaseError> {
    let events = day(seed, 400);
    let n = events.len();
    // The in-order stream, one frame a batch.
    let mut in_order = Store::default();
    for event in &events {
        in_order.apply_batch(vec![event.clone()], vec![], Origin::Socket);
    }
    // The same frames late, early, twice.
    let mut deliveries: Vec<(usize, usize)> = Vec::new();
    for index in 0..n {
        let d = delays[index % delays.len()];
        let delay = if d < 128 { 0 } else { usize::from(d % 64) };
        deliveries.push((index + delay, index));
        if d.is_multiple_of(9) {
            deliveries.push((index + delay + usize::from(d % 5), index));
        }
    }
    deliveries.sort_by_key(|&(at, index)| (at, index));
    let mut resyncs: Vec<Resync> = resyncs
        .iter()
        .map(|&(start, ahead, fetch)| Resync {
            start: usize::from(start) % deliveries.len().max(1),
            ahead: usize::from(ahead % 40),
            fetch: usize::from(fetch % 30),
        })
        .collect();
    resyncs.sort_by_key(|resync| resync.start);
    let mut pending: Vec<(usize, u64, usize)> = Vec::new(); // (merge at, mark, books after upto)
    let mut store = Store::default();
    let mut lives: HashMap<String, (u8, i64)> = HashMap::new();
    let mut latest = 0;
    for (step, &(_, index)) in deliveries.iter().enumerate() {
        for resync in resyncs.iter().filter(|resync| resync.start == step) {
            let upto = (latest + 1 + resync.ahead).min(n);
            pending.push((step + resync.fetch, store.resync_mark(), upto));
        }
        let (due, waiting): (Vec<_>, Vec<_>) = pending.into_iter().partition(|&(at, _, _)| at <= step);
        pending = waiting;
        for (_, mark, upto) in due {
            store.apply_snapshot(snapshot(&events, upto), vec![], mark);
            for entry in store.orders.entries() {
                let was = lives.insert(entry.order.id.to_string(), life(&entry.order));
                prop_assert!(
                    was.is_none_or(|was| life(&entry.order) >= was),
                    "order {} went back in its life after a snapshot",
                    entry.order.id
                );
            }
        }
        store.apply_batch(vec![events[index].clone()], vec![], Origin::Socket);
        latest = latest.max(index);
        if let Event::Order(order) = &events[index]
            && let Some(entry) = store.orders.get(&order.id)
        {
            let was = lives.insert(order.id.to_string(), life(&entry.order));
            prop_assert!(
                was.is_none_or(|was| life(&entry.order) >= was),
                "order {} went back in its life: {:?} after {was:?}",
                order.id,
                life(&entry.order)
            );
        }
    }
    for (_, mark, upto) in pending {
        store.apply_snapshot(snapshot(&events, upto), vec![], mark);
    }
    // The same orders, each in the same final state; the same trades, counted once.
    prop_assert_eq!(store.orders.len(), in_order.orders.len());
    for expected in in_order.orders.entries() {
        let ours = store.orders.get(&expected.order.id);
        prop_assert!(ours.is_some(), "order {} missing", expected.order.id);
        prop_assert_eq!(
            &ours.unwrap().order,
            &expected.order,
            "order {}",
            expected.order.id
        );
    }
    prop_assert_eq!(store.trades().len(), in_order.trades().len());
    for expected in in_order.trades() {
        prop_assert!(store.trade(&TradeKey::of(&expected.trade)).is_some());
    }
    let (ours, theirs) = (store.aggregates(), in_order.aggregates());
    prop_assert_eq!(ours.orders, theirs.orders);
    prop_assert!((ours.traded_value - theirs.traded_value).abs() < 1e-6);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn any_interleaving_and_any_snapshot_end_in_the_in_order_state(
        seed in any::<u64>(),
        delays in prop::collection::vec(any::<u8>(), 1..64),
        resyncs in prop::collection::vec((any::<u16>(), any::<u8>(), any::<u8>()), 0..4),
    ) {
        check_day(seed, &delays, &resyncs)?;
    }
}
