//! Settings → Charges: the rate table the day's charges use, editable per class, with where the
//! defaults came from and a way back to them.

use egui::RichText;

use crate::store::{RateTable, TradeClass};

/// A rate as a percentage, edited to four decimals (0.00297 %).
fn percent(ui: &mut egui::Ui, fraction: &mut f64) -> bool {
    let mut shown = *fraction * 100.0;
    let changed = ui
        .add(
            // Up to 100 %: GST is 18 %; a narrower range would clamp a rate on sight.
            egui::DragValue::new(&mut shown)
                .range(0.0..=100.0)
                .speed(0.0001)
                .max_decimals(5)
                .suffix(" %"),
        )
        .changed();
    if changed {
        *fraction = shown / 100.0;
    }
    changed
}

/// The table's editor; true when a rate changed.
pub fn charges_ui(ui: &mut egui::Ui, table: &mut RateTable) -> bool {
    let mut changed = false;
    egui::CollapsingHeader::new("Charges: the rates behind “Charges” and “Net P&L”")
        .id_salt("charges rates")
        .show(ui, |ui| {
            egui::Grid::new("rates")
                .num_columns(7)
                .spacing([8.0, 4.0])
                .show(ui, |ui| {
                    for title in [
                        "",
                        "Brokerage",
                        "cap ₹",
                        "STT buy",
                        "STT sell",
                        "Exchange",
                        "Stamp (buy)",
                    ] {
                        ui.label(RichText::new(title).weak());
                    }
                    ui.end_row();
                    for class in TradeClass::ALL {
                        ui.label(class.label());
                        let rates = table.rates_mut(class);
                        changed |= percent(ui, &mut rates.brokerage_rate);
                        changed |= ui
                            .add(
                                egui::DragValue::new(&mut rates.brokerage_cap)
                                    .range(0.0..=1000.0)
                                    .prefix("₹")
                                    .speed(1.0),
                            )
                            .changed();
                        changed |= percent(ui, &mut rates.stt_buy);
                        changed |= percent(ui, &mut rates.stt_sell);
                        changed |= percent(ui, &mut rates.exchange);
                        changed |= percent(ui, &mut rates.stamp_buy);
                        ui.end_row();
                    }
                });
            ui.horizontal(|ui| {
                ui.label("SEBI fee");
                changed |= percent(ui, &mut table.sebi);
                ui.label("GST on brokerage, exchange and SEBI");
                changed |= percent(ui, &mut table.gst);
            });
            ui.label(
                RichText::new(
                    "Brokerage is per executed order: the rate of its turnover up to the cap, or the \
                     cap alone where the rate is 0 (a flat fee). DP charges are not included.",
                )
                .weak()
                .small(),
            );
            let defaults = RateTable::default();
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new(format!(
                        "Defaults: version {}, as of {}",
                        defaults.version, defaults.as_of
                    ))
                    .weak()
                    .small(),
                )
                .on_hover_text(&defaults.source);
                if ui
                    .add_enabled(*table != defaults, egui::Button::new("Reset to defaults"))
                    .clicked()
                {
                    *table = defaults;
                    changed = true;
                }
            });
        });
    changed
}

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    use super::*;

    #[test]
    fn opening_the_rates_changes_none_of_them_and_shows_gst_at_18_percent() {
        let mut harness = Harness::new_ui_state(
            |ui, table: &mut RateTable| {
                charges_ui(ui, table);
            },
            RateTable::default(),
        );
        harness.run();
        harness.get_by_label_contains("Charges: the rates").click();
        harness.run();
        assert!(harness.query_by_label_contains("Equity intraday").is_some());
        let gst =
            harness.query_all_by_value("18 %").count() + harness.query_all_by_value("18.0000 %").count();
        assert_eq!(gst, 1, "GST shows as 18 %");
        assert_eq!(*harness.state(), RateTable::default(), "looking changes nothing");
    }
}
