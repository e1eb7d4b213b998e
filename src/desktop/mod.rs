//! What Orderwatch does with the desktop around it: the tray icon, notifications, launching at
//! login, and the desktop entry that puts it in the application menu.
pub mod autostart;
pub mod browser;
pub mod install;
pub mod instance;
pub mod notify;
pub mod tray;
