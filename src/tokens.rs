//! Design tokens shared by the window and the tray: colours as plain RGB, no egui, so the tray
//! (which draws its own pixels) and the window's theme read the same values.

/// Every colour of one theme variant, as RGB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colours {
    pub filled: [u8; 3],
    pub pending: [u8; 3],
    pub transit: [u8; 3],
    pub rejected: [u8; 3],
    pub cancelled: [u8; 3],
    pub expired: [u8; 3],
    pub profit: [u8; 3],
    pub loss: [u8; 3],
    pub buy: [u8; 3],
    pub sell: [u8; 3],
    pub connected: [u8; 3],
    pub connecting: [u8; 3],
    pub disconnected: [u8; 3],
    pub error: [u8; 3],
    pub muted: [u8; 3],
    pub card: [u8; 3],
    pub banner_error: [u8; 3],
    pub banner_warning: [u8; 3],
}

pub const DARK: Colours = Colours {
    filled: [64, 192, 112],
    pending: [240, 180, 60],
    transit: [120, 160, 230],
    rejected: [235, 87, 87],
    cancelled: [150, 150, 160],
    expired: [170, 130, 200],
    profit: [72, 199, 116],
    loss: [240, 90, 90],
    buy: [90, 170, 250],
    sell: [250, 140, 80],
    connected: [56, 176, 96],
    connecting: [214, 160, 40],
    disconnected: [120, 120, 130],
    error: [215, 65, 65],
    muted: [150, 150, 160],
    card: [38, 40, 46],
    banner_error: [110, 34, 34],
    banner_warning: [100, 80, 20],
};

pub const LIGHT: Colours = Colours {
    filled: [22, 140, 70],
    pending: [190, 125, 0],
    transit: [50, 100, 200],
    rejected: [200, 40, 40],
    cancelled: [110, 110, 120],
    expired: [130, 80, 170],
    profit: [20, 140, 60],
    loss: [200, 40, 40],
    buy: [20, 100, 200],
    sell: [200, 90, 20],
    connected: [30, 150, 70],
    connecting: [200, 140, 0],
    disconnected: [120, 120, 130],
    error: [200, 40, 40],
    muted: [110, 110, 120],
    card: [242, 243, 246],
    banner_error: [250, 215, 215],
    banner_warning: [250, 235, 190],
};
