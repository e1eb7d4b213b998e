//! The login end to end against the simulator over loopback: a real HTTP client plays the browser
//! and follows the redirect to Orderwatch's loopback listener; the tokens go to the vault; the
//! stream runs on them. Then the session's end: expiry, no retry storm, renewal with the PIN.

mod common;

use std::time::Duration;

use common::*;
use orderwatch::account::{self, BrowserLogin, Stored};
use orderwatch::feed::{Command, SESSION_EXPIRED};
use orderwatch::fyers::auth::Secret;
use orderwatch::fyers::login::{AppCredentials, LoginClient, LoginError, token_expiry};
use orderwatch::secrets::{SecretKind, Vault};
use orderwatch::sim::{Sim, SimConfig};
use orderwatch::store::ConnectionState;

/// The browser: loads the login page and follows its redirect; returns the final page's text.
async fn browse(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("the browser reaches the pages");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

fn app(sim: &Sim) -> AppCredentials {
    let handle = sim.handle();
    AppCredentials::new(handle.app_id(), Secret::new(handle.secret_key()))
}

async fn live_sim(config: SimConfig) -> Sim {
    let sim = start_sim(SimConfig {
        rate: Some(40.0),
        steps: None,
        ..config
    })
    .await;
    sim.handle().resume();
    sim
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_in_through_the_browser_stores_the_tokens_and_streams() {
    let sim = live_sim(day(41, 0, None)).await;
    let redirect_uri = free_redirect_uri();
    let mut login = BrowserLogin::start(&sim.rest_url(), sim.handle().app_id(), &redirect_uri)
        .await
        .expect("the listener binds");
    assert!(login.listening());
    assert!(login.url.contains(&format!("state={}", login.state())));
    let callback = login.take_callback().expect("listening");
    let browser = tokio::spawn({
        let url = login.url.clone();
        async move { browse(&url).await }
    });
    let code = callback
        .wait(Duration::from_secs(10))
        .await
        .expect("the browser comes back");
    let (status, page) = browser.await.unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("You can close this tab"), "{page}");

    let client = LoginClient::new(&sim.rest_url()).unwrap();
    let session = account::complete_login(&client, &app(&sim), &code)
        .await
        .expect("logged in");
    assert_eq!(session.profile.name, "Demo Trader");
    assert!(session.refresh.is_some());
    let expires_at = session.expires_at.expect("a JWT with exp");
    let lifetime = sim.handle().token_lifetime().as_secs() as i64;
    let now = chrono::Utc::now().timestamp();
    assert!(
        (expires_at - (now + lifetime)).abs() <= 5,
        "{expires_at} vs {now}+{lifetime}"
    );

    let vault = Vault::session_only();
    account::save_session(&vault, &session, Some(&app(&sim).secret), None).unwrap();
    let stored = Stored::load(&vault, session.app_id()).unwrap();
    assert_eq!(stored.access, Some(session.auth.access_token()));
    assert_eq!(stored.refresh, session.refresh);
    assert_eq!(
        stored.secret.as_ref().map(Secret::expose),
        Some(sim.handle().secret_key())
    );
    assert_eq!(stored.pin, None, "the PIN is kept only on request");

    let mut config = feed_config(&sim);
    config.auth = stored.authorization(session.app_id());
    let running = start_feed(config);
    let streaming = wait_until(Duration::from_secs(10), || {
        let store = running.store.read();
        store.connection.is_connected()
            && store
                .session
                .profile
                .as_ref()
                .is_some_and(|p| p.name == "Demo Trader")
            && !store.orders.is_empty()
    })
    .await;
    let store = running.store.read();
    assert!(streaming, "{:?} {:?}", store.connection, store.session);
    assert_eq!(store.session.expires_at, Some(expires_at));
    assert!(!store.session.ending_soon && !store.session.expired);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_stops_without_a_storm_and_the_pin_renews_it() {
    let sim = live_sim(SimConfig {
        token_lifetime: Duration::from_secs(3),
        ..day(42, 0, None)
    })
    .await;
    let client = LoginClient::new(&sim.rest_url()).unwrap();
    // Log in by auth code, as the browser flow would, to have a refresh token.
    let code = browser_auth_code(&sim).await;
    let session = account::complete_login(&client, &app(&sim), &code).await.unwrap();
    let refresh = session.refresh.clone().expect("a refresh token");

    let mut config = feed_config(&sim);
    config.auth = Some(session.auth.clone());
    let running = start_feed(config);
    assert!(
        wait_until(Duration::from_secs(5), || running
            .store
            .read()
            .connection
            .is_connected())
        .await,
        "streams before expiry"
    );
    // The session ending soon is flagged at once (3 s < 15 min).
    assert!(running.store.read().session.ending_soon);

    let expired = wait_until(Duration::from_secs(8), || {
        matches!(
            running.store.read().connection,
            ConnectionState::AuthRejected { .. }
        )
    })
    .await;
    assert!(expired, "{:?}", running.store.read().connection);
    let upgrades_at_expiry = sim
        .handle()
        .stats()
        .upgrades
        .load(std::sync::atomic::Ordering::SeqCst);
    {
        let store = running.store.read();
        assert!(store.session.expired);
        assert_eq!(
            store.connection,
            ConnectionState::AuthRejected {
                reason: SESSION_EXPIRED.to_owned()
            }
        );
    }
    // Meanwhile the account keeps trading; the stream must not hammer the server.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let upgrades_after = sim
        .handle()
        .stats()
        .upgrades
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        upgrades_after - upgrades_at_expiry <= 1,
        "{} connection attempts after expiry",
        upgrades_after - upgrades_at_expiry
    );

    // A wrong PIN is refused with the server's reason and changes nothing.
    let wrong = account::renew(&client, &app(&sim), &refresh, &Secret::new("0000")).await;
    assert!(
        matches!(&wrong, Err(LoginError::Rejected { message, .. }) if message.contains("PIN")),
        "{wrong:?}"
    );
    // Renewed with a longer-lived token this time, so the stream has time to catch up.
    let renewed = account::renew(&client, &app(&sim), &refresh, &Secret::new(sim.handle().pin()))
        .await
        .expect("the PIN renews the session");
    assert!(token_expiry(renewed.auth.access_token().expose()).is_some());
    running
        .handle
        .command(Command::SetAuthorization(renewed.auth.clone()))
        .await
        .unwrap();
    // Its 3 s life is enough to reconnect and resync: nothing traded meanwhile is missing.
    sim.handle().pause();
    let caught_up = wait_until(Duration::from_secs(3), || {
        let store = running.store.read();
        store.connection.is_connected() && differences(&store, &sim.handle().book()).is_empty()
    })
    .await;
    let store = running.store.read();
    assert!(
        caught_up,
        "{:?}: {:?}",
        store.connection,
        differences(&store, &sim.handle().book())
            .into_iter()
            .take(5)
            .collect::<Vec<_>>()
    );
    assert!(store.session.profile.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_state_secret_and_server_each_say_what_is_wrong() {
    let sim = start_sim(day(43, 10, None)).await;
    let client = LoginClient::new(&sim.rest_url()).unwrap();

    // Requests without this login's state (a stray tab, another local program, an <img> on a web
    // page) are answered and ignored; the real redirect still settles the login. A path that
    // would be a route pattern (`/:cb`) is just a path.
    let port = free_redirect_uri()
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let redirect_uri = format!("http://127.0.0.1:{port}/:cb");
    let login = BrowserLogin::start(&sim.rest_url(), sim.handle().app_id(), &redirect_uri)
        .await
        .unwrap();
    let state = login.state().to_owned();
    for stray in [
        format!("{redirect_uri}?s=ok&code=200&auth_code=forged&state=not-{state}"),
        format!("{redirect_uri}?s=ok&code=200&auth_code=forged"),
        redirect_uri.clone(),
    ] {
        let (status, text) = browse(&stray).await;
        assert_eq!(status, 400, "{stray}");
        assert!(text.contains("does not carry the login"), "{text}");
    }
    let (status, _) = browse(&format!(
        "http://127.0.0.1:{port}/other?state={state}&auth_code=x"
    ))
    .await;
    assert_eq!(status, 404);
    let real = format!("{redirect_uri}?s=ok&code=200&auth_code=the-real-code&state={state}");
    let (status, text) = browse(&real).await;
    assert_eq!(status, 200, "{text}");
    let code = login.wait(Duration::from_secs(5)).await.unwrap();
    assert_eq!(code.expose(), "the-real-code");

    // A wrong secret key: the server's reason, no tokens.
    let code = browser_auth_code(&sim).await;
    let wrong_app = AppCredentials::new(sim.handle().app_id(), Secret::new("not-the-secret"));
    let err = account::complete_login(&client, &wrong_app, &code)
        .await
        .unwrap_err();
    assert!(err.is_rejection(), "{err:?}");
    assert!(err.to_string().contains("secret key"), "{err}");

    // A pasted token that is not one.
    let err = account::use_access_token(&client, sim.handle().app_id(), &Secret::new("eyJnot.a.token"))
        .await
        .unwrap_err();
    assert!(err.is_rejection(), "{err:?}");

    // Nobody listening.
    let nowhere = LoginClient::new("http://127.0.0.1:9/api/v3").unwrap();
    let err = account::complete_login(&nowhere, &app(&sim), &Secret::new("code"))
        .await
        .unwrap_err();
    assert!(matches!(err, LoginError::Unreachable(_)), "{err:?}");
    assert!(err.to_string().starts_with("cannot reach Fyers"), "{err}");

    // The listener's port is taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}/cb", taken.local_addr().unwrap());
    let err = BrowserLogin::start(&sim.rest_url(), sim.handle().app_id(), &uri)
        .await
        .err()
        .expect("the port is taken");
    assert!(matches!(err, LoginError::Listen { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_ends_the_session_and_forgets_every_secret() {
    let sim = start_sim(day(44, 10, None)).await;
    let client = LoginClient::new(&sim.rest_url()).unwrap();
    let auth = sim.handle().issue_token(Duration::from_secs(600));
    let session = account::use_access_token(&client, sim.handle().app_id(), &auth.access_token())
        .await
        .unwrap();
    let vault = Vault::session_only();
    let pin = Secret::new("1234");
    account::save_session(&vault, &session, Some(&app(&sim).secret), Some(&pin)).unwrap();
    assert!(vault.load(session.app_id(), SecretKind::Pin).unwrap().is_some());

    account::log_out(&client, &vault, session.app_id(), Some(&auth))
        .await
        .unwrap();
    assert_eq!(Stored::load(&vault, session.app_id()).unwrap(), Stored::default());
    let after = client.profile(&auth).await.unwrap_err();
    assert!(after.is_rejection(), "the token is dead after logout: {after:?}");
}
