//! `orderwatch login` and `orderwatch logout`: the window's login flow without a window.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::Args;
use orderwatch::account::{self, BrowserLogin, LOGIN_TIMEOUT, Stored};
use orderwatch::config::{SavedAccount, Settings};
use orderwatch::fyers::auth::Secret;
use orderwatch::fyers::login::{
    AppCredentials, DEFAULT_REDIRECT_URI, LoginClient, LoginError, auth_code_from, check_app_id,
    check_redirect_uri,
};
use orderwatch::fyers::rest::FYERS_REST_URL;
use orderwatch::secrets::{Vault, VaultKind, off_runtime};

/// The app's secret key, when it is not to be typed (scripts, CI).
const SECRET_ENV: &str = "ORDERWATCH_SECRET_KEY";

#[derive(Args)]
pub struct LoginArgs {
    /// The App ID from the Fyers API dashboard (default: the saved account's).
    #[arg(long)]
    app_id: Option<String>,
    /// Must match the app's redirect URL in the dashboard (default: the saved one, or
    /// http://127.0.0.1:17800/fyers/callback).
    #[arg(long)]
    redirect_uri: Option<String>,
    /// Skip the browser: the auth code, or the whole address the browser was sent to.
    #[arg(long)]
    auth_code: Option<String>,
    /// Print the login address without trying to open a browser.
    #[arg(long)]
    no_browser: bool,
    #[arg(long, default_value = FYERS_REST_URL)]
    rest_url: String,
}

#[derive(Args)]
pub struct LogoutArgs {
    #[arg(long, default_value = FYERS_REST_URL)]
    rest_url: String,
}

/// A failure with its exit code: 1 cannot do it, 2 bad input, 3 refused by Fyers.
struct Failure(u8, String);

impl From<LoginError> for Failure {
    fn from(err: LoginError) -> Self {
        let code = match &err {
            LoginError::Input(_) | LoginError::NoAuthCode => 2,
            err if err.is_rejection() || matches!(err, LoginError::StateMismatch) => 3,
            _ => 1,
        };
        Failure(code, err.to_string())
    }
}

pub async fn run_login(args: LoginArgs) -> ExitCode {
    finish(login(args).await)
}

pub async fn run_logout(args: LogoutArgs) -> ExitCode {
    finish(logout(args).await)
}

fn finish(result: Result<String, Failure>) -> ExitCode {
    match result {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(Failure(code, message)) => {
            eprintln!("orderwatch: {message}");
            ExitCode::from(code)
        }
    }
}

fn settings() -> (Option<std::path::PathBuf>, Settings) {
    let path = Settings::default_path();
    let settings = match path.as_deref().map(Settings::load) {
        Some(Ok(settings)) => settings,
        Some(Err(err)) => {
            eprintln!("orderwatch: {err}");
            Settings::default()
        }
        None => Settings::default(),
    };
    (path, settings)
}

async fn open_vault() -> Result<Vault, Failure> {
    off_runtime(Vault::from_env).await.map_err(|err| {
        Failure(
            1,
            format!(
                "{err}. `orderwatch login` keeps the token in the OS keychain and nowhere else; \
                 unlock or install one (e.g. GNOME Keyring), or log in from the window for this session only"
            ),
        )
    })
}

async fn stored(vault: &Vault, app_id: &str) -> Result<Stored, Failure> {
    let (vault, app_id) = (vault.clone(), app_id.to_owned());
    off_runtime(move || Stored::load(&vault, &app_id))
        .await
        .map_err(|err| Failure(1, err.to_string()))
}

async fn login(args: LoginArgs) -> Result<String, Failure> {
    let (path, mut settings) = settings();
    let saved = settings.account.clone();
    let app_id = args
        .app_id
        .or_else(|| saved.as_ref().map(|saved| saved.app_id.clone()))
        .ok_or_else(|| {
            Failure(
                2,
                "give --app-id (the App ID from the Fyers API dashboard)".to_owned(),
            )
        })?;
    check_app_id(&app_id).map_err(|err| Failure(2, err))?;
    let redirect_uri = args
        .redirect_uri
        .or_else(|| {
            saved
                .filter(|saved| saved.app_id == app_id)
                .map(|saved| saved.redirect_uri)
        })
        .unwrap_or_else(|| DEFAULT_REDIRECT_URI.to_owned());
    check_redirect_uri(&redirect_uri).map_err(|err| Failure(2, err))?;
    let vault = open_vault().await?;
    let secret = secret_key(&vault, &app_id).await?;
    let app = AppCredentials::new(&app_id, secret);
    let client = LoginClient::new(&args.rest_url)?;
    let code = match args.auth_code {
        Some(pasted) => auth_code_from(&pasted, None)?,
        None => browser_code(&args.rest_url, &app_id, &redirect_uri, args.no_browser).await?,
    };
    let session = account::complete_login(&client, &app, &code).await?;
    let saving = (vault.clone(), session.clone(), app.secret.clone());
    off_runtime(move || account::save_session(&saving.0, &saving.1, Some(&saving.2), None))
        .await
        .map_err(|err| Failure(1, format!("logged in, but the token could not be saved: {err}")))?;
    settings.account = Some(SavedAccount {
        app_id: app_id.clone(),
        redirect_uri,
        remember_pin: false,
    });
    if let Some(path) = &path
        && let Err(err) = settings.save(path)
    {
        eprintln!("orderwatch: {err}");
    }
    let name = match &session.profile.name {
        name if name.is_empty() => session.profile.fy_id.clone(),
        name => format!("{name} ({})", session.profile.fy_id),
    };
    let ends = session
        .expires_at
        .map(|at| format!("; the session ends {}", orderwatch::format::date_time(at)))
        .unwrap_or_default();
    let kept = match vault.kind() {
        VaultKind::Keychain => "the token is in the OS keychain",
        VaultKind::SessionOnly => "the token was kept in memory only and is gone now",
    };
    Ok(format!("Logged in as {name}{ends} IST; {kept}."))
}

/// The secret key: from the environment, the keychain, or typed (never echoed).
async fn secret_key(vault: &Vault, app_id: &str) -> Result<Secret, Failure> {
    if let Some(secret) = std::env::var(SECRET_ENV)
        .ok()
        .filter(|secret| !secret.trim().is_empty())
    {
        return Ok(Secret::new(&secret));
    }
    if let Some(secret) = stored(vault, app_id).await?.secret {
        return Ok(secret);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure(
            2,
            format!("no secret key for {app_id} in the keychain: set {SECRET_ENV} or run in a terminal"),
        ));
    }
    let typed = tokio::task::spawn_blocking(|| rpassword::prompt_password("Secret key (not shown): "))
        .await
        .map_err(|_| Failure(1, "cannot read the secret key".to_owned()))?
        .map_err(|err| Failure(1, format!("cannot read the secret key: {err}")))?;
    let secret = Secret::new(&typed);
    if secret.is_empty() {
        return Err(Failure(2, "no secret key given".to_owned()));
    }
    Ok(secret)
}

/// Sends the user to the login page and gets the auth code back: from the loopback listener, or
/// pasted when the redirect URI is elsewhere.
async fn browser_code(
    api_base: &str,
    app_id: &str,
    redirect_uri: &str,
    no_browser: bool,
) -> Result<Secret, Failure> {
    let login = BrowserLogin::start(api_base, app_id, redirect_uri).await?;
    eprintln!("Log in to Fyers at this address:\n\n  {}\n", login.url);
    if !no_browser && let Err(err) = orderwatch::desktop::browser::open(&login.url) {
        eprintln!("(could not open a browser: {err}; open the address yourself)");
    }
    if login.listening() {
        eprintln!(
            "Waiting for the browser to come back (up to {} minutes)…",
            LOGIN_TIMEOUT.as_secs() / 60
        );
        return Ok(login.wait(LOGIN_TIMEOUT).await?);
    }
    eprint!("Paste the address the browser went to after logging in: ");
    let _ = std::io::stderr().flush();
    let state = login.state().to_owned();
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    })
    .await
    .map_err(|_| Failure(1, "cannot read the answer".to_owned()))?
    .map_err(|err| Failure(1, format!("cannot read the answer: {err}")))?;
    Ok(auth_code_from(&line, Some(&state))?)
}

async fn logout(args: LogoutArgs) -> Result<String, Failure> {
    let (path, mut settings) = settings();
    let Some(saved) = settings.account.clone() else {
        return Ok("No saved login: nothing to log out of.".to_owned());
    };
    let vault = open_vault().await?;
    let stored = stored(&vault, &saved.app_id).await?;
    let client = LoginClient::new(&args.rest_url)?;
    account::log_out(
        &client,
        &vault,
        &saved.app_id,
        stored.authorization(&saved.app_id).as_ref(),
    )
    .await
    .map_err(|err| Failure(1, format!("the keychain entries could not be removed: {err}")))?;
    settings.account = None;
    if let Some(path) = &path {
        settings.save(path).map_err(|err| Failure(1, err.to_string()))?;
    }
    Ok(format!(
        "Logged out of {}; its secrets are gone from the keychain.",
        saved.app_id
    ))
}
