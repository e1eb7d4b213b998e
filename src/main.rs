//! The command line: picks the mode, starts the runtime.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use orderwatch::feed::FeedConfig;
use orderwatch::fyers::auth::Authorization;
use orderwatch::fyers::rest::FYERS_REST_URL;
use orderwatch::fyers::socket::FYERS_SOCKET_URL;
use orderwatch::headless::{self, HeadlessError, HeadlessOptions};
use orderwatch::sim::{DayConfig, Sim, SimConfig};

const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("ORDERWATCH_GIT_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(name = "orderwatch", version = VERSION, about = "A live monitor for a Fyers trading account")]
struct Cli {
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(subcommand)]
    mode: Option<Mode>,
}

/// Where the stream comes from.
#[derive(Args)]
struct ConnectArgs {
    /// Run on the built-in exchange simulator instead of a Fyers account.
    #[arg(long)]
    demo: bool,
    /// Steps per second of the demo simulator (0: as fast as possible).
    #[arg(long, default_value_t = 4.0)]
    rate: f64,
    #[arg(long, default_value = FYERS_SOCKET_URL)]
    socket_url: String,
    #[arg(long, default_value = FYERS_REST_URL)]
    rest_url: String,
    /// APP_ID:ACCESS_TOKEN, as the Fyers SDKs take it.
    #[arg(long, env = "ORDERWATCH_ACCESS_TOKEN", hide_env_values = true)]
    access_token: Option<String>,
}

#[derive(Subcommand)]
enum Mode {
    /// No window: stream every event as one JSON line on stdout.
    Headless(HeadlessArgs),
    /// Run the exchange simulator alone, for other clients and manual testing.
    Sim(SimArgs),
}

#[derive(Args)]
struct HeadlessArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Event types, comma separated.
    #[arg(long, default_value = "OnOrders,OnTrades,OnPositions,OnGeneral")]
    events: String,
    /// Exit after this many data events.
    #[arg(long)]
    exit_after: Option<u64>,
    /// Exit when no data event arrived for this many seconds.
    #[arg(long)]
    idle_exit: Option<f64>,
}

#[derive(Args)]
struct SimArgs {
    #[arg(long, default_value = "127.0.0.1:8765")]
    addr: SocketAddr,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Steps per second (0: as fast as clients read).
    #[arg(long, default_value_t = 4.0)]
    rate: f64,
    /// End the day after this many steps.
    #[arg(long)]
    steps: Option<u64>,
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("orderwatch: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.mode {
        Some(Mode::Sim(args)) => runtime.block_on(run_sim(args)),
        Some(Mode::Headless(args)) => return runtime.block_on(run_headless(args)),
        None => run_desktop(&runtime, &cli.connect),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("orderwatch: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr, filtered by `ORDERWATCH_LOG` (default: warnings, and Orderwatch's own info).
fn init_logging() {
    use tracing_subscriber::prelude::*;
    // These libraries trace whole requests, headers and all, and the authorization header carries
    // the token: their trace level is never logged, whatever was asked.
    const SENSITIVE: [&str; 6] = [
        "tungstenite",
        "tokio_tungstenite",
        "hyper",
        "hyper_util",
        "reqwest",
        "h2",
    ];
    let no_secrets = tracing_subscriber::filter::filter_fn(|meta| {
        *meta.level() != tracing::Level::TRACE
            || !SENSITIVE.iter().any(|target| meta.target().starts_with(target))
    });
    let wanted = tracing_subscriber::EnvFilter::try_from_env("ORDERWATCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,orderwatch=info"));
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(wanted)
        .with_filter(no_secrets);
    tracing_subscriber::registry().with(stderr).init();
}

fn sim_config(seed: u64, rate: f64, steps: Option<u64>) -> SimConfig {
    SimConfig {
        day: DayConfig {
            seed,
            start_epoch: today_market_open(),
            ..DayConfig::default()
        },
        rate: (rate > 0.0).then_some(rate),
        steps,
        realtime_clock: rate > 0.0,
        ..SimConfig::default()
    }
}

/// 09:15 IST today, when the exchange opens.
fn today_market_open() -> i64 {
    let ist_offset = 5 * 3600 + 30 * 60;
    let now = chrono::Utc::now().timestamp();
    let ist_midnight = (now + ist_offset).div_euclid(86_400) * 86_400 - ist_offset;
    ist_midnight + 9 * 3600 + 15 * 60
}

/// The feed's configuration for the command line's choice, the account badge, and the demo
/// simulator (kept alive by the caller).
async fn connection(
    connect: &ConnectArgs,
    warmup_steps: u64,
) -> Result<(FeedConfig, String, Option<Sim>), (ExitCode, String)> {
    if connect.demo {
        let config = SimConfig {
            warmup_steps,
            ..sim_config(1, connect.rate, None)
        };
        let sim = Sim::start(config, ([127, 0, 0, 1], 0).into())
            .await
            .map_err(|err| (ExitCode::FAILURE, format!("cannot start the simulator: {err}")))?;
        let feed = FeedConfig::new(&sim.socket_url(), &sim.rest_url(), Some(sim.authorization()));
        return Ok((feed, "Demo".to_owned(), Some(sim)));
    }
    match connect.access_token.as_deref().map(Authorization::parse) {
        Some(Ok(auth)) => {
            let account = auth.app_id().to_owned();
            Ok((
                FeedConfig::new(&connect.socket_url, &connect.rest_url, Some(auth)),
                account,
                None,
            ))
        }
        Some(Err(err)) => Err((ExitCode::from(2), err.to_string())),
        None => Err((
            ExitCode::from(2),
            "give --access-token APP_ID:ACCESS_TOKEN (or ORDERWATCH_ACCESS_TOKEN), or --demo".to_owned(),
        )),
    }
}

fn run_desktop(runtime: &tokio::runtime::Runtime, connect: &ConnectArgs) -> anyhow::Result<()> {
    // The demo opens on a day under way: about an hour of trading is played before the window shows.
    let (config, account, sim) = runtime
        .block_on(connection(connect, 1_200))
        .map_err(|(_, err)| anyhow::anyhow!(err))?;
    let result = orderwatch::ui::run_desktop(runtime, config, account).map_err(|err| anyhow::anyhow!(err));
    drop(sim);
    result
}

async fn run_sim(args: SimArgs) -> anyhow::Result<()> {
    let sim = Sim::start(sim_config(args.seed, args.rate, args.steps), args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    println!("Fyers simulator (seed {}, {} steps/s)", args.seed, args.rate);
    println!("  socket URL:   {}", sim.socket_url());
    println!("  REST URL:     {}", sim.rest_url());
    println!("  access token: {}", sim.authorization().expose());
    println!(
        "  faults:       POST http://{}/sim/fault/{{drop|stall|malformed|oversized|duplicate|reorder|expire|rest-down|rest-up|renew}}[?n=N&secs=S]",
        sim.addr()
    );
    println!("Ctrl-C stops it.");
    tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
    Ok(())
}

async fn run_headless(args: HeadlessArgs) -> ExitCode {
    let subscriptions = match headless::parse_events(&args.events) {
        Ok(kinds) => kinds,
        Err(err) => {
            eprintln!("orderwatch: {err}");
            return ExitCode::from(2);
        }
    };
    let (mut config, _account, _sim) = match connection(&args.connect, 0).await {
        Ok(connection) => connection,
        Err((code, err)) => {
            eprintln!("orderwatch: {err}");
            return code;
        }
    };
    config.subscriptions = subscriptions;
    let options = HeadlessOptions {
        exit_after: args.exit_after,
        idle_exit: args
            .idle_exit
            .filter(|secs| secs.is_finite() && *secs > 0.0)
            .map(Duration::from_secs_f64),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (summary, result) = headless::run(config, options, &mut out).await;
    eprintln!("{}", summary.to_json());
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(err @ HeadlessError::AuthRejected(_)) => {
            eprintln!("orderwatch: {err}");
            ExitCode::from(3)
        }
        Err(err) => {
            eprintln!("orderwatch: {err}");
            ExitCode::FAILURE
        }
    }
}
