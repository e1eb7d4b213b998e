//! What the shell is given: where Fyers is, the keychain, the settings file, and the desktop's
//! browser, notification server and launch-at-login, each replaceable by tests.

use std::path::PathBuf;
use std::sync::Arc;

use crate::desktop::notify::{DesktopSink, Sink};
use crate::feed::Timing;
use crate::secrets::Vault;
use crate::sim::SimConfig;

/// Opens an address in the user's browser (tests put an HTTP client here).
pub type Browser = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// Makes the place desktop notifications go (tests put a recorder here).
pub type NotificationSinks = Arc<dyn Fn() -> Box<dyn Sink> + Send + Sync>;

/// Turns launch at login on or off.
pub type Autostart = Arc<dyn Fn(bool) -> Result<(), String> + Send + Sync>;

/// The system's launch-at-login mechanism.
pub fn system_autostart() -> Autostart {
    Arc::new(|enabled| crate::desktop::autostart::set(enabled).map_err(|err| err.to_string()))
}

/// The desktop's notification server.
pub fn system_notifications() -> NotificationSinks {
    Arc::new(|| Box::new(DesktopSink::new()))
}

/// The system browser.
pub fn system_browser() -> Browser {
    Arc::new(crate::desktop::browser::open)
}

/// What the shell works with: where Fyers is, the keychain, the settings file, the browser.
#[derive(Clone)]
pub struct Services {
    pub runtime: tokio::runtime::Handle,
    pub socket_url: String,
    /// The REST base, which also serves the login calls.
    pub rest_url: String,
    /// The market-data socket for live P&L (`None`: off).
    pub market_url: Option<String>,
    /// The keychain, or why there is none.
    pub vault: Result<Vault, String>,
    pub settings_path: Option<PathBuf>,
    pub browser: Browser,
    pub timing: Timing,
    /// The simulator the demo button starts.
    pub demo: SimConfig,
    /// Open hidden (launch at login, `--minimised`, or the setting).
    pub start_hidden: bool,
    /// Put an icon in the system tray.
    pub tray: bool,
    /// Where desktop notifications go; `None`: none are shown.
    pub notifications: Option<NotificationSinks>,
    pub autostart: Autostart,
    /// Where the journal lives (the demo's beside the account's); `None`: nothing is journaled.
    pub data_dir: Option<PathBuf>,
}
