//! The window shell's desktop side: closing to the tray, hiding and showing, quitting, the tray
//! icon's state and menu, and the Settings window. All of it runs in `logic`, so it works while the
//! window is hidden.

use super::{DesktopApp, Screen};
use crate::desktop::notify;
use crate::desktop::tray::{self, TrayAction, TrayState};
use crate::store::Store;
use crate::ui::settings::{JournalInfo, settings_ui};

impl DesktopApp {
    /// The window's close button: hide to the tray (or minimise), unless quitting.
    pub(super) fn close_requested(&mut self, ctx: &egui::Context) {
        if !ctx.input(|input| input.viewport().close_requested()) {
            return;
        }
        if self.quitting || !self.settings.close_to_tray {
            self.quitting = true;
            return;
        }
        self.window_command(ctx, egui::ViewportCommand::CancelClose);
        self.hide_window(ctx);
        if !self.settings.told_about_tray {
            self.settings.told_about_tray = true;
            self.save_settings();
            let body = if self.tray.is_some() {
                "It keeps monitoring from the tray. Choose Quit in the tray menu to end it."
            } else {
                "It keeps monitoring, minimised. Use its Quit button to end it."
            };
            if self.services.notifications.is_some() {
                std::thread::spawn(move || notify::show_once("Orderwatch is still running", body));
            }
        }
    }

    pub(super) fn window_command(&mut self, ctx: &egui::Context, command: egui::ViewportCommand) {
        if self.window_commands.len() >= 16 {
            self.window_commands.remove(0);
        }
        self.window_commands.push(command.clone());
        ctx.send_viewport_cmd(command);
    }

    /// The window commands sent lately, oldest first (tests, diagnostics).
    pub fn window_commands(&self) -> &[egui::ViewportCommand] {
        &self.window_commands
    }

    /// Quit was asked for: the window closes for real.
    pub fn quitting(&self) -> bool {
        self.quitting
    }

    /// Out of sight but still monitoring: hidden when a tray can bring it back (not on Wayland,
    /// which cannot hide a window), minimised otherwise.
    pub(super) fn hide_window(&mut self, ctx: &egui::Context) {
        let wayland = std::env::var_os("WAYLAND_DISPLAY").is_some_and(|display| !display.is_empty());
        if self.tray.is_some() && !wayland && tray::host_available() {
            self.window_command(ctx, egui::ViewportCommand::Visible(false));
            self.window_visible = false;
        } else {
            self.window_command(ctx, egui::ViewportCommand::Minimized(true));
        }
    }

    pub(super) fn show_window(&mut self, ctx: &egui::Context) {
        self.window_command(ctx, egui::ViewportCommand::Visible(true));
        self.window_command(ctx, egui::ViewportCommand::Minimized(false));
        self.window_command(ctx, egui::ViewportCommand::Focus);
        self.window_visible = true;
    }

    /// Really quit: the close that follows is let through; `on_exit` closes the socket.
    pub(super) fn quit(&mut self) {
        self.quitting = true;
        let ctx = self.ctx.clone();
        self.window_command(&ctx, egui::ViewportCommand::Close);
    }

    /// Keeps the tray in step with the stream and carries out its menu.
    pub(super) fn tray_tick(&mut self, ctx: &egui::Context) {
        let Some(tray) = &mut self.tray else { return };
        let muted = self.settings.notifications.muted;
        let state = match &self.screen {
            Screen::Monitor(monitor) => {
                TrayState::from_store(&monitor.app.store().read(), self.window_visible, muted)
            }
            Screen::Connect(_) => TrayState::from_store(&Store::default(), self.window_visible, muted),
        };
        tray.update(&state);
        for action in tray.actions() {
            match action {
                TrayAction::ShowWindow => self.show_window(ctx),
                TrayAction::HideWindow => self.hide_window(ctx),
                TrayAction::ToggleMute => {
                    self.settings.notifications.muted = !self.settings.notifications.muted;
                    *self.notification_settings.write() = self.settings.notifications.clone();
                    self.save_settings();
                }
                TrayAction::Quit => self.quit(),
                TrayAction::StartStream | TrayAction::StopStream => {
                    if let (Some(command), Screen::Monitor(monitor)) = (action.command(), &self.screen)
                        && let Err(err) = monitor.app.feed().send(command)
                    {
                        tracing::warn!(%err, "the tray's command did not reach the stream");
                    }
                }
            }
        }
    }

    pub(super) fn settings_window(&mut self, ctx: &egui::Context) {
        let journal = match &mut self.screen {
            Screen::Monitor(monitor) => monitor.app.journal_view().map(|view| {
                let health = view.health();
                JournalInfo {
                    path: view.journal().path().to_path_buf(),
                    bytes: health.bytes,
                    days: health.days,
                }
            }),
            Screen::Connect(_) => None,
        };
        let changed = settings_ui(
            ctx,
            &mut self.settings_open,
            &mut self.settings,
            self.tray.is_some(),
            self.settings_problem.as_deref(),
            journal.as_ref(),
            self.api.view(),
        );
        self.api_work(changed.api);
        if self.api_addr().is_some() {
            // The count of connected programs moves without input.
            ctx.request_repaint_after(std::time::Duration::from_secs(1));
        }
        if changed.keep_days
            && let Screen::Monitor(monitor) = &mut self.screen
            && let Some(view) = monitor.app.journal_view()
        {
            view.journal().set_keep_days(self.settings.keep_days);
        }
        if changed.launch_at_login {
            let wanted = self.settings.launch_at_login;
            match (self.services.autostart)(wanted) {
                Ok(()) => self.settings_problem = None,
                Err(err) => {
                    self.settings.launch_at_login = !wanted;
                    self.settings_problem = Some(format!("Launch at login was not changed: {err}"));
                }
            }
        }
        if changed.notifications {
            *self.notification_settings.write() = self.settings.notifications.clone();
        }
        if changed.charges
            && let Screen::Monitor(monitor) = &self.screen
        {
            monitor
                .app
                .store()
                .write()
                .set_rates(self.settings.charges.clone());
        }
        if changed.any {
            self.save_settings();
        }
    }
}
