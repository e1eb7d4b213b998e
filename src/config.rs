//! The settings file: the saved account (its app id and redirect URI, never a secret), the
//! subscriptions, and the window as it was left. JSON in the platform's config directory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fyers::model::EventKind;

/// Overrides the directory the settings file lives in (tests, portable installs).
pub const CONFIG_DIR_ENV: &str = "ORDERWATCH_CONFIG_DIR";

const FILE_NAME: &str = "settings.json";

/// The account last logged in to. Its secrets are in the keychain, filed under `app_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedAccount {
    pub app_id: String,
    pub redirect_uri: String,
    /// The user asked for the PIN to be kept in the keychain for renewals.
    #[serde(default)]
    pub remember_pin: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub account: Option<SavedAccount>,
    /// SDK names (`OnOrders`…) of the event types to stream.
    pub subscriptions: Vec<String>,
    pub dark: bool,
    /// Inner size of the window, in points.
    pub window_size: Option<[f32; 2]>,
    /// Closing the window hides it to the tray; Quit (tray or window menu) really quits.
    pub close_to_tray: bool,
    /// Open hidden in the tray.
    pub start_minimised: bool,
    /// Start with the desktop session (XDG autostart on Linux).
    pub launch_at_login: bool,
    /// The one-time "Orderwatch is still running in the tray" notification was shown.
    pub told_about_tray: bool,
    pub notifications: NotificationSettings,
    /// Trading days the journal keeps; older days are deleted whole.
    pub keep_days: u32,
    /// The local API for the trader's programs. Its key is in the keychain, not here.
    pub api: ApiSettings,
    /// The rates of the day's brokerage and statutory charges.
    pub charges: crate::store::RateTable,
}

/// The window's local API (`/api/order-stream/*`): off until the user turns it on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApiSettings {
    pub enabled: bool,
    /// Always on 127.0.0.1: the window never opens the API to the network.
    pub port: u16,
    /// Browser origins (`http://localhost:3000`) allowed to call it.
    pub allowed_origins: Vec<String>,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            port: crate::api::DEFAULT_PORT,
            allowed_origins: Vec::new(),
        }
    }
}

/// Which desktop notifications to show. No secrets, like the rest of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotificationSettings {
    /// All off at once (the tray's "Mute notifications").
    pub muted: bool,
    pub order_filled: bool,
    pub order_partially_filled: bool,
    pub order_rejected: bool,
    pub order_cancelled: bool,
    /// Off by default: every fill already notifies as an order filled.
    pub trade_executed: bool,
    pub price_alert: bool,
    /// The stream down for more than 30 s, and back.
    pub stream: bool,
    /// The session ending in 15 minutes, and ended.
    pub session: bool,
    /// P&L alerts, at the thresholds below (whole rupees; `None`: that alert is off).
    pub pnl_alert: bool,
    /// The day's total P&L falls to −this.
    pub pnl_day_loss: Option<u64>,
    /// The day's total P&L reaches +this.
    pub pnl_day_profit: Option<u64>,
    /// One position's P&L falls to −this.
    pub pnl_position_loss: Option<u64>,
    /// A distinct sound for fills, rejections and P&L alerts (the desktop's sound theme).
    pub sounds: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            muted: false,
            order_filled: true,
            order_partially_filled: true,
            order_rejected: true,
            order_cancelled: true,
            trade_executed: false,
            price_alert: true,
            stream: true,
            session: true,
            pnl_alert: true,
            pnl_day_loss: None,
            pnl_day_profit: None,
            pnl_position_loss: None,
            sounds: false,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            account: None,
            subscriptions: EventKind::ALL
                .iter()
                .map(|kind| kind.sdk_name().to_owned())
                .collect(),
            dark: true,
            window_size: None,
            close_to_tray: true,
            start_minimised: false,
            launch_at_login: false,
            told_about_tray: false,
            notifications: NotificationSettings::default(),
            keep_days: crate::journal::DEFAULT_KEEP_DAYS,
            api: ApiSettings::default(),
            charges: crate::store::RateTable::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the settings file {path}: {detail}")]
    Read { path: String, detail: String },
    #[error("the settings file {path} is damaged ({detail}); using defaults")]
    Damaged { path: String, detail: String },
    #[error("cannot save the settings file {path}: {detail}")]
    Write { path: String, detail: String },
}

impl Settings {
    /// Where the settings live: `$ORDERWATCH_CONFIG_DIR/settings.json`, or the platform's config
    /// directory (`~/.config/orderwatch/settings.json` on Linux).
    pub fn default_path() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV).filter(|dir| !dir.is_empty()) {
            return Some(PathBuf::from(dir).join(FILE_NAME));
        }
        directories::ProjectDirs::from("in", "Orderwatch", "orderwatch")
            .map(|dirs| dirs.config_dir().join(FILE_NAME))
    }

    /// Reads the settings; a missing file is the defaults. A damaged file is an error (the caller
    /// says so and goes on with defaults) and is kept aside as `settings.json.damaged`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(err) => {
                return Err(ConfigError::Read {
                    path: path.display().to_string(),
                    detail: err.to_string(),
                });
            }
        };
        serde_json::from_str(&text).map_err(|err| {
            let _ = std::fs::rename(path, path.with_extension("json.damaged"));
            ConfigError::Damaged {
                path: path.display().to_string(),
                detail: err.to_string(),
            }
        })
    }

    /// Writes the settings atomically (a temporary file renamed over the old one).
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let failed = |err: std::io::Error| ConfigError::Write {
            path: path.display().to_string(),
            detail: err.to_string(),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let text = serde_json::to_string_pretty(self).map_err(|err| ConfigError::Write {
            path: path.display().to_string(),
            detail: err.to_string(),
        })?;
        let temporary = path.with_extension("json.tmp");
        // On disk before it replaces the old file, so a power cut leaves the old settings or the
        // new ones, never an empty file; then the directory, so the rename itself survives.
        let mut file = std::fs::File::create(&temporary).map_err(failed)?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(failed)?;
        file.sync_all().map_err(failed)?;
        drop(file);
        std::fs::rename(&temporary, path).map_err(failed)?;
        #[cfg(unix)]
        if let Some(dir) = path.parent().and_then(|dir| std::fs::File::open(dir).ok()) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// The event types to stream; unknown names are ignored, and none known means all.
    pub fn subscriptions(&self) -> BTreeSet<EventKind> {
        let kinds: BTreeSet<EventKind> = self
            .subscriptions
            .iter()
            .filter_map(|name| EventKind::from_sdk_name(name))
            .collect();
        if kinds.is_empty() && self.subscriptions.is_empty() {
            return EventKind::ALL.into();
        }
        kinds
    }

    pub fn set_subscriptions(&mut self, kinds: &BTreeSet<EventKind>) {
        self.subscriptions = kinds.iter().map(|kind| kind.sdk_name().to_owned()).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("orderwatch-config-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn settings_round_trip_and_a_missing_file_is_defaults() {
        let path = temp_dir("round").join("settings.json");
        assert_eq!(Settings::load(&path).unwrap(), Settings::default());
        let mut settings = Settings {
            account: Some(SavedAccount {
                app_id: "XC4EOD67IM-100".into(),
                redirect_uri: "http://127.0.0.1:17800/fyers/callback".into(),
                remember_pin: false,
            }),
            dark: false,
            window_size: Some([1000.0, 700.0]),
            ..Settings::default()
        };
        settings.set_subscriptions(&[EventKind::Orders, EventKind::Trades].into());
        settings.save(&path).unwrap();
        let loaded = Settings::load(&path).unwrap();
        assert_eq!(loaded, settings);
        assert_eq!(
            loaded.subscriptions(),
            [EventKind::Orders, EventKind::Trades].into()
        );
    }

    #[test]
    fn a_damaged_file_is_reported_and_kept_aside() {
        let dir = temp_dir("damaged");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("settings.json");
        std::fs::write(&path, "{not json").unwrap();
        let err = Settings::load(&path).unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");
        assert!(dir.join("settings.json.damaged").exists());
        assert_eq!(Settings::load(&path).unwrap(), Settings::default());
    }
}
