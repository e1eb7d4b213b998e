//! Live mark-to-market: the last traded price of each symbol from the market-data socket, and
//! each open position's unrealized P&L computed from it.
//!
//! **The formula**: unrealized = (LTP − net average) × net quantity × quantity multiplier
//! (`qtyMulti_com`, 1 when absent), and the position's total = realized + unrealized. Short
//! positions have a negative net quantity, so a rising price loses. Each REST resync checks the
//! formula against Fyers' own `unrealized_profit` at Fyers' own `ltp`; a difference is kept for
//! Diagnostics, never hidden.
//!
//! An open position with a tick for its symbol is priced at that tick (even if a fill came after
//! it: the two sockets are not ordered with each other, and the market socket sends any move);
//! without one it keeps Fyers' own numbers. A price is **stale** when the market-data socket is not live, or
//! no tick came for [`STALE_AFTER_MS`] during market hours; stale prices are still used, and shown
//! as stale.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use super::{PositionEntry, Store};
use crate::fyers::market::topics::scrip_topic;
use crate::fyers::model::{IST_OFFSET_SECS, Position, Text};

/// No tick for this long in market hours: the price is stale.
pub const STALE_AFTER_MS: i64 = 60_000;
/// Resync differences kept for Diagnostics.
const MISMATCHES_KEPT: usize = 50;
/// Rupees of difference tolerated between our formula and Fyers' (their rounding).
const TOLERANCE: f64 = 0.011;

/// A symbol's last traded price and when it arrived (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mark {
    pub ltp: f64,
    pub at_ms: i64,
}

/// A resync row whose P&L our formula does not reproduce.
#[derive(Debug, Clone, PartialEq)]
pub struct PnlMismatch {
    pub symbol: Text,
    pub ours: f64,
    pub fyers: f64,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Marks {
    by_symbol: HashMap<Text, Mark>,
    /// The market-data socket is authenticated and subscribed.
    pub live: bool,
    /// What the market-data connection last said (for the status line and Diagnostics).
    pub status: String,
    pub ticks: u64,
    pub checked: u64,
    pub mismatches: VecDeque<PnlMismatch>,
    /// Symbols of the open positions, made again after positions change (`None`).
    open: Option<HashSet<Text>>,
}

impl Marks {
    /// Positions changed: the open symbols are looked at again at the next tick.
    pub(super) fn positions_changed(&mut self) {
        self.open = None;
    }
}

/// A position's P&L as shown: live from a mark, or as Fyers last sent it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LivePnl {
    pub ltp: Option<f64>,
    pub unrealized: f64,
    pub total: f64,
    pub freshness: Freshness,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Priced by a tick that is current.
    Live,
    /// Priced by a tick that may be old (socket down, or quiet too long in market hours).
    Stale,
    /// No tick newer than the position: Fyers' own numbers (a closed position, or no market data).
    Fyers,
}

/// Unrealized P&L at `ltp` by the formula above.
pub fn unrealized_at(position: &Position, ltp: f64) -> f64 {
    let net = position.net_qty.unwrap_or(0) as f64;
    let multiplier = position.qty_multiplier.filter(|m| *m > 0.0).unwrap_or(1.0);
    (ltp - position.net_avg.unwrap_or(0.0)) * net * multiplier
}

/// Whether `at_ms` falls in NSE's session (09:15–15:30 IST, Monday to Friday).
pub fn in_market_hours(at_ms: i64) -> bool {
    let ist = at_ms / 1000 + IST_OFFSET_SECS;
    let day = ist.div_euclid(86_400);
    // 1970-01-01 was a Thursday: day 0 → weekday 3 (Monday 0).
    let weekday = (day + 3).rem_euclid(7);
    let minute = ist.rem_euclid(86_400) / 60;
    weekday < 5 && (9 * 60 + 15..15 * 60 + 30).contains(&minute)
}

impl Store {
    /// New last traded prices; true when an open position was re-marked (the chart gets a point).
    pub fn apply_prices<'a>(&mut self, prices: impl IntoIterator<Item = (&'a str, f64)>, at_ms: i64) -> bool {
        let positions = &self.positions;
        let open = self.marks.open.get_or_insert_with(|| {
            positions
                .values()
                .filter(|entry| entry.position.net_qty.unwrap_or(0) != 0)
                .filter_map(|entry| entry.position.symbol.clone())
                .collect()
        });
        let mut moved = false;
        for (symbol, ltp) in prices {
            if !ltp.is_finite() {
                continue;
            }
            self.marks.ticks += 1;
            moved |= open.contains(symbol);
            let mark = Mark { ltp, at_ms };
            match self.marks.by_symbol.get_mut(symbol) {
                Some(known) => *known = mark,
                None => {
                    self.marks.by_symbol.insert(symbol.into(), mark);
                }
            }
        }
        if moved {
            self.record_pnl(at_ms);
        }
        self.version += 1;
        moved
    }

    /// What the market-data connection is doing.
    pub fn set_market_status(&mut self, live: bool, status: impl Into<String>) {
        self.marks.live = live;
        self.marks.status = status.into();
        self.version += 1;
    }

    pub fn marks(&self) -> &Marks {
        &self.marks
    }

    pub fn mark(&self, symbol: &str) -> Option<Mark> {
        self.marks.by_symbol.get(symbol).copied()
    }

    /// A position's P&L now, `now_ms` deciding staleness.
    pub fn live_pnl(&self, entry: &PositionEntry, now_ms: i64) -> LivePnl {
        let position = &entry.position;
        let realized = position.realized_profit.unwrap_or(0.0);
        let fyers_unrealized = position.unrealized_profit.unwrap_or(0.0);
        let fyers = LivePnl {
            ltp: position.ltp,
            unrealized: fyers_unrealized,
            total: position.pl.unwrap_or(realized + fyers_unrealized),
            freshness: Freshness::Fyers,
        };
        if position.net_qty.unwrap_or(0) == 0 {
            return fyers;
        }
        let Some(mark) = position.symbol.as_deref().and_then(|symbol| self.mark(symbol)) else {
            return fyers;
        };
        // The market-data socket is the authority on price, even just after a fill: the order
        // and market sockets are not ordered with each other, and a tick follows any move.
        let (ltp, at_ms) = (mark.ltp, mark.at_ms);
        let quiet = in_market_hours(now_ms) && now_ms - at_ms > STALE_AFTER_MS;
        let unrealized = unrealized_at(position, ltp);
        LivePnl {
            ltp: Some(ltp),
            unrealized,
            total: realized + unrealized,
            freshness: if self.marks.live && !quiet {
                Freshness::Live
            } else {
                Freshness::Stale
            },
        }
    }

    /// The market-data topics of the open positions (topic → symbol), from their fyTokens.
    pub fn market_topics(&self) -> BTreeMap<String, String> {
        self.positions
            .values()
            .filter(|entry| entry.position.net_qty.unwrap_or(0) != 0)
            .filter_map(|entry| {
                let position = &entry.position;
                let topic = scrip_topic(position.fy_token.as_deref()?)?;
                Some((topic, position.symbol.as_deref()?.to_owned()))
            })
            .collect()
    }

    /// Checks the formula against a REST row's own P&L (called for each resync position).
    pub(super) fn check_pnl_formula(&mut self, position: &Position, at_ms: i64) {
        let (Some(ltp), Some(fyers)) = (position.ltp, position.unrealized_profit) else {
            return;
        };
        if position.net_qty.unwrap_or(0) == 0 {
            return;
        }
        self.marks.checked += 1;
        let ours = unrealized_at(position, ltp);
        if (ours - fyers).abs() > TOLERANCE + fyers.abs() * 1e-9 {
            if self.marks.mismatches.len() >= MISMATCHES_KEPT {
                self.marks.mismatches.pop_front();
            }
            self.marks.mismatches.push_back(PnlMismatch {
                symbol: position.symbol.clone().unwrap_or_else(|| position.id.clone()),
                ours,
                fyers,
                at_ms,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fyers::model::Event;
    use crate::store::Origin;

    fn long(symbol: &str, net: i64, avg: f64) -> Position {
        Position {
            id: format!("{symbol}-INTRADAY").into(),
            symbol: Some(symbol.into()),
            fy_token: Some("10100000003045".into()),
            net_qty: Some(net),
            net_avg: Some(avg),
            realized_profit: Some(100.0),
            unrealized_profit: Some(0.0),
            pl: Some(100.0),
            ltp: Some(avg),
            ..Position::default()
        }
    }

    #[test]
    fn the_formula_longs_shorts_and_multipliers() {
        assert_eq!(unrealized_at(&long("A", 10, 100.0), 101.5), 15.0);
        assert_eq!(unrealized_at(&long("A", -10, 100.0), 101.5), -15.0);
        let mut gold = long("MCX:GOLD", 1, 70_000.0);
        gold.qty_multiplier = Some(100.0);
        assert_eq!(unrealized_at(&gold, 70_010.0), 1000.0);
    }

    #[test]
    fn a_tick_newer_than_the_position_marks_it_live_and_staleness_follows_the_socket() {
        let mut store = Store::default();
        store.apply_batch(
            vec![Event::Position(Box::new(long("NSE:SBIN-EQ", 10, 800.0)))],
            vec![],
            Origin::Socket,
        );
        let entry_ms = store.positions().next().unwrap().updated_ms;
        store.set_market_status(true, "live");
        assert!(store.apply_prices([("NSE:SBIN-EQ", 812.5)], entry_ms + 5));
        let entry = store.positions().next().unwrap().clone();
        let pnl = store.live_pnl(&entry, entry_ms + 10);
        assert_eq!((pnl.ltp, pnl.unrealized, pnl.total), (Some(812.5), 125.0, 225.0));
        assert_eq!(pnl.freshness, Freshness::Live);
        assert_eq!(store.aggregates().unrealized_pnl, 125.0);
        store.set_market_status(false, "down");
        assert_eq!(store.live_pnl(&entry, entry_ms + 10).freshness, Freshness::Stale);
        // A price for a symbol with no open position moves nothing.
        assert!(!store.apply_prices([("NSE:TCS-EQ", 3000.0)], entry_ms + 20));
        assert_eq!(
            store.market_topics().into_iter().collect::<Vec<_>>(),
            [("sf|nse_cm|3045".to_owned(), "NSE:SBIN-EQ".to_owned())]
        );
    }

    #[test]
    fn a_resync_row_the_formula_does_not_reproduce_is_kept_for_diagnostics() {
        let mut store = Store::default();
        let mut good = long("NSE:SBIN-EQ", 10, 800.0);
        good.ltp = Some(810.0);
        good.unrealized_profit = Some(100.0);
        let mut bad = long("NSE:TCS-EQ", 5, 3000.0);
        bad.id = "TCS".into();
        bad.ltp = Some(3010.0);
        bad.unrealized_profit = Some(49.0);
        store.apply_batch(
            vec![Event::Position(Box::new(good)), Event::Position(Box::new(bad))],
            vec![],
            Origin::Resync,
        );
        assert_eq!(store.marks().checked, 2);
        let mismatches: Vec<_> = store
            .marks()
            .mismatches
            .iter()
            .map(|m| (m.symbol.as_str(), m.ours, m.fyers))
            .collect();
        assert_eq!(mismatches, [("NSE:TCS-EQ", 50.0, 49.0)]);
    }

    #[test]
    fn market_hours_in_ist() {
        // 2025-12-24 (a Wednesday) 09:15:00 IST = 1766547900.
        assert!(in_market_hours(1_766_547_900_000));
        assert!(!in_market_hours(1_766_547_900_000 - 1000));
        // 15:30 IST the same day is closed; Saturday 27 Dec at noon too.
        assert!(!in_market_hours(1_766_547_900_000 + (6 * 3600 + 15 * 60) * 1000));
        assert!(!in_market_hours(
            1_766_547_900_000 + (3 * 86_400 + 3 * 3600) * 1000
        ));
    }
}
