//! The Settings window: how the window behaves (close to tray, start minimised, launch at login)
//! and which desktop notifications to show. Everything here is persisted; nothing is secret.

use egui::RichText;

use super::theme;
use crate::config::{NotificationSettings, Settings};

/// What changed in a frame, for the shell to apply (save, autostart, the notifier).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SettingsChanged {
    pub any: bool,
    pub launch_at_login: bool,
    pub notifications: bool,
}

/// Draws the window while `open`; edits `settings` in place.
pub fn settings_ui(
    ctx: &egui::Context,
    open: &mut bool,
    settings: &mut Settings,
    tray_available: bool,
    problem: Option<&str>,
) -> SettingsChanged {
    let mut changed = SettingsChanged::default();
    egui::Window::new("Settings")
        .open(open)
        .collapsible(false)
        .resizable(false)
        .default_width(420.0)
        .pivot(egui::Align2::CENTER_CENTER)
        .default_pos(ctx.content_rect().center())
        .show(ctx, |ui| {
            ui.label(RichText::new("Window").strong());
            let close = ui.checkbox(
                &mut settings.close_to_tray,
                "Closing the window hides it to the tray",
            );
            let hint = if tray_available {
                "Quit from the tray menu or the Quit button ends Orderwatch."
            } else {
                "No tray is available here: closing minimises instead, and monitoring goes on."
            };
            let close = close.on_hover_text(hint);
            let minimised = ui.checkbox(&mut settings.start_minimised, "Start minimised to the tray");
            let login = ui.checkbox(&mut settings.launch_at_login, "Launch at login (minimised)");
            changed.any |= close.changed() || minimised.changed() || login.changed();
            changed.launch_at_login = login.changed();
            ui.add_space(8.0);
            ui.label(RichText::new("Notifications").strong());
            let notifications = notifications_ui(ui, &mut settings.notifications);
            changed.any |= notifications;
            changed.notifications = notifications;
            if let Some(problem) = problem {
                ui.add_space(6.0);
                ui.label(RichText::new(problem).color(theme::palette(ui).error));
            }
        });
    changed
}

fn notifications_ui(ui: &mut egui::Ui, n: &mut NotificationSettings) -> bool {
    let mut changed = ui.checkbox(&mut n.muted, "Mute all notifications").changed();
    ui.add_enabled_ui(!n.muted, |ui| {
        let rows: [(&mut bool, &str); 8] = [
            (&mut n.order_filled, "Order filled"),
            (&mut n.order_partially_filled, "Order partially filled"),
            (
                &mut n.order_rejected,
                "Order rejected (with the exchange's reason)",
            ),
            (&mut n.order_cancelled, "Order cancelled"),
            (&mut n.trade_executed, "Trade executed"),
            (&mut n.price_alert, "Price alert"),
            (&mut n.stream, "Stream lost for more than 30 s, and restored"),
            (&mut n.session, "Session ending in 15 minutes, and expired"),
        ];
        for (value, label) in rows {
            changed |= ui.checkbox(value, label).changed();
        }
    });
    ui.label(
        RichText::new("Bursts are combined: 40 fills in two seconds make one notification.")
            .weak()
            .small(),
    );
    changed
}
