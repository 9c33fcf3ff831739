//! `arca access-key create|revoke`: issues and revokes SigV4 access keys for the KMS API offline, on the data
//! directory. `create` prints the access key id and the secret access key, separated by one space, as its last
//! line (the secret is shown once; Arca keeps it sealed under the key hierarchy).

use anyhow::Context;

use crate::cli::{AccessKeyCreateArgs, AccessKeyRevokeArgs};
use crate::open::{config_path, open};
use crate::token::parse_roles;

pub async fn create(args: AccessKeyCreateArgs) -> anyhow::Result<()> {
    let roles = parse_roles(&args.roles)?;
    let dir = open(&args.data_dir, &config_path(&args.data_dir)).await?;
    let issued = dir
        .services
        .access_keys
        .create(&args.project, &args.user, &roles)
        .await
        .context("cannot issue the access key")?;
    println!(
        "access key {} for user {} in project {} (the secret is shown once)",
        issued.id, args.user, args.project
    );
    println!("{} {}", issued.id, issued.secret.as_str());
    Ok(())
}

pub async fn revoke(args: AccessKeyRevokeArgs) -> anyhow::Result<()> {
    let dir = open(&args.data_dir, &config_path(&args.data_dir)).await?;
    let id = args.id.trim();
    let known = dir
        .services
        .access_keys
        .revoke(id)
        .await
        .with_context(|| format!("cannot revoke access key {id}"))?;
    if !known {
        anyhow::bail!("no access key {id}");
    }
    println!("revoked access key {id}");
    Ok(())
}
