//! Orderwatch: one trustworthy, always-on view of a Fyers trading account.

pub mod account;
pub mod config;
pub mod desktop;
pub mod feed;
pub mod fyers;
pub mod headless;
pub mod secrets;
pub mod sim;
pub mod store;
pub mod ui;
