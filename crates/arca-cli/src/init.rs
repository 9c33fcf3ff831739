//! `arca init`: creates a data directory (mode 0700) holding a fresh root key (mode 0400, under umask 077) —
//! or, with `--root pkcs11`, generates the master KEK and HMAC key inside an HSM token and records them in
//! `[root_key]` instead; or, with `--root shamir`, seals the root key under an unseal key split into share
//! files (`unseal.rs`) — `arca.toml`, the database with its system keys, and an admin principal whose token
//! is printed last.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use arca_backends::Pkcs11RootKey;
use arca_core::{FileRootKey, IssuedToken, Role, root_key_path, root_sealed_path};
use nix::sys::stat::{Mode, umask};

use crate::cli::InitArgs;
use crate::config::{DEFAULT_CONFIG, RootKeySection};
use crate::duration::parse_duration;
use crate::open::{config_path, open, open_with_root};

/// The admin principal `init` creates.
pub const ADMIN_PROJECT: &str = "admin";
/// The admin user `init` creates.
pub const ADMIN_USER: &str = "admin";

/// The root of trust `init` sets up.
pub enum RootChoice {
    /// `DIR/root.key`.
    File,
    /// Keys generated in an HSM token; the `[root_key]` settings to write.
    Pkcs11(Box<RootKeySection>),
    /// An unseal key split into `shares` share files, `threshold` of which unseal.
    Shamir {
        /// M.
        threshold: u8,
        /// N.
        shares: u8,
    },
}

/// Creates everything in `data_dir` with a `file` root key and returns the admin's token.
pub async fn initialise(data_dir: &Path, ttl: time::Duration) -> anyhow::Result<IssuedToken> {
    initialise_with(data_dir, ttl, &RootChoice::File, None)
        .await
        .map(|(token, _)| token)
}

/// Creates everything in `data_dir` with the chosen root of trust; returns the admin's token and, for Shamir
/// custody, the share files written.
pub async fn initialise_with(
    data_dir: &Path,
    ttl: time::Duration,
    root: &RootChoice,
    database_url: Option<&str>,
) -> anyhow::Result<(IssuedToken, Vec<PathBuf>)> {
    umask(Mode::from_bits_truncate(0o077));
    if database_url.is_some_and(crate::config::url_has_password) {
        bail!(
            "--database-url carries a password, which would be written to arca.toml: give the URL in \
             ARCA_DATABASE_URL instead (for this command and the server), or use client certificates"
        );
    }
    if let RootChoice::Shamir { threshold, shares } = root {
        arca_core::check_threshold(*threshold, *shares)?;
    }
    for existing in [root_key_path(data_dir), root_sealed_path(data_dir)] {
        if existing.exists() {
            bail!(
                "{} already exists: refusing to overwrite a root key",
                existing.display()
            );
        }
    }
    let config_file = config_path(data_dir);
    if !matches!(root, RootChoice::File) && config_file.exists() {
        bail!(
            "{} already exists: refusing to change the root of trust of a data directory",
            config_file.display()
        );
    }
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot restrict {} to mode 0700", data_dir.display()))?;
    let mut unsealed = None;
    let mut share_files = Vec::new();
    let config_text = match root {
        RootChoice::File => {
            FileRootKey::create(&root_key_path(data_dir))?;
            DEFAULT_CONFIG.to_owned()
        }
        RootChoice::Pkcs11(section) => {
            let cfg = crate::root::pkcs11_config(section)?;
            let token = cfg.token_label.clone();
            let provider = tokio::task::spawn_blocking(move || Pkcs11RootKey::initialise(cfg))
                .await?
                .with_context(|| {
                    format!("cannot create the root keys in the HSM token {token:?}")
                })?;
            drop(provider);
            pkcs11_config_text(section)
        }
        RootChoice::Shamir { threshold, shares } => {
            let (provider, files) = crate::unseal::create_shamir(data_dir, *threshold, *shares)?;
            unsealed = Some(provider);
            share_files = files;
            DEFAULT_CONFIG.replace("provider = \"file\"", "provider = \"shamir\"")
        }
    };
    let config_text = match database_url {
        Some(url) => with_database_url(&config_text, url)?,
        None => config_text,
    };
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&config_file)
    {
        Ok(mut file) => file
            .write_all(config_text.as_bytes())
            .and_then(|()| file.sync_all())?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("cannot write {}", config_file.display())),
    }
    let dir = match unsealed {
        // Init runs unsealed in-process: it needs the keys for the system keys and the admin token.
        Some(provider) => open_with_root(data_dir, &config_file, provider).await?,
        None => open(data_dir, &config_file).await?,
    };
    let token = dir
        .services
        .tokens
        .issue(ADMIN_PROJECT, ADMIN_USER, &[Role::Admin], ttl)
        .await?;
    Ok((token, share_files))
}

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The configuration text with `[database] url` set to `url` (PostgreSQL).
fn with_database_url(config: &str, url: &str) -> anyhow::Result<String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        bail!("--database-url must be a postgres:// URL");
    }
    let line = config
        .lines()
        .find(|l| l.starts_with("# url = \"postgres://"))
        .context("the default configuration has no [database] url line")?;
    let quoted = toml::Value::String(url.to_owned()).to_string();
    Ok(config.replacen(line, &format!("url = {quoted}"), 1))
}

/// DEFAULT_CONFIG with its `[root_key]` section naming the token and the key labels.
fn pkcs11_config_text(section: &RootKeySection) -> String {
    let mut lines = vec![format!("provider = {}", quoted("pkcs11"))];
    if let Some(lib) = &section.library_path {
        lines.push(format!(
            "library_path = {}",
            quoted(&lib.display().to_string())
        ));
    }
    if let Some(label) = &section.token_label {
        lines.push(format!("token_label = {}", quoted(label)));
    }
    match &section.pin_file {
        Some(pin) => lines.push(format!("pin_file = {}", quoted(&pin.display().to_string()))),
        None => lines
            .push("# The PIN comes from ARCA_ROOT_KEY_PIN (or set pin_file, mode 0400).".into()),
    }
    lines.push(format!("mkek_label = {}", quoted(&section.mkek_label)));
    lines.push(format!("hmac_label = {}", quoted(&section.hmac_label)));
    lines.push(format!(
        "wrap_mechanism = {}",
        quoted(&section.wrap_mechanism)
    ));
    lines.push(format!(
        "hmac_mechanism = {}",
        quoted(&section.hmac_mechanism)
    ));
    lines.push(format!("pool_size = {}", section.pool_size));
    let mut out = String::new();
    let mut in_root = false;
    for line in DEFAULT_CONFIG.lines() {
        if line.starts_with('[') {
            in_root = line == "[root_key]";
        }
        if in_root && line == "provider = \"file\"" {
            for l in &lines {
                out.push_str(l);
                out.push('\n');
            }
            continue;
        }
        if in_root && line.starts_with("# ") && line.contains(" = ") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `--root shamir --shares N --threshold M`, checked; `None` for `--root file`.
fn shamir_choice(args: &InitArgs) -> anyhow::Result<Option<(u8, u8)>> {
    match (args.root.as_str(), args.threshold, args.shares) {
        ("shamir", Some(m), Some(n)) => {
            arca_core::check_threshold(m, n)?;
            Ok(Some((m, n)))
        }
        ("shamir", _, _) => {
            bail!("--root shamir needs --shares N and --threshold M (2 ≤ M ≤ N ≤ 16)")
        }
        (_, None, None) => Ok(None),
        _ => bail!("--shares and --threshold go with --root shamir"),
    }
}

pub async fn run(args: InitArgs) -> anyhow::Result<()> {
    let ttl = parse_duration(&args.ttl)?;
    let root = match (args.root.as_str(), shamir_choice(&args)?) {
        (_, Some((threshold, shares))) => RootChoice::Shamir { threshold, shares },
        ("pkcs11", None) => {
            let pin_file = args
                .pin_file
                .as_deref()
                .map(std::path::absolute)
                .transpose()
                .context("cannot resolve --pin-file")?;
            RootChoice::Pkcs11(Box::new(RootKeySection {
                provider: "pkcs11".into(),
                library_path: args.pkcs11_library.clone(),
                token_label: args.token_label.clone(),
                pin_file,
                mkek_label: args.mkek_label.clone(),
                hmac_label: args.hmac_label.clone(),
                ..RootKeySection::default()
            }))
        }
        _ => RootChoice::File,
    };
    let (token, share_files) =
        initialise_with(&args.data_dir, ttl, &root, args.database_url.as_deref()).await?;
    let dir = args.data_dir.display();
    match &root {
        RootChoice::Pkcs11(_) => println!(
            "initialised {dir}: root keys {}-v1 and {}-v1 in the HSM token {:?}, configuration {dir}/arca.toml",
            args.mkek_label,
            args.hmac_label,
            args.token_label.as_deref().unwrap_or_default()
        ),
        RootChoice::File => println!(
            "initialised {dir}: root key {dir}/root.key (mode 0400), configuration {dir}/arca.toml"
        ),
        RootChoice::Shamir {
            threshold: m,
            shares: n,
        } => {
            println!(
                "initialised {dir}: root keys sealed in {dir}/root.sealed (mode 0400), configuration \
                 {dir}/arca.toml"
            );
            println!("{n} unseal shares (mode 0400); any {m} of them unseal the server:");
            for file in &share_files {
                println!("  {}", file.display());
            }
            println!(
                "MOVE EACH SHARE TO ITS CUSTODIAN NOW and delete it from {dir}: a share left here defeats \
                 the split, and losing more than {} of them loses every secret. The server starts sealed; \
                 unseal it with `arca unseal --share FILE` ({m} custodians).",
                n - m
            );
        }
    }
    println!(
        "admin token (user {ADMIN_USER}, project {ADMIN_PROJECT}, role admin) expires {}:",
        token.expires_at
    );
    println!("{}", token.token.as_str());
    Ok(())
}
