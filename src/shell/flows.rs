//! The account flows of the window shell: logging in (browser, pasted code, pasted token), renewing,
//! logging out and the demo, run as promises on the runtime and picked up each frame.

use super::{Attempt, DesktopApp, Job, Screen};
use crate::account::{self, BrowserLogin, Session, Stored};
use crate::feed::Command;
use crate::format::capitalised;
use crate::fyers::auth::Secret;
use crate::fyers::login::{AppCredentials, LoginClient, auth_code_from};
use crate::secrets::{Vault, off_runtime};
use crate::sim::Sim;
use crate::ui::login::ConnectRequest;
use crate::ui::session::ShellRequest;

impl DesktopApp {
    pub(super) fn login_client(&self) -> Result<LoginClient, String> {
        LoginClient::new(&self.services.rest_url).map_err(|err| err.to_string())
    }

    /// The vault a new login goes to: the keychain, or (when the user chose that, there being no
    /// keychain) one in-memory store for the rest of this run.
    pub(super) fn vault_for_login(&mut self) -> Result<Vault, String> {
        let chosen = matches!(&self.screen, Screen::Connect(view) if view.session_only);
        match &self.services.vault {
            Ok(vault) => Ok(vault.clone()),
            Err(_) if chosen || self.memory_vault.is_some() => {
                Ok(self.memory_vault.get_or_insert_with(Vault::session_only).clone())
            }
            Err(why) => Err(format!("No keychain is available ({why})")),
        }
    }

    pub(super) fn connect_request(&mut self, request: ConnectRequest) {
        let Some(view) = self.connect_view() else { return };
        let app_id = view.app_id.trim().to_owned();
        let redirect_uri = view.redirect_uri.trim().to_owned();
        let secret = Secret::new(&view.secret);
        let pasted = view.pasted.clone();
        let token = Secret::new(view.token.rsplit(':').next().unwrap_or_default());
        let begin = |this: &mut Self, busy: &str| {
            if let Some(view) = this.connect_view() {
                view.begin(busy);
            }
        };
        match request {
            ConnectRequest::LogIn => {
                begin(self, "Opening the Fyers login page…");
                self.start_browser_login(app_id, redirect_uri, secret);
            }
            ConnectRequest::OpenAgain => {
                if let Some(Job::Waiting { url, .. }) = &self.job {
                    let url = url.clone();
                    self.open_browser(&url);
                }
            }
            ConnectRequest::Cancel => {
                self.cancel_job();
                if let Some(view) = self.connect_view() {
                    view.busy = None;
                    view.pending_url = None;
                    view.notice = Some("Login cancelled.".to_owned());
                }
            }
            ConnectRequest::UsePasted => {
                let state = match &self.job {
                    Some(Job::Waiting { state, .. }) => Some(state.clone()),
                    _ => None,
                };
                match auth_code_from(&pasted, state.as_deref()) {
                    Ok(code) => {
                        begin(self, "Checking the auth code with Fyers…");
                        self.cancel_job();
                        if let Some(view) = self.connect_view() {
                            view.pending_url = None;
                        }
                        self.finish_with_code(app_id, redirect_uri, secret, code);
                    }
                    Err(err) => self.report_error(capitalised(&err.to_string())),
                }
            }
            ConnectRequest::UseToken => {
                begin(self, "Checking the token with Fyers…");
                self.cancel_job();
                self.finish_with_token(app_id, redirect_uri, token);
            }
            ConnectRequest::Demo => {
                begin(self, "Starting the demo exchange…");
                self.cancel_job();
                let config = self.services.demo.clone();
                self.job = Some(Job::Demo(self.spawn(async move {
                    Sim::start(config, ([127, 0, 0, 1], 0).into())
                        .await
                        .map_err(|err| format!("Cannot start the demo exchange: {err}"))
                })));
            }
        }
    }

    /// Binds the listener and builds the page address; an empty `secret` is read from the
    /// keychain when the code is exchanged.
    pub(super) fn start_browser_login(&mut self, app_id: String, redirect_uri: String, secret: Secret) {
        let base = self.services.rest_url.clone();
        let (id, uri) = (app_id.clone(), redirect_uri.clone());
        self.attempt = Some(Attempt {
            app: AppCredentials::new(&app_id, secret),
            redirect_uri,
            pin: None,
        });
        self.job = Some(Job::Starting(
            self.spawn(async move { BrowserLogin::start(&base, &id, &uri).await }),
        ));
    }

    pub(super) fn open_browser(&mut self, url: &str) {
        if let Err(err) = (self.services.browser)(url) {
            let message = format!("Could not open a browser ({err}); open the login page address yourself.");
            self.report_error(message);
        }
    }

    pub(super) fn cancel_job(&mut self) {
        match self.job.take() {
            Some(Job::Waiting { wait: Some(wait), .. }) => wait.abort(),
            Some(Job::Starting(promise)) => promise.abort(),
            _ => {}
        }
    }

    pub(super) fn finish_with_code(
        &mut self,
        app_id: String,
        redirect_uri: String,
        secret: Secret,
        code: Secret,
    ) {
        let secret = match (&self.attempt, secret.is_empty()) {
            (Some(attempt), true) if attempt.app.app_id == app_id => attempt.app.secret.clone(),
            _ => secret,
        };
        let app = AppCredentials::new(&app_id, secret);
        self.attempt = Some(Attempt {
            app: app.clone(),
            redirect_uri,
            pin: None,
        });
        self.exchange(app, code);
    }

    /// Trades the code, checks the token, saves everything.
    pub(super) fn exchange(&mut self, app: AppCredentials, code: Secret) {
        let client = self.login_client();
        let vault = self.vault_for_login();
        self.job = Some(Job::Finishing(self.spawn(async move {
            let (client, vault) = (client?, vault?);
            let app = if app.secret.is_empty() {
                let stored = load_blocking(&vault, &app.app_id).await?;
                AppCredentials::new(&app.app_id, stored.secret.unwrap_or_default())
            } else {
                app
            };
            if app.secret.is_empty() {
                return Err("Enter the secret key from the Fyers API dashboard".to_owned());
            }
            let session = account::complete_login(&client, &app, &code)
                .await
                .map_err(|err| capitalised(&err.to_string()))?;
            save_blocking(&vault, &session, Some(app.secret.clone()), None).await?;
            Ok(session)
        })));
    }

    pub(super) fn finish_with_token(&mut self, app_id: String, redirect_uri: String, token: Secret) {
        let client = self.login_client();
        let vault = self.vault_for_login();
        self.attempt = Some(Attempt {
            app: AppCredentials::new(&app_id, Secret::default()),
            redirect_uri,
            pin: None,
        });
        self.job = Some(Job::Finishing(self.spawn(async move {
            let (client, vault) = (client?, vault?);
            let session = account::use_access_token(&client, &app_id, &token)
                .await
                .map_err(|err| capitalised(&err.to_string()))?;
            save_blocking(&vault, &session, None, None).await?;
            Ok(session)
        })));
    }

    pub(super) fn shell_request(&mut self, request: ShellRequest) {
        match request {
            ShellRequest::OpenSettings => {
                self.settings_open = true;
                return;
            }
            ShellRequest::Quit => {
                self.quit();
                return;
            }
            _ => {}
        }
        let Screen::Monitor(monitor) = &mut self.screen else {
            return;
        };
        let linked = monitor
            .linked
            .as_ref()
            .map(|linked| (linked.saved.clone(), linked.stored.clone()));
        match (request, linked) {
            (ShellRequest::LogInAgain, Some((saved, stored))) if stored.secret.is_some() => {
                monitor.app.session.busy = Some("Waiting for the browser…".to_owned());
                monitor.app.session.error = None;
                let secret = stored.secret.unwrap_or_default();
                self.start_browser_login(saved.app_id, saved.redirect_uri, secret);
            }
            (ShellRequest::LogInAgain, linked) => {
                // No secret key to log in with (a pasted token, the command line): the form.
                let saved = linked.map(|(saved, _)| saved);
                self.show_connect(
                    saved.as_ref(),
                    false,
                    Some("Log in again to keep streaming.".to_owned()),
                );
            }
            (ShellRequest::Renew { pin, remember }, Some((saved, stored))) => {
                let (Some(secret), Some(refresh)) = (stored.secret, stored.refresh) else {
                    monitor.app.session.error = Some("No refresh token is stored: log in again.".to_owned());
                    return;
                };
                // An empty PIN means the one the user chose to keep in the keychain.
                let Some(pin) = Some(pin).filter(|pin| !pin.is_empty()).or(stored.pin) else {
                    monitor.app.session.error = Some("Enter your Fyers PIN.".to_owned());
                    return;
                };
                monitor.app.session.busy = Some("Renewing the session…".to_owned());
                monitor.app.session.error = None;
                let app = AppCredentials::new(&saved.app_id, secret);
                self.attempt = Some(Attempt {
                    app: app.clone(),
                    redirect_uri: saved.redirect_uri,
                    pin: remember.then(|| pin.clone()),
                });
                let client = self.login_client();
                let vault = self.vault_for_login();
                let keep_pin = remember.then(|| pin.clone());
                self.job = Some(Job::Finishing(self.spawn(async move {
                    let (client, vault) = (client?, vault?);
                    let session = account::renew(&client, &app, &refresh, &pin)
                        .await
                        .map_err(|err| capitalised(&err.to_string()))?;
                    save_blocking(&vault, &session, None, keep_pin).await?;
                    Ok(session)
                })));
            }
            (ShellRequest::Renew { .. }, None) => {
                monitor.app.session.error = Some("This stream has no saved login to renew.".to_owned());
            }
            (ShellRequest::OpenSettings | ShellRequest::Quit, _) => {}
            (ShellRequest::LogOut, linked) => {
                monitor.app.session.busy = Some("Logging out…".to_owned());
                let feed = monitor.app.feed().clone();
                let auth_app = linked.as_ref().map(|(saved, _)| saved.app_id.clone());
                let auth = linked.and_then(|(saved, stored)| stored.authorization(&saved.app_id));
                let client = self.login_client();
                let vault = self.vault_for_login();
                self.job = Some(Job::LoggingOut(self.spawn(async move {
                    let _ = feed.command(Command::Shutdown).await;
                    let (Some(app_id), Ok(client)) = (auth_app, client) else {
                        return Ok(());
                    };
                    match vault {
                        Ok(vault) => account::log_out(&client, &vault, &app_id, auth.as_ref())
                            .await
                            .map_err(|err| format!("Logged out, but the keychain entries remain: {err}")),
                        Err(_) => Ok(()),
                    }
                })));
            }
        }
    }
}

async fn load_blocking(vault: &Vault, app_id: &str) -> Result<Stored, String> {
    let (vault, app_id) = (vault.clone(), app_id.to_owned());
    off_runtime(move || Stored::load(&vault, &app_id))
        .await
        .map_err(|err| capitalised(&err.to_string()))
}

async fn save_blocking(
    vault: &Vault,
    session: &Session,
    secret: Option<Secret>,
    pin: Option<Secret>,
) -> Result<(), String> {
    let (vault, session) = (vault.clone(), session.clone());
    off_runtime(move || account::save_session(&vault, &session, secret.as_ref(), pin.as_ref()))
        .await
        .map_err(|err| format!("Logged in, but the token could not be saved: {err}"))
}
