//! The real window shell (`DesktopApp`) driven by label: the first-run form and its checks, the
//! paste-token and browser logins against the simulator, the expired session and its renewal,
//! and settings that come back after a restart.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use orderwatch::account::{self, Stored};
use orderwatch::config::{SavedAccount, Settings};
use orderwatch::feed::FeedConfig;
use orderwatch::fyers::auth::Secret;
use orderwatch::fyers::login::{AppCredentials, LoginClient};
use orderwatch::fyers::model::EventKind;
use orderwatch::secrets::{SecretKind, Vault, VaultError};
use orderwatch::shell::{DesktopApp, Services, Start};
use orderwatch::sim::{Sim, SimConfig};
use orderwatch::store::ConnectionState;

struct World {
    runtime: tokio::runtime::Runtime,
    sim: Sim,
    vault: Vault,
    config_dir: PathBuf,
}

impl World {
    fn new(name: &str, config: SimConfig) -> Self {
        let runtime = runtime();
        let sim = runtime.block_on(start_sim(SimConfig {
            rate: Some(40.0),
            steps: None,
            warmup_steps: 200,
            ..config
        }));
        sim.handle().resume();
        let config_dir =
            std::env::temp_dir().join(format!("orderwatch-ui-login-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&config_dir);
        World {
            runtime,
            sim,
            vault: Vault::session_only(),
            config_dir,
        }
    }

    fn settings_path(&self) -> PathBuf {
        self.config_dir.join("settings.json")
    }

    /// The window's services; the "browser" is an HTTP client that follows the login redirect.
    fn services(&self, vault: Result<Vault, String>) -> Services {
        let runtime = self.runtime.handle().clone();
        Services {
            runtime: self.runtime.handle().clone(),
            socket_url: self.sim.socket_url(),
            market_url: None,
            rest_url: self.sim.rest_url(),
            vault,
            settings_path: Some(self.settings_path()),
            browser: Arc::new(move |url: &str| {
                let url = url.to_owned();
                runtime.spawn(async move { reqwest::get(url).await.map(drop) });
                Ok(())
            }),
            timing: fast_timing(),
            demo: day(1, 10, None),
            start_hidden: false,
            tray: false,
            notifications: None,
            autostart: Arc::new(|_| Err("not in tests".to_owned())),
            data_dir: Some(self.config_dir.join("data")),
        }
    }

    fn harness(
        &self,
        vault: Result<Vault, String>,
        settings: Settings,
        start: Start,
    ) -> Harness<'static, DesktopApp> {
        let services = self.services(vault);
        Harness::builder()
            .with_size(egui::vec2(1280.0, 800.0))
            .build_eframe(move |cc| DesktopApp::new(&cc.egui_ctx, services, settings, start))
    }
}

fn first_run() -> Start {
    Start::Connect {
        saved: None,
        secret_saved: false,
        notice: None,
    }
}

fn connected(harness: &Harness<'_, DesktopApp>) -> bool {
    harness
        .state()
        .monitor()
        .is_some_and(|app| app.store().read().connection.is_connected())
}

fn type_into(harness: &mut Harness<'_, DesktopApp>, label: &str, text: &str) {
    let field = harness.get_by_label(label);
    field.click();
    field.type_text(text);
    harness.step();
}

#[test]
fn the_first_run_form_says_what_is_wrong_next_to_each_field() {
    let world = World::new("form", day(51, 0, None));
    let saved = SavedAccount {
        app_id: String::new(),
        redirect_uri: "127.0.0.1:17800/callback".into(),
        remember_pin: false,
    };
    let start = Start::Connect {
        saved: Some(saved),
        secret_saved: false,
        notice: None,
    };
    let mut harness = world.harness(Ok(world.vault.clone()), Settings::default(), start);
    harness.step();
    assert!(has(&harness, "Connect your Fyers account"));
    assert!(has(&harness, "Try the demo feed"));
    assert!(has_text(&harness, "Must match the Redirect URL of your app"));
    assert!(
        has_text(&harness, "Not an address"),
        "the saved redirect URI is checked as it is shown"
    );

    type_into(&mut harness, "App ID", "abc");
    assert!(has_text(&harness, "An App ID looks like XC4EOD67IM-100"));
    harness.get_by_label("Log in with Fyers").click();
    harness.step();
    harness.step();
    assert!(has(&harness, "Enter the secret key from the Fyers API dashboard"));
    assert!(harness.state().monitor().is_none(), "nothing was attempted");

    // The token path needs only the app id and a token.
    harness.get_by_label("Other ways to log in").click();
    harness.step();
    harness.get_by_label("Use this token").click();
    harness.step();
    harness.step();
    assert!(has_text(&harness, "Paste the access token"));
}

#[test]
fn without_a_keychain_the_login_is_session_only_by_choice() {
    let world = World::new("nokeychain", day(52, 0, None));
    let mut harness = world.harness(
        Err(VaultError::Unavailable("no Secret Service on the session bus".into()).to_string()),
        Settings::default(),
        first_run(),
    );
    harness.step();
    assert!(has_text(
        &harness,
        "No keychain is available (no Secret Service on the session bus): the login cannot be saved."
    ));
    let only = "Keep this login in memory for this session only (log in again after a restart)";
    assert!(has(&harness, only));
    let disabled =
        |h: &Harness<'_, DesktopApp>| h.get_by_label("Log in with Fyers").accesskit_node().is_disabled();
    assert!(
        disabled(&harness),
        "no login until the user chooses a session-only one"
    );
    harness.get_by_label(only).click();
    harness.step();
    assert!(!disabled(&harness));
}

#[test]
fn a_pasted_token_is_checked_saved_and_streams_and_settings_come_back() {
    let world = World::new("token", day(53, 0, None));
    let mut harness = world.harness(Ok(world.vault.clone()), Settings::default(), first_run());
    harness.step();
    let app_id = world.sim.handle().app_id().to_owned();
    type_into(&mut harness, "App ID", &app_id);
    harness.get_by_label("Other ways to log in").click();
    harness.step();

    // A token Fyers does not know: the reason, and still the form.
    type_into(&mut harness, "Access token", "eyJunknown.token.here");
    harness.get_by_label("Use this token").click();
    step_until(&mut harness, "the refusal", |h| has_text(h, "Fyers refused"));
    assert!(harness.state().monitor().is_none());

    drop(harness);

    // A good one, pasted whole (APP_ID:TOKEN), on a fresh window.
    let auth = world.sim.handle().issue_token(Duration::from_secs(3600));
    let mut harness = world.harness(Ok(world.vault.clone()), Settings::default(), first_run());
    harness.step();
    type_into(&mut harness, "App ID", &app_id);
    harness.get_by_label("Other ways to log in").click();
    harness.step();
    type_into(&mut harness, "Access token", auth.expose());
    harness.get_by_label("Use this token").click();
    step_until(&mut harness, "streaming", |h| {
        connected(h) && has_text(h, "Demo Trader · ")
    });
    assert!(has_text(&harness, "Session ends in 59 m") || has_text(&harness, "Session ends in 1 h"));
    assert!(has(&harness, "Log out"));
    assert!(
        !harness
            .query_all_by_label_contains(auth.access_token().expose())
            .any(|_| true),
        "the token is never on screen"
    );
    assert_eq!(
        world.vault.load(&app_id, SecretKind::AccessToken).unwrap(),
        Some(auth.access_token())
    );
    let saved = Settings::load(&world.settings_path()).unwrap();
    assert_eq!(
        saved.account.as_ref().map(|a| a.app_id.as_str()),
        Some(app_id.as_str())
    );
    let file = std::fs::read_to_string(world.settings_path()).unwrap();
    assert!(
        !file.contains(auth.access_token().expose()),
        "no secret in the settings file"
    );

    // Untick OnGeneral and the light theme; quit; they come back.
    harness.get_by_label("OnGeneral").click();
    harness.get_by_label("Light theme").click();
    step_until(&mut harness, "unsubscribed", |h| {
        let app = h.state().monitor().unwrap();
        !app.store()
            .read()
            .subscriptions
            .wanted
            .contains(&EventKind::General)
    });
    eframe::App::on_exit(harness.state_mut(), None);
    drop(harness);
    let settings = Settings::load(&world.settings_path()).unwrap();
    assert!(!settings.dark);
    assert_eq!(
        settings.subscriptions(),
        [EventKind::Orders, EventKind::Trades, EventKind::Positions].into()
    );
    let stored = Stored::load(&world.vault, &app_id).unwrap();
    let start = Start::Monitor {
        config: FeedConfig::new(
            &world.sim.socket_url(),
            &world.sim.rest_url(),
            stored.authorization(&app_id),
        ),
        account: app_id.clone(),
        saved: settings.account.clone().map(|account| (account, stored)),
        sim: None,
    };
    let mut harness = world.harness(Ok(world.vault.clone()), settings, start);
    step_until(&mut harness, "auto-connected", connected);
    let app = harness.state().monitor().unwrap();
    assert!(
        !app.store()
            .read()
            .subscriptions
            .wanted
            .contains(&EventKind::General)
    );
    assert!(
        has(&harness, "Dark theme"),
        "the light theme is back, offering dark"
    );
}

#[test]
fn logging_in_through_the_browser_from_the_form() {
    let world = World::new("browser", day(54, 0, None));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let saved = SavedAccount {
        app_id: world.sim.handle().app_id().to_owned(),
        redirect_uri: format!("http://127.0.0.1:{port}/fyers/callback"),
        remember_pin: false,
    };
    let start = Start::Connect {
        saved: Some(saved),
        secret_saved: false,
        notice: None,
    };
    let mut harness = world.harness(Ok(world.vault.clone()), Settings::default(), start);
    harness.step();
    type_into(&mut harness, "Secret key", world.sim.handle().secret_key());
    harness.get_by_label("Log in with Fyers").click();
    step_until(&mut harness, "streaming after the browser login", connected);
    let handle = world.sim.handle();
    let stored = Stored::load(&world.vault, handle.app_id()).unwrap();
    assert!(stored.access.is_some() && stored.refresh.is_some());
    assert_eq!(
        stored.secret.as_ref().map(Secret::expose),
        Some(world.sim.handle().secret_key())
    );
    assert!(
        !has_text(&harness, world.sim.handle().secret_key()),
        "the secret is never on screen"
    );
}

#[test]
fn an_expired_session_offers_log_in_again_and_the_pin_renews_it() {
    let world = World::new(
        "expired",
        SimConfig {
            token_lifetime: Duration::from_secs(3),
            ..day(55, 0, None)
        },
    );
    let handle = world.sim.handle();
    let app = AppCredentials::new(handle.app_id(), Secret::new(handle.secret_key()));
    // A login with a refresh token, saved as the window would have.
    let session = world.runtime.block_on(async {
        let client = LoginClient::new(&world.sim.rest_url()).unwrap();
        let code = browser_auth_code(&world.sim).await;
        account::complete_login(&client, &app, &code).await.unwrap()
    });
    account::save_session(&world.vault, &session, Some(&app.secret), None).unwrap();
    let stored = Stored::load(&world.vault, handle.app_id()).unwrap();
    let saved = SavedAccount {
        app_id: handle.app_id().to_owned(),
        redirect_uri: "http://127.0.0.1:17800/fyers/callback".into(),
        remember_pin: false,
    };
    let start = Start::Monitor {
        config: FeedConfig::new(
            &world.sim.socket_url(),
            &world.sim.rest_url(),
            Some(session.auth.clone()),
        ),
        account: handle.app_id().to_owned(),
        saved: Some((saved, stored)),
        sim: None,
    };
    let mut harness = world.harness(Ok(world.vault.clone()), Settings::default(), start);
    step_until(&mut harness, "streaming", connected);
    assert!(
        has_text(&harness, "Log in again now to keep streaming"),
        "warned before the end"
    );
    step_until(&mut harness, "expired", |h| has_text(h, "Streaming has stopped"));
    assert!(has(&harness, "Log in again") && has(&harness, "Renew with PIN"));
    let state = harness
        .state()
        .monitor()
        .unwrap()
        .store()
        .read()
        .connection
        .clone();
    assert!(matches!(state, ConnectionState::AuthRejected { .. }), "{state:?}");

    type_into(&mut harness, "PIN", "9999");
    harness.get_by_label("Renew with PIN").click();
    step_until(&mut harness, "the wrong PIN refused", |h| {
        has_text(h, "Invalid PIN")
    });
    type_into(&mut harness, "PIN", handle.pin());
    harness.get_by_label("Renew with PIN").click();
    step_until(&mut harness, "streaming again", connected);
    assert_eq!(
        world.vault.load(handle.app_id(), SecretKind::Pin).unwrap(),
        None,
        "PIN not kept unasked"
    );
    let renewed = world
        .vault
        .load(handle.app_id(), SecretKind::AccessToken)
        .unwrap();
    assert!(renewed.is_some() && renewed != Some(session.auth.access_token()));

    // The renewed token lives 3 s too. This time the user opts in to keeping the PIN, so the
    // renewal after that needs no typing.
    step_until(&mut harness, "expired again", |h| {
        has_text(h, "Streaming has stopped")
    });
    type_into(&mut harness, "PIN", handle.pin());
    harness.get_by_label("Remember the PIN in the keychain").click();
    harness.step();
    harness.get_by_label("Renew with PIN").click();
    step_until(&mut harness, "streaming after the remembered renewal", connected);
    assert_eq!(
        world.vault.load(handle.app_id(), SecretKind::Pin).unwrap(),
        Some(Secret::new(handle.pin())),
        "kept because the user asked"
    );
    step_until(&mut harness, "expired a third time", |h| {
        has_text(h, "Streaming has stopped")
    });
    harness.get_by_label("Renew with PIN").click();
    step_until(&mut harness, "renewed with the saved PIN", connected);
}

#[test]
fn logging_out_from_the_window_forgets_everything_and_shows_the_form() {
    let world = World::new("logout", day(56, 0, None));
    let handle = world.sim.handle();
    let auth = handle.issue_token(Duration::from_secs(3600));
    let session = world.runtime.block_on(async {
        let client = LoginClient::new(&world.sim.rest_url()).unwrap();
        account::use_access_token(&client, handle.app_id(), &auth.access_token())
            .await
            .unwrap()
    });
    let secret = Secret::new(handle.secret_key());
    account::save_session(&world.vault, &session, Some(&secret), None).unwrap();
    let saved = SavedAccount {
        app_id: handle.app_id().to_owned(),
        redirect_uri: "http://127.0.0.1:17800/fyers/callback".into(),
        remember_pin: false,
    };
    let settings = Settings {
        account: Some(saved.clone()),
        ..Settings::default()
    };
    settings.save(&world.settings_path()).unwrap();
    let start = Start::Monitor {
        config: FeedConfig::new(&world.sim.socket_url(), &world.sim.rest_url(), Some(auth.clone())),
        account: handle.app_id().to_owned(),
        saved: Some((saved, Stored::load(&world.vault, handle.app_id()).unwrap())),
        sim: None,
    };
    let mut harness = world.harness(Ok(world.vault.clone()), settings, start);
    step_until(&mut harness, "streaming", connected);
    harness.get_by_label("Log out").click();
    step_until(&mut harness, "the form", |h| has(h, "Connect your Fyers account"));
    assert!(has_text(&harness, "Logged out"));
    assert_eq!(
        Stored::load(&world.vault, handle.app_id()).unwrap(),
        Stored::default()
    );
    assert!(Settings::load(&world.settings_path()).unwrap().account.is_none());
    let status = world.runtime.block_on(async {
        let client = LoginClient::new(&world.sim.rest_url()).unwrap();
        client.profile(&auth).await
    });
    assert!(status.is_err(), "the token was ended at Fyers too");
}
