//! Everything that knows Fyers: the wire format, the typed events, the socket and REST clients.

pub mod auth;
pub mod codes;
pub mod event;
pub mod login;
pub mod market;
pub mod model;
pub mod rest;
pub mod socket;
pub mod wire;
