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
    pub keep_days: bool,
}

/// What Settings shows of the journal.
#[derive(Debug, Clone)]
pub struct JournalInfo {
    pub path: std::path::PathBuf,
    pub bytes: u64,
    pub days: u64,
}

/// Draws the window while `open`; edits `settings` in place.
pub fn settings_ui(
    ctx: &egui::Context,
    open: &mut bool,
    settings: &mut Settings,
    tray_available: bool,
    problem: Option<&str>,
    journal: Option<&JournalInfo>,
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
            ui.add_space(8.0);
            ui.label(RichText::new("Journal").strong());
            ui.horizontal(|ui| {
                ui.label("Keep the last");
                let days = ui.add(
                    egui::DragValue::new(&mut settings.keep_days)
                        .range(1..=3650)
                        .speed(1.0),
                );
                ui.label("trading days").on_hover_text(
                    "Older days are deleted whole, from the next start or new trading day on.",
                );
                changed.keep_days = days.changed();
                changed.any |= days.changed();
            });
            match journal {
                Some(info) => {
                    ui.label(
                        RichText::new(format!(
                            "{} in {} day{}: {}",
                            file_size(info.bytes),
                            info.days,
                            if info.days == 1 { "" } else { "s" },
                            info.path.display()
                        ))
                        .weak(),
                    );
                }
                None => {
                    ui.label(RichText::new("No journal is open.").weak());
                }
            }
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

/// `812 KB`, `14.2 MB`, `1.31 GB`.
pub fn file_size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let value = bytes as f64;
    if value < KB * KB {
        format!("{:.0} KB", (value / KB).ceil())
    } else if value < KB * KB * KB {
        format!("{:.1} MB", value / KB / KB)
    } else {
        format!("{:.2} GB", value / KB / KB / KB)
    }
}
