//! The secrets round trip through the real OS keychain (Secret Service on Linux). CI runs this
//! under `dbus-run-session` with an unlocked gnome-keyring and `ORDERWATCH_REQUIRE_KEYCHAIN=1`,
//! so a missing keychain fails there; elsewhere it says it was skipped and why.

mod common;

use std::process::Command;

use common::*;
use orderwatch::account::{self, Session, Stored};
use orderwatch::fyers::auth::{Authorization, Secret};
use orderwatch::fyers::rest::Profile;
use orderwatch::secrets::{API_KEY_USER, SERVICE, SecretKind, Vault, VaultKind};

const REQUIRE_ENV: &str = "ORDERWATCH_REQUIRE_KEYCHAIN";

fn system_vault() -> Option<Vault> {
    match Vault::system() {
        Ok(vault) => Some(vault),
        Err(err) if std::env::var_os(REQUIRE_ENV).is_some() => {
            panic!("{REQUIRE_ENV} is set but the keychain is not usable: {err}")
        }
        Err(err) => {
            skipped(&format!(
                "no usable OS keychain here ({err}); set {REQUIRE_ENV}=1 to make this fail"
            ));
            None
        }
    }
}

/// What `secret-tool` (libsecret) finds under our service and user, if the tool is installed.
fn secret_tool_lookup(user: &str) -> Option<String> {
    let output = std::process::Command::new("secret-tool")
        .args(["lookup", "service", SERVICE, "username", user])
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn secrets_round_trip_through_the_real_keychain() {
    let Some(vault) = system_vault() else { return };
    assert_eq!(vault.kind(), VaultKind::Keychain);
    let app_id = format!("KCTEST{}-100", std::process::id());
    let auth = Authorization::new(&app_id, "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.keychain-test").unwrap();
    let session = Session {
        auth: auth.clone(),
        refresh: Some(Secret::new("refresh-keychain-test")),
        profile: Profile::default(),
        expires_at: Some(1),
    };
    let secret = Secret::new("secret-keychain-test");
    account::save_session(&vault, &session, Some(&secret), None).unwrap();

    // Another handle on the keychain (as after a restart) reads the same.
    let again = Vault::system().unwrap();
    let stored = Stored::load(&again, &app_id).unwrap();
    assert_eq!(stored.access, Some(auth.access_token()));
    assert_eq!(
        stored.refresh.as_ref().map(Secret::expose),
        Some("refresh-keychain-test")
    );
    assert_eq!(stored.secret, Some(secret));
    assert_eq!(stored.pin, None);

    // It really is the Secret Service: libsecret's own tool finds the entry.
    if let Some(found) = secret_tool_lookup(&SecretKind::AccessToken.user(&app_id)) {
        assert_eq!(found.trim(), auth.access_token().expose());
    }

    // Overwriting keeps one entry; deleting removes all.
    let newer = Authorization::new(&app_id, "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjJ9.newer").unwrap();
    let session = Session {
        auth: newer.clone(),
        refresh: None,
        ..session
    };
    account::save_session(&vault, &session, None, None).unwrap();
    let stored = Stored::load(&vault, &app_id).unwrap();
    assert_eq!(stored.access, Some(newer.access_token()));
    assert_eq!(
        stored.refresh, None,
        "a login without a refresh token clears the old one"
    );

    vault.delete_all(&app_id).unwrap();
    assert_eq!(Stored::load(&vault, &app_id).unwrap(), Stored::default());
    if let Some(found) = secret_tool_lookup(&SecretKind::AccessToken.user(&app_id)) {
        assert_eq!(found.trim(), "");
    }
}

/// The whole command-line life of a saved login on the real keychain: `orderwatch login` keeps the
/// tokens there, `orderwatch headless` streams with them in another process, `orderwatch logout`
/// removes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_saved_by_the_cli_streams_in_another_process_until_logout() {
    if system_vault().is_none() {
        return;
    }
    let sim = start_sim(orderwatch::sim::SimConfig {
        rate: Some(40.0),
        steps: None,
        ..day(81, 0, None)
    })
    .await;
    sim.handle().resume();
    let config = std::env::temp_dir().join(format!("orderwatch-keychain-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&config);
    let app_id = sim.handle().app_id().to_owned();
    // The browser's last stop: the redirect address with the auth code, as a user would paste it.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login_page =
        orderwatch::fyers::login::authcode_url(&sim.rest_url(), &app_id, &free_redirect_uri(), "st");
    let redirected = no_redirect.get(login_page).send().await.unwrap();
    let pasted = redirected.headers()["location"].to_str().unwrap().to_owned();

    let orderwatch = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_orderwatch"));
        command
            .args(args)
            .env("ORDERWATCH_CONFIG_DIR", &config)
            .env("ORDERWATCH_DATA_DIR", config.join("data"))
            .env_remove("ORDERWATCH_KEYCHAIN")
            .env("ORDERWATCH_SECRET_KEY", sim.handle().secret_key())
            .env("ORDERWATCH_LOG", "debug");
        command
    };
    let rest = sim.rest_url();
    let socket = sim.socket_url();
    let login = orderwatch(&[
        "login",
        "--app-id",
        &app_id,
        "--auth-code",
        &pasted,
        "--rest-url",
        &rest,
    ])
    .output()
    .unwrap();
    let said = String::from_utf8_lossy(&login.stdout).into_owned() + &String::from_utf8_lossy(&login.stderr);
    assert!(login.status.success(), "{said}");
    assert!(said.contains("the token is in the OS keychain"), "{said}");
    assert!(!said.contains("eyJ"), "no token printed: {said}");
    assert!(
        Stored::load(&Vault::system().unwrap(), &app_id)
            .unwrap()
            .access
            .is_some()
    );

    let headless = orderwatch(&[
        "headless",
        "--exit-after",
        "5",
        "--socket-url",
        &socket,
        "--rest-url",
        &rest,
    ])
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&headless.stdout);
    assert!(
        headless.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&headless.stderr)
    );
    assert!(
        stdout.lines().filter(|line| line.contains("\"data\"")).count() >= 5,
        "{stdout}"
    );

    let logout = orderwatch(&["logout", "--rest-url", &rest]).output().unwrap();
    assert!(logout.status.success());
    assert_eq!(
        Stored::load(&Vault::system().unwrap(), &app_id).unwrap(),
        Stored::default()
    );
    let headless = orderwatch(&[
        "headless",
        "--exit-after",
        "1",
        "--socket-url",
        &socket,
        "--rest-url",
        &rest,
    ])
    .output()
    .unwrap();
    assert_eq!(headless.status.code(), Some(2), "no saved login any more");
    assert!(String::from_utf8_lossy(&headless.stderr).contains("run `orderwatch login`"));
    let _ = std::fs::remove_dir_all(&config);
}

/// `orderwatch api-key` makes the local API's key in the real keychain once, prints the same key on
/// every run after, and `--regenerate` replaces it there. The user's own key, if any, is put back.
#[test]
fn the_local_api_key_lives_in_the_real_keychain() {
    let Some(vault) = system_vault() else { return };
    let before = vault.load_api_key().unwrap();
    vault.delete_api_key().unwrap();
    let api_key = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_orderwatch"))
            .args(args)
            .env_remove("ORDERWATCH_KEYCHAIN")
            .env_remove("ORDERWATCH_API_KEY")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{args:?}: {said}");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    let made = api_key(&["api-key"]);
    assert!(
        orderwatch::api::ApiKey::parse(&made).is_ok() && made.len() >= 43,
        "{made}"
    );
    assert_eq!(api_key(&["api-key"]), made, "the key is kept, not made again");
    let kept = Vault::system()
        .unwrap()
        .load_api_key()
        .unwrap()
        .expect("in the keychain");
    assert_eq!(kept.expose(), made);
    if let Some(found) = secret_tool_lookup(API_KEY_USER) {
        assert_eq!(found.trim(), made, "secret-tool finds it under the service");
    }
    let regenerated = api_key(&["api-key", "--regenerate"]);
    assert_ne!(regenerated, made);
    assert_eq!(api_key(&["api-key"]), regenerated);

    match before {
        Some(key) => vault.save_api_key(&key).unwrap(),
        None => vault.delete_api_key().unwrap(),
    }
}
