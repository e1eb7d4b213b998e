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
    /// Run on the built-in exchange simulator instead of a Fyers account.
    #[arg(long)]
    demo: bool,
    #[command(subcommand)]
    mode: Option<Mode>,
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
    /// Stream from an in-process simulator.
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

/// The headless arguments on their own, for the demo's defaults.
#[derive(Parser)]
struct Standalone {
    #[command(flatten)]
    args: HeadlessArgs,
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ORDERWATCH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,orderwatch=info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
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
        None => {
            // The window is not built yet: the demo streams to the terminal meanwhile.
            if !cli.demo {
                eprintln!(
                    "orderwatch: the window is not built yet; try `orderwatch --demo` or `orderwatch headless`"
                );
                return ExitCode::from(2);
            }
            let Standalone { args } = Standalone::parse_from(["orderwatch", "--demo"]);
            return runtime.block_on(run_headless(args));
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("orderwatch: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn sim_config(seed: u64, rate: f64, steps: Option<u64>) -> SimConfig {
    SimConfig {
        day: DayConfig {
            seed,
            ..DayConfig::default()
        },
        rate: (rate > 0.0).then_some(rate),
        steps,
        realtime_clock: rate > 0.0,
        ..SimConfig::default()
    }
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
    let sim;
    let mut config = if args.demo {
        sim = match Sim::start(sim_config(1, args.rate, None), ([127, 0, 0, 1], 0).into()).await {
            Ok(sim) => sim,
            Err(err) => {
                eprintln!("orderwatch: cannot start the simulator: {err}");
                return ExitCode::FAILURE;
            }
        };
        FeedConfig::new(&sim.socket_url(), &sim.rest_url(), Some(sim.authorization()))
    } else {
        let Some(token) = args.access_token.as_deref() else {
            eprintln!(
                "orderwatch: give --access-token APP_ID:ACCESS_TOKEN (or ORDERWATCH_ACCESS_TOKEN), or --demo"
            );
            return ExitCode::from(2);
        };
        match Authorization::parse(token) {
            Ok(auth) => FeedConfig::new(&args.socket_url, &args.rest_url, Some(auth)),
            Err(err) => {
                eprintln!("orderwatch: {err}");
                return ExitCode::from(2);
            }
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
