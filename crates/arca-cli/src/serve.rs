//! `arca server`: opens the data directory (or, with `--dev`, initialises `./arca-data` on first run), refuses
//! plain HTTP on a non-loopback address unless `--insecure-http`, binds, prints `listening on http://ADDR`
//! and serves until SIGINT or SIGTERM. Before serving it marks orders an earlier stop left `PENDING` as `ERROR`.

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
    let dir = open(&data_dir, &config_file).await?;
    if dir.services.orders.fail_interrupted().await? {
        tracing::warn!("orders left PENDING by an earlier stop are marked ERROR");
    }
    let listen = dir.config.api.listen;
    if !listen.ip().is_loopback() && !args.insecure_http {
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
    println!("listening on http://{local}");
    std::io::stdout().flush()?;
    tracing::info!(address = %local, data_dir = %data_dir.display(), "arca server started");
    arca_server::run(
        listener,
        dir.services,
        dir.config.server(),
        shutdown_signal(),
    )
    .await?;
    tracing::info!("arca server stopped");
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

fn init_logging() {
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
