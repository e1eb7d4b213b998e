//! The login session as the monitor shows it: the time left, the warning before the end, and what
//! to do once it has ended (log in again, or renew with the PIN).

use egui::RichText;

use super::format::capitalised;
use super::{Intent, theme};
use crate::fyers::auth::Secret;
use crate::store::{ConnectionState, SessionInfo, Store, now_ms};

/// What the user asked of the app around the monitor (the account, settings, quitting), for the
/// window shell to carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum ShellRequest {
    LogInAgain,
    Renew {
        pin: Secret,
        remember: bool,
    },
    LogOut,
    OpenSettings,
    /// Really quit (closing the window may only hide it to the tray).
    Quit,
}

/// The monitor's view of the account behind it. The window shell fills it; views read it.
#[derive(Default)]
pub struct SessionPanel {
    /// The stream belongs to a saved login (not the demo, not a token from the command line).
    pub account: bool,
    /// A refresh token is stored, so the PIN can renew the session.
    pub renewable: bool,
    /// The PIN as typed; cleared once sent.
    pub pin: String,
    /// The user chose to keep the PIN in the keychain: renewing needs no typing.
    pub pin_saved: bool,
    pub remember_pin: bool,
    /// What is under way ("Renewing…").
    pub busy: Option<String>,
    /// Why the last login or renewal failed.
    pub error: Option<String>,
}

impl std::fmt::Debug for SessionPanel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionPanel")
            .field("account", &self.account)
            .field("renewable", &self.renewable)
            .field("pin", &super::login::hidden(&self.pin))
            .field("pin_saved", &self.pin_saved)
            .field("remember_pin", &self.remember_pin)
            .field("busy", &self.busy)
            .field("error", &self.error)
            .finish()
    }
}

/// "3 h 12 m", "14 m", "40 s".
pub fn time_left(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} m", seconds / 60),
        _ => format!("{} h {} m", seconds / 3600, seconds % 3600 / 60),
    }
}

/// The bar's "session ends in 3 h 12 m", once the token's end is known.
pub fn ends_in_label(session: &SessionInfo) -> Option<String> {
    let left = session.remaining_secs(now_ms().div_euclid(1000))?;
    Some(if left <= 0 {
        "Session expired".to_owned()
    } else {
        format!("Session ends in {}", time_left(left))
    })
}

/// The stream stopped for the token: expired, refused, or logged out elsewhere.
pub fn session_over(store: &Store) -> bool {
    store.session.expired || matches!(store.connection, ConnectionState::AuthRejected { .. })
}

/// The banner for a session ending soon or over, with its actions.
pub fn session_ui(ui: &mut egui::Ui, store: &Store, panel: &mut SessionPanel, intents: &mut Vec<Intent>) {
    let over = session_over(store);
    if !over && !store.session.ending_soon {
        return;
    }
    let palette = theme::palette(ui);
    let fill = if over {
        palette.banner_error
    } else {
        palette.banner_warning
    };
    egui::Frame::new()
        .fill(fill)
        .inner_margin(egui::Margin::symmetric(10, 8))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(|ui| {
                if over {
                    ui.label(RichText::new("Session expired").strong());
                    let reason = match &store.connection {
                        ConnectionState::AuthRejected { reason } => reason.as_str(),
                        _ => "the access token's time is up",
                    };
                    ui.label(format!("{}. Streaming has stopped.", capitalised(reason)));
                } else {
                    let left = ends_in_label(&store.session).unwrap_or_default();
                    ui.label(RichText::new(left).strong());
                    ui.label("Log in again now to keep streaming without a gap.");
                }
            });
            ui.horizontal_wrapped(|ui| {
                let idle = panel.busy.is_none();
                if ui.add_enabled(idle, egui::Button::new("Log in again")).clicked() {
                    intents.push(Intent::LogInAgain);
                }
                if panel.renewable {
                    ui.separator();
                    let label = ui.label("PIN");
                    let pin = egui::TextEdit::singleline(&mut panel.pin)
                        .password(true)
                        .desired_width(70.0)
                        .hint_text("••••");
                    let field = ui.add_enabled(idle, pin).labelled_by(label.id);
                    let entered = field.lost_focus() && ui.input(|input| input.key_pressed(egui::Key::Enter));
                    let ready = !panel.pin.is_empty() || panel.pin_saved;
                    let renew = ui
                        .add_enabled(idle && ready, egui::Button::new("Renew with PIN"))
                        .on_hover_text(if panel.pin_saved {
                            "Uses the PIN kept in the keychain unless you type one"
                        } else {
                            "A new access token from the refresh token and your PIN"
                        });
                    if (renew.clicked() || entered) && ready {
                        intents.push(Intent::RenewWithPin);
                    }
                    ui.checkbox(&mut panel.remember_pin, "Remember the PIN in the keychain")
                        .on_hover_text(
                            "Off: you type the PIN at each renewal. On: it is kept in the OS keychain.",
                        );
                }
                if let Some(busy) = &panel.busy {
                    ui.spinner();
                    ui.label(busy);
                }
            });
            if let Some(error) = &panel.error {
                ui.label(RichText::new(error).color(palette.error));
            }
        });
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_hides_the_pin() {
        let panel = super::SessionPanel {
            pin: "246810".to_owned(),
            ..Default::default()
        };
        let shown = format!("{panel:?}");
        assert!(!shown.contains("246810") && shown.contains("(hidden)"), "{shown}");
    }

    use super::*;

    #[test]
    fn time_left_reads_like_a_clock() {
        assert_eq!(time_left(3 * 3600 + 12 * 60 + 5), "3 h 12 m");
        assert_eq!(time_left(14 * 60 + 59), "14 m");
        assert_eq!(time_left(40), "40 s");
        assert_eq!(time_left(-5), "0 s");
    }
}
