//! One UI frame of the real window without a GPU: the egui pass and tessellation at 1280×800,
//! for the UI benchmarks.

use std::hint::black_box;

use orderwatch::ui::OrderwatchApp;

pub struct Window {
    pub ctx: egui::Context,
    pub frame: eframe::Frame,
    pub app: OrderwatchApp,
}

impl Window {
    pub fn new(app: OrderwatchApp) -> Self {
        Self {
            ctx: egui::Context::default(),
            frame: eframe::Frame::_new_kittest(),
            app,
        }
    }

    pub fn frame(&mut self) {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1280.0, 800.0),
            )),
            ..Default::default()
        };
        let mut output = self
            .ctx
            .run_ui(input, |ui| eframe::App::ui(&mut self.app, ui, &mut self.frame));
        let primitives = self
            .ctx
            .tessellate(std::mem::take(&mut output.shapes), output.pixels_per_point);
        black_box(primitives);
        output.textures_delta.clear();
    }
}
