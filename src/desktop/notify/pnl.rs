//! P&L alerts: the day's total P&L below −X, above +Y, or one position's loss beyond Z (rupees,
//! in Settings). Each crossing notifies once. An alert re-arms only after the P&L has come back
//! past its line by a margin (a tenth of the threshold, at least ₹100), so a total hovering at the
//! line does not flap. Pure: the snapshot and the settings come in, notifications go out.

use std::collections::HashSet;

use super::{Notification, NotifyKind};
use crate::config::NotificationSettings;
use crate::feed::PnlSnapshot;
use crate::format::{price, rupees};
use crate::fyers::model::Text;

/// How far back past its line the P&L must come before an alert can fire again.
pub fn rearm_margin(threshold: f64) -> f64 {
    (threshold * 0.1).max(100.0)
}

#[derive(Debug, Default)]
pub struct PnlAlerts {
    day_loss: bool,
    day_profit: bool,
    /// Positions whose loss alert fired and has not re-armed.
    positions: HashSet<Text>,
}

impl PnlAlerts {
    pub fn check(&mut self, snapshot: &PnlSnapshot, settings: &NotificationSettings) -> Vec<Notification> {
        let mut out = Vec::new();
        let day_body = || {
            format!(
                "Day's P&L {} (realized {}, unrealized {}){}",
                rupees(snapshot.total),
                rupees(snapshot.realized),
                rupees(snapshot.unrealized),
                if snapshot.live {
                    ""
                } else {
                    "; prices are not live"
                }
            )
        };
        match settings.pnl_day_loss.map(|x| x as f64) {
            Some(x) if !self.day_loss && snapshot.total <= -x => {
                self.day_loss = true;
                out.push(Notification::new(
                    NotifyKind::PnlAlert,
                    format!("Day's loss beyond {}", rupees(x)),
                    day_body(),
                ));
            }
            Some(x) if self.day_loss && snapshot.total > -x + rearm_margin(x) => self.day_loss = false,
            None => self.day_loss = false,
            _ => {}
        }
        match settings.pnl_day_profit.map(|y| y as f64) {
            Some(y) if !self.day_profit && snapshot.total >= y => {
                self.day_profit = true;
                out.push(Notification::new(
                    NotifyKind::PnlAlert,
                    format!("Day's profit above {}", rupees(y)),
                    day_body(),
                ));
            }
            Some(y) if self.day_profit && snapshot.total < y - rearm_margin(y) => self.day_profit = false,
            None => self.day_profit = false,
            _ => {}
        }
        let Some(z) = settings.pnl_position_loss.map(|z| z as f64) else {
            self.positions.clear();
            return out;
        };
        for position in &snapshot.positions {
            let fired = self.positions.contains(&position.symbol);
            if !fired && position.total <= -z {
                self.positions.insert(position.symbol.clone());
                let at = position
                    .ltp
                    .map(|ltp| format!(" at {}", price(ltp)))
                    .unwrap_or_default();
                out.push(Notification::new(
                    NotifyKind::PnlAlert,
                    format!("{}: loss beyond {}", position.symbol, rupees(z)),
                    format!("P&L {}{at}", rupees(position.total)),
                ));
            } else if fired && position.total > -z + rearm_margin(z) {
                self.positions.remove(&position.symbol);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::PositionPnl;

    fn snapshot(total: f64, position: f64) -> PnlSnapshot {
        PnlSnapshot {
            total,
            realized: 0.0,
            unrealized: total,
            live: true,
            positions: vec![PositionPnl {
                symbol: "NSE:SBIN-EQ".into(),
                total: position,
                ltp: Some(812.4),
            }],
        }
    }

    fn settings() -> NotificationSettings {
        NotificationSettings {
            pnl_day_loss: Some(5_000),
            pnl_day_profit: Some(10_000),
            pnl_position_loss: Some(1_000),
            ..NotificationSettings::default()
        }
    }

    fn summaries(alerts: &mut PnlAlerts, total: f64, position: f64) -> Vec<String> {
        alerts
            .check(&snapshot(total, position), &settings())
            .into_iter()
            .map(|n| n.summary)
            .collect()
    }

    #[test]
    fn each_crossing_notifies_once_and_hovering_at_the_line_does_not_flap() {
        let mut alerts = PnlAlerts::default();
        assert!(summaries(&mut alerts, -4_000.0, 0.0).is_empty());
        assert_eq!(
            summaries(&mut alerts, -5_000.0, 0.0),
            ["Day's loss beyond ₹5,000.00"]
        );
        // Back and forth across the line, inside the margin (₹500): nothing.
        for total in [-4_900.0, -5_100.0, -4_600.0, -5_300.0] {
            assert!(summaries(&mut alerts, total, 0.0).is_empty(), "{total}");
        }
        // Recovered past the margin, then down again: a second alert.
        assert!(summaries(&mut alerts, -4_400.0, 0.0).is_empty());
        assert_eq!(summaries(&mut alerts, -5_200.0, 0.0).len(), 1);
        assert_eq!(
            summaries(&mut alerts, 10_000.0, 0.0),
            ["Day's profit above ₹10,000.00"]
        );
        assert!(summaries(&mut alerts, 9_500.0, 0.0).is_empty());
        assert_eq!(
            summaries(&mut alerts, 0.0, -1_000.0),
            ["NSE:SBIN-EQ: loss beyond ₹1,000.00"]
        );
        assert!(summaries(&mut alerts, 0.0, -950.0).is_empty());
        assert!(summaries(&mut alerts, 0.0, -1_200.0).is_empty());
        assert!(summaries(&mut alerts, 0.0, -850.0).is_empty(), "re-armed");
        assert_eq!(summaries(&mut alerts, 0.0, -1_001.0).len(), 1);
    }

    #[test]
    fn an_unset_threshold_never_alerts() {
        let mut alerts = PnlAlerts::default();
        let none = NotificationSettings::default();
        assert!(alerts.check(&snapshot(-1e9, -1e9), &none).is_empty());
        assert_eq!(rearm_margin(50_000.0), 5_000.0);
        assert_eq!(rearm_margin(200.0), 100.0);
    }
}
