//! Embeds the git commit so `orderwatch --version` says exactly what was built, and on Windows the
//! icon and version resource (so Explorer and the taskbar show them).

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=10", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|commit| commit.trim().to_owned())
        .filter(|commit| !commit.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .is_some_and(|output| !output.stdout.is_empty());
    let suffix = if dirty && commit != "unknown" {
        "-modified"
    } else {
        ""
    };
    println!("cargo:rustc-env=ORDERWATCH_GIT_COMMIT={commit}{suffix}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
    windows_resources();
}

#[cfg(windows)]
fn windows_resources() {
    println!("cargo:rerun-if-changed=assets/icons/orderwatch.ico");
    let mut resources = winresource::WindowsResource::new();
    resources
        .set_icon("assets/icons/orderwatch.ico")
        .set("ProductName", "Orderwatch")
        .set(
            "FileDescription",
            "Orderwatch: a live monitor for a Fyers trading account",
        );
    if let Err(err) = resources.compile() {
        println!("cargo:warning=no icon or version resource embedded: {err}");
    }
}

#[cfg(not(windows))]
fn windows_resources() {}
