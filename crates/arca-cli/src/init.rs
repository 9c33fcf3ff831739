//! `arca init`: creates a data directory (mode 0700) holding a fresh root key (mode 0400, under umask 077),
//! `arca.toml`, the database with its system keys, and an admin principal whose token is printed last. With
//! `--root shamir` the root key is sealed under an unseal key split into share files (`unseal.rs`).

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use arca_core::{FileRootKey, IssuedToken, Role, root_key_path, root_sealed_path};
use nix::sys::stat::{Mode, umask};

use crate::cli::InitArgs;
use crate::config::DEFAULT_CONFIG;
use crate::duration::parse_duration;
use crate::open::{config_path, open, open_with_root};

/// The admin principal `init` creates.
pub const ADMIN_PROJECT: &str = "admin";
/// The admin user `init` creates.
pub const ADMIN_USER: &str = "admin";

/// Creates everything in `data_dir` and returns the admin's token.
pub async fn initialise(data_dir: &Path, ttl: time::Duration) -> anyhow::Result<IssuedToken> {
    initialise_with(data_dir, ttl, None)
        .await
        .map(|(token, _)| token)
}

/// As `initialise`; with `shamir = Some((M, N))` the root of trust is Shamir custody (`DIR/root.sealed`) and
/// the N share files written are returned with the token.
async fn initialise_with(
    data_dir: &Path,
    ttl: time::Duration,
    shamir: Option<(u8, u8)>,
) -> anyhow::Result<(IssuedToken, Vec<PathBuf>)> {
    umask(Mode::from_bits_truncate(0o077));
    if let Some((m, n)) = shamir {
        arca_core::check_threshold(m, n)?;
    }
    for existing in [root_key_path(data_dir), root_sealed_path(data_dir)] {
        if existing.exists() {
            bail!(
                "{} already exists: refusing to overwrite a root key",
                existing.display()
            );
        }
    }
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot restrict {} to mode 0700", data_dir.display()))?;
    let (shamir_root, share_files) = match shamir {
        None => {
            FileRootKey::create(&root_key_path(data_dir))?;
            (None, Vec::new())
        }
        Some((m, n)) => {
            let (root, files) = crate::unseal::create_shamir(data_dir, m, n)?;
            (Some(root), files)
        }
    };
    let config_text = match shamir {
        None => DEFAULT_CONFIG.to_owned(),
        Some(_) => DEFAULT_CONFIG.replace("provider = \"file\"", "provider = \"shamir\""),
    };
    let config_file = config_path(data_dir);
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
    let dir = match shamir_root {
        // Init runs unsealed in-process: it needs the keys for the system keys and the admin token.
        Some(root) => open_with_root(data_dir, &config_file, root).await?,
        None => open(data_dir, &config_file).await?,
    };
    let token = dir
        .services
        .tokens
        .issue(ADMIN_PROJECT, ADMIN_USER, &[Role::Admin], ttl)
        .await?;
    Ok((token, share_files))
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
    let shamir = shamir_choice(&args)?;
    let (token, share_files) = initialise_with(&args.data_dir, ttl, shamir).await?;
    let dir = args.data_dir.display();
    match shamir {
        None => println!(
            "initialised {dir}: root key {dir}/root.key (mode 0400), configuration {dir}/arca.toml"
        ),
        Some((m, n)) => {
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
