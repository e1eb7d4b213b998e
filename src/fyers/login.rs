//! Fyers login (PROTOCOL.md §3): the browser URL, the redirect it comes back with, the auth-code
//! and refresh-token exchanges, logout, and when an access token dies.

pub mod callback;

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::auth::{Authorization, Secret, install_crypto_provider};
use super::rest::{Profile, RestClient, RestError};

/// The redirect URI suggested to new users: a loopback address Orderwatch listens on.
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:17800/fyers/callback";

/// An app registered in the Fyers API dashboard: its id and secret key.
#[derive(Clone, PartialEq, Eq)]
pub struct AppCredentials {
    pub app_id: String,
    pub secret: Secret,
}

impl std::fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AppCredentials({}, secret: {:?})", self.app_id, self.secret)
    }
}

impl AppCredentials {
    pub fn new(app_id: &str, secret: Secret) -> Self {
        Self {
            app_id: app_id.trim().to_owned(),
            secret,
        }
    }

    /// `appIdHash`: the hex SHA-256 of `APP_ID:SECRET`.
    pub fn app_id_hash(&self) -> String {
        app_id_hash(&self.app_id, self.secret.expose())
    }
}

/// The hex SHA-256 of `APP_ID:SECRET`, as `validate-authcode` and `validate-refresh-token` take it.
pub fn app_id_hash(app_id: &str, secret: &str) -> String {
    let digest = Sha256::digest(format!("{app_id}:{secret}").as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// What a login gives: the access token, and the refresh token when the server sent one.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access: Secret,
    pub refresh: Option<Secret>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Tokens(access: {:?}, refresh: {})",
            self.access,
            self.refresh.is_some()
        )
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoginError {
    #[error("{0}")]
    Input(String),
    #[error("the login answer does not belong to this login (its state differs): start the login again")]
    StateMismatch,
    #[error("Fyers did not log you in: {0}")]
    Denied(String),
    #[error("no auth code in what was pasted: paste the whole address the browser went to, or the code")]
    NoAuthCode,
    #[error("Fyers refused: {message}")]
    Rejected { code: i64, message: String },
    #[error("cannot reach Fyers: {0}")]
    Unreachable(String),
    #[error("unexpected answer from Fyers: {0}")]
    Decode(String),
    #[error("cannot listen for the browser on {addr}: {detail}")]
    Listen { addr: String, detail: String },
    #[error("no answer from the browser within {0} minutes: start the login again")]
    TimedOut(u64),
    #[error("the login was cancelled")]
    Cancelled,
}

impl LoginError {
    /// The server said no to what was sent (a wrong secret, code or PIN), as opposed to a failure
    /// to talk to it.
    pub fn is_rejection(&self) -> bool {
        matches!(self, Self::Rejected { .. } | Self::Denied(_))
    }
}

impl From<RestError> for LoginError {
    fn from(err: RestError) -> Self {
        match err {
            RestError::Transport(detail) => Self::Unreachable(detail),
            RestError::Auth { code, message } | RestError::Api { code, message } => {
                Self::Rejected { code, message }
            }
            other => Self::Decode(other.to_string()),
        }
    }
}

/// Checks the shape of an App ID as the dashboard shows it (`XC4EOD67IM-100`).
pub fn check_app_id(app_id: &str) -> Result<(), String> {
    let app_id = app_id.trim();
    if app_id.is_empty() {
        return Err("Enter the App ID from the Fyers API dashboard".to_owned());
    }
    let valid = app_id.split_once('-').is_some_and(|(name, kind)| {
        name.len() >= 4
            && name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && kind.len() == 3
            && kind.bytes().all(|b| b.is_ascii_digit())
    });
    if valid {
        Ok(())
    } else {
        Err("An App ID looks like XC4EOD67IM-100 (letters and digits, a dash, the app type)".to_owned())
    }
}

/// Checks a redirect URI: an absolute `http`/`https` address with a host.
pub fn check_redirect_uri(uri: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(uri.trim())
        .map_err(|err| format!("Not an address ({err}); e.g. {DEFAULT_REDIRECT_URI}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "Use an http:// or https:// address, e.g. {DEFAULT_REDIRECT_URI}"
        ));
    }
    Ok(url)
}

/// A fresh random `state` for one login.
pub fn random_state() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The address of the Fyers login page for this app.
pub fn authcode_url(api_base: &str, app_id: &str, redirect_uri: &str, state: &str) -> String {
    let base = format!("{}/generate-authcode", api_base.trim_end_matches('/'));
    match reqwest::Url::parse(&base) {
        Ok(mut url) => {
            url.query_pairs_mut()
                .append_pair("client_id", app_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("response_type", "code")
                .append_pair("state", state);
            url.into()
        }
        Err(_) => base,
    }
}

/// Reads the auth code from what the browser was sent to (or what the user pasted: the whole
/// address, or the code alone). With `expected_state`, an address must carry that state.
pub fn auth_code_from(pasted: &str, expected_state: Option<&str>) -> Result<Secret, LoginError> {
    let pasted = pasted.trim();
    if pasted.is_empty() {
        return Err(LoginError::NoAuthCode);
    }
    let Some(query) = pasted
        .contains('?')
        .then(|| pasted.split_once('?').map_or("", |(_, q)| q))
    else {
        // A bare code: a JWT-like token of URL-safe characters.
        let code_like = pasted
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b));
        return if code_like {
            Ok(Secret::new(pasted))
        } else {
            Err(LoginError::NoAuthCode)
        };
    };
    let query = query.split('#').next().unwrap_or_default();
    let mut code = None;
    let mut state = None;
    let mut outcome = None;
    let mut message = None;
    for (key, value) in url_pairs(query) {
        match key.as_str() {
            "auth_code" => code = Some(value),
            "state" => state = Some(value),
            "s" => outcome = Some(value),
            "message" => message = Some(value),
            _ => {}
        }
    }
    if outcome.as_deref() == Some("error") {
        return Err(LoginError::Denied(
            message.unwrap_or_else(|| "the login page reported an error".to_owned()),
        ));
    }
    if let Some(expected) = expected_state
        && state.as_deref() != Some(expected)
    {
        return Err(LoginError::StateMismatch);
    }
    code.filter(|code| !code.is_empty())
        .map(Secret::from)
        .ok_or(LoginError::NoAuthCode)
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{query}"))
        .map(|url| url.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

/// When an access token dies: the `exp` claim (epoch seconds) of its JWT payload.
pub fn token_expiry(access_token: &str) -> Option<i64> {
    let payload = access_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp").and_then(|exp| {
        exp.as_i64()
            .or_else(|| exp.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
    })
}

/// The login calls of the REST API.
#[derive(Clone)]
pub struct LoginClient {
    http: reqwest::Client,
    base: String,
}

impl LoginClient {
    pub fn new(api_base: &str) -> Result<Self, LoginError> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("orderwatch/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| LoginError::Unreachable(err.to_string()))?;
        Ok(Self {
            http,
            base: api_base.trim_end_matches('/').to_owned(),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Step 2: the auth code for tokens.
    pub async fn validate_authcode(
        &self,
        app: &AppCredentials,
        auth_code: &Secret,
    ) -> Result<Tokens, LoginError> {
        let body = json!({
            "grant_type": "authorization_code",
            "appIdHash": app.app_id_hash(),
            "code": auth_code.expose(),
        });
        let answer = self.post("/validate-authcode", &body).await?;
        let access = token_field(&answer, "access_token")?;
        let refresh = token_field(&answer, "refresh_token").ok();
        Ok(Tokens { access, refresh })
    }

    /// Step 3: a new access token from the refresh token and the user's PIN.
    pub async fn validate_refresh_token(
        &self,
        app: &AppCredentials,
        refresh_token: &Secret,
        pin: &Secret,
    ) -> Result<Secret, LoginError> {
        let body = json!({
            "grant_type": "refresh_token",
            "appIdHash": app.app_id_hash(),
            "refresh_token": refresh_token.expose(),
            "pin": pin.expose(),
        });
        let answer = self.post("/validate-refresh-token", &body).await?;
        token_field(&answer, "access_token")
    }

    /// Checks a token by reading the account's profile.
    pub async fn profile(&self, auth: &Authorization) -> Result<Profile, LoginError> {
        let client = RestClient::new(&self.base, auth.clone())?;
        Ok(client.profile().await?)
    }

    /// Ends the session on the server.
    pub async fn logout(&self, auth: &Authorization) -> Result<(), LoginError> {
        let response = self
            .http
            .post(format!("{}/logout", self.base))
            .header(
                "authorization",
                auth.header_value()
                    .ok_or_else(|| LoginError::Input("the token holds bytes a header cannot".to_owned()))?,
            )
            .send()
            .await
            .map_err(|err| LoginError::Unreachable(err.without_url().to_string()))?;
        let answer: Value = response.json().await.unwrap_or_default();
        match answer.get("s").and_then(Value::as_str) {
            Some("ok") => Ok(()),
            _ => Err(rejection(&answer)),
        }
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value, LoginError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .map_err(|err| LoginError::Unreachable(err.without_url().to_string()))?;
        let status = response.status();
        let answer: Value = response
            .json()
            .await
            .map_err(|_| LoginError::Decode(format!("{path} answered HTTP {status} without JSON")))?;
        if answer.get("s").and_then(Value::as_str) == Some("ok") {
            Ok(answer)
        } else {
            Err(rejection(&answer))
        }
    }
}

fn rejection(answer: &Value) -> LoginError {
    LoginError::Rejected {
        code: answer.get("code").and_then(Value::as_i64).unwrap_or(0),
        message: answer
            .get("message")
            .and_then(Value::as_str)
            .filter(|message| !message.is_empty())
            .unwrap_or("no reason given")
            .to_owned(),
    }
}

fn token_field(answer: &Value, key: &str) -> Result<Secret, LoginError> {
    answer
        .get(key)
        .and_then(Value::as_str)
        .filter(|token| !token.is_empty())
        .map(Secret::new)
        .ok_or_else(|| LoginError::Decode(format!("no {key} in the answer")))
}

#[cfg(test)]
mod tests;
