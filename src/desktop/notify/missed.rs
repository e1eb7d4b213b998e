//! What happened to orders while Orderwatch was not running, told once as one summary.

use super::{Notification, NotifyKind};

/// Orders that finished (or part-filled) while Orderwatch was not running.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Missed {
    filled: u64,
    partly_filled: u64,
    rejected: u64,
    cancelled: u64,
}

impl Missed {
    pub(super) fn add(&mut self, kind: NotifyKind) {
        match kind {
            NotifyKind::OrderFilled => self.filled += 1,
            NotifyKind::OrderPartiallyFilled => self.partly_filled += 1,
            NotifyKind::OrderRejected => self.rejected += 1,
            NotifyKind::OrderCancelled => self.cancelled += 1,
            _ => {}
        }
    }

    /// "While Orderwatch was closed: 3 orders filled, 1 rejected", under the kind it is most
    /// about (so the user's settings for that kind decide); `None` if nothing happened.
    pub(super) fn notification(self) -> Option<Notification> {
        let parts: Vec<String> = [
            (self.filled, "filled"),
            (self.partly_filled, "partly filled"),
            (self.rejected, "rejected"),
            (self.cancelled, "cancelled"),
        ]
        .into_iter()
        .filter(|(count, _)| *count > 0)
        .enumerate()
        .map(|(index, (count, what))| match index {
            0 => format!("{count} order{} {what}", if count == 1 { "" } else { "s" }),
            _ => format!("{count} {what}"),
        })
        .collect();
        if parts.is_empty() {
            return None;
        }
        let kind = if self.filled + self.partly_filled > 0 {
            NotifyKind::OrderFilled
        } else if self.rejected > 0 {
            NotifyKind::OrderRejected
        } else {
            NotifyKind::OrderCancelled
        };
        let body = format!("While Orderwatch was closed: {}", parts.join(", "));
        Some(Notification::new(kind, "While Orderwatch was closed", body))
    }
}
