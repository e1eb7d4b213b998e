//! Opening the window: its size, icon and title, and the shell inside it.

use super::{DesktopApp, Services, Start};
use crate::config::Settings;

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
