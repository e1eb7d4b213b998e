//! The simulator's Fyers login (PROTOCOL.md §3) as a raw client sees it: the browser redirect, the
//! auth-code and refresh-token exchanges, JWT tokens that die at their `exp`, and logout.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use futures_util::{SinkExt, StreamExt};
use orderwatch::fyers::auth::Authorization;
use orderwatch::fyers::login::{app_id_hash, authcode_url, token_expiry};
use orderwatch::fyers::socket::{self, Socket, SocketError};
use orderwatch::sim::{Sim, SimConfig};
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(5);
const REDIRECT_URI: &str = "http://127.0.0.1:9/fyers/callback";

/// A client that shows redirects instead of following them.
fn http_no_redirect() -> reqwest::Client {
    orderwatch::fyers::auth::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(WAIT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn good_hash(sim: &Sim) -> String {
    let handle = sim.handle();
    app_id_hash(handle.app_id(), handle.secret_key())
}

fn auth_of(sim: &Sim, token: &str) -> Authorization {
    Authorization::new(sim.handle().app_id(), token).expect("a header value")
}

/// `POST {rest_url}{path}` with a JSON body: the HTTP status and the JSON answer.
async fn post_json(sim: &Sim, path: &str, body: &Value) -> (u16, Value) {
    post_raw(sim, path, body.to_string()).await
}

async fn post_raw(sim: &Sim, path: &str, body: String) -> (u16, Value) {
    let response = http_client()
        .post(format!("{}{path}", sim.rest_url()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the call is answered");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or_else(|err| panic!("{path}: not JSON ({err}): {text}"));
    (status, body)
}

/// `GET /profile` with `auth`: the HTTP status and the JSON answer.
async fn profile(sim: &Sim, auth: &Authorization) -> (u16, Value) {
    let response = http_client()
        .get(format!("{}/profile", sim.rest_url()))
        .header("authorization", auth.expose())
        .send()
        .await
        .expect("/profile is answered");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

fn assert_refused(what: &str, (status, body): &(u16, Value), want_status: u16, want_code: i64) {
    assert_eq!(*status, want_status, "{what}: {body}");
    assert_eq!(body["s"], "error", "{what}: {body}");
    assert_eq!(body["code"], want_code, "{what}: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {body}"
    );
}

async fn assert_profile_ok(what: &str, sim: &Sim, auth: &Authorization) {
    let (status, body) = profile(sim, auth).await;
    assert_eq!(status, 200, "{what}: {body}");
    assert_eq!(body["s"], "ok", "{what}: {body}");
}

/// The browser's step: the auth code from the redirect `generate-authcode` answers with.
async fn auth_code(sim: &Sim) -> String {
    let url = authcode_url(&sim.rest_url(), sim.handle().app_id(), REDIRECT_URI, "st");
    let response = http_no_redirect().get(url).send().await.expect("answered");
    assert_eq!(response.status().as_u16(), 302);
    let location = response.headers()["location"]
        .to_str()
        .expect("an ASCII Location")
        .to_owned();
    let location = reqwest::Url::parse(&location).expect("Location is an address");
    location
        .query_pairs()
        .find(|(key, _)| key == "auth_code")
        .map(|(_, code)| code.into_owned())
        .expect("an auth code in the redirect")
}

async fn validate_authcode(sim: &Sim, hash: &str, code: &str) -> (u16, Value) {
    let body = json!({"grant_type": "authorization_code", "appIdHash": hash, "code": code});
    post_json(sim, "/validate-authcode", &body).await
}

async fn validate_refresh(sim: &Sim, hash: &str, refresh_token: &str, pin: &str) -> (u16, Value) {
    let body = json!({
        "grant_type": "refresh_token", "appIdHash": hash, "refresh_token": refresh_token, "pin": pin,
    });
    post_json(sim, "/validate-refresh-token", &body).await
}

/// A whole login: the access and refresh tokens.
async fn log_in(sim: &Sim) -> (String, String) {
    let code = auth_code(sim).await;
    let (status, body) = validate_authcode(sim, &good_hash(sim), &code).await;
    assert_eq!(status, 200, "{body}");
    let token = |key: &str| {
        body[key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key}: {body}"))
            .to_owned()
    };
    (token("access_token"), token("refresh_token"))
}

async fn open_socket(sim: &Sim, auth: &Authorization) -> Socket {
    socket::connect(&sim.socket_url(), auth, WAIT)
        .await
        .expect("the upgrade succeeds")
}

/// The socket answers a text ping (it is open and served).
async fn assert_serving(ws: &mut Socket) {
    ws.send(Message::text("ping")).await.expect("ping sent");
    let answer = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("an answer in time");
    match answer {
        Some(Ok(Message::Text(text))) => assert_eq!(text.as_str(), "pong"),
        other => panic!("expected pong, got {other:?}"),
    }
}

/// Waits up to `timeout` for the server to end the socket.
async fn assert_closed_within(ws: &mut Socket, timeout: Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => panic!("the socket stayed open"),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return,
            Ok(Some(Ok(other))) => panic!("expected the socket to close, got {other:?}"),
        }
    }
}

async fn assert_upgrade_refused(sim: &Sim, auth: &Authorization) {
    match socket::connect(&sim.socket_url(), auth, WAIT).await {
        Err(SocketError::AuthRejected) => {}
        Err(err) => panic!("refused without 403: {err}"),
        Ok(_) => panic!("the upgrade was accepted"),
    }
}

// ---------------------------------------------------------------------------------------------
// generate-authcode
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_authcode_redirects_with_the_code_and_the_state() {
    let sim = start_sim(day(51, 100, None)).await;
    let app_id = sim.handle().app_id().to_owned();
    for (redirect_uri, kept) in [
        (REDIRECT_URI, None),
        ("https://example.com/cb?app=ow", Some(("app", "ow"))),
    ] {
        let url = authcode_url(&sim.rest_url(), &app_id, redirect_uri, "state with spaces&more");
        let response = http_no_redirect().get(url).send().await.expect("answered");
        assert_eq!(response.status().as_u16(), 302, "{redirect_uri}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let body = response.text().await.unwrap();
        assert!(
            body.contains("<a href=") && body.contains(&location.replace('&', "&amp;")),
            "the page links to the redirect: {body}"
        );
        let target = reqwest::Url::parse(&location).expect("Location is an address");
        assert!(location.starts_with(redirect_uri), "{location}");
        let pairs: Vec<(String, String)> = target.query_pairs().into_owned().collect();
        let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        assert_eq!(get("s"), Some("ok"), "{location}");
        assert_eq!(get("code"), Some("200"), "{location}");
        assert_eq!(get("state"), Some("state with spaces&more"), "{location}");
        assert!(
            get("auth_code").is_some_and(|code| code.split('.').count() == 3),
            "{location}"
        );
        if let Some((key, value)) = kept {
            assert_eq!(
                get(key),
                Some(value),
                "the redirect URI's own query is kept: {location}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_following_the_redirect_lands_on_the_redirect_uri() {
    let sim = start_sim(day(52, 100, None)).await;
    let seen: Arc<Mutex<Option<String>>> = Arc::default();
    let recorder = seen.clone();
    let app = axum::Router::new().route(
        "/fyers/callback",
        axum::routing::get(
            move |axum::extract::RawQuery(query): axum::extract::RawQuery| async move {
                *recorder.lock() = query;
                "you can close this tab"
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirect_uri = format!("http://{}/fyers/callback", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let url = authcode_url(&sim.rest_url(), sim.handle().app_id(), &redirect_uri, "s-42");
    let response = http_client().get(url).send().await.expect("answered");
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.url().as_str().starts_with(&redirect_uri),
        "{}",
        response.url()
    );
    assert_eq!(response.text().await.unwrap(), "you can close this tab");
    let query = seen.lock().clone().expect("the callback was called with a query");
    let url = format!("{redirect_uri}?{query}");
    let code =
        orderwatch::fyers::login::auth_code_from(&url, Some("s-42")).expect("the client reads the code");
    let (status, body) = validate_authcode(&sim, &good_hash(&sim), code.expose()).await;
    assert_eq!(status, 200, "the code the browser brought back logs in: {body}");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_authcode_refuses_a_wrong_request_with_a_page() {
    let sim = start_sim(day(53, 100, None)).await;
    let app_id = sim.handle().app_id().to_owned();
    let base = format!("{}/generate-authcode", sim.rest_url());
    let cases = [
        (
            format!("{base}?client_id=OTHER-100&redirect_uri={REDIRECT_URI}&response_type=code&state=s"),
            "client_id",
        ),
        (
            format!("{base}?client_id={app_id}&redirect_uri={REDIRECT_URI}&response_type=token&state=s"),
            "response_type",
        ),
        (
            format!("{base}?client_id={app_id}&response_type=code&state=s"),
            "redirect_uri",
        ),
        (
            format!("{base}?client_id={app_id}&redirect_uri=not%20an%20address&response_type=code"),
            "redirect_uri",
        ),
        (
            format!("{base}?client_id={app_id}&redirect_uri=ftp://x/cb&response_type=code"),
            "redirect_uri",
        ),
    ];
    for (url, names) in cases {
        let response = http_no_redirect().get(&url).send().await.expect("answered");
        assert_eq!(response.status().as_u16(), 400, "{url}");
        assert!(response.headers().get("location").is_none(), "{url}");
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/html"), "{url}: {content_type}");
        let page = response.text().await.unwrap();
        assert!(page.contains(names), "{url}: the page says what is wrong: {page}");
    }
}

// ---------------------------------------------------------------------------------------------
// validate-authcode
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_authcode_gives_jwts_that_live_their_lifetime() {
    let lifetime = Duration::from_secs(3 * 60 * 60);
    let sim = start_sim(SimConfig {
        token_lifetime: lifetime,
        ..day(54, 100, None)
    })
    .await;
    let code = auth_code(&sim).await;
    let before = now_secs();
    let (status, body) = validate_authcode(&sim, &good_hash(&sim), &code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["s"].as_str(), body["code"].as_i64()),
        (Some("ok"), Some(200)),
        "{body}"
    );
    let access = body["access_token"].as_str().expect("an access token");
    let refresh = body["refresh_token"].as_str().expect("a refresh token");
    let near = |exp: Option<i64>, want: i64| exp.is_some_and(|exp| (exp - want).abs() <= 5);
    let access_exp = token_expiry(access);
    assert!(
        near(access_exp, before + lifetime.as_secs() as i64),
        "{access_exp:?}"
    );
    let refresh_exp = token_expiry(refresh);
    assert!(near(refresh_exp, before + 15 * 24 * 60 * 60), "{refresh_exp:?}");
    assert_ne!(access, sim.authorization().access_token().expose(), "a new token");

    let auth = auth_of(&sim, access);
    assert_profile_ok("/profile with the new token", &sim, &auth).await;
    let mut ws = open_socket(&sim, &auth).await;
    assert_serving(&mut ws).await;

    let again = validate_authcode(&sim, &good_hash(&sim), &code).await;
    assert_refused("the same code twice", &again, 400, -413);
    let made_up = validate_authcode(&sim, &good_hash(&sim), "made-up-code").await;
    assert_refused("a made-up code", &made_up, 400, -413);
    assert_eq!(sim.handle().stats().logins.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_authcode_refuses_a_wrong_secret_and_bad_requests() {
    let sim = start_sim(day(55, 100, None)).await;
    let code = auth_code(&sim).await;
    let wrong = app_id_hash(sim.handle().app_id(), "NOT-THE-SECRET");
    let answer = validate_authcode(&sim, &wrong, &code).await;
    assert_refused("a wrong secret", &answer, 400, -352);

    let hash = good_hash(&sim);
    let bad_requests = [
        ("not JSON", "{not json".to_owned()),
        (
            "another grant",
            json!({"grant_type": "password", "appIdHash": hash, "code": code}).to_string(),
        ),
        (
            "no code",
            json!({"grant_type": "authorization_code", "appIdHash": hash}).to_string(),
        ),
    ];
    for (what, body) in bad_requests {
        let answer = post_raw(&sim, "/validate-authcode", body).await;
        assert_refused(what, &answer, 400, -50);
    }
    // Refusals before the code was checked leave it usable.
    let (status, body) = validate_authcode(&sim, &hash, &code).await;
    assert_eq!(status, 200, "{body}");
}

// ---------------------------------------------------------------------------------------------
// validate-refresh-token
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_and_the_pin_give_a_working_token() {
    let sim = start_sim(day(56, 100, None)).await;
    let (_, refresh) = log_in(&sim).await;
    let hash = good_hash(&sim);
    let pin = sim.handle().pin().to_owned();

    let answer = validate_refresh(&sim, &hash, &refresh, "0000").await;
    assert_refused("a wrong PIN", &answer, 400, -1006);
    assert_eq!(answer.1["message"], "Invalid PIN");
    let wrong = app_id_hash(sim.handle().app_id(), "NOT-THE-SECRET");
    let answer = validate_refresh(&sim, &wrong, &refresh, &pin).await;
    assert_refused("a wrong secret", &answer, 400, -352);
    let answer = validate_refresh(&sim, &hash, "made-up", &pin).await;
    assert_refused("an unknown refresh token", &answer, 400, -17);

    let (status, body) = validate_refresh(&sim, &hash, &refresh, &pin).await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"].as_str().expect("a new access token");
    assert!(
        token_expiry(access).is_some_and(|exp| exp > now_secs()),
        "{access}"
    );
    assert_profile_ok("/profile with the refreshed token", &sim, &auth_of(&sim, access)).await;
    assert_eq!(sim.handle().stats().refreshes.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiring_every_token_now_leaves_refresh_working() {
    let sim = start_sim(day(57, 100, None)).await;
    let (access, refresh) = log_in(&sim).await;
    let auth = auth_of(&sim, &access);
    let mut ws = open_socket(&sim, &auth).await;
    assert_serving(&mut ws).await;

    sim.handle().expire_tokens_now();
    assert_closed_within(&mut ws, WAIT).await;
    assert_refused("/profile after expiry", &profile(&sim, &auth).await, 401, -8);
    assert_refused(
        "the start token after expiry",
        &profile(&sim, &sim.authorization()).await,
        401,
        -8,
    );
    assert_upgrade_refused(&sim, &auth).await;

    let (status, body) = validate_refresh(&sim, &good_hash(&sim), &refresh, sim.handle().pin()).await;
    assert_eq!(status, 200, "{body}");
    let renewed = auth_of(&sim, body["access_token"].as_str().unwrap());
    assert_profile_ok("/profile with the refreshed token", &sim, &renewed).await;
}

// ---------------------------------------------------------------------------------------------
// Tokens that die, and logout
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_dies_at_its_exp_even_mid_stream() {
    let sim = start_sim(day(58, 100, None)).await;
    let auth = sim.handle().issue_token(Duration::from_secs(2));
    let exp = token_expiry(auth.access_token().expose()).expect("a JWT exp");
    assert!(exp > now_secs() && exp <= now_secs() + 2, "exp {exp}");
    assert_profile_ok("/profile before expiry", &sim, &auth).await;
    let mut ws = open_socket(&sim, &auth).await;
    assert_serving(&mut ws).await;

    // The server hangs up once `exp` passes, without being told to.
    assert_closed_within(&mut ws, Duration::from_secs(4)).await;
    assert!(now_secs() >= exp, "closed before exp");
    assert_refused("/profile after exp", &profile(&sim, &auth).await, 401, -8);
    assert_upgrade_refused(&sim, &auth).await;
    assert_profile_ok("the start token lives on", &sim, &sim.authorization()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_only_the_callers_token() {
    let sim = start_sim(day(59, 100, None)).await;
    let leaving = sim.authorization();
    let staying = sim.handle().issue_token(Duration::from_secs(3600));
    let mut leaving_ws = open_socket(&sim, &leaving).await;
    let mut staying_ws = open_socket(&sim, &staying).await;

    let response = http_client()
        .post(format!("{}/logout", sim.rest_url()))
        .header("authorization", leaving.expose())
        .send()
        .await
        .expect("logout is answered");
    assert_eq!(response.status().as_u16(), 200);

    assert_closed_within(&mut leaving_ws, WAIT).await;
    assert_refused("/profile after logout", &profile(&sim, &leaving).await, 401, -8);
    assert_upgrade_refused(&sim, &leaving).await;

    assert_serving(&mut staying_ws).await;
    assert_profile_ok("another token after logout", &sim, &staying).await;
    drop(open_socket(&sim, &staying).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_expiry_fault_kills_old_tokens_but_not_a_new_login() {
    let sim = start_sim(day(9, 10, None)).await;
    let old = sim.authorization();
    sim.handle().inject(orderwatch::sim::Fault::ExpireToken);
    assert_refused("old token after the fault", &profile(&sim, &old).await, 401, -8);
    let (access, _refresh) = log_in(&sim).await;
    assert_profile_ok("a login after the fault", &sim, &auth_of(&sim, &access)).await;
    sim.handle().renew_token();
    assert_profile_ok("the old token once renewed", &sim, &old).await;
}
