//! `arca token create`: issues an API token offline, on the data directory, and prints it as the last line.

use anyhow::{Context, bail};
use arca_core::Role;

use crate::cli::{TokenCreateArgs, TokenRevokeArgs};
use crate::duration::parse_duration;
use crate::open::{config_path, open};

/// Parses role names, refusing unknown ones (a typo would silently grant nothing).
pub fn parse_roles(names: &[String]) -> anyhow::Result<Vec<Role>> {
    let roles: Vec<Role> = names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .map(|n| Role::parse(n))
        .collect();
    if roles.is_empty() {
        bail!("--roles needs at least one role");
    }
    if let Some(Role::Other(name)) = roles.iter().find(|r| matches!(r, Role::Other(_))) {
        bail!(
            "unknown role {name:?}: use admin, creator, observer, audit or key-manager:service-admin"
        );
    }
    Ok(roles)
}

pub async fn create(args: TokenCreateArgs) -> anyhow::Result<()> {
    let roles = parse_roles(&args.roles)?;
    let ttl = parse_duration(&args.ttl)?;
    let dir = open(&args.data_dir, &config_path(&args.data_dir)).await?;
    let issued = dir
        .services
        .tokens
        .issue(&args.project, &args.user, &roles, ttl)
        .await
        .context("cannot issue the token")?;
    println!(
        "token id {} for user {} in project {}, expires {}",
        issued.id, args.user, args.project, issued.expires_at
    );
    println!("{}", issued.token.as_str());
    Ok(())
}

/// Revokes a token: refused by every server on this database once its token cache (`[auth] token_cache_ttl`)
/// has expired.
pub async fn revoke(args: TokenRevokeArgs) -> anyhow::Result<()> {
    let dir = open(&args.data_dir, &config_path(&args.data_dir)).await?;
    dir.services
        .tokens
        .revoke(args.id.trim())
        .await
        .with_context(|| format!("cannot revoke token {}", args.id.trim()))?;
    println!("revoked token {}", args.id.trim());
    Ok(())
}
