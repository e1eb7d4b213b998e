//! The desktop monitor: an eframe/egui window over the live store. Views draw the store and
//! return intents; the app turns them into feed commands. No I/O, no blocking here.

mod app;
mod charges;
mod diagnostics;
pub use crate::format;
mod general;
pub mod history;
pub mod login;
mod orders;
mod positions;
pub mod repaint;
pub mod session;
pub mod settings;
mod stats;
mod table;
pub mod theme;
mod toolbar;
mod trades;
mod widgets;

pub use app::OrderwatchApp;

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
