//! "Connect your Fyers account": the first-run screen. The form, its checks, the login under way,
//! and the other ways in (a pasted redirect or auth code, a pasted access token, the demo).

use egui::RichText;

use super::theme;
use crate::fyers::login::{DEFAULT_REDIRECT_URI, callback::loopback_addr, check_app_id, check_redirect_uri};

/// The form's width on a wide window.
const FORM_WIDTH: f32 = 560.0;

/// What the user asked for on this screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectRequest {
    /// Open the Fyers login page in the browser.
    LogIn,
    /// Open the page again (the browser was closed, or did not open).
    OpenAgain,
    /// Stop waiting for the browser.
    Cancel,
    /// Trade the pasted redirect address or auth code for tokens.
    UsePasted,
    /// Use the pasted access token as it is.
    UseToken,
    Demo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    AppId,
    Secret,
    Redirect,
    Pasted,
    Token,
}

/// The form and the login under way.
pub struct ConnectView {
    pub app_id: String,
    pub secret: String,
    pub redirect_uri: String,
    /// The address the browser went to, or the auth code.
    pub pasted: String,
    pub token: String,
    /// The secret key for this app id is in the keychain already: the field may stay empty.
    pub secret_saved: bool,
    /// `Err`: why there is no keychain. Logging in then needs `session_only`.
    pub keychain: Result<(), String>,
    /// The user chose to keep the login in memory only.
    pub session_only: bool,
    /// The login page address, while a browser login is under way.
    pub pending_url: Option<String>,
    /// Orderwatch is listening for the browser's redirect.
    pub listening: bool,
    pub busy: Option<String>,
    pub error: Option<String>,
    /// Something to tell, not wrong (e.g. "Logged out").
    pub notice: Option<String>,
    errors: Vec<(Field, String)>,
    show_other_ways: bool,
}

/// What a typed secret shows in logs and panics: whether there is one, never what it is.
pub fn hidden(text: &str) -> &'static str {
    if text.is_empty() { "(empty)" } else { "(hidden)" }
}

impl std::fmt::Debug for ConnectView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectView")
            .field("app_id", &self.app_id)
            .field("secret", &hidden(&self.secret))
            .field("redirect_uri", &self.redirect_uri)
            .field("pasted", &hidden(&self.pasted))
            .field("token", &hidden(&self.token))
            .field("secret_saved", &self.secret_saved)
            .field("keychain", &self.keychain)
            .field("session_only", &self.session_only)
            .field("pending_url", &self.pending_url)
            .field("listening", &self.listening)
            .field("busy", &self.busy)
            .field("error", &self.error)
            .field("notice", &self.notice)
            .finish_non_exhaustive()
    }
}

impl Default for ConnectView {
    fn default() -> Self {
        Self {
            app_id: String::new(),
            secret: String::new(),
            redirect_uri: DEFAULT_REDIRECT_URI.to_owned(),
            pasted: String::new(),
            token: String::new(),
            secret_saved: false,
            keychain: Ok(()),
            session_only: false,
            pending_url: None,
            listening: false,
            busy: None,
            error: None,
            notice: None,
            errors: Vec::new(),
            show_other_ways: false,
        }
    }
}

impl ConnectView {
    /// Checks the fields an action needs; the messages appear next to them. True when all is well.
    fn check(&mut self, request: ConnectRequest) -> bool {
        self.errors.clear();
        let needs: &[Field] = match request {
            ConnectRequest::LogIn => &[Field::AppId, Field::Secret, Field::Redirect],
            ConnectRequest::UsePasted => &[Field::AppId, Field::Secret, Field::Pasted],
            ConnectRequest::UseToken => &[Field::AppId, Field::Token],
            _ => &[],
        };
        for &field in needs {
            if let Err(message) = self.field_problem(field, true) {
                self.errors.push((field, message));
            }
        }
        self.errors.is_empty()
    }

    fn field_problem(&self, field: Field, required: bool) -> Result<(), String> {
        match field {
            Field::AppId if required || !self.app_id.trim().is_empty() => check_app_id(&self.app_id),
            Field::Redirect if required || !self.redirect_uri.trim().is_empty() => {
                check_redirect_uri(&self.redirect_uri).map(drop)
            }
            Field::Secret if required && self.secret.trim().is_empty() && !self.secret_saved => {
                Err("Enter the secret key from the Fyers API dashboard".to_owned())
            }
            Field::Pasted if required && self.pasted.trim().is_empty() => {
                Err("Paste the address the browser went to after logging in, or the auth code".to_owned())
            }
            Field::Token if required && self.token.trim().is_empty() => {
                Err("Paste the access token (the part after APP_ID: is enough)".to_owned())
            }
            _ => Ok(()),
        }
    }

    /// The message under a field: from the last attempt, or a live format check.
    fn message(&self, field: Field) -> Option<String> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, message)| message.clone())
            .or_else(|| self.field_problem(field, false).err())
    }

    fn may_store(&self) -> bool {
        self.keychain.is_ok() || self.session_only
    }

    /// Draws the screen; returns what was asked for, already checked.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Option<ConnectRequest> {
        let mut request = None;
        let palette = theme::palette(ui);
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.vertical_centered(|ui| {
                ui.set_max_width(560.0);
                ui.add_space(32.0);
                ui.heading(RichText::new("Connect your Fyers account").size(24.0));
                ui.label(
                    RichText::new(
                        "Orderwatch logs in with your own Fyers API app. Tokens are kept in the OS keychain.",
                    )
                    .weak(),
                );
                ui.add_space(16.0);
            });
            // A left-aligned column of fixed width in the middle of the window.
            let width = ui.available_width().min(FORM_WIDTH);
            let margin = ((ui.available_width() - width) / 2.0).max(0.0);
            ui.horizontal(|ui| {
                ui.add_space(margin);
                ui.vertical(|ui| {
                    ui.set_width(width);
                    self.column_ui(ui, palette, &mut request);
                });
            });
        });
        request.filter(|&request| self.check(request))
    }

    fn column_ui(
        &mut self,
        ui: &mut egui::Ui,
        palette: &theme::Palette,
        request: &mut Option<ConnectRequest>,
    ) {
        self.form_ui(ui, request);
        ui.add_space(8.0);
        self.status_ui(ui, palette, request);
        ui.add_space(8.0);
        self.other_ways_ui(ui, request);
        ui.add_space(16.0);
        ui.separator();
        ui.horizontal(|ui| {
            ui.label(RichText::new("No account at hand?").weak());
            if ui.button("Try the demo feed").clicked() {
                *request = Some(ConnectRequest::Demo);
            }
        });
    }

    fn form_ui(&mut self, ui: &mut egui::Ui, request: &mut Option<ConnectRequest>) {
        let idle = self.busy.is_none();
        let palette = theme::palette(ui);
        let error = |ui: &mut egui::Ui, message: Option<String>| {
            if let Some(message) = message {
                ui.label(RichText::new(message).color(palette.error).small());
            }
        };
        field_ui(ui, "App ID", &mut self.app_id, false, "XC4EOD67IM-100", idle);
        error(ui, self.message(Field::AppId));
        let hint = if self.secret_saved {
            "kept in the keychain: leave empty to use it"
        } else {
            "from the Fyers API dashboard"
        };
        field_ui(ui, "Secret key", &mut self.secret, true, hint, idle);
        error(ui, self.message(Field::Secret));
        field_ui(
            ui,
            "Redirect URI",
            &mut self.redirect_uri,
            false,
            DEFAULT_REDIRECT_URI,
            idle,
        );
        ui.label(
            RichText::new("Must match the Redirect URL of your app in the Fyers API dashboard.")
                .weak()
                .small(),
        );
        error(ui, self.message(Field::Redirect));
        let loopback = check_redirect_uri(&self.redirect_uri)
            .ok()
            .is_some_and(|url| loopback_addr(&url).is_some());
        if !loopback && self.message(Field::Redirect).is_none() {
            ui.label(
                RichText::new(
                    "Not a loopback address: after logging in, paste the address the browser went to below.",
                )
                .small(),
            );
        }
        ui.add_space(8.0);
        if let Err(why) = &self.keychain {
            ui.label(RichText::new(format!("{why}: the login cannot be saved.")).color(palette.error));
            ui.checkbox(
                &mut self.session_only,
                "Keep this login in memory for this session only (log in again after a restart)",
            );
        }
        let enabled = idle && self.may_store() && self.pending_url.is_none();
        let button = egui::Button::new(RichText::new("Log in with Fyers").strong().size(15.0));
        let size = egui::vec2(ui.available_width(), 30.0);
        if ui
            .add_enabled_ui(enabled, |ui| ui.add_sized(size, button))
            .inner
            .clicked()
        {
            *request = Some(ConnectRequest::LogIn);
        }
    }

    fn status_ui(
        &mut self,
        ui: &mut egui::Ui,
        palette: &theme::Palette,
        request: &mut Option<ConnectRequest>,
    ) {
        if let Some(url) = self.pending_url.clone() {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.horizontal(|ui| {
                    if self.listening {
                        ui.spinner();
                        ui.label("Waiting for the browser… log in there and come back.");
                    } else {
                        ui.label("Log in in the browser, then paste the address it went to below.");
                    }
                });
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new("Login page:").weak());
                    ui.hyperlink_to(RichText::new(&url).small(), &url);
                });
                ui.horizontal(|ui| {
                    if ui.button("Open the page again").clicked() {
                        *request = Some(ConnectRequest::OpenAgain);
                    }
                    if ui.button("Cancel").clicked() {
                        *request = Some(ConnectRequest::Cancel);
                    }
                });
            });
            if !self.listening {
                self.show_other_ways = true;
            }
        }
        if let Some(busy) = &self.busy {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(busy);
            });
        }
        if let Some(error) = &self.error {
            ui.label(RichText::new(error).color(palette.error));
        }
        if let Some(notice) = &self.notice {
            ui.label(RichText::new(notice).weak());
        }
    }

    fn other_ways_ui(&mut self, ui: &mut egui::Ui, request: &mut Option<ConnectRequest>) {
        let palette = theme::palette(ui);
        let idle = self.busy.is_none() && self.may_store();
        let force_open = std::mem::take(&mut self.show_other_ways).then_some(true);
        egui::CollapsingHeader::new("Other ways to log in")
            .open(force_open)
            .show(ui, |ui| self.other_ways_body_ui(ui, idle, palette, request));
    }

    fn other_ways_body_ui(
        &mut self,
        ui: &mut egui::Ui,
        idle: bool,
        palette: &theme::Palette,
        request: &mut Option<ConnectRequest>,
    ) {
        {
            field_ui(
                ui,
                "Redirected address or auth code",
                &mut self.pasted,
                false,
                "http://127.0.0.1:17800/fyers/callback?s=ok&auth_code=…",
                idle,
            );
            if let Some(message) = self.message(Field::Pasted) {
                ui.label(RichText::new(message).color(palette.error).small());
            }
            if ui.add_enabled(idle, egui::Button::new("Use auth code")).clicked() {
                *request = Some(ConnectRequest::UsePasted);
            }
            ui.add_space(8.0);
            field_ui(ui, "Access token", &mut self.token, true, "eyJ0eXAi…", idle);
            if let Some(message) = self.message(Field::Token) {
                ui.label(RichText::new(message).color(palette.error).small());
            }
            ui.label(
                RichText::new("A token from elsewhere works for its day; it cannot be renewed with the PIN.")
                    .weak()
                    .small(),
            );
            if ui
                .add_enabled(idle, egui::Button::new("Use this token"))
                .clicked()
            {
                *request = Some(ConnectRequest::UseToken);
            }
        }
    }

    /// Starts a login attempt's display: clears old messages.
    pub fn begin(&mut self, busy: impl Into<String>) {
        self.busy = Some(busy.into());
        self.error = None;
        self.notice = None;
    }

    /// Ends an attempt with an error shown to the user.
    pub fn fail(&mut self, error: impl Into<String>) {
        self.busy = None;
        self.error = Some(error.into());
    }
}

/// A labelled single-line field; the label names the field for screen readers and tests.
fn field_ui(ui: &mut egui::Ui, label: &str, value: &mut String, password: bool, hint: &str, enabled: bool) {
    let label = ui.label(RichText::new(label).strong());
    let edit = egui::TextEdit::singleline(value)
        .password(password)
        .hint_text(hint)
        .desired_width(f32::INFINITY);
    ui.add_enabled(enabled, edit).labelled_by(label.id);
}

#[cfg(test)]
mod debug_tests {
    #[test]
    fn debug_hides_the_secret_the_code_and_the_token() {
        let view = super::ConnectView {
            secret: "SECRET-KEY-123".to_owned(),
            pasted: "https://x/cb?auth_code=CODE-456".to_owned(),
            token: "eyJTOKEN789".to_owned(),
            ..Default::default()
        };
        let shown = format!("{view:?}");
        for secret in ["SECRET-KEY-123", "CODE-456", "eyJTOKEN789"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_action_checks_only_what_it_needs() {
        let mut view = ConnectView::default();
        assert!(!view.check(ConnectRequest::LogIn));
        assert_eq!(
            view.errors.iter().map(|(f, _)| *f).collect::<Vec<_>>(),
            [Field::AppId, Field::Secret]
        );
        view.app_id = "XC4EOD67IM-100".into();
        view.token = "eyJ.x.y".into();
        assert!(view.check(ConnectRequest::UseToken));
        assert!(!view.check(ConnectRequest::UsePasted));
        view.secret_saved = true;
        view.pasted = "abc".into();
        assert!(view.check(ConnectRequest::UsePasted));
        view.redirect_uri = "nonsense".into();
        assert!(!view.check(ConnectRequest::LogIn));
        assert!(view.check(ConnectRequest::Demo));
    }
}
