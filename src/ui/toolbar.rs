//! The top bar: connection pill, account badge, start/stop, last message, reconnects, resync,
//! the event-type checkboxes, and the theme switch.

use std::time::Instant;

use egui::RichText;

use super::session::{SessionPanel, ends_in_label, session_over};
use super::{Intent, format, theme, widgets};
use crate::fyers::model::EventKind;
use crate::store::{ConnectionState, Store, now_ms};

/// The pill's text and colour for a connection state.
pub fn connection_pill(
    state: &ConnectionState,
    palette: &theme::Palette,
    now: Instant,
) -> (String, egui::Color32) {
    match state {
        ConnectionState::Connected { .. } => ("• Connected".to_owned(), palette.connected),
        ConnectionState::Connecting => ("Connecting…".to_owned(), palette.connecting),
        ConnectionState::Reconnecting { attempt, next_at, .. } => {
            let secs = next_at.saturating_duration_since(now).as_secs_f64().ceil() as u64;
            (
                format!("Reconnecting (attempt {attempt}, in {secs} s)"),
                palette.connecting,
            )
        }
        ConnectionState::Disconnected => ("Disconnected".to_owned(), palette.disconnected),
        ConnectionState::AuthRejected { .. } => ("Session expired".to_owned(), palette.error),
        ConnectionState::Failed { restart_at, .. } => {
            let text = match restart_at {
                Some(at) => {
                    let secs = at.saturating_duration_since(now).as_secs_f64().ceil() as u64;
                    format!("Feed failed, restarting in {secs} s")
                }
                None => "Feed failed".to_owned(),
            };
            (text, palette.error)
        }
    }
}

pub fn toolbar_ui(
    ui: &mut egui::Ui,
    store: &Store,
    account: &str,
    session: &SessionPanel,
    intents: &mut Vec<Intent>,
) {
    let palette = theme::palette(ui);
    let now = Instant::now();
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Orderwatch").strong().size(16.0));
        let (text, color) = connection_pill(&store.connection, palette, now);
        let pill = widgets::pill_ui(ui, text, color);
        if let ConnectionState::Reconnecting { reason, .. }
        | ConnectionState::AuthRejected { reason }
        | ConnectionState::Failed { reason, .. } = &store.connection
        {
            pill.on_hover_text(reason);
        }
        let badge = match &store.session.profile {
            Some(profile) if !profile.name.is_empty() => format!("{} · {}", profile.name, profile.fy_id),
            _ => account.to_owned(),
        };
        let badge = widgets::pill_ui(ui, badge, palette.muted);
        if store.session.profile.is_some() {
            badge.on_hover_text(format!("App {account}"));
        }
        let over = session_over(store);
        if let Some(left) = ends_in_label(&store.session).filter(|_| !over) {
            let color = if store.session.ending_soon {
                palette.error
            } else {
                ui.visuals().weak_text_color()
            };
            ui.label(RichText::new(left).color(color))
                .on_hover_text("Fyers access tokens last one trading day");
        }
        let streaming = !matches!(
            store.connection,
            ConnectionState::Disconnected | ConnectionState::AuthRejected { .. }
        );
        if streaming {
            if ui.button("Stop stream").clicked() {
                intents.push(Intent::Disconnect);
            }
        } else if ui
            .add_enabled(!over, egui::Button::new("Start stream"))
            .on_disabled_hover_text("The session has ended: log in again first")
            .clicked()
        {
            intents.push(Intent::Connect);
        }
        if ui
            .add_enabled(store.connection.is_connected(), egui::Button::new("Resync"))
            .on_hover_text("Merge the REST order book, trade book and positions now")
            .clicked()
        {
            intents.push(Intent::Resync);
        }
        ui.separator();
        let last = match store.last_message_ms() {
            // At rest the window does not tick: "0 s ago" would stay on screen for hours.
            Some(at) if store.connection.is_at_rest() => {
                format!("Last message at {}", format::clock(at.div_euclid(1000)))
            }
            Some(at) => format!(
                "Last message {} ago",
                format::duration(crate::store::age(now_ms(), at).as_secs())
            ),
            None => "No messages yet".to_owned(),
        };
        ui.label(RichText::new(last).weak());
        ui.label(RichText::new(format!("Reconnects: {}", store.reconnects())).weak());
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("Quit")
                .on_hover_text("Stop streaming and close Orderwatch")
                .clicked()
            {
                intents.push(Intent::Quit);
            }
            if ui.button("Settings").clicked() {
                intents.push(Intent::OpenSettings);
            }
            if session.account
                && ui
                    .button("Log out")
                    .on_hover_text("End the session and forget the tokens")
                    .clicked()
            {
                intents.push(Intent::LogOut);
            }
            let dark = ui.visuals().dark_mode;
            if ui
                .button(if dark { "Light theme" } else { "Dark theme" })
                .on_hover_text("Switch theme")
                .clicked()
            {
                intents.push(Intent::SetDark(!dark));
            }
        });
    });
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Events:").weak());
        for kind in EventKind::ALL {
            let mut wanted = store.subscriptions.window.contains(&kind);
            let pending = store.connection.is_connected() && store.subscriptions.is_pending(kind);
            let label = if pending {
                format!("{} …", kind.sdk_name())
            } else {
                kind.sdk_name().to_owned()
            };
            let text = if pending {
                RichText::new(label).color(palette.muted).italics()
            } else {
                RichText::new(label)
            };
            let response = ui.checkbox(&mut wanted, text);
            if pending {
                response
                    .clone()
                    .on_hover_text("Waiting for the server to acknowledge");
            } else if store.subscriptions.api.contains(&kind) {
                response.clone().on_hover_text(
                    "A program on the local API asked for it too: it streams while either wants it",
                );
            }
            if response.changed() {
                intents.push(Intent::Subscribe(kind, wanted));
            }
        }
    });
}
