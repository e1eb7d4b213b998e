//! The desktop monitor: an eframe/egui window over the live store. Views draw the store and
//! return intents; the app turns them into feed commands. No I/O, no blocking here.

mod app;
mod diagnostics;
pub use crate::format;
mod general;
pub mod login;
mod orders;
mod positions;
pub mod session;
mod settings;
mod shell;
mod stats;
mod table;
pub mod theme;
mod toolbar;
mod trades;
mod widgets;

pub use app::OrderwatchApp;
pub use shell::{
    Autostart, Browser, DesktopApp, NotificationSinks, Services, Start, system_autostart, system_browser,
    system_notifications,
};

use crate::config::Settings;
use crate::fyers::model::EventKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Orders,
    Trades,
    Positions,
    General,
    Diagnostics,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Self::Orders,
        Self::Trades,
        Self::Positions,
        Self::General,
        Self::Diagnostics,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Orders => "Orders",
            Self::Trades => "Trades",
            Self::Positions => "Positions",
            Self::General => "General",
            Self::Diagnostics => "Diagnostics",
        }
    }

    /// The event kind whose "new" count this tab clears.
    pub fn kind(self) -> Option<EventKind> {
        match self {
            Self::Orders => Some(EventKind::Orders),
            Self::Trades => Some(EventKind::Trades),
            Self::Positions => Some(EventKind::Positions),
            Self::General => Some(EventKind::General),
            Self::Diagnostics => None,
        }
    }

    pub fn number(self) -> usize {
        self as usize + 1
    }

    fn key(self) -> egui::Key {
        [
            egui::Key::Num1,
            egui::Key::Num2,
            egui::Key::Num3,
            egui::Key::Num4,
            egui::Key::Num5,
        ][self as usize]
    }
}

/// What the user asked for in a frame; applied after drawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Connect,
    Disconnect,
    Resync,
    Subscribe(EventKind, bool),
    SetDark(bool),
    LogInAgain,
    RenewWithPin,
    LogOut,
    OpenSettings,
    Quit,
}

/// The window's icon, the same as the desktop entry's.
fn app_icon() -> std::sync::Arc<egui::IconData> {
    let png = crate::desktop::install::ICON_PNGS[3].1;
    // The icon is compiled in and checked by a unit test; a broken one just leaves the default.
    std::sync::Arc::new(eframe::icon_data::from_png_bytes(png).unwrap_or_default())
}

/// Opens the window: the first-run screen or the monitor, as `start` says. Blocks until the
/// window closes; `runtime` runs the feed and the account work meanwhile.
pub fn run_desktop(
    runtime: &tokio::runtime::Runtime,
    services: Services,
    settings: Settings,
    start: Start,
) -> Result<(), String> {
    let size = settings
        .window_size
        .filter(|[width, height]| {
            width.is_finite() && height.is_finite() && *width >= 720.0 && *height >= 480.0
        })
        .unwrap_or([1280.0, 800.0]);
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Orderwatch")
            .with_app_id("orderwatch")
            .with_inner_size(size)
            .with_min_inner_size([720.0, 480.0])
            .with_icon(app_icon()),
        ..Default::default()
    };
    let _runtime = runtime.enter();
    eframe::run_native(
        "Orderwatch",
        options,
        Box::new(move |creation| {
            Ok(Box::new(DesktopApp::new(
                &creation.egui_ctx,
                services,
                settings,
                start,
            )))
        }),
    )
    .map_err(|err| format!("cannot open the window: {err}"))
}
