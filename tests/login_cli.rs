//! `orderwatch login` / `logout` as a user runs them, against the simulator: the printed address,
//! the loopback redirect, the saved account, every failure's message and exit code, and logs (at
//! trace level) that never show a token, the secret key or the auth code.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use orderwatch::config::Settings;
use orderwatch::sim::Sim;

const BIN: &str = env!("CARGO_BIN_EXE_orderwatch");

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Nothing secret anywhere in what was printed or logged. Tokens are JWTs ("eyJ…").
    fn assert_clean(&self, secrets: &[&str]) {
        for text in [&self.stdout, &self.stderr] {
            assert!(!text.contains("eyJ"), "a token was printed:\n{}", self.stderr);
            for secret in secrets {
                assert!(!text.contains(secret), "{secret:?} was printed:\n{}", self.stderr);
            }
        }
    }
}

fn config_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("orderwatch-login-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn orderwatch(dir: &Path, secret: &str, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env("ORDERWATCH_CONFIG_DIR", dir)
        .env("ORDERWATCH_DATA_DIR", dir.join("data"))
        .env("ORDERWATCH_KEYCHAIN", "session")
        .env("ORDERWATCH_SECRET_KEY", secret)
        .env("ORDERWATCH_LOG", "trace")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn finish(mut child: std::process::Child, mut stderr: String) -> Run {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("orderwatch hung:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    if let Some(mut rest) = child.stderr.take() {
        rest.read_to_string(&mut stderr).unwrap();
    }
    Run {
        code: status.code(),
        stdout,
        stderr,
    }
}

fn run_command(command: &mut Command) -> Run {
    let child = command.spawn().unwrap();
    finish(child, String::new())
}

/// Runs `orderwatch login` and plays the browser: reads the printed address, opens it with an
/// HTTP client that follows the redirect to the command's loopback listener.
fn login_through_browser(sim: &Sim, dir: &Path, secret: &str, runtime: &tokio::runtime::Runtime) -> Run {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect = format!("http://127.0.0.1:{port}/fyers/callback");
    let rest = sim.rest_url();
    let mut child = orderwatch(
        dir,
        secret,
        &[
            "login",
            "--app-id",
            sim.handle().app_id(),
            "--redirect-uri",
            &redirect,
            "--no-browser",
            "--rest-url",
            &rest,
        ],
    )
    .spawn()
    .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let url = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no address printed:\n{seen}"
        );
        seen.push_str(&line);
        if let Some(url) = line.trim().strip_prefix(&format!("{rest}/generate-authcode?")) {
            break format!("{rest}/generate-authcode?{url}");
        }
    };
    let page = runtime.block_on(async { reqwest::get(&url).await.unwrap().text().await.unwrap() });
    let mut rest_of_stderr = String::new();
    stderr.read_to_string(&mut rest_of_stderr).unwrap();
    let mut run = finish(child, seen + &rest_of_stderr);
    run.stdout.push_str(&format!("\n[page] {page}"));
    run
}

#[test]
fn login_prints_the_address_takes_the_redirect_and_saves_the_account() {
    let runtime = runtime();
    let sim = runtime.block_on(start_sim(day(61, 10, None)));
    let dir = config_dir("ok");
    let secret = sim.handle().secret_key().to_owned();
    let run = login_through_browser(&sim, &dir, &secret, &runtime);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Logged in as Demo Trader"), "{}", run.stdout);
    assert!(run.stdout.contains("the session ends"), "{}", run.stdout);
    assert!(run.stdout.contains("You can close this tab"), "{}", run.stdout);
    run.assert_clean(&[&secret]);
    let settings = Settings::load(&dir.join("settings.json")).unwrap();
    let account = settings.account.expect("the account is saved");
    assert_eq!(account.app_id, sim.handle().app_id());
    let file = std::fs::read_to_string(dir.join("settings.json")).unwrap();
    assert!(
        !file.contains(&secret) && !file.contains("eyJ"),
        "no secret in the settings file"
    );

    // Logging out of it: the keychain is per process here, so there is no token to end; the saved
    // account goes either way.
    let run = run_logout(&dir, &sim);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("Logged out of"), "{}", run.stdout);
    assert!(
        Settings::load(&dir.join("settings.json"))
            .unwrap()
            .account
            .is_none()
    );
    let run = run_logout(&dir, &sim);
    assert!(run.stdout.contains("No saved login"), "{}", run.stdout);
}

fn run_logout(dir: &Path, sim: &Sim) -> Run {
    run_command(&mut orderwatch(
        dir,
        "",
        &["logout", "--rest-url", &sim.rest_url()],
    ))
}

#[test]
fn every_failure_has_its_message_and_exit_code_and_prints_no_secret() {
    let runtime = runtime();
    let sim = runtime.block_on(start_sim(day(62, 10, None)));
    let app_id = sim.handle().app_id().to_owned();
    let rest = sim.rest_url();
    let secret = sim.handle().secret_key().to_owned();

    // A wrong secret key: Fyers refuses the exchange (3).
    let run = login_through_browser(&sim, &config_dir("wrong-secret"), "not-the-secret", &runtime);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(
        run.stderr.contains("the secret key does not match"),
        "{}",
        run.stderr
    );
    run.assert_clean(&["not-the-secret"]);

    // A made-up auth code (3).
    let dir = config_dir("bad-code");
    let code = "made-up-auth-code";
    let run = run_command(&mut orderwatch(
        &dir,
        &secret,
        &[
            "login",
            "--app-id",
            &app_id,
            "--auth-code",
            code,
            "--rest-url",
            &rest,
        ],
    ));
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(
        run.stderr.contains("Fyers refused: Invalid or expired auth code"),
        "{}",
        run.stderr
    );
    run.assert_clean(&[&secret, code]);

    // A redirect address from another login (its state cannot be checked without the login, but
    // a pasted error is reported as such).
    let pasted = "http://127.0.0.1:17800/fyers/callback?s=error&message=User%20denied&state=x";
    let run = run_command(&mut orderwatch(
        &dir,
        &secret,
        &[
            "login",
            "--app-id",
            &app_id,
            "--auth-code",
            pasted,
            "--rest-url",
            &rest,
        ],
    ));
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(
        run.stderr.contains("Fyers did not log you in: User denied"),
        "{}",
        run.stderr
    );

    // Nobody at the address (1).
    let run = run_command(&mut orderwatch(
        &dir,
        &secret,
        &[
            "login",
            "--app-id",
            &app_id,
            "--auth-code",
            "abc",
            "--rest-url",
            "http://127.0.0.1:9/api/v3",
        ],
    ));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("cannot reach Fyers"), "{}", run.stderr);
    run.assert_clean(&[&secret]);

    // A malformed app id (2).
    let run = run_command(&mut orderwatch(
        &dir,
        &secret,
        &["login", "--app-id", "nope", "--auth-code", "abc"],
    ));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("An App ID looks like"), "{}", run.stderr);

    // No keychain at all: said plainly, and no fallback to a file (1).
    let mut command = orderwatch(
        &dir,
        &secret,
        &[
            "login",
            "--app-id",
            &app_id,
            "--auth-code",
            "abc",
            "--rest-url",
            &rest,
        ],
    );
    command.env_remove("ORDERWATCH_KEYCHAIN").env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/orderwatch-test-bus",
    );
    let run = run_command(&mut command);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("no keychain is available"), "{}", run.stderr);
    assert!(run.stderr.contains("nowhere else"), "{}", run.stderr);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "nothing written: {leftovers:?}");
    run.assert_clean(&[&secret]);
}
