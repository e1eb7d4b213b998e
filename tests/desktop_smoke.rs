//! The real binary opens its real window under Xvfb: on the demo feed, on the first-run screen,
//! and minimised to start. Each must still be running a few seconds later (no panic at start-up),
//! and quit cleanly when asked. Skipped without Xvfb unless `ORDERWATCH_REQUIRE_DESKTOP` is set.

mod common;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_orderwatch");

/// An X server for the test, killed when dropped.
struct Xvfb {
    child: Child,
    display: String,
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn xvfb() -> Option<Xvfb> {
    for number in 140..180 {
        if std::path::Path::new(&format!("/tmp/.X11-unix/X{number}")).exists() {
            continue;
        }
        let display = format!(":{number}");
        let child = Command::new("Xvfb")
            .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(err) => {
                assert!(
                    std::env::var_os("ORDERWATCH_REQUIRE_DESKTOP").is_none(),
                    "Xvfb is required here: {err}"
                );
                common::skipped(&format!("no Xvfb ({err})"));
                return None;
            }
        };
        let socket = format!("/tmp/.X11-unix/X{number}");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !std::path::Path::new(&socket).exists() && Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if std::path::Path::new(&socket).exists() {
            return Some(Xvfb { child, display });
        }
        let _ = child.kill();
    }
    panic!("no free X display");
}

/// Runs the window for `secs`, then asks it to quit (SIGTERM) and returns its stderr.
fn run_window(display: &str, args: &[&str], config: &std::path::Path, secs: u64) -> String {
    let mut child = Command::new(BIN)
        .args(args)
        .env("DISPLAY", display)
        .env_remove("WAYLAND_DISPLAY")
        .env("ORDERWATCH_CONFIG_DIR", config)
        .env("ORDERWATCH_DATA_DIR", config.join("data"))
        .env("ORDERWATCH_KEYCHAIN", "session")
        .env("ORDERWATCH_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(secs));
    let status = child.try_wait().unwrap();
    let mut stderr = String::new();
    if status.is_none() {
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
    }
    let _ = child.wait();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(
        status.is_none(),
        "the window exited by itself ({status:?}):\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn the_window_opens_on_the_demo_the_first_run_screen_and_minimised() {
    let Some(x) = xvfb() else { return };
    let config = std::env::temp_dir().join(format!("orderwatch-smoke-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&config);
    run_window(&x.display, &["--demo"], &config, 4);
    run_window(&x.display, &[], &config, 3);
    run_window(&x.display, &["--demo", "--minimised"], &config, 3);
    let _ = std::fs::remove_dir_all(&config);
}

/// A second window (launch at login, then a double click) says one is running and ends at once,
/// before it opens a socket or a window of its own.
#[test]
fn a_second_window_says_one_is_running_and_ends() {
    let config = std::env::temp_dir().join(format!("orderwatch-second-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&config);
    let first = orderwatch::desktop::instance::claim(&config).unwrap();
    assert!(matches!(first, orderwatch::desktop::instance::Instance::First(_)));
    let started = Instant::now();
    let output = Command::new(BIN)
        .arg("--demo")
        .env("ORDERWATCH_CONFIG_DIR", &config)
        .env("ORDERWATCH_KEYCHAIN", "session")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("already running"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10), "{stderr}");
    assert!(
        !config.join("settings.json").exists(),
        "the second one wrote no settings"
    );
    drop(first);
    let _ = std::fs::remove_dir_all(&config);
}
