//! The Fyers market-data socket (MARKET_DATA.md): the binary HSM protocol, the topic map a
//! connection keeps, and the client that follows a set of symbols in lite mode (last traded
//! prices only) for live mark-to-market. No egui, no store: it hands prices to whoever runs it.

pub mod client;
pub mod decode;
pub mod hsm;
mod parse;
mod session;
pub mod topics;

/// Fyers' market-data socket.
pub const FYERS_MARKET_URL: &str = "wss://socket.fyers.in/hsm/v1-5/prod";

pub use client::{MarketClient, MarketConfig, MarketEvent};
pub use decode::{Applied, Decoder};
pub use hsm::{Entry, HsmError, ServerFrame};
