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

/// A statistics card's title and values, measured before it is drawn.
pub struct Card {
    pub title: String,
    pub min_width: f32,
    pub values: Vec<(RichText, Option<RichText>)>,
    /// Values from this index on are details, drawn smaller (the P&L's charges and net).
    pub details_from: Option<usize>,
}

const CARD_VALUE_SIZE: f32 = 16.0;
const CARD_DETAIL_SIZE: f32 = 13.0;
const CARD_GAP: f32 = 14.0;
const CARD_MARGIN: egui::Margin = egui::Margin::symmetric(10, 6);

impl Card {
    pub fn new(title: impl Into<String>, min_width: f32, values: Vec<(RichText, Option<RichText>)>) -> Self {
        Self {
            title: title.into(),
            min_width,
            values,
            details_from: None,
        }
    }

    /// Draws the values from `index` on smaller, as details of the ones before.
    pub fn with_details_from(mut self, index: usize) -> Self {
        self.details_from = Some(index);
        self
    }

    fn value_size(&self, index: usize) -> f32 {
        match self.details_from {
            Some(from) if index >= from => CARD_DETAIL_SIZE,
            _ => CARD_VALUE_SIZE,
        }
    }

    /// At least `min_width`, wider to fit its title and values (a P&L in crores).
    pub fn width(&self, ui: &egui::Ui) -> f32 {
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
        let content: f32 = self
            .values
            .iter()
            .enumerate()
            .map(|(index, (value, note))| {
                let note = note.as_ref().map_or(0.0, |note| text_width(note.text(), small));
                text_width(value.text(), self.value_size(index)).max(note) + 2.0
            })
            .sum::<f32>()
            + CARD_GAP * self.values.len().saturating_sub(1) as f32;
        let content = content.max(text_width(&self.title, small) + 2.0);
        self.min_width.max(content + CARD_MARGIN.sum().x)
    }

    /// Draws it, its size claimed first so a row of cards knows when to wrap.
    pub fn ui(&self, ui: &mut egui::Ui) -> egui::Response {
        let palette = theme::palette(ui);
        let size = egui::vec2(self.width(ui), theme::CARD_HEIGHT);
        ui.allocate_ui(size, |ui| {
            egui::Frame::new()
                .fill(palette.card)
                .corner_radius(CornerRadius::same(6))
                .inner_margin(CARD_MARGIN)
                .show(ui, |ui| {
                    ui.set_min_size(size - CARD_MARGIN.sum());
                    ui.vertical(|ui| {
                        ui.label(RichText::new(&self.title).small().color(palette.muted));
                        ui.horizontal(|ui| {
                            ui.spacing_mut().item_spacing.x = CARD_GAP;
                            for (index, (value, note)) in self.values.iter().enumerate() {
                                let size = self.value_size(index);
                                ui.vertical(|ui| {
                                    // Details sit on the same baseline as the headline values.
                                    ui.add_space(CARD_VALUE_SIZE - size);
                                    ui.add(egui::Label::new(value.clone().size(size).strong()).extend());
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
}
