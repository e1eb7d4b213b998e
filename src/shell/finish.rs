//! Picking up the shell's finished work: the login page ready, the browser back, a session made,
//! the demo started, a logout done; and reporting what went wrong on the screen that asked.

use poll_promise::Promise;

use super::DesktopApp;
use super::{Job, Linked, Screen};
use crate::account::{LOGIN_TIMEOUT, Session, Stored};
use crate::config::SavedAccount;
use crate::feed::{Command, FeedConfig};
use crate::format::capitalised;
use crate::secrets::VaultKind;

impl DesktopApp {
    /// Picks up finished work.
    pub(super) fn poll_job(&mut self) {
        let Some(job) = self.job.take() else { return };
        match job {
            Job::Starting(promise) => match promise.try_take() {
                Err(promise) => self.job = Some(Job::Starting(promise)),
                Ok(Err(err)) => self.report_error(capitalised(&err.to_string())),
                Ok(Ok(mut login)) => {
                    let url = login.url.clone();
                    let state = login.state().to_owned();
                    let wait = login
                        .take_callback()
                        .map(|callback| self.spawn(async move { callback.wait(LOGIN_TIMEOUT).await }));
                    let listening = wait.is_some();
                    self.job = Some(Job::Waiting {
                        state,
                        url: url.clone(),
                        wait,
                    });
                    match &mut self.screen {
                        Screen::Connect(view) => {
                            view.busy = None;
                            view.pending_url = Some(url.clone());
                            view.listening = listening;
                        }
                        Screen::Monitor(monitor) if !listening => {
                            // Pasting the redirect happens on the form.
                            let saved = monitor.linked.as_ref().map(|linked| linked.saved.clone());
                            self.show_connect(saved.as_ref(), true, None);
                            if let Some(view) = self.connect_view() {
                                view.pending_url = Some(url.clone());
                            }
                        }
                        Screen::Monitor(_) => {}
                    }
                    self.open_browser(&url);
                }
            },
            Job::Waiting { state, url, wait } => match wait.map(Promise::try_take) {
                None => {
                    self.job = Some(Job::Waiting {
                        state,
                        url,
                        wait: None,
                    })
                }
                Some(Err(wait)) => {
                    self.job = Some(Job::Waiting {
                        state,
                        url,
                        wait: Some(wait),
                    })
                }
                Some(Ok(Err(err))) => self.report_error(capitalised(&err.to_string())),
                Some(Ok(Ok(code))) => {
                    if let Some(view) = self.connect_view() {
                        view.pending_url = None;
                        view.begin("Logged in at Fyers; checking the token…");
                    }
                    match self.attempt.as_ref().map(|attempt| attempt.app.clone()) {
                        Some(app) => self.exchange(app, code),
                        None => {
                            self.report_error("The login lost track of the account; start again".to_owned())
                        }
                    }
                }
            },
            Job::Finishing(promise) => match promise.try_take() {
                Err(promise) => self.job = Some(Job::Finishing(promise)),
                Ok(Err(err)) => self.report_error(err),
                Ok(Ok(session)) => self.logged_in(session),
            },
            Job::Demo(promise) => match promise.try_take() {
                Err(promise) => self.job = Some(Job::Demo(promise)),
                Ok(Err(err)) => self.report_error(err),
                Ok(Ok(sim)) => {
                    let mut config =
                        FeedConfig::new(&sim.socket_url(), &sim.rest_url(), Some(sim.authorization()));
                    config.market_url = Some(sim.market_url());
                    self.show_monitor(config, "Demo".to_owned(), None, Some(sim));
                }
            },
            Job::LoggingOut(promise) => match promise.try_take() {
                Err(promise) => self.job = Some(Job::LoggingOut(promise)),
                Ok(result) => {
                    let saved = self.settings.account.take();
                    self.save_settings();
                    let notice = match result {
                        Ok(()) => "Logged out. The tokens were removed from the keychain.".to_owned(),
                        Err(err) => err,
                    };
                    let saved = saved.map(|saved| SavedAccount {
                        remember_pin: false,
                        ..saved
                    });
                    self.show_connect(saved.as_ref(), false, Some(notice));
                }
            },
        }
    }

    pub(super) fn report_error(&mut self, message: String) {
        tracing::info!(%message, "login step failed");
        match &mut self.screen {
            Screen::Connect(view) => {
                view.pending_url = None;
                view.fail(message);
            }
            Screen::Monitor(monitor) => {
                monitor.app.session.busy = None;
                monitor.app.session.error = Some(message);
            }
        }
    }

    /// A new session: saved, then streamed (the monitor's feed reconnects and resyncs by itself).
    pub(super) fn logged_in(&mut self, session: Session) {
        let Some(attempt) = self.attempt.take() else {
            return;
        };
        let saved = SavedAccount {
            app_id: session.app_id().to_owned(),
            redirect_uri: attempt.redirect_uri.clone(),
            remember_pin: attempt.pin.is_some(),
        };
        self.settings.account = Some(saved.clone());
        self.save_settings();
        let stored = Stored {
            secret: (!attempt.app.secret.is_empty()).then(|| attempt.app.secret.clone()),
            access: Some(session.auth.access_token()),
            refresh: session.refresh.clone(),
            pin: attempt.pin.clone(),
        };
        let session_only =
            matches!(self.vault_for_login(), Ok(vault) if vault.kind() == VaultKind::SessionOnly);
        match &mut self.screen {
            Screen::Monitor(monitor) if monitor.linked.is_some() => {
                let keep_secret = monitor
                    .linked
                    .as_ref()
                    .and_then(|linked| linked.stored.secret.clone());
                let stored = Stored {
                    secret: stored.secret.or(keep_secret),
                    refresh: stored.refresh.or_else(|| {
                        monitor
                            .linked
                            .as_ref()
                            .and_then(|linked| linked.stored.refresh.clone())
                    }),
                    ..stored
                };
                monitor.app.session.renewable = stored.refresh.is_some() && stored.secret.is_some();
                monitor.app.session.pin_saved = stored.pin.is_some();
                monitor.app.session.busy = None;
                monitor.app.session.error = None;
                monitor.linked = Some(Linked { saved, stored });
                if let Err(err) = monitor.app.feed().send(Command::SetAuthorization(session.auth)) {
                    monitor.app.session.error =
                        Some(format!("Could not hand the new token to the stream: {err}"));
                }
            }
            _ => {
                let mut config = FeedConfig::new(
                    &self.services.socket_url,
                    &self.services.rest_url,
                    Some(session.auth.clone()),
                );
                config.market_url = self.services.market_url.clone();
                let account = session.app_id().to_owned();
                self.show_monitor(config, account, Some(Linked { saved, stored }), None);
                if session_only && let Screen::Monitor(monitor) = &mut self.screen {
                    monitor.app.notice =
                        Some("This login is kept in memory only: log in again after a restart.".to_owned());
                }
            }
        }
    }
}
