//! The desktop side of the command line: opening the window (demo, a given token, the saved login
//! or the first-run screen) and `orderwatch install-desktop`.

use orderwatch::account::Stored;
use orderwatch::config::Settings;
use orderwatch::desktop::instance::{self, Instance};
use orderwatch::desktop::notify;
use orderwatch::feed::{FeedConfig, Timing};
use orderwatch::secrets::Vault;
use orderwatch::shell::{Services, Start, system_autostart, system_browser, system_notifications};
use orderwatch::sim::SimConfig;

use crate::cli::ConnectArgs;
use crate::{DEMO_WARMUP_STEPS, connection, sim_config};

pub fn open(runtime: &tokio::runtime::Runtime, connect: &ConnectArgs, minimised: bool) -> anyhow::Result<()> {
    let settings_path = Settings::default_path();
    // One window per settings file (and so per saved login).
    let _instance = match settings_path.as_deref().and_then(std::path::Path::parent) {
        Some(dir) => match instance::claim(dir) {
            Ok(Instance::First(lock)) => Some(lock),
            Ok(Instance::Running) => {
                let body = "It is in the tray (or on the taskbar): use that window.";
                eprintln!("orderwatch: Orderwatch is already running. {body}");
                let _ = notify::show_once("Orderwatch is already running", body);
                return Ok(());
            }
            Err(err) => {
                tracing::warn!(%err, "cannot tell whether another Orderwatch is running");
                None
            }
        },
        None => None,
    };
    let (settings, settings_notice) = match settings_path.as_deref().map(Settings::load) {
        Some(Ok(settings)) => (settings, None),
        Some(Err(err)) => (Settings::default(), Some(err.to_string())),
        None => (Settings::default(), None),
    };
    // The main thread is not one of the runtime's: blocking on the keychain here is fine.
    let vault = Vault::from_env();
    if let Err(err) = &vault {
        tracing::warn!(%err, "no keychain");
    }
    let services = Services {
        runtime: runtime.handle().clone(),
        socket_url: connect.socket_url.clone(),
        rest_url: connect.rest_url.clone(),
        market_url: connect.market(),
        vault: vault.clone().map_err(|err| err.to_string()),
        settings_path,
        browser: system_browser(),
        timing: Timing::default(),
        demo: SimConfig {
            warmup_steps: DEMO_WARMUP_STEPS,
            ..sim_config(1, connect.rate, None)
        },
        start_hidden: minimised || settings.start_minimised,
        tray: true,
        notifications: Some(system_notifications()),
        autostart: system_autostart(),
        data_dir: connect
            .data_dir
            .clone()
            .or_else(orderwatch::journal::default_data_dir),
    };
    let start = if connect.demo || connect.has_token() {
        // The demo opens on a day under way: about an hour of trading is played before the window shows.
        let (mut config, account, sim) = runtime
            .block_on(connection(connect, DEMO_WARMUP_STEPS))
            .map_err(|(_, err)| anyhow::anyhow!(err))?;
        config.fault = connect.fault();
        Start::Monitor {
            config,
            account,
            saved: None,
            sim,
        }
    } else {
        saved_start(&settings, vault.ok(), connect, settings_notice)
    };
    keep_freed_heap();
    orderwatch::shell::run_desktop(runtime, services, settings, start).map_err(|err| anyhow::anyhow!(err))
}

/// Auto-connect with the saved login; the first-run screen when there is none (or no token).
fn saved_start(
    settings: &Settings,
    vault: Option<Vault>,
    connect: &ConnectArgs,
    notice: Option<String>,
) -> Start {
    let saved = settings.account.clone();
    let (Some(account), Some(vault)) = (saved.clone(), vault) else {
        return Start::Connect {
            saved,
            secret_saved: false,
            notice,
        };
    };
    let app_id = account.app_id.clone();
    match Stored::load(&vault, &app_id) {
        Ok(stored) if stored.access.is_some() => Start::Monitor {
            config: FeedConfig::new(
                &connect.socket_url,
                &connect.rest_url,
                stored.authorization(&account.app_id),
            ),
            account: account.app_id.clone(),
            saved: Some((account, stored)),
            sim: None,
        },
        Ok(stored) => Start::Connect {
            saved,
            secret_saved: stored.secret.is_some(),
            notice,
        },
        Err(err) => Start::Connect {
            saved,
            secret_saved: false,
            notice: Some(format!("Cannot read the saved login: {err}")),
        },
    }
}

pub fn install_desktop(remove: bool) -> anyhow::Result<()> {
    use orderwatch::desktop::install;
    let data_dir = install::data_dir()?;
    if remove {
        let removed = install::uninstall(&data_dir)?;
        println!(
            "Removed {} files from {}.",
            removed.files.len(),
            data_dir.display()
        );
        return Ok(());
    }
    let exec = install::current_exe()?;
    let installed = install::install(&data_dir, &exec)?;
    for file in &installed.files {
        println!("  wrote {}", file.display());
    }
    // Menus pick the entry up by themselves; refreshing the caches only makes it quicker.
    let _ = std::process::Command::new("update-desktop-database")
        .arg(data_dir.join("applications"))
        .output();
    println!(
        "Orderwatch is in the application menu; it starts {}.",
        exec.display()
    );
    Ok(())
}

/// Software OpenGL (Mesa's llvmpipe, as under Xvfb or without a GPU driver) allocates a
/// window-sized buffer from glibc's heap for every frame it presents and frees it again; glibc then
/// hands the top of the heap back to the kernel (`brk`), so every frame paid for mapping, zeroing
/// and unmapping ~4 MB anew: 60 % of the window thread's time while the demo streamed. Keeping up
/// to 64 MiB of freed heap (and serving allocations below 32 MiB from it, glibc's own upper bound
/// for that) cut the process from 32 % to 19 % of a core. Orderwatch's own allocations go to
/// mimalloc and are not touched.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(
    unsafe_code,
    reason = "glibc's mallopt has no safe wrapper; it only sets two allocator limits"
)]
fn keep_freed_heap() {
    // SAFETY: mallopt takes plain integers, may be called at any time, and at worst returns 0
    // (the limit is left as it was); nothing else is allocating from the C heap in between
    // that could depend on the old limits.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_heap() {}
