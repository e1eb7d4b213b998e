//! Opening the login page in the user's browser, which inherits none of Orderwatch's secrets.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Environment variables that may hold a secret; a child process (the browser) never gets them.
pub const SECRET_VARS: [&str; 2] = ["ORDERWATCH_ACCESS_TOKEN", "ORDERWATCH_SECRET_KEY"];

/// How long a launcher gets to fail before it is taken to have handed the address on.
const FAILS_WITHIN: Duration = Duration::from_millis(300);

/// Opens `url` with the desktop's default browser (`xdg-open`, `open`, `start`…, the first that
/// works), without Orderwatch's secret environment variables.
pub fn open(url: &str) -> Result<(), String> {
    launch(open::commands(url))
}

/// Starts the first of `commands` that does not fail at once, each without the secret variables.
fn launch(commands: Vec<Command>) -> Result<(), String> {
    let mut why = "no program to open a browser with".to_owned();
    for mut command in commands {
        for var in SECRET_VARS {
            command.env_remove(var);
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let program = command.get_program().to_string_lossy().into_owned();
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(err) => {
                why = format!("{program}: {err}");
                continue;
            }
        };
        let started = Instant::now();
        let failed = loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    break (!status.success()).then(|| format!("{program} exited with {status}"));
                }
                Ok(None) if started.elapsed() < FAILS_WITHIN => std::thread::sleep(Duration::from_millis(10)),
                Ok(None) | Err(_) => {
                    // Still running: it has the address. Reap it whenever it ends.
                    std::thread::spawn(move || child.wait());
                    break None;
                }
            }
        };
        match failed {
            None => return Ok(()),
            Some(failure) => why = failure,
        }
    }
    Err(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_gets_no_secrets() {
        let dir = std::env::temp_dir().join(format!("orderwatch-browser-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let seen = dir.join("env");
        let mut browser = Command::new("sh");
        browser
            .args(["-c", "env > \"$0\"", seen.to_str().unwrap()])
            .env("ORDERWATCH_ACCESS_TOKEN", "APP-100:eyJsecret")
            .env("ORDERWATCH_SECRET_KEY", "SECRET")
            .env("ORDERWATCH_OTHER", "kept");
        launch(vec![browser]).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let env = loop {
            match std::fs::read_to_string(&seen) {
                Ok(env) if env.contains("ORDERWATCH_OTHER") => break env,
                _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                other => panic!("the browser did not start: {other:?}"),
            }
        };
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!env.contains("eyJsecret") && !env.contains("SECRET_KEY"), "{env}");
    }

    #[test]
    fn a_launcher_that_fails_lets_the_next_try() {
        let failing = Command::new("false");
        let missing = Command::new("/nonexistent/xdg-open");
        let working = Command::new("true");
        assert_eq!(launch(vec![failing, missing, working]), Ok(()));
        let err = launch(vec![Command::new("false")]).unwrap_err();
        assert!(err.contains("false exited"), "{err}");
    }
}
