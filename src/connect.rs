//! Where the stream comes from: the demo simulator, a token given on the command line, or the
//! login the window saved.

use std::process::ExitCode;

use orderwatch::account::Stored;
use orderwatch::config::{SavedAccount, Settings};
use orderwatch::feed::FeedConfig;
use orderwatch::fyers::auth::Authorization;
use orderwatch::secrets::{Vault, off_runtime};
use orderwatch::sim::{DayConfig, Sim, SimConfig};

use crate::cli::ConnectArgs;

pub(crate) fn sim_config(seed: u64, rate: f64, steps: Option<u64>) -> SimConfig {
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
    let ist_offset = orderwatch::fyers::model::IST_OFFSET_SECS;
    let now = chrono::Utc::now().timestamp();
    let ist_midnight = (now + ist_offset).div_euclid(86_400) * 86_400 - ist_offset;
    ist_midnight + 9 * 3600 + 15 * 60
}

/// The feed's configuration for the command line's choice, the account badge, and the demo
/// simulator (kept alive by the caller).
pub(crate) async fn connection(
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
        let mut feed = FeedConfig::new(&sim.socket_url(), &sim.rest_url(), Some(sim.authorization()));
        feed.market_url = Some(sim.market_url());
        return Ok((feed, "Demo".to_owned(), Some(sim)));
    }
    let token = connect.token().map_err(|err| (ExitCode::from(2), err))?;
    match token.as_deref().map(Authorization::parse) {
        Some(Ok(auth)) => {
            let account = auth.app_id().to_owned();
            let mut feed = FeedConfig::new(&connect.socket_url, &connect.rest_url, Some(auth));
            feed.market_url = connect.market();
            Ok((feed, account, None))
        }
        Some(Err(err)) => Err((ExitCode::from(2), err.to_string())),
        None => match saved_login().await {
            SavedLogin::Ready { account, stored } => {
                let auth = stored.authorization(&account.app_id);
                let mut feed = FeedConfig::new(&connect.socket_url, &connect.rest_url, auth);
                feed.market_url = connect.market();
                Ok((feed, account.app_id, None))
            }
            SavedLogin::None { notice } => Err((
                ExitCode::from(2),
                format!(
                    "{}no saved login: run `orderwatch login`, or give --access-token APP_ID:ACCESS_TOKEN \
                     (or ORDERWATCH_ACCESS_TOKEN), or --demo",
                    notice.map(|notice| format!("{notice}; ")).unwrap_or_default()
                ),
            )),
        },
    }
}

/// The login saved by the window or `orderwatch login`, if it can be used.
enum SavedLogin {
    Ready { account: SavedAccount, stored: Stored },
    None { notice: Option<String> },
}

async fn saved_login() -> SavedLogin {
    let Some(path) = Settings::default_path() else {
        return SavedLogin::None { notice: None };
    };
    let settings = match Settings::load(&path) {
        Ok(settings) => settings,
        Err(err) => {
            return SavedLogin::None {
                notice: Some(err.to_string()),
            };
        }
    };
    let Some(account) = settings.account else {
        return SavedLogin::None { notice: None };
    };
    let app_id = account.app_id.clone();
    let loaded = off_runtime(move || {
        let vault = Vault::from_env()?;
        Stored::load(&vault, &app_id)
    })
    .await;
    match loaded {
        Ok(stored) if stored.access.is_some() => SavedLogin::Ready { account, stored },
        Ok(_) => SavedLogin::None {
            notice: Some(format!("the keychain holds no token for {}", account.app_id)),
        },
        Err(err) => SavedLogin::None {
            notice: Some(err.to_string()),
        },
    }
}
