//! Small pieces the views share: status badges, pills, cards, choice boxes.

use egui::{Color32, CornerRadius, RichText, Stroke};

use super::theme::{self, Palette};
use crate::fyers::model::OrderStatus;

/// A coloured, rounded label.
pub fn pill_ui(ui: &mut egui::Ui, text: impl Into<String>, color: Color32) -> egui::Response {
    egui::Frame::new()
        .fill(color.gamma_multiply(0.22))
        .stroke(Stroke::new(1.0, color))
        .corner_radius(CornerRadius::same(10))
        .inner_margin(egui::Margin::symmetric(8, 2))
        .show(ui, |ui| {
            ui.label(RichText::new(text.into()).color(color).strong())
        })
        .inner
}

pub fn status_badge_ui(ui: &mut egui::Ui, status: OrderStatus, palette: &Palette) -> egui::Response {
    pill_ui(ui, status.label(), palette.status(status))
}

/// A drop-down over a few values; `name` says what it chooses (shown, and for screen readers).
pub fn choice_ui<T: PartialEq + Copy>(
    ui: &mut egui::Ui,
    name: &str,
    value: &mut T,
    choices: &[T],
    label: impl Fn(T) -> &'static str,
) {
    egui::ComboBox::new(name, name)
        .selected_text(label(*value))
        .show_ui(ui, |ui| {
            for choice in choices {
                ui.selectable_value(value, *choice, label(*choice));
            }
        });
}

/// A statistics card: a title and one or more values side by side, each with a note under it.
/// Its size is fixed and claimed before drawing, so a wrapping row of cards knows when to wrap.
pub fn card_ui(
    ui: &mut egui::Ui,
    title: &str,
    width: f32,
    values: &[(RichText, Option<RichText>)],
) -> egui::Response {
    let palette = theme::palette(ui);
    let size = egui::vec2(width, theme::CARD_HEIGHT);
    ui.allocate_ui(size, |ui| {
        egui::Frame::new()
            .fill(palette.card)
            .corner_radius(CornerRadius::same(6))
            .inner_margin(egui::Margin::symmetric(10, 6))
            .show(ui, |ui| {
                ui.set_min_size(size - egui::vec2(20.0, 12.0));
                ui.set_max_width(size.x - 20.0);
                ui.vertical(|ui| {
                    ui.label(RichText::new(title).small().color(palette.muted));
                    ui.horizontal(|ui| {
                        ui.spacing_mut().item_spacing.x = 14.0;
                        for (value, note) in values {
                            ui.vertical(|ui| {
                                ui.label(value.clone().size(17.0).strong());
                                let note = note.clone().unwrap_or_else(|| RichText::new(" "));
                                ui.label(note.small());
                            });
                        }
                    });
                });
            })
    })
    .response
}
