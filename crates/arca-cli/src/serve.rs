//! `arca server`: opens the data directory (or, with `--dev`, initialises `./arca-data` on first run), loads
//! `[tls]` if configured (re-read on SIGHUP), refuses plain HTTP on a non-loopback address unless
//! `--insecure-http`, binds, prints `listening on http://ADDR` (or `https://`) and serves until SIGINT or
//! SIGTERM. Before serving it marks orders an earlier stop left `PENDING` as `ERROR`. Hygiene first: umask 077,
//! no core dumps (RLIMIT_CORE 0, non-dumpable), and a data directory group or others can reach is refused.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use arca_core::root_key_path;
use arca_server::AuthMode;

use crate::cli::ServerArgs;
use crate::init::initialise;
use crate::open::{config_path, open};

const DEV_DIR: &str = "arca-data";
const DEV_TOKEN_FILE: &str = "admin.token";

/// Initialises `./arca-data` on first run and says where the admin token is.
async fn prepare_dev_dir() -> anyhow::Result<PathBuf> {
    let dir = PathBuf::from(DEV_DIR);
    let token_file = dir.join(DEV_TOKEN_FILE);
    if !root_key_path(&dir).exists() {
        let token = initialise(&dir, time::Duration::days(30)).await?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&token_file)
            .with_context(|| format!("cannot write {}", token_file.display()))?;
        writeln!(file, "{}", token.token.as_str())?;
        println!("initialised ./{DEV_DIR} for development");
    }
    println!(
        "admin token (development only) is in ./{}",
        token_file.display()
    );
    Ok(dir)
}

fn data_dir_and_config(args: &ServerArgs) -> anyhow::Result<(PathBuf, PathBuf)> {
    match (&args.data_dir, &args.config) {
        (Some(dir), Some(file)) => Ok((dir.clone(), file.clone())),
        (Some(dir), None) => Ok((dir.clone(), config_path(dir))),
        (None, Some(file)) => {
            let dir = file
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            Ok((dir.to_path_buf(), file.clone()))
        }
        (None, None) => bail!("give --data-dir DIR (made by `arca init`), --config FILE, or --dev"),
    }
}

pub async fn run(args: ServerArgs) -> anyhow::Result<()> {
    init_logging();
    // Everything this process creates (database, WAL, audit file) is private to its user.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    disable_core_dumps()?;
    if std::env::var_os(crate::root::UNSEAL_SHARES_ENV).is_some() {
        anyhow::bail!(
            "{} is for offline commands; unseal a server with `arca unseal --share FILE` once it runs",
            crate::root::UNSEAL_SHARES_ENV
        );
    }
    let (data_dir, config_file) = if args.dev {
        let dir = prepare_dev_dir().await?;
        let file = args.config.clone().unwrap_or_else(|| config_path(&dir));
        (dir, file)
    } else {
        data_dir_and_config(&args)?
    };
    // Keep key material out of core dumps and away from same-user ptrace.
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        tracing::warn!("could not mark the process non-dumpable: {e}");
    }
    check_data_dir_private(&data_dir)?;
    let dir = open(&data_dir, &config_file).await?;
    if dir.services.orders.fail_interrupted().await? {
        tracing::warn!("orders left PENDING by an earlier stop are marked ERROR");
    }
    let listen = dir.config.api.listen;
    let tls = if dir.config.tls.enabled() {
        Some(
            arca_server::Tls::load(&dir.config.tls)
                .context("cannot set up TLS ([tls] in arca.toml)")?,
        )
    } else {
        None
    };
    if tls.is_none() && !listen.ip().is_loopback() && !args.insecure_http {
        bail!(
            "refusing to serve plain HTTP on non-loopback address {listen}: TLS is not configured; \
             pass --insecure-http to do it anyway, or listen on 127.0.0.1"
        );
    }
    if dir.config.auth.mode == AuthMode::TrustedHeaders
        && !listen.ip().is_loopback()
        && !dir.config.auth.trusted_headers_remote
    {
        bail!(
            "refusing trusted-headers mode on non-loopback address {listen}: anyone reaching it could claim \
             any identity; put the authenticating proxy on this host and listen on 127.0.0.1, or set \
             [auth] trusted_headers_remote = true (ARCA_AUTH_TRUSTED_HEADERS_REMOTE=true)"
        );
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let local = listener.local_addr()?;
    if let Some(tls) = &tls {
        reload_tls_on_sighup(tls.clone())?;
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("listening on {scheme}://{local}");
    std::io::stdout().flush()?;
    tracing::info!(address = %local, data_dir = %data_dir.display(), "arca server started");
    let root = dir.services.keys.root().clone();
    start_metrics_and_sweeper(&dir.config, dir.services.expiry(), root.clone()).await?;
    start_key_maintenance(&dir.config, &dir.services)?;
    start_secret_store_checks(&dir.services);
    let mut server_config = dir.config.server();
    server_config.tls = tls;
    let audit = dir.services.audit.clone();
    let success = || arca_core::AuditOutcome::Success;
    let address = Some(local.to_string());
    // A sealed root of trust (Shamir custody) has no audit key: the start and stop go unrecorded then, and the
    // chain records the unseal and the seal instead.
    let sealed = || root.sealable().is_some_and(|s| s.seal_status().sealed);
    if sealed() {
        println!("sealed: unseal with `arca unseal --share FILE`");
        std::io::stdout().flush()?;
        tracing::warn!(
            "the root of trust is sealed: every API call answers 503 until it is unsealed"
        );
    } else {
        audit
            .record(None, "server.start", "server", address.clone(), success())
            .await
            .context("cannot write the audit record of the start")?;
    }
    let served = arca_server::run(listener, dir.services, server_config, shutdown_signal()).await;
    audit.flush().await;
    if !sealed() {
        audit
            .record(None, "server.stop", "server", address, success())
            .await
            .context("cannot write the audit record of the stop")?;
    }
    served?;
    tracing::info!("arca server stopped");
    Ok(())
}

/// Sets RLIMIT_CORE to 0 (soft and hard): a crash never writes key material to a core file.
fn disable_core_dumps() -> anyhow::Result<()> {
    use nix::sys::resource::{Resource, setrlimit};
    setrlimit(Resource::RLIMIT_CORE, 0, 0).context("cannot disable core dumps (RLIMIT_CORE)")
}

/// Refuses a data directory that group or others may read, write or enter.
fn check_data_dir_private(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir)
        .with_context(|| format!("cannot read the data directory {}", dir.display()))?
        .permissions()
        .mode()
        & 0o7777;
    if mode & 0o077 != 0 {
        bail!(
            "refusing to run: the data directory {} has mode {mode:04o}, so group or others can reach it; \
             run `chmod 0700 {}`",
            dir.display(),
            dir.display()
        );
    }
    Ok(())
}

/// Binds the metrics listener (`[metrics] listen`), prints `metrics on http://ADDR`, and starts it, the expiry
/// gauges and the expiry sweeper (`[expiry] grace`, `sweep_interval`) as background tasks.
async fn start_metrics_and_sweeper(
    config: &crate::config::ArcaConfig,
    expiry: arca_core::ExpirySweeper,
    root: std::sync::Arc<dyn arca_core::RootKeyProvider>,
) -> anyhow::Result<()> {
    let grace = crate::duration::parse_duration(&config.expiry.grace).context("[expiry] grace")?;
    let interval = crate::duration::parse_duration(&config.expiry.sweep_interval)
        .context("[expiry] sweep_interval")?;
    let interval = std::time::Duration::from_secs(interval.whole_seconds().max(1).unsigned_abs());
    arca_server::metrics::handle();
    let listen = config.metrics.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} for metrics ([metrics] listen)"))?;
    println!("metrics on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let refresh = interval.min(std::time::Duration::from_secs(60));
    let served = expiry.clone();
    tokio::spawn(async move {
        if let Err(e) = arca_server::metrics::serve_metrics(
            listener,
            served,
            root,
            refresh,
            std::future::pending(),
        )
        .await
        {
            tracing::error!(error = %e, "the metrics listener failed");
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        loop {
            tick.tick().await;
            match expiry.sweep(grace).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    destroyed = n,
                    "expired secrets destroyed after their grace period"
                ),
                Err(e) => tracing::error!(error = %e, "the expiry sweep failed"),
            }
        }
    });
    Ok(())
}

/// How often external secret stores are checked (so `/readyz` and `arca_secret_store_up` follow an outage and the
/// recovery even without traffic).
const SECRET_STORE_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Checks every external secret store periodically, in the background.
fn start_secret_store_checks(services: &arca_core::Services) {
    let stores = services.payloads.stores().clone();
    if !stores
        .all()
        .iter()
        .any(|s| matches!(s.backend, arca_core::PayloadBackend::External(_)))
    {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SECRET_STORE_CHECK_EVERY);
        loop {
            tick.tick().await;
            stores.check_all().await;
        }
    });
}

/// How often the server re-reads the root key and advances the background rewrap (`arca root rotate` waits
/// longer than this before its final check).
const KEY_MAINTENANCE_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Starts the key upkeep beside the sweeper: root key reloads, scheduled project KEK rotation (`[keys]
/// pkek_rotation_period`) and the background rewrap of rotated project KEKs.
fn start_key_maintenance(
    config: &crate::config::ArcaConfig,
    services: &arca_core::Services,
) -> anyhow::Result<()> {
    let period = config.keys.pkek_rotation_period()?;
    let mut upkeep =
        arca_core::KeyMaintenance::new(services.keys.clone(), services.pkek_rotation(), period);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(KEY_MAINTENANCE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match upkeep.tick().await {
                Ok((0, 0)) => {}
                Ok((rotated, resealed)) => tracing::info!(
                    rotated,
                    resealed,
                    "project keys rotated as scheduled and objects re-sealed"
                ),
                // Sealed (or an HSM away): nothing to do until it is back; the API already says so.
                Err(arca_core::CoreError::Unavailable(why)) => {
                    tracing::debug!(reason = %why, "key upkeep waits for the root of trust")
                }
                Err(e) => tracing::error!(error = %e, "the key upkeep failed"),
            }
        }
    });
    Ok(())
}

/// Re-reads the TLS certificate, key and client CA on every SIGHUP; a failed reload keeps the old ones.
/// The handler is installed before the server says it is listening, so an early SIGHUP never kills it.
fn reload_tls_on_sighup(tls: arca_server::Tls) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            match tls.reload() {
                Ok(()) => tracing::info!("SIGHUP: TLS certificate and key reloaded"),
                Err(e) => tracing::error!(
                    "SIGHUP: TLS reload failed, still serving the previous certificate: {e}"
                ),
            }
        }
    });
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let terminate = async {
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ARCA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("ARCA_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
