//! Design tokens: status and P&L colours, spacing, for a dark and a light theme.

use egui::Color32;

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

pub const DARK: Palette = Palette {
    filled: Color32::from_rgb(64, 192, 112),
    pending: Color32::from_rgb(240, 180, 60),
    transit: Color32::from_rgb(120, 160, 230),
    rejected: Color32::from_rgb(235, 87, 87),
    cancelled: Color32::from_rgb(150, 150, 160),
    expired: Color32::from_rgb(170, 130, 200),
    profit: Color32::from_rgb(72, 199, 116),
    loss: Color32::from_rgb(240, 90, 90),
    buy: Color32::from_rgb(90, 170, 250),
    sell: Color32::from_rgb(250, 140, 80),
    connected: Color32::from_rgb(56, 176, 96),
    connecting: Color32::from_rgb(214, 160, 40),
    disconnected: Color32::from_rgb(120, 120, 130),
    error: Color32::from_rgb(215, 65, 65),
    muted: Color32::from_rgb(150, 150, 160),
    card: Color32::from_rgb(38, 40, 46),
    banner_error: Color32::from_rgb(110, 34, 34),
    banner_warning: Color32::from_rgb(100, 80, 20),
};

pub const LIGHT: Palette = Palette {
    filled: Color32::from_rgb(22, 140, 70),
    pending: Color32::from_rgb(190, 125, 0),
    transit: Color32::from_rgb(50, 100, 200),
    rejected: Color32::from_rgb(200, 40, 40),
    cancelled: Color32::from_rgb(110, 110, 120),
    expired: Color32::from_rgb(130, 80, 170),
    profit: Color32::from_rgb(20, 140, 60),
    loss: Color32::from_rgb(200, 40, 40),
    buy: Color32::from_rgb(20, 100, 200),
    sell: Color32::from_rgb(200, 90, 20),
    connected: Color32::from_rgb(30, 150, 70),
    connecting: Color32::from_rgb(200, 140, 0),
    disconnected: Color32::from_rgb(120, 120, 130),
    error: Color32::from_rgb(200, 40, 40),
    muted: Color32::from_rgb(110, 110, 120),
    card: Color32::from_rgb(242, 243, 246),
    banner_error: Color32::from_rgb(250, 215, 215),
    banner_warning: Color32::from_rgb(250, 235, 190),
};

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
