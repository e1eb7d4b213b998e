//! The user's Fyers account end to end: log in (through the browser, a pasted redirect or auth
//! code, or a pasted access token), renew with the PIN, log out. Secrets go to the vault; the app
//! id and redirect URI to the settings file. Shared by the window and the command line.

use std::time::Duration;

use crate::fyers::auth::{Authorization, Secret};
use crate::fyers::login::callback::{Callback, loopback_addr};
use crate::fyers::login::{
    AppCredentials, LoginClient, LoginError, authcode_url, check_app_id, check_redirect_uri, random_state,
    token_expiry,
};
use crate::fyers::rest::Profile;
use crate::secrets::{SecretKind, Vault, VaultError};

/// How long a browser login may take before the listener gives up.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// A working login: the token, checked against `/profile`.
#[derive(Debug, Clone)]
pub struct Session {
    pub auth: Authorization,
    pub refresh: Option<Secret>,
    pub profile: Profile,
    /// When the access token dies (epoch seconds).
    pub expires_at: Option<i64>,
}

impl Session {
    pub fn app_id(&self) -> &str {
        self.auth.app_id()
    }
}

/// A browser login under way: the address to open, and (for a loopback redirect URI) the
/// listener waiting for the browser to come back.
pub struct BrowserLogin {
    pub url: String,
    state: String,
    callback: Option<Callback>,
}

impl BrowserLogin {
    /// Makes a fresh `state` and, when the redirect URI is a loopback address, starts listening
    /// there before anything is opened.
    pub async fn start(api_base: &str, app_id: &str, redirect_uri: &str) -> Result<Self, LoginError> {
        check_app_id(app_id).map_err(LoginError::Input)?;
        let redirect = check_redirect_uri(redirect_uri).map_err(LoginError::Input)?;
        let state = random_state();
        let callback = match loopback_addr(&redirect) {
            Some(_) => Some(Callback::bind(&redirect, &state).await?),
            None => None,
        };
        Ok(Self {
            url: authcode_url(api_base, app_id.trim(), redirect_uri.trim(), &state),
            state,
            callback,
        })
    }

    /// Orderwatch will see the redirect itself; otherwise the user pastes where the browser went.
    pub fn listening(&self) -> bool {
        self.callback.is_some()
    }

    pub fn state(&self) -> &str {
        &self.state
    }

    /// Splits off the waiting half, leaving what is needed to read a pasted redirect.
    pub fn take_callback(&mut self) -> Option<Callback> {
        self.callback.take()
    }

    /// Waits for the browser to come back with the auth code.
    pub async fn wait(mut self, timeout: Duration) -> Result<Secret, LoginError> {
        match self.callback.take() {
            Some(callback) => callback.wait(timeout).await,
            None => Err(LoginError::Input(
                "the redirect URI is not a loopback address: paste where the browser went".to_owned(),
            )),
        }
    }
}

/// Trades an auth code for tokens and checks them.
pub async fn complete_login(
    client: &LoginClient,
    app: &AppCredentials,
    auth_code: &Secret,
) -> Result<Session, LoginError> {
    let tokens = client.validate_authcode(app, auth_code).await?;
    let mut session = use_access_token(client, &app.app_id, &tokens.access).await?;
    session.refresh = tokens.refresh;
    Ok(session)
}

/// Checks an access token the user already has (pasted) with `/profile`.
pub async fn use_access_token(
    client: &LoginClient,
    app_id: &str,
    access_token: &Secret,
) -> Result<Session, LoginError> {
    check_app_id(app_id).map_err(LoginError::Input)?;
    let auth = Authorization::new(app_id, access_token.expose())
        .map_err(|err| LoginError::Input(err.to_string()))?;
    let profile = client.profile(&auth).await?;
    Ok(Session {
        expires_at: token_expiry(access_token.expose()),
        auth,
        refresh: None,
        profile,
    })
}

/// A new access token from the stored refresh token and the PIN the user typed.
pub async fn renew(
    client: &LoginClient,
    app: &AppCredentials,
    refresh: &Secret,
    pin: &Secret,
) -> Result<Session, LoginError> {
    if pin.is_empty() {
        return Err(LoginError::Input("Enter your Fyers PIN".to_owned()));
    }
    let access = client.validate_refresh_token(app, refresh, pin).await?;
    let mut session = use_access_token(client, &app.app_id, &access).await?;
    session.refresh = Some(refresh.clone());
    Ok(session)
}

/// What the vault holds for one app id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stored {
    pub secret: Option<Secret>,
    pub access: Option<Secret>,
    pub refresh: Option<Secret>,
    pub pin: Option<Secret>,
}

impl Stored {
    /// Reads every secret of `app_id`. Blocks on the keychain.
    pub fn load(vault: &Vault, app_id: &str) -> Result<Self, VaultError> {
        Ok(Self {
            secret: vault.load(app_id, SecretKind::SecretKey)?,
            access: vault.load(app_id, SecretKind::AccessToken)?,
            refresh: vault.load(app_id, SecretKind::RefreshToken)?,
            pin: vault.load(app_id, SecretKind::Pin)?,
        })
    }

    pub fn authorization(&self, app_id: &str) -> Option<Authorization> {
        Authorization::new(app_id, self.access.as_ref()?.expose()).ok()
    }
}

/// Keeps a new session's tokens (and the secret key, and the PIN if the user opted in). A
/// missing refresh token clears the old one, so a stale one is never offered. Blocks.
pub fn save_session(
    vault: &Vault,
    session: &Session,
    secret: Option<&Secret>,
    pin: Option<&Secret>,
) -> Result<(), VaultError> {
    let app_id = session.app_id();
    if let Some(secret) = secret {
        vault.save(app_id, SecretKind::SecretKey, secret)?;
    }
    vault.save(app_id, SecretKind::AccessToken, &session.auth.access_token())?;
    match &session.refresh {
        Some(refresh) => vault.save(app_id, SecretKind::RefreshToken, refresh)?,
        None => vault.delete(app_id, SecretKind::RefreshToken)?,
    }
    match pin {
        Some(pin) => vault.save(app_id, SecretKind::Pin, pin),
        None => vault.delete(app_id, SecretKind::Pin),
    }
}

/// Ends the session at Fyers (best effort: a dead token cannot log out) and forgets every secret.
/// The server's answer is returned for the caller to mention; the secrets are gone either way.
pub async fn log_out(
    client: &LoginClient,
    vault: &Vault,
    app_id: &str,
    auth: Option<&Authorization>,
) -> Result<(), VaultError> {
    if let Some(auth) = auth
        && let Err(err) = client.logout(auth).await
    {
        tracing::info!(%err, "logout at Fyers did not go through; forgetting the tokens anyway");
    }
    let vault = vault.clone();
    let app_id = app_id.to_owned();
    crate::secrets::off_runtime(move || vault.delete_all(&app_id)).await
}
