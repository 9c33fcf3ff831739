//! `arca init`: creates a data directory (mode 0700) holding a fresh root key (mode 0400, under umask 077),
//! `arca.toml`, the database with its system keys, and an admin principal whose token is printed last.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, bail};
use arca_core::{FileRootKey, IssuedToken, Role, root_key_path};
use nix::sys::stat::{Mode, umask};

use crate::cli::InitArgs;
use crate::config::DEFAULT_CONFIG;
use crate::duration::parse_duration;
use crate::open::{config_path, open};

/// The admin principal `init` creates.
pub const ADMIN_PROJECT: &str = "admin";
/// The admin user `init` creates.
pub const ADMIN_USER: &str = "admin";

/// Creates everything in `data_dir` and returns the admin's token.
pub async fn initialise(data_dir: &Path, ttl: time::Duration) -> anyhow::Result<IssuedToken> {
    umask(Mode::from_bits_truncate(0o077));
    let root_key = root_key_path(data_dir);
    if root_key.exists() {
        bail!(
            "{} already exists: refusing to overwrite a root key",
            root_key.display()
        );
    }
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot restrict {} to mode 0700", data_dir.display()))?;
    FileRootKey::create(&root_key)?;
    let config_file = config_path(data_dir);
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&config_file)
    {
        Ok(mut file) => file
            .write_all(DEFAULT_CONFIG.as_bytes())
            .and_then(|()| file.sync_all())?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("cannot write {}", config_file.display())),
    }
    let dir = open(data_dir, &config_file).await?;
    let token = dir
        .services
        .tokens
        .issue(ADMIN_PROJECT, ADMIN_USER, &[Role::Admin], ttl)
        .await?;
    Ok(token)
}

pub async fn run(args: InitArgs) -> anyhow::Result<()> {
    let ttl = parse_duration(&args.ttl)?;
    let token = initialise(&args.data_dir, ttl).await?;
    let dir = args.data_dir.display();
    println!(
        "initialised {dir}: root key {dir}/root.key (mode 0400), configuration {dir}/arca.toml"
    );
    println!(
        "admin token (user {ADMIN_USER}, project {ADMIN_PROJECT}, role admin) expires {}:",
        token.expires_at
    );
    println!("{}", token.token.as_str());
    Ok(())
}
