//! Design tokens: status and P&L colours, spacing, for a dark and a light theme.

use egui::Color32;

use crate::tokens::{self, Colours};

use crate::fyers::model::{OrderStatus, Side};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Palette {
    pub filled: Color32,
    pub pending: Color32,
    pub transit: Color32,
    pub rejected: Color32,
    pub cancelled: Color32,
    pub expired: Color32,
    pub profit: Color32,
    pub loss: Color32,
    pub buy: Color32,
    pub sell: Color32,
    pub connected: Color32,
    pub connecting: Color32,
    pub disconnected: Color32,
    pub error: Color32,
    pub muted: Color32,
    pub card: Color32,
    pub banner_error: Color32,
    pub banner_warning: Color32,
}

const fn rgb([r, g, b]: [u8; 3]) -> Color32 {
    Color32::from_rgb(r, g, b)
}

impl Palette {
    /// The palette of one set of design tokens.
    pub const fn of(colours: &Colours) -> Self {
        Self {
            filled: rgb(colours.filled),
            pending: rgb(colours.pending),
            transit: rgb(colours.transit),
            rejected: rgb(colours.rejected),
            cancelled: rgb(colours.cancelled),
            expired: rgb(colours.expired),
            profit: rgb(colours.profit),
            loss: rgb(colours.loss),
            buy: rgb(colours.buy),
            sell: rgb(colours.sell),
            connected: rgb(colours.connected),
            connecting: rgb(colours.connecting),
            disconnected: rgb(colours.disconnected),
            error: rgb(colours.error),
            muted: rgb(colours.muted),
            card: rgb(colours.card),
            banner_error: rgb(colours.banner_error),
            banner_warning: rgb(colours.banner_warning),
        }
    }
}

pub const DARK: Palette = Palette::of(&tokens::DARK);
pub const LIGHT: Palette = Palette::of(&tokens::LIGHT);

pub const SPACING: f32 = 8.0;
pub const COUNT_CARD_WIDTH: f32 = 100.0;
pub const CARD_HEIGHT: f32 = 66.0;

pub fn palette(ui: &egui::Ui) -> &'static Palette {
    if ui.visuals().dark_mode { &DARK } else { &LIGHT }
}

impl Palette {
    pub fn status(&self, status: OrderStatus) -> Color32 {
        match status {
            OrderStatus::Filled => self.filled,
            OrderStatus::Pending => self.pending,
            OrderStatus::Transit => self.transit,
            OrderStatus::Rejected => self.rejected,
            OrderStatus::Cancelled => self.cancelled,
            OrderStatus::Expired => self.expired,
            OrderStatus::Unused | OrderStatus::Other(_) => self.muted,
        }
    }

    pub fn pnl(&self, amount: f64) -> Color32 {
        if amount > 0.0 {
            self.profit
        } else if amount < 0.0 {
            self.loss
        } else {
            self.muted
        }
    }

    pub fn side(&self, side: Option<Side>) -> Color32 {
        match side {
            Some(Side::Buy) => self.buy,
            Some(Side::Sell) => self.sell,
            _ => self.muted,
        }
    }
}

/// Panels paint no background of their own: the window is cleared to the panels' colour
/// instead ([`clear_color`]). Under a software renderer every window-sized fill is shaded pixel
/// by pixel, and the panels' fills covered the whole window once more every frame.
pub fn bare_panel(frame: egui::Frame) -> egui::Frame {
    frame.fill(Color32::TRANSPARENT)
}

/// What the window is cleared to before each frame: the panels' colour, which they then need not
/// paint.
pub fn clear_color(visuals: &egui::Visuals) -> [f32; 4] {
    visuals.panel_fill.to_normalized_gamma_f32()
}
