//! The command line's words: modes, options, and the checks their values pass on the way in.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use orderwatch::feed::FeedFault;
use orderwatch::fyers::rest::FYERS_REST_URL;
use orderwatch::fyers::socket::FYERS_SOCKET_URL;
use orderwatch::journal::Table;

use crate::{VERSION, login};

#[derive(Parser)]
#[command(name = "orderwatch", version = VERSION, about = "A live monitor for a Fyers trading account")]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) connect: ConnectArgs,
    /// Open hidden in the tray (as launch at login does).
    #[arg(long, alias = "minimized")]
    pub(crate) minimised: bool,
    #[command(subcommand)]
    pub(crate) mode: Option<Mode>,
}

/// Where the stream comes from.
#[derive(Args)]
pub(crate) struct ConnectArgs {
    /// Run on the built-in exchange simulator instead of a Fyers account.
    #[arg(long)]
    pub(crate) demo: bool,
    /// Steps per second of the demo simulator (0: as fast as possible).
    #[arg(long, default_value_t = 4.0, value_parser = parse_rate)]
    pub(crate) rate: f64,
    #[arg(long, default_value = FYERS_SOCKET_URL)]
    pub(crate) socket_url: String,
    #[arg(long, default_value = FYERS_REST_URL)]
    pub(crate) rest_url: String,
    /// The market-data socket that prices open positions live; `off` for none.
    #[arg(long, default_value = orderwatch::fyers::market::FYERS_MARKET_URL)]
    pub(crate) market_url: String,
    /// APP_ID:ACCESS_TOKEN, as the Fyers SDKs take it; `-` reads it from standard input. Any local
    /// user can read a command line: prefer `-`, --access-token-file, or the environment variable.
    #[arg(long, env = "ORDERWATCH_ACCESS_TOKEN", hide_env_values = true)]
    pub(crate) access_token: Option<String>,
    /// A file holding APP_ID:ACCESS_TOKEN (keep it readable only by you).
    #[arg(long, value_name = "PATH")]
    pub(crate) access_token_file: Option<std::path::PathBuf>,
    /// Where the journal (and exports) live [default: $ORDERWATCH_DATA_DIR, else the platform's
    /// data dir, ~/.local/share/orderwatch on Linux].
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<std::path::PathBuf>,
    /// Fault injection for tests: the feed panics after applying this many socket batches.
    #[arg(long, hide = true)]
    pub(crate) fault_feed_panic_after: Option<u64>,
}

impl ConnectArgs {
    /// The market-data socket, unless turned off.
    pub(crate) fn market(&self) -> Option<String> {
        let url = self.market_url.trim();
        (!url.is_empty() && url != "off").then(|| url.to_owned())
    }

    /// Whether a token was given at all (a file, standard input, the option or the environment).
    pub(crate) fn has_token(&self) -> bool {
        self.access_token.is_some() || self.access_token_file.is_some()
    }

    /// The token from where it was given: the file, standard input (`-`), the option or the
    /// environment, in that order.
    pub(crate) fn token(&self) -> Result<Option<String>, String> {
        let token = if let Some(path) = &self.access_token_file {
            std::fs::read_to_string(path).map_err(|err| format!("cannot read {}: {err}", path.display()))?
        } else if self.access_token.as_deref() == Some("-") {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|err| format!("cannot read the token from standard input: {err}"))?;
            line
        } else {
            return Ok(self.access_token.clone());
        };
        let token = token.trim();
        if token.is_empty() {
            return Err("the access token given is empty".to_owned());
        }
        Ok(Some(token.to_owned()))
    }

    pub(crate) fn fault(&self) -> Option<FeedFault> {
        self.fault_feed_panic_after.map(FeedFault::PanicAfterBatches)
    }
}

#[derive(Subcommand)]
pub(crate) enum Mode {
    /// No window: stream every event as one JSON line on stdout.
    Headless(HeadlessArgs),
    /// Run the exchange simulator alone, for other clients and manual testing.
    Sim(SimArgs),
    /// Log in to Fyers (browser, or --auth-code) and keep the token in the OS keychain.
    Login(login::LoginArgs),
    /// End the saved session and remove its secrets from the keychain.
    Logout(login::LogoutArgs),
    /// Put Orderwatch in the application menu (desktop entry and icons in the XDG data dir).
    InstallDesktop(InstallArgs),
    /// Write one table of a journaled trading day as CSV.
    Export(ExportArgs),
    /// No window: the stream behind the local /api/order-stream REST and WebSocket API.
    Serve(ServeArgs),
    /// Print the local API's key from the keychain (made on first use), for your programs.
    ApiKey(ApiKeyArgs),
}

#[derive(Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) connect: ConnectArgs,
    /// Where the API listens; loopback only unless --allow-remote.
    #[arg(long, default_value = "127.0.0.1:8001")]
    pub(crate) listen: SocketAddr,
    /// Listen on a non-loopback address: anyone on the network who has the key can read the stream.
    #[arg(long)]
    pub(crate) allow_remote: bool,
    /// A browser origin allowed to call the API (CORS), e.g. http://localhost:3000; repeat for more.
    #[arg(long, value_name = "ORIGIN")]
    pub(crate) allow_origin: Vec<String>,
    /// A file holding the API key [default: $ORDERWATCH_API_KEY, else the keychain's, made on first use].
    #[arg(long, value_name = "PATH")]
    pub(crate) api_key_file: Option<std::path::PathBuf>,
    /// Event types to stream from the start, comma separated; programs add and remove with
    /// POST /subscribe and /unsubscribe.
    #[arg(long, default_value = "OnOrders,OnTrades,OnPositions,OnGeneral")]
    pub(crate) events: String,
    /// Events a WebSocket client may have waiting before it is closed as fallen behind.
    #[arg(long, default_value_t = orderwatch::api::DEFAULT_CLIENT_QUEUE, hide = true)]
    pub(crate) client_queue: usize,
}

#[derive(Args)]
pub(crate) struct ApiKeyArgs {
    /// Make a new key (programs holding the old one are refused from now on).
    #[arg(long)]
    pub(crate) regenerate: bool,
}

#[derive(Args)]
pub(crate) struct ExportArgs {
    /// The trading day, YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    pub(crate) date: chrono::NaiveDate,
    /// Which table: orders, trades, positions or general.
    #[arg(long, value_parser = parse_table)]
    pub(crate) what: Table,
    /// The CSV file to write [default: standard output].
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<std::path::PathBuf>,
    /// Where the journal lives [default: as the window's].
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<std::path::PathBuf>,
    /// The demo's journal instead of the account's.
    #[arg(long)]
    pub(crate) demo: bool,
}

fn parse_date(text: &str) -> Result<chrono::NaiveDate, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a date: use YYYY-MM-DD, e.g. 2026-12-01"))
}

fn parse_table(text: &str) -> Result<Table, String> {
    Table::from_name(text).ok_or_else(|| format!("{text:?}: use orders, trades, positions or general"))
}

#[derive(Args)]
pub(crate) struct InstallArgs {
    /// Remove the desktop entry and icons instead.
    #[arg(long)]
    pub(crate) remove: bool,
}

#[derive(Args)]
pub(crate) struct HeadlessArgs {
    #[command(flatten)]
    pub(crate) connect: ConnectArgs,
    /// Event types, comma separated.
    #[arg(long, default_value = "OnOrders,OnTrades,OnPositions,OnGeneral")]
    pub(crate) events: String,
    /// Exit after this many data events.
    #[arg(long)]
    pub(crate) exit_after: Option<u64>,
    /// Exit when no data event arrived for this many seconds.
    #[arg(long, value_parser = parse_idle_exit)]
    pub(crate) idle_exit: Option<Duration>,
    /// Give up when standard output takes no line for this many seconds (a reader that stopped).
    #[arg(long, value_parser = parse_idle_exit, default_value = "60", hide = true)]
    pub(crate) output_stall: Duration,
}

#[derive(Args)]
pub(crate) struct SimArgs {
    #[arg(long, default_value = "127.0.0.1:8765")]
    pub(crate) addr: SocketAddr,
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Steps per second (0: as fast as clients read); with --replay-date, frames per second.
    #[arg(long, default_value_t = 4.0, value_parser = parse_rate)]
    pub(crate) rate: f64,
    /// End the day after this many steps.
    #[arg(long)]
    pub(crate) steps: Option<u64>,
    /// Play a journaled trading day (YYYY-MM-DD) instead of a generated one: its socket frames in
    /// the order they arrived, at --rate frames a second, with the REST books following them.
    #[arg(long, value_parser = parse_date, value_name = "DATE")]
    pub(crate) replay_date: Option<chrono::NaiveDate>,
    /// Where the journal to replay lives [default: as the window's].
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<std::path::PathBuf>,
}

/// The simulator's speed: 0 (as fast as the readers go) or 0.001 to 100,000 steps a second.
fn parse_rate(text: &str) -> Result<f64, String> {
    const MAX: f64 = 100_000.0;
    let rate: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if rate == 0.0 || (0.001..=MAX).contains(&rate) {
        Ok(rate)
    } else {
        Err(format!(
            "{text} steps/s is out of range: use 0 (as fast as possible) or 0.001 to {MAX}"
        ))
    }
}

/// A quiet time: more than 0 and at most a week, in seconds.
fn parse_idle_exit(text: &str) -> Result<Duration, String> {
    const WEEK_SECS: f64 = 7.0 * 86_400.0;
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if secs > 0.0 && secs <= WEEK_SECS {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(format!(
            "{text} s is out of range: use more than 0 and at most {WEEK_SECS} (a week)"
        ))
    }
}
