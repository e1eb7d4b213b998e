//! Orderwatch: one trustworthy, always-on view of a Fyers trading account.

pub mod fyers;
