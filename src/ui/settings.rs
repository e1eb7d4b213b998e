//! The Settings window: how the window behaves (close to tray, start minimised, launch at login),
//! which desktop notifications to show, the journal, and the local API. Everything here is
//! persisted except the API key, which is in the keychain and shown only masked.

use std::net::SocketAddr;

use egui::RichText;

use super::theme;
use crate::config::{ApiSettings, NotificationSettings, Settings};

/// What changed in a frame, for the shell to apply (save, autostart, the notifier).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SettingsChanged {
    pub any: bool,
    pub launch_at_login: bool,
    pub notifications: bool,
    pub keep_days: bool,
    pub charges: bool,
    pub api: ApiWork,
}

/// What Settings shows of the local API, and the origins text it edits.
pub struct ApiView<'a> {
    /// Where it listens, while it does.
    pub listening: Option<SocketAddr>,
    /// Starting, stopping or making a key.
    pub working: bool,
    /// WebSocket clients connected now.
    pub clients: usize,
    /// The key, for Copy; never drawn.
    pub key: Option<&'a str>,
    /// Where the key is kept.
    pub key_note: Option<&'static str>,
    /// The key is given from outside (the environment): no Regenerate.
    pub key_fixed: bool,
    pub problem: Option<&'a str>,
    pub origins_text: &'a mut String,
}

/// What the user did to the local API this frame.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ApiWork {
    /// Turned on or off.
    pub toggled: bool,
    pub regenerate: bool,
    /// The origins text changed.
    pub origins: bool,
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
    api: ApiView<'_>,
) -> SettingsChanged {
    let mut changed = SettingsChanged::default();
    egui::Window::new("Settings")
        .open(open)
        .collapsible(false)
        .resizable(false)
        .default_width(420.0)
        // Kept in the middle as it grows or the window shrinks, so all of it stays on screen.
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .show(ctx, |ui| {
            // Taller than a small window: the body scrolls instead of running off the screen
            // (the title bar and margins take about 90 points).
            let height = (ctx.content_rect().height() - 90.0).max(160.0);
            egui::ScrollArea::vertical()
                .max_height(height)
                .min_scrolled_height(height)
                .auto_shrink([false, true])
                .show(ui, |ui| {
                    changed = body_ui(ui, settings, tray_available, problem, journal, api);
                });
        });
    changed
}

/// The sections, top to bottom.
fn body_ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    tray_available: bool,
    problem: Option<&str>,
    journal: Option<&JournalInfo>,
    api: ApiView<'_>,
) -> SettingsChanged {
    let mut changed = SettingsChanged::default();
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
        ui.label("trading days")
            .on_hover_text("Older days are deleted whole, from the next start or new trading day on.");
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
    ui.add_space(8.0);
    changed.charges = super::charges::charges_ui(ui, &mut settings.charges);
    changed.any |= changed.charges;
    ui.add_space(8.0);
    ui.label(RichText::new("Local API for your programs").strong());
    let (work, edited) = api_ui(ui, &mut settings.api, api);
    changed.api = work;
    changed.any |= edited;
    if let Some(problem) = problem {
        ui.add_space(6.0);
        ui.label(RichText::new(problem).color(theme::palette(ui).error));
    }
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
        ui.add_space(6.0);
        changed |= ui
            .checkbox(&mut n.pnl_alert, "P&L alerts, once each time a line is crossed:")
            .changed();
        ui.add_enabled_ui(n.pnl_alert, |ui| {
            ui.indent("pnl alerts", |ui| {
                changed |= threshold_ui(ui, "Day's loss beyond", &mut n.pnl_day_loss, 5_000);
                changed |= threshold_ui(ui, "Day's profit above", &mut n.pnl_day_profit, 10_000);
                changed |= threshold_ui(ui, "A position's loss beyond", &mut n.pnl_position_loss, 2_000);
            });
        });
        changed |= ui
            .checkbox(
                &mut n.sounds,
                "Sounds: one for fills, one for rejections, one for P&L alerts",
            )
            .changed();
    });
    ui.label(
        RichText::new("Bursts are combined: 40 fills in two seconds make one notification.")
            .weak()
            .small(),
    );
    changed
}

/// An optional threshold in whole rupees: ticked, it has an amount; `default` when first ticked.
fn threshold_ui(ui: &mut egui::Ui, label: &str, value: &mut Option<u64>, default: u64) -> bool {
    ui.horizontal(|ui| {
        let mut on = value.is_some();
        let mut changed = ui.checkbox(&mut on, label).changed();
        if changed {
            *value = on.then_some(value.unwrap_or(default));
        }
        if let Some(amount) = value {
            changed |= ui
                .add(
                    egui::DragValue::new(amount)
                        .range(1..=1_000_000_000)
                        .speed(100.0)
                        .prefix("₹"),
                )
                .changed();
        }
        changed
    })
    .inner
}

/// The API's toggle, where it listens, its key; `true` in the second place when a setting changed.
fn api_ui(ui: &mut egui::Ui, settings: &mut ApiSettings, view: ApiView<'_>) -> (ApiWork, bool) {
    let toggled = ui
        .checkbox(
            &mut settings.enabled,
            "Serve the order stream to programs on this computer",
        )
        .on_hover_text(
            "The /api/order-stream REST and WebSocket API (see the README), on 127.0.0.1 only. \
             Every request needs the key.",
        )
        .changed();
    let mut work = ApiWork {
        toggled,
        ..ApiWork::default()
    };
    let mut edited = toggled;
    let busy = view.listening.is_some() || view.working;
    ui.add_enabled_ui(!busy, |ui| {
        ui.horizontal(|ui| {
            ui.label("Port");
            let port = ui.add(
                egui::DragValue::new(&mut settings.port)
                    .range(1024..=65535)
                    .speed(1.0),
            );
            ui.label("Browser origins");
            let origins = ui.add(
                egui::TextEdit::singleline(view.origins_text)
                    .hint_text("http://localhost:3000")
                    .desired_width(180.0),
            );
            work.origins = origins.changed();
            edited |= port.changed() || origins.changed();
        })
        .response
        .on_disabled_hover_text("Turn the API off to change where it listens and who may call it.");
    });
    match (view.listening, view.working) {
        (Some(addr), _) => {
            let url = format!("Listening on http://{addr}{}", crate::api::BASE_PATH);
            ui.label(RichText::new(url).weak());
            let clients = match view.clients {
                1 => "1 program connected".to_owned(),
                n => format!("{n} programs connected"),
            };
            ui.label(RichText::new(clients).weak());
        }
        (None, true) => {
            ui.label(RichText::new("Working…").weak());
        }
        (None, false) => {
            ui.label(RichText::new("Off: nothing listens.").weak());
        }
    }
    if let Some(key) = view.key {
        ui.horizontal(|ui| {
            ui.label("Key");
            ui.monospace("••••••••••••••••••••");
            if ui
                .button("Copy")
                .on_hover_text("Copies the key to the clipboard, for your program's settings.")
                .clicked()
            {
                ui.ctx().copy_text(key.to_owned());
            }
            let regenerate = ui
                .add_enabled(!view.key_fixed && !view.working, egui::Button::new("Regenerate"))
                .on_hover_text("A new key: programs using the old one are refused from now on.");
            work.regenerate = regenerate.clicked();
        });
    }
    if let Some(note) = view.key_note {
        ui.label(
            RichText::new(format!(
                "{note} Programs send it as \"Authorization: Bearer <key>\"."
            ))
            .weak()
            .small(),
        );
    }
    if let Some(problem) = view.problem {
        ui.label(RichText::new(problem).color(theme::palette(ui).error));
    }
    (work, edited)
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
