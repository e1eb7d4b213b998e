//! The status badge drawn into the tray icon's pixels: one shape per state (a dot, a ring, a
//! square, a cross) so it reads at 22 px and without colour, on a dark plate with a light rim so
//! it stands out on light and dark panels alike.

use super::TrayStatus;
use crate::tokens::DARK;

/// An RGBA image, rows top to bottom, unmultiplied alpha (what `eframe::icon_data` decodes).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Rgba {
    pub rgba: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

// The geometry at the 64 px design size (scaled to the image). The badge takes the bottom-right
// ~60 % of the icon: a panel shrinks the icon to 22-32 px and the shape must survive that.
const DESIGN_PX: f32 = 64.0;
const CENTRE: f32 = 45.0;
const RIM_RADIUS: f32 = 18.5;
const PLATE_RADIUS: f32 = 16.5;
const DOT_RADIUS: f32 = 11.0;
const RING_RADIUS: f32 = 11.5;
const RING_WIDTH: f32 = 5.0;
const SQUARE_HALF: f32 = 8.5;
const CROSS_HALF: f32 = 7.5;
const CROSS_WIDTH: f32 = 5.5;

// Fixed, not themed: the panel behind the icon is the desktop's, light or dark whatever our theme.
const RIM: [u8; 3] = [236, 239, 244];
const PLATE: [u8; 3] = [20, 24, 33];

/// The state's colour, from the theme's connection tokens (their dark-theme variants, which are
/// the brighter ones and read on the dark plate).
pub(super) fn colour(status: TrayStatus) -> [u8; 3] {
    match status {
        TrayStatus::Streaming => DARK.connected,
        TrayStatus::Reconnecting => DARK.connecting,
        TrayStatus::Stopped => DARK.disconnected,
        TrayStatus::SessionExpired => DARK.error,
    }
}

/// `base` with the badge for `status` drawn over it.
pub(super) fn render(base: &Rgba, status: TrayStatus) -> Rgba {
    let mut out = base.clone();
    let scale = base.width.min(base.height) as f32 / DESIGN_PX;
    if scale <= 0.0 || out.rgba.len() != base.width as usize * base.height as usize * 4 {
        return out;
    }
    let shape = colour(status);
    for (index, pixel) in out.rgba.chunks_exact_mut(4).enumerate() {
        let x = (index % base.width as usize) as f32 + 0.5;
        let y = (index / base.width as usize) as f32 + 0.5;
        // The pixel centre in design units, from the badge's centre.
        let (x, y) = (x / scale - CENTRE, y / scale - CENTRE);
        // Signed distances are in design units; coverage wants image pixels.
        let rim = coverage(circle(x, y, RIM_RADIUS) * scale);
        if rim == 0.0 {
            continue;
        }
        blend(pixel, RIM, rim);
        blend(pixel, PLATE, coverage(circle(x, y, PLATE_RADIUS) * scale));
        blend(pixel, shape, coverage(shape_distance(status, x, y) * scale));
    }
    out
}

/// Signed distance (design units, negative inside) from a point relative to the badge centre to
/// the state's shape.
pub(super) fn shape_distance(status: TrayStatus, x: f32, y: f32) -> f32 {
    match status {
        TrayStatus::Streaming => circle(x, y, DOT_RADIUS),
        TrayStatus::Reconnecting => (circle(x, y, RING_RADIUS - RING_WIDTH / 2.0)).abs() - RING_WIDTH / 2.0,
        TrayStatus::Stopped => square(x, y, SQUARE_HALF),
        TrayStatus::SessionExpired => {
            let down = segment(x, y, (-CROSS_HALF, -CROSS_HALF), (CROSS_HALF, CROSS_HALF));
            let up = segment(x, y, (-CROSS_HALF, CROSS_HALF), (CROSS_HALF, -CROSS_HALF));
            down.min(up) - CROSS_WIDTH / 2.0
        }
    }
}

fn circle(x: f32, y: f32, radius: f32) -> f32 {
    x.hypot(y) - radius
}

fn square(x: f32, y: f32, half: f32) -> f32 {
    let (qx, qy) = (x.abs() - half, y.abs() - half);
    qx.max(0.0).hypot(qy.max(0.0)) + qx.max(qy).min(0.0)
}

/// Distance from (x, y) to the segment a–b.
fn segment(x: f32, y: f32, a: (f32, f32), b: (f32, f32)) -> f32 {
    let (px, py) = (x - a.0, y - a.1);
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let along = ((px * dx + py * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
    (px - dx * along).hypot(py - dy * along)
}

/// How much of a pixel a shape covers, from the signed distance (in pixels) to its edge: a
/// one-pixel ramp, which is all the anti-aliasing an icon this small needs.
fn coverage(distance_px: f32) -> f32 {
    (0.5 - distance_px).clamp(0.0, 1.0)
}

/// `colour` at `alpha` over an unmultiplied RGBA pixel.
fn blend(pixel: &mut [u8], colour: [u8; 3], alpha: f32) {
    if alpha <= 0.0 {
        return;
    }
    let below = f32::from(pixel[3]) / 255.0;
    let out = alpha + below * (1.0 - alpha);
    for (channel, source) in pixel.iter_mut().zip(colour) {
        let mixed = (f32::from(source) * alpha + f32::from(*channel) * below * (1.0 - alpha)) / out;
        *channel = mixed.round().clamp(0.0, 255.0) as u8;
    }
    pixel[3] = (out * 255.0).round() as u8;
}
