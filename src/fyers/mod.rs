//! Everything that knows Fyers: the wire format, the typed events, the socket and REST clients.

pub mod codes;
pub mod model;
pub mod wire;
