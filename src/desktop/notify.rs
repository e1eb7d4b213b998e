//! Desktop notifications: what happened in the account while the window was minimised.
//!
//! The feed hands a copy of everything it applies to a [`Tap`](crate::feed::Tap) channel; a
//! background task ([`spawn`]) turns it into notifications. The deciding is done by [`Notifier`], a
//! pure state machine (time is passed in) so it can be tested without a desktop; showing is done by
//! a [`Sink`] on its own thread, because the D-Bus call blocks.

mod batch;
mod missed;
mod notifier;
mod pnl;
mod sink;
mod task;
#[cfg(test)]
mod tests;
mod wording;

use std::time::Duration;

use crate::config::NotificationSettings;

pub use notifier::Notifier;
pub use sink::{DesktopSink, show_once};
pub use task::{spawn, spawn_notifier};

/// Notifications of one kind arriving this close together are shown as one.
pub const COALESCE_WINDOW: Duration = Duration::from_secs(2);

/// The stream down this long is worth interrupting the user for; shorter drops heal unnoticed.
pub const STREAM_LOST_AFTER: Duration = Duration::from_secs(30);

/// What a notification is about; each kind has its own switch in the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotifyKind {
    OrderFilled,
    OrderPartiallyFilled,
    OrderRejected,
    OrderCancelled,
    TradeExecuted,
    PriceAlert,
    StreamLost,
    StreamRestored,
    SessionEnding,
    SessionExpired,
    PnlAlert,
}

impl NotifyKind {
    pub const ALL: [NotifyKind; 11] = [
        Self::OrderFilled,
        Self::OrderPartiallyFilled,
        Self::OrderRejected,
        Self::OrderCancelled,
        Self::TradeExecuted,
        Self::PriceAlert,
        Self::StreamLost,
        Self::StreamRestored,
        Self::SessionEnding,
        Self::SessionExpired,
        Self::PnlAlert,
    ];

    /// Whether the user wants to see this kind.
    pub fn wanted(self, settings: &NotificationSettings) -> bool {
        !settings.muted
            && match self {
                Self::OrderFilled => settings.order_filled,
                Self::OrderPartiallyFilled => settings.order_partially_filled,
                Self::OrderRejected => settings.order_rejected,
                Self::OrderCancelled => settings.order_cancelled,
                Self::TradeExecuted => settings.trade_executed,
                Self::PriceAlert => settings.price_alert,
                Self::StreamLost | Self::StreamRestored => settings.stream,
                Self::SessionEnding | Self::SessionExpired => settings.session,
                Self::PnlAlert => settings.pnl_alert,
            }
    }

    /// Things that need the trader now: they stay on screen until dismissed.
    pub fn is_urgent(self) -> bool {
        matches!(
            self,
            Self::OrderRejected | Self::StreamLost | Self::SessionExpired | Self::PnlAlert
        )
    }

    /// The desktop sound theme's name for this kind, when sounds are on: fills, rejections and
    /// P&L alerts each have their own; the rest are silent.
    pub fn sound(self) -> Option<&'static str> {
        match self {
            Self::OrderFilled | Self::OrderPartiallyFilled | Self::TradeExecuted => Some("complete"),
            Self::OrderRejected => Some("dialog-error"),
            Self::PnlAlert => Some("dialog-warning"),
            _ => None,
        }
    }
}

/// One notification, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub kind: NotifyKind,
    /// The headline: "Order filled", "40 orders filled".
    pub summary: String,
    /// Plain text; lines separated by `\n`.
    pub body: String,
    pub urgent: bool,
    /// A sound to play with it (set when sounds are on).
    pub sound: Option<&'static str>,
}

impl Notification {
    pub fn new(kind: NotifyKind, summary: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            kind,
            summary: summary.into(),
            body: body.into(),
            urgent: kind.is_urgent(),
            sound: None,
        }
    }
}

/// Where notifications are shown. Runs on a thread of its own, so `show` may block.
pub trait Sink: Send {
    fn show(&mut self, notification: &Notification) -> Result<(), String>;
}
