//! The simulator's side of the Fyers login (PROTOCOL.md §3): JWT-shaped tokens that die at their
//! `exp`, the registry of what was issued, and the generate-authcode, validate-authcode and
//! validate-refresh-token calls.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::Mutex;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::exchange::Shared;
use super::server::gate;
use crate::fyers::login::app_id_hash;

/// An auth code must be exchanged soon after the browser brings it back.
const AUTH_CODE_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// A refresh token lives 15 days (PROTOCOL.md §3).
const REFRESH_LIFETIME: Duration = Duration::from_secs(15 * 24 * 60 * 60);

/// What logins are checked against.
#[derive(Debug, Clone)]
pub(super) struct LoginConfig {
    pub app_id: String,
    pub secret_key: String,
    pub pin: String,
    /// The account's `fy_id`, carried in every token.
    pub client_id: String,
    pub token_lifetime: Duration,
}

/// What an `authorization` header is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// An issued, unexpired, not logged-out token that dies at `exp` (epoch seconds).
    Alive { exp: i64 },
    /// A token that was issued but has expired or been logged out: "generate a new one".
    Dead,
    /// Not `APP_ID:TOKEN` with a token issued here.
    Unknown,
}

struct AccessToken {
    exp: i64,
    /// The market-data socket's credential, a claim of the token.
    hsm_key: String,
    logged_out: bool,
    /// Refused by the token-expiry fault until `revive_all` (tokens issued later are not).
    killed: bool,
}

/// Everything issued so far. Dead access tokens are kept so they can be told apart from forged
/// ones (-8, not -16), as the real API does.
#[derive(Default)]
struct Issued {
    access: HashMap<String, AccessToken>,
    /// Refresh token → exp.
    refresh: HashMap<String, i64>,
    /// Auth code → exp; removed when used.
    codes: HashMap<String, i64>,
}

/// The token registry.
pub(super) struct Registry {
    config: LoginConfig,
    app_id_hash: String,
    issued: Mutex<Issued>,
}

impl Registry {
    pub fn new(config: LoginConfig) -> Self {
        Self {
            app_id_hash: app_id_hash(&config.app_id, &config.secret_key),
            config,
            issued: Mutex::default(),
        }
    }

    pub fn config(&self) -> &LoginConfig {
        &self.config
    }

    /// Judges an `authorization` header (the global expiry fault is the server's business).
    pub fn check(&self, header: Option<&str>) -> Verdict {
        let Some(token) = header.and_then(|header| self.token_of(header)) else {
            return Verdict::Unknown;
        };
        match self.issued.lock().access.get(token) {
            None => Verdict::Unknown,
            Some(issued) if !issued.logged_out && !issued.killed && unexpired(issued.exp) => {
                Verdict::Alive { exp: issued.exp }
            }
            Some(_) => Verdict::Dead,
        }
    }

    /// Judges a bare JWT (the symbol-token call sends no `APP_ID:`).
    pub fn check_jwt(&self, jwt: &str) -> Verdict {
        self.check(Some(&format!("{}:{jwt}", self.config.app_id)))
    }

    /// Judges a market-data key: alive while the token that carries it is.
    pub fn check_hsm_key(&self, key: &str) -> Verdict {
        let issued = self.issued.lock();
        let Some(token) = issued.access.values().find(|token| token.hsm_key == key) else {
            return Verdict::Unknown;
        };
        if !token.logged_out && !token.killed && unexpired(token.exp) {
            Verdict::Alive { exp: token.exp }
        } else {
            Verdict::Dead
        }
    }

    /// The token of `APP_ID:TOKEN`, when the app id is this app's.
    fn token_of<'a>(&self, header: &'a str) -> Option<&'a str> {
        header
            .strip_prefix(self.config.app_id.as_str())?
            .strip_prefix(':')
    }

    /// A new access token that lives `lifetime` (whole seconds).
    pub fn issue_access(&self, lifetime: Duration) -> String {
        let (token, exp) = self.mint("access_token", lifetime);
        let hsm_key = crate::fyers::market::topics::hsm_key(&token, 0).unwrap_or_default();
        let issued = AccessToken {
            exp,
            hsm_key,
            logged_out: false,
            killed: false,
        };
        self.issued.lock().access.insert(token.clone(), issued);
        token
    }

    fn issue_refresh(&self) -> String {
        let (token, exp) = self.mint("refresh_token", REFRESH_LIFETIME);
        self.issued.lock().refresh.insert(token.clone(), exp);
        token
    }

    fn issue_code(&self) -> String {
        let (code, exp) = self.mint("auth_code", AUTH_CODE_LIFETIME);
        let mut issued = self.issued.lock();
        // Codes nobody came back with would pile up in a long-running demo.
        issued.codes.retain(|_, exp| unexpired(*exp));
        issued.codes.insert(code.clone(), exp);
        code
    }

    /// Uses up an auth code: true when it was issued, unused and unexpired.
    fn take_code(&self, code: &str) -> bool {
        self.issued.lock().codes.remove(code).is_some_and(unexpired)
    }

    fn refresh_alive(&self, token: &str) -> bool {
        self.issued
            .lock()
            .refresh
            .get(token)
            .copied()
            .is_some_and(unexpired)
    }

    /// Ends the session of the header's token only; other tokens stay alive.
    pub fn log_out(&self, header: Option<&str>) {
        let Some(token) = header.and_then(|header| self.token_of(header)) else {
            return;
        };
        if let Some(issued) = self.issued.lock().access.get_mut(token) {
            issued.logged_out = true;
        }
    }

    /// The expiry fault: every access token issued so far is refused until `revive_all`; a new
    /// login still gets a working token, as with the real server.
    pub fn kill_all(&self) {
        for issued in self.issued.lock().access.values_mut() {
            issued.killed = true;
        }
    }

    /// Undoes `kill_all` (tokens past their `exp` or logged out stay dead).
    pub fn revive_all(&self) {
        for issued in self.issued.lock().access.values_mut() {
            issued.killed = false;
        }
    }

    /// Every access token issued so far dies now (refresh tokens keep working).
    pub fn expire_all_now(&self) {
        let now = now_secs();
        for issued in self.issued.lock().access.values_mut() {
            issued.exp = issued.exp.min(now);
        }
    }

    /// A JWT-shaped token with Fyers' claims, and its `exp`.
    fn mint(&self, subject: &str, lifetime: Duration) -> (String, i64) {
        let now = now_secs();
        let exp = now.saturating_add(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX));
        let app_type = self
            .config
            .app_id
            .rsplit_once('-')
            .and_then(|(_, kind)| kind.parse::<u32>().ok())
            .unwrap_or(100);
        let claims = json!({
            "iss": "api.fyers.in", "iat": now, "exp": exp, "nbf": now, "aud": ["d:1", "x:0"],
            "sub": subject, "at_hash": format!("gAAAAAB{}", random_hex(24)), "display_name": "",
            "fy_id": self.config.client_id, "appType": app_type, "jti": random_hex(16),
            "hsm_key": random_hex(16),
        });
        (jwt(&self.config.secret_key, &claims), exp)
    }
}

/// `header.payload.signature`, base64url without padding. The signature is a plain SHA-256 keyed
/// by prefixing the secret: nobody verifies it, it only has to look like the real thing.
fn jwt(secret: &str, claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{secret}.{signed}")));
    format!("{signed}.{signature}")
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// Wall-clock milliseconds: tokens live in real time, whatever clock the simulated day runs on.
fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}

fn now_secs() -> i64 {
    now_millis() / 1000
}

/// A JWT is valid strictly before its `exp`.
fn unexpired(exp: i64) -> bool {
    now_millis() < exp.saturating_mul(1000)
}

/// When a connection must next look at its token: at `exp`, or in a day for very long-lived
/// tokens (the connection checks again then, so capping only keeps the `Instant` sum in range).
pub(super) fn deadline(exp: i64) -> tokio::time::Instant {
    const DAY_MILLIS: i64 = 24 * 60 * 60 * 1000;
    let left = exp
        .saturating_mul(1000)
        .saturating_sub(now_millis())
        .clamp(0, DAY_MILLIS);
    tokio::time::Instant::now() + Duration::from_millis(left.unsigned_abs())
}

// ---------------------------------------------------------------------------------------------
// The login calls
// ---------------------------------------------------------------------------------------------

type AppState = State<Arc<Shared>>;

#[derive(serde::Deserialize)]
pub(super) struct AuthcodeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    state: Option<String>,
}

/// `GET /generate-authcode`: the real one shows a login page; the simulator logs the user in at
/// once and sends the browser back to the redirect URI with an auth code.
pub(super) async fn generate_authcode(
    State(shared): AppState,
    Query(query): Query<AuthcodeQuery>,
) -> Response {
    if let Some(refused) = gate(&shared) {
        return refused;
    }
    let mut target = match redirect_target(shared.login.config(), &query) {
        Ok(target) => target,
        Err(problem) => {
            return (StatusCode::BAD_REQUEST, page("Cannot log in", &problem, None)).into_response();
        }
    };
    let code = shared.login.issue_code();
    target
        .query_pairs_mut()
        .append_pair("s", "ok")
        .append_pair("code", "200")
        .append_pair("auth_code", &code)
        .append_pair("state", query.state.as_deref().unwrap_or_default());
    let location = String::from(target);
    let body = page("Logged in", "Taking you back to the app.", Some(&location));
    (StatusCode::FOUND, [(header::LOCATION, location)], body).into_response()
}

/// Where the browser goes after the login, or what is wrong with the request.
fn redirect_target(config: &LoginConfig, query: &AuthcodeQuery) -> Result<reqwest::Url, String> {
    if query.client_id.as_deref() != Some(config.app_id.as_str()) {
        return Err("client_id is not the App ID of an app registered here.".to_owned());
    }
    if query.response_type.as_deref() != Some("code") {
        return Err("response_type must be code.".to_owned());
    }
    let uri = query
        .redirect_uri
        .as_deref()
        .filter(|uri| !uri.trim().is_empty())
        .ok_or("redirect_uri is missing.")?;
    let url =
        reqwest::Url::parse(uri.trim()).map_err(|err| format!("redirect_uri is not an address: {err}."))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("redirect_uri must be an http:// or https:// address.".to_owned());
    }
    Ok(url)
}

/// A minimal HTML page, with a link when it redirects (for clients that do not follow `Location`).
fn page(title: &str, text: &str, link: Option<&str>) -> Html<String> {
    let link = link.map_or_else(String::new, |href| {
        let href = escape(href);
        format!("<p><a href=\"{href}\">{href}</a></p>")
    });
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{}</p>{link}</body></html>",
        escape(text)
    ))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `POST /validate-authcode`: an auth code (used up) for an access token and a refresh token.
pub(super) async fn validate_authcode(State(shared): AppState, body: Bytes) -> Response {
    if let Some(refused) = gate(&shared) {
        return refused;
    }
    let login = &shared.login;
    let Some([hash, code]) = read_request(&body, "authorization_code", ["appIdHash", "code"]) else {
        return invalid_parameters();
    };
    if !hash.eq_ignore_ascii_case(&login.app_id_hash) {
        return wrong_secret();
    }
    // The hash is checked first so that a wrong secret does not burn the user's code.
    if !login.take_code(&code) {
        return refused(-413, "Invalid or expired auth code");
    }
    let access_token = login.issue_access(login.config.token_lifetime);
    let refresh_token = login.issue_refresh();
    shared.stats.logins.fetch_add(1, Ordering::SeqCst);
    let body = json!({
        "s": "ok", "code": 200, "message": "",
        "access_token": access_token, "refresh_token": refresh_token,
    });
    axum::Json(body).into_response()
}

/// `POST /validate-refresh-token`: a refresh token and the user's PIN for a new access token.
pub(super) async fn validate_refresh_token(State(shared): AppState, body: Bytes) -> Response {
    if let Some(refused) = gate(&shared) {
        return refused;
    }
    let login = &shared.login;
    let keys = ["appIdHash", "refresh_token", "pin"];
    let Some([hash, refresh_token, pin]) = read_request(&body, "refresh_token", keys) else {
        return invalid_parameters();
    };
    if !hash.eq_ignore_ascii_case(&login.app_id_hash) {
        return wrong_secret();
    }
    if !login.refresh_alive(&refresh_token) {
        return refused(-17, "Refresh token invalid or expired");
    }
    if pin != login.config.pin {
        return refused(-1006, "Invalid PIN");
    }
    let access_token = login.issue_access(login.config.token_lifetime);
    shared.stats.refreshes.fetch_add(1, Ordering::SeqCst);
    let body = json!({"s": "ok", "code": 200, "message": "", "access_token": access_token});
    axum::Json(body).into_response()
}

/// The string fields `keys` of a JSON body whose `grant_type` is `grant_type`; `None` when the
/// body is not that (not JSON, another grant, a field missing, empty or not a string).
fn read_request<const N: usize>(body: &[u8], grant_type: &str, keys: [&str; N]) -> Option<[String; N]> {
    let request: Value = serde_json::from_slice(body).ok()?;
    if request.get("grant_type").and_then(Value::as_str) != Some(grant_type) {
        return None;
    }
    let values = keys.map(|key| {
        request
            .get(key)
            .and_then(Value::as_str)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    });
    if values.iter().any(Option::is_none) {
        return None;
    }
    Some(values.map(Option::unwrap_or_default))
}

fn refused(code: i64, message: &str) -> Response {
    let body = json!({"s": "error", "code": code, "message": message});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

fn invalid_parameters() -> Response {
    refused(-50, "Invalid parameters")
}

fn wrong_secret() -> Response {
    refused(
        -352,
        "Invalid app id hash: the secret key does not match the App ID",
    )
}

#[cfg(test)]
mod tests;
