//! The banners: what the user must know (a failed feed, REST trouble, unreadable frames, the
//! journal), shown until dismissed.

use egui::RichText;

use super::OrderwatchApp;
use crate::store::{ConnectionState, Store};
use crate::ui::theme;

/// A message the user must see, until dismissed.
pub(super) struct Banner {
    key: String,
    error: bool,
    text: String,
}

impl OrderwatchApp {
    pub(super) fn banners(&self, store: &Store) -> Vec<Banner> {
        let mut banners = Vec::new();
        if let (failures @ 1.., Some(reason)) = store.feed_failures() {
            let then = match &store.connection {
                ConnectionState::Failed { restart_at: None, .. } => {
                    "It will not restart: quit and start Orderwatch again."
                }
                ConnectionState::Failed { .. } => "It restarts by itself and resyncs what it missed.",
                _ => "It was restarted and resynced what it missed.",
            };
            let times = if failures > 1 {
                format!(" ({failures} times)")
            } else {
                String::new()
            };
            banners.push(Banner {
                key: format!("feed failed {failures}"),
                error: true,
                text: format!("The feed stopped on an internal error{times}: {reason}. {then}"),
            });
        }
        if let Some(error) = &store.resync.error {
            banners.push(Banner {
                key: "resync".to_owned(),
                error: false,
                text: format!(
                    "REST resync is failing: {error}. Live updates still stream; missed ones arrive once it recovers."
                ),
            });
        }
        if store.bad_frames() >= 3 && store.bad_frames() > self.bad_frames_dismissed {
            banners.push(Banner {
                key: "bad frames".to_owned(),
                error: false,
                text: format!(
                    "{} frames could not be read and were skipped. See Diagnostics for what they contained.",
                    store.bad_frames()
                ),
            });
        }
        match &self.journal {
            Some(Err(why)) => banners.push(Banner {
                key: "no journal".to_owned(),
                error: true,
                text: format!(
                    "Nothing is being kept on disk: {why}. The monitor works, but a restart loses the day."
                ),
            }),
            Some(Ok(view)) => {
                if let Some(problem) = view.health().problem() {
                    banners.push(Banner {
                        key: "journal".to_owned(),
                        error: true,
                        text: problem,
                    });
                }
                if let Some((error, text)) = &view.message {
                    banners.push(Banner {
                        key: "journal message".to_owned(),
                        error: *error,
                        text: text.clone(),
                    });
                }
            }
            None => {}
        }
        if let Some(notice) = &self.notice {
            banners.push(Banner {
                key: "notice".to_owned(),
                error: false,
                text: notice.clone(),
            });
        }
        if let Some(error) = &self.command_error {
            banners.push(Banner {
                key: "command".to_owned(),
                error: true,
                text: error.clone(),
            });
        }
        banners.retain(|banner| !self.dismissed.contains(&banner.key));
        banners
    }

    /// `bad_frames` is the count on screen: the store is already read-locked for this frame, and
    /// locking it again could deadlock behind the feed's waiting writer.
    pub(super) fn banners_ui(&mut self, ui: &mut egui::Ui, banners: Vec<Banner>, bad_frames: u64) {
        let palette = theme::palette(ui);
        for banner in banners {
            let fill = if banner.error {
                palette.banner_error
            } else {
                palette.banner_warning
            };
            egui::Frame::new()
                .fill(fill)
                .inner_margin(egui::Margin::symmetric(10, 6))
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(if banner.error { "!" } else { "i" }).strong());
                        ui.label(&banner.text);
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            if ui.small_button("Dismiss").clicked() {
                                match banner.key.as_str() {
                                    "bad frames" => self.bad_frames_dismissed = bad_frames,
                                    "command" => self.command_error = None,
                                    "notice" => self.notice = None,
                                    "journal message" => {
                                        if let Some(view) = self.journal_view() {
                                            view.message = None;
                                        }
                                    }
                                    _ => self.dismissed.push(banner.key.clone()),
                                }
                            }
                        });
                    });
                });
        }
    }
}
