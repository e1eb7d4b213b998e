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
/// It is at least `min_width` wide and grows to fit its values (a P&L in crores); its size is
/// worked out and claimed before drawing, so a wrapping row of cards knows when to wrap.
pub fn card_ui(
    ui: &mut egui::Ui,
    title: &str,
    min_width: f32,
    values: &[(RichText, Option<RichText>)],
) -> egui::Response {
    const VALUE_SIZE: f32 = 16.0;
    const GAP: f32 = 14.0;
    const MARGIN: egui::Margin = egui::Margin::symmetric(10, 6);
    let palette = theme::palette(ui);
    let text_width = |text: &str, size: f32| {
        ui.painter()
            .layout_no_wrap(text.to_owned(), egui::FontId::proportional(size), Color32::WHITE)
            .size()
            .x
    };
    let small = ui
        .style()
        .text_styles
        .get(&egui::TextStyle::Small)
        .map_or(10.0, |font| font.size);
    let content: f32 = values
        .iter()
        .map(|(value, note)| {
            let note = note.as_ref().map_or(0.0, |note| text_width(note.text(), small));
            text_width(value.text(), VALUE_SIZE).max(note) + 2.0
        })
        .sum::<f32>()
        + GAP * values.len().saturating_sub(1) as f32;
    let size = egui::vec2(min_width.max(content + MARGIN.sum().x), theme::CARD_HEIGHT);
    ui.allocate_ui(size, |ui| {
        egui::Frame::new()
            .fill(palette.card)
            .corner_radius(CornerRadius::same(6))
            .inner_margin(MARGIN)
            .show(ui, |ui| {
                ui.set_min_size(size - MARGIN.sum());
                ui.vertical(|ui| {
                    ui.label(RichText::new(title).small().color(palette.muted));
                    ui.horizontal(|ui| {
                        ui.spacing_mut().item_spacing.x = GAP;
                        for (value, note) in values {
                            ui.vertical(|ui| {
                                ui.add(egui::Label::new(value.clone().size(VALUE_SIZE).strong()).extend());
                                let note = note.clone().unwrap_or_else(|| RichText::new(" "));
                                ui.add(egui::Label::new(note.small()).extend());
                            });
                        }
                    });
                });
            })
    })
    .response
}
