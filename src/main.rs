//! The command line: picks the mode, starts the runtime.
// A double-clicked release build on Windows opens no console window; the command-line modes attach
// to the console they were started from (see `attach_console`).
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

use std::io::IsTerminal;
use std::process::ExitCode;

mod cli;
mod connect;
mod login;
mod window;

use connect::{connection, sim_config};

use cli::{Cli, ExportArgs, HeadlessArgs, Mode, ServeArgs, SimArgs};

use anyhow::Context;
use clap::Parser;
use orderwatch::api::{ApiConfig, ApiKey, KeyError};
use orderwatch::config::Settings;
use orderwatch::headless::{self, HeadlessError, HeadlessOptions, OutputLimits};
use orderwatch::secrets::{Vault, VaultError};
use orderwatch::sim::Sim;

/// Steps the demo plays before the window shows: about an hour of the trading day.
const DEMO_WARMUP_STEPS: u64 = 1_200;

pub(crate) const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("ORDERWATCH_GIT_COMMIT"),
    ")"
);

fn main() -> ExitCode {
    attach_console();
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
        Some(Mode::Login(args)) => return runtime.block_on(login::run_login(args)),
        Some(Mode::Logout(args)) => return runtime.block_on(login::run_logout(args)),
        Some(Mode::InstallDesktop(args)) => window::install_desktop(args.remove),
        Some(Mode::Export(args)) => return run_export(&args),
        Some(Mode::Serve(args)) => return runtime.block_on(run_serve(args)),
        Some(Mode::ApiKey(args)) => return runtime.block_on(run_api_key(args.regenerate)),
        None => window::open(&runtime, &cli.connect, cli.minimised),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("orderwatch: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Under the Windows GUI subsystem there is no console: use the one we were started from, if any,
/// so `orderwatch headless` and friends still print.
#[cfg(windows)]
#[allow(
    unsafe_code,
    reason = "the one Win32 call windows-sys offers no safe wrapper for"
)]
fn attach_console() {
    use windows_sys::Win32::System::Console::{ATTACH_PARENT_PROCESS, AttachConsole};
    // SAFETY: a plain Win32 call with a constant argument; failure (no parent console) is harmless.
    unsafe {
        AttachConsole(ATTACH_PARENT_PROCESS);
    }
}

#[cfg(not(windows))]
fn attach_console() {}

/// Logs go to stderr, filtered by `ORDERWATCH_LOG` (default: warnings, and Orderwatch's own info).
fn init_logging() {
    use tracing_subscriber::prelude::*;
    // These libraries trace whole requests, headers and all, and the authorization header carries
    // the token: their trace level is never logged, whatever was asked.
    // So do the D-Bus libraries under the keychain: their messages carry the (encrypted) secrets.
    const SENSITIVE: [&str; 9] = [
        "tungstenite",
        "tokio_tungstenite",
        "hyper",
        "hyper_util",
        "reqwest",
        "h2",
        "zbus",
        "secret_service",
        "keyring",
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

async fn run_sim(args: SimArgs) -> anyhow::Result<()> {
    // A replay brings its own day: the generator stays paused.
    let recording = match args.replay_date {
        Some(date) => Some((date, load_recording(&args, date)?)),
        None => None,
    };
    let mut config = sim_config(args.seed, args.rate, args.steps);
    config.start_paused = recording.is_some();
    let sim = Sim::start(config, args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    match &recording {
        Some((date, recorded)) => {
            let frames: usize = recorded
                .batches
                .iter()
                .filter(|batch| batch.origin == orderwatch::store::Origin::Socket)
                .map(|batch| batch.events.len())
                .sum();
            let pace = if args.rate > 0.0 {
                format!("{} frames/s", args.rate)
            } else {
                "as fast as clients read".to_owned()
            };
            println!("Fyers simulator replaying {date}: {frames} frames, {pace}");
        }
        None => println!("Fyers simulator (seed {}, {} steps/s)", args.seed, args.rate),
    }
    if let Some((_, recorded)) = recording {
        let rate = (args.rate > 0.0).then_some(args.rate);
        let handle = sim.handle();
        tokio::spawn(async move {
            let sent = orderwatch::sim::replay::play(handle, recorded, rate).await;
            eprintln!("orderwatch: the replay has played all {sent} frames");
        });
    }
    println!("  socket URL:   {}", sim.socket_url());
    println!("  REST URL:     {}", sim.rest_url());
    println!(
        "  market data:  {} (symbol-token: {}/symbol-token)",
        sim.market_url(),
        sim.data_url()
    );
    println!("  access token: {}", sim.authorization().expose());
    // A local test server: its test credentials are meant to be copied into the login form.
    let handle = sim.handle();
    println!("  app id:       {}", handle.app_id());
    println!("  secret key:   {}", handle.secret_key());
    println!("  PIN:          {}", handle.pin());
    println!(
        "  login:        {}/generate-authcode?client_id={}&redirect_uri=<URI>&response_type=code&state=<STATE>",
        sim.rest_url(),
        handle.app_id()
    );
    println!(
        "  faults:       POST http://{}/sim/fault/{{drop|stall|malformed|oversized|duplicate|reorder|expire|rest-down|rest-up|renew}}[?n=N&secs=S]",
        sim.addr()
    );
    println!("Ctrl-C stops it.");
    tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
    Ok(())
}

/// The journaled day `sim --replay-date` plays.
fn load_recording(args: &SimArgs, date: chrono::NaiveDate) -> anyhow::Result<orderwatch::journal::Recorded> {
    let dir = args
        .data_dir
        .clone()
        .or_else(orderwatch::journal::default_data_dir)
        .ok_or(orderwatch::journal::JournalError::NoDataDir)?;
    let path = orderwatch::journal::journal_path(&dir, false);
    anyhow::ensure!(path.exists(), "there is no journal at {}", path.display());
    let recorded = orderwatch::journal::load_day(&path, date)?;
    anyhow::ensure!(
        !recorded.batches.is_empty(),
        "the journal at {} has nothing for {date}",
        path.display()
    );
    Ok(recorded)
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
    config.fault = args.connect.fault();
    config.journal = open_journal(&args.connect);
    let options = HeadlessOptions {
        exit_after: args.exit_after,
        idle_exit: args.idle_exit,
        output: OutputLimits {
            stalled_for: args.output_stall,
            ..OutputLimits::default()
        },
    };
    let out = Box::new(std::io::BufWriter::new(std::io::stdout()));
    let (summary, result) = headless::run(config, options, out).await;
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

/// The journal of headless and serve, as the window's: same data dir rules, same retention.
fn open_journal(connect: &cli::ConnectArgs) -> Option<orderwatch::journal::Journal> {
    let keep_days = Settings::default_path()
        .and_then(|path| Settings::load(&path).ok())
        .map_or(orderwatch::journal::DEFAULT_KEEP_DAYS, |settings| {
            settings.keep_days
        });
    match orderwatch::journal::open_in(connect.data_dir.as_deref(), connect.demo, keep_days) {
        Ok(journal) => Some(journal),
        // The stream matters more than its record: go on, and say so.
        Err(err) => {
            eprintln!("orderwatch: warning: nothing will be journaled: {err}");
            None
        }
    }
}

/// `orderwatch serve`: the feed and the local API, until Ctrl-C or SIGTERM.
async fn run_serve(args: ServeArgs) -> ExitCode {
    let events = match headless::parse_events(&args.events) {
        Ok(kinds) => kinds,
        Err(err) => {
            eprintln!("orderwatch: {err}");
            return ExitCode::from(2);
        }
    };
    let key = match api_key(args.api_key_file.clone()).await {
        Ok(key) => key,
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
    config.fault = args.connect.fault();
    config.journal = open_journal(&args.connect);
    let options = orderwatch::api::serve::ServeOptions {
        api: ApiConfig {
            listen: args.listen,
            allow_remote: args.allow_remote,
            allowed_origins: args.allow_origin,
            key,
        },
        events,
        client_queue: args.client_queue,
        connect: true,
    };
    let listening = |addr: std::net::SocketAddr| {
        // The one line on stdout: where to connect (a script started with --listen :0 reads it).
        let url = format!("http://{addr}{}", orderwatch::api::BASE_PATH);
        println!("{}", serde_json::json!({"type": "listening", "url": url}));
        eprintln!("orderwatch: the local API is at {url} (the key: `orderwatch api-key`)");
    };
    match orderwatch::api::serve::run(config, options, listening).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("orderwatch: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The API key: from the file, the environment, or the keychain (made there on first use).
async fn api_key(file: Option<std::path::PathBuf>) -> Result<ApiKey, KeyError> {
    if let Some(path) = file {
        return ApiKey::from_file(&path);
    }
    if let Some(key) = ApiKey::from_env() {
        return key;
    }
    let from_vault = tokio::task::spawn_blocking(|| ApiKey::from_vault(&Vault::from_env()?)).await;
    from_vault.unwrap_or_else(|_| {
        Err(KeyError::Vault(VaultError::Unavailable(
            "the keychain call did not finish".into(),
        )))
    })
}

/// `orderwatch api-key`: the keychain's key on standard output, for the user's programs.
async fn run_api_key(regenerate: bool) -> ExitCode {
    let key = tokio::task::spawn_blocking(move || {
        let vault = Vault::from_env()?;
        ApiKey::from_vault_or_new(&vault, regenerate)
    })
    .await;
    match key {
        Ok(Ok(key)) => {
            println!("{}", key.expose());
            ExitCode::SUCCESS
        }
        Ok(Err(err)) => {
            eprintln!("orderwatch: {err}");
            ExitCode::FAILURE
        }
        Err(_) => ExitCode::FAILURE,
    }
}

/// `orderwatch export`: a journaled day's table as CSV, to a file or standard output.
fn run_export(args: &ExportArgs) -> ExitCode {
    let Some(dir) = args
        .data_dir
        .clone()
        .or_else(orderwatch::journal::default_data_dir)
    else {
        eprintln!("orderwatch: {}", orderwatch::journal::JournalError::NoDataDir);
        return ExitCode::from(2);
    };
    let journal = orderwatch::journal::journal_path(&dir, args.demo);
    if !journal.exists() {
        eprintln!("orderwatch: there is no journal at {}", journal.display());
        return ExitCode::from(2);
    }
    let result = match &args.out {
        Some(path) => std::fs::File::create(path)
            .map_err(|err| format!("cannot create {}: {err}", path.display()))
            .and_then(|file| {
                orderwatch::journal::export_csv(&journal, args.date, args.what, std::io::BufWriter::new(file))
                    .map_err(|err| err.to_string())
            }),
        None => orderwatch::journal::export_csv(&journal, args.date, args.what, std::io::stdout().lock())
            .map_err(|err| err.to_string()),
    };
    match result {
        Ok(rows) => {
            if let Some(path) = &args.out {
                eprintln!("{rows} {} rows written to {}", args.what.name(), path.display());
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("orderwatch: {err}");
            ExitCode::FAILURE
        }
    }
}
