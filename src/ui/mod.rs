//! The desktop monitor: an eframe/egui window over the live store. Views draw the store and
//! return intents; the app turns them into feed commands. No I/O, no blocking here.

mod app;
mod diagnostics;
pub mod format;
mod general;
mod orders;
mod positions;
mod stats;
mod table;
pub mod theme;
mod toolbar;
mod trades;
mod widgets;

use std::sync::Arc;

use parking_lot::RwLock;

pub use app::OrderwatchApp;

use crate::feed::{self, FeedConfig};
use crate::fyers::model::EventKind;
use crate::store::Store;

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
}

/// Opens the window over a feed with `config`; `account` is the badge ("Demo", an app id).
/// Blocks until the window closes; `runtime` runs the feed meanwhile.
pub fn run_desktop(
    runtime: &tokio::runtime::Runtime,
    config: FeedConfig,
    account: String,
) -> Result<(), String> {
    let store = Arc::new(RwLock::new(Store::default()));
    let handle = runtime.handle().clone();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Orderwatch")
            .with_app_id("orderwatch")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([720.0, 480.0]),
        ..Default::default()
    };
    let feed_handle = Arc::new(parking_lot::Mutex::new(None));
    let feed_for_exit = feed_handle.clone();
    let result = eframe::run_native(
        "Orderwatch",
        options,
        Box::new(move |creation| {
            let ctx = creation.egui_ctx.clone();
            let _runtime = handle.enter();
            let (feed, _task) = feed::spawn(
                config,
                store.clone(),
                Box::new(move || ctx.request_repaint()),
                None,
            );
            *feed_handle.lock() = Some(feed.clone());
            Ok(Box::new(OrderwatchApp::new(store, feed, account)))
        }),
    );
    // Close the socket cleanly before the runtime goes.
    if let Some(feed) = feed_for_exit.lock().take() {
        let _ = runtime.block_on(async {
            tokio::time::timeout(
                std::time::Duration::from_secs(2),
                feed.command(feed::Command::Shutdown),
            )
            .await
        });
    }
    result.map_err(|err| format!("cannot open the window: {err}"))
}
