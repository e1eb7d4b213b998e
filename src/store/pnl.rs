//! The money the cards and the chart show: totals over the positions, and the day's P&L series.

use super::Store;
use super::orders::OrderCounts;
use crate::fyers::model::PositionSide;

/// The numbers the statistics cards show.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Aggregates {
    pub orders: OrderCounts,
    pub traded_value: f64,
    pub realized_pnl: f64,
    pub unrealized_pnl: f64,
    pub total_pnl: f64,
    /// The day's brokerage and statutory charges, and the total P&L after them.
    pub charges: f64,
    pub net_pnl: f64,
    pub open_positions: u64,
}

/// Total P&L of all positions at a moment, for the intraday chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PnlPoint {
    pub at_ms: i64,
    pub total: f64,
}

/// Points kept for the chart: a trading day at one point a second needs ~22,500.
const MAX_PNL_POINTS: usize = 30_000;

impl Store {
    /// One point a second at most: a newer total in the same second replaces the last point.
    pub(super) fn record_pnl(&mut self, at_ms: i64) {
        let total = self
            .positions
            .values()
            .map(|entry| self.live_pnl(entry, at_ms).total)
            .sum();
        let point = PnlPoint { at_ms, total };
        match self.pnl_history.back_mut() {
            Some(last) if last.at_ms / 1000 == at_ms / 1000 => *last = point,
            _ => {
                if self.pnl_history.len() >= MAX_PNL_POINTS {
                    self.pnl_history.pop_front();
                }
                self.pnl_history.push_back(point);
            }
        }
    }

    /// Total P&L over the day, oldest first.
    pub fn pnl_history(&self) -> impl DoubleEndedIterator<Item = &PnlPoint> + ExactSizeIterator {
        self.pnl_history.iter()
    }

    pub fn aggregates(&self) -> Aggregates {
        let mut aggregates = Aggregates {
            orders: self.orders.counts(),
            traded_value: self.traded_value,
            ..Aggregates::default()
        };
        let now = super::now_ms();
        for entry in self.positions.values() {
            let position = &entry.position;
            let live = self.live_pnl(entry, now);
            aggregates.realized_pnl += position.realized_profit.unwrap_or(0.0);
            aggregates.unrealized_pnl += live.unrealized;
            aggregates.total_pnl += live.total;
            let open = position
                .net_qty
                .map_or(position.side != Some(PositionSide::Closed), |net| net != 0);
            aggregates.open_positions += u64::from(open);
        }
        aggregates.charges = self.charges().charges().total();
        aggregates.net_pnl = aggregates.total_pnl - aggregates.charges;
        aggregates
    }
}
