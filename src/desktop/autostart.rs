//! Launch at login. On Linux an XDG autostart entry (`~/.config/autostart/orderwatch.desktop`,
//! honouring `XDG_CONFIG_HOME`) that starts Orderwatch minimised to the tray; elsewhere the
//! platform's own mechanism through the `auto-launch` crate.

use std::path::{Path, PathBuf};

/// The argument the autostarted app gets: open in the tray, not on top of everything.
pub const MINIMISED_ARG: &str = "--minimised";

#[derive(Debug, thiserror::Error)]
pub enum AutostartError {
    #[error("no config directory for the autostart entry: set XDG_CONFIG_HOME or HOME")]
    NoConfigDir,
    #[error("cannot change the autostart entry {path}: {detail}")]
    Io { path: String, detail: String },
    #[error("cannot change launch at login: {0}")]
    Platform(String),
}

/// Where the autostart entry lives on Linux.
pub fn linux_entry_path() -> Result<PathBuf, AutostartError> {
    directories::BaseDirs::new()
        .map(|dirs| {
            dirs.config_dir()
                .join("autostart")
                .join(super::install::DESKTOP_FILE)
        })
        .ok_or(AutostartError::NoConfigDir)
}

/// Writes or removes the XDG autostart entry at `path` for `exec`.
pub fn set_linux(path: &Path, exec: &Path, enabled: bool) -> Result<(), AutostartError> {
    let failed = |err: std::io::Error| AutostartError::Io {
        path: path.display().to_string(),
        detail: err.to_string(),
    };
    if !enabled {
        return match std::fs::remove_file(path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(failed(err)),
            _ => Ok(()),
        };
    }
    let mut entry = super::install::desktop_entry(exec, &[MINIMISED_ARG]);
    entry.push_str("X-GNOME-Autostart-enabled=true\n");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    std::fs::write(path, entry).map_err(failed)
}

/// Turns launch at login on or off for this program.
pub fn set(enabled: bool) -> Result<(), AutostartError> {
    let exec = super::install::current_exe().map_err(|err| AutostartError::Platform(err.to_string()))?;
    platform_set(&exec, enabled)
}

#[cfg(target_os = "linux")]
fn platform_set(exec: &Path, enabled: bool) -> Result<(), AutostartError> {
    set_linux(&linux_entry_path()?, exec, enabled)
}

#[cfg(not(target_os = "linux"))]
fn platform_set(exec: &Path, enabled: bool) -> Result<(), AutostartError> {
    let launcher = auto_launch::AutoLaunchBuilder::new()
        .set_app_name("Orderwatch")
        .set_app_path(&exec.to_string_lossy())
        .set_args(&[MINIMISED_ARG])
        .build()
        .map_err(|err| AutostartError::Platform(err.to_string()))?;
    let result = if enabled {
        launcher.enable()
    } else {
        launcher.disable()
    };
    result.map_err(|err| AutostartError::Platform(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_linux_entry_starts_minimised_and_goes_away() {
        let dir = std::env::temp_dir().join(format!("orderwatch-autostart-{}", std::process::id()));
        let path = dir.join("autostart").join("orderwatch.desktop");
        set_linux(&path, Path::new("/usr/bin/orderwatch"), true).unwrap();
        let entry = std::fs::read_to_string(&path).unwrap();
        assert!(
            entry.contains("Exec=/usr/bin/orderwatch --minimised\n"),
            "{entry}"
        );
        assert!(entry.contains("X-GNOME-Autostart-enabled=true"));
        set_linux(&path, Path::new("/usr/bin/orderwatch"), false).unwrap();
        assert!(!path.exists());
        set_linux(&path, Path::new("/usr/bin/orderwatch"), false).unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }
}
