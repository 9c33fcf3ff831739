//! Shamir custody from the command line: `arca init --root shamir` writes the share files (mode 0400) through
//! `create_shamir`; `arca unseal --share FILE` gives one share to a running server (`ARCA_URL`) and prints the
//! progress; `arca seal` (`ARCA_URL`, `ARCA_TOKEN`, admin) seals it again.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use arca_core::{RootKeyProvider, ShamirRoot, root_sealed_path, share_path};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::cli::UnsealArgs;

/// Creates `DIR/root.sealed` and the share files `DIR/unseal-share-1..N` (mode 0400); returns the provider,
/// unsealed, and the files.
pub fn create_shamir(
    data_dir: &Path,
    threshold: u8,
    shares: u8,
) -> anyhow::Result<(Arc<dyn RootKeyProvider>, Vec<PathBuf>)> {
    let (root, made) = ShamirRoot::create(&root_sealed_path(data_dir), threshold, shares)?;
    let mut files = Vec::with_capacity(made.len());
    for share in &made {
        let path = share_path(data_dir, share.index);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o400)
            .open(&path)
            .with_context(|| format!("cannot create the share file {}", path.display()))?;
        file.write_all(share.to_text().as_bytes())
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write the share file {}", path.display()))?;
        files.push(path);
    }
    Ok((Arc::new(root), files))
}

fn base_url() -> String {
    std::env::var("ARCA_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:9311".into())
        .trim_end_matches('/')
        .to_owned()
}

/// The JSON body of a successful answer, or an error with the server's description.
async fn answer(response: reqwest::Response) -> anyhow::Result<Value> {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(body);
    }
    let description = body
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("no description");
    bail!("server answered {status}: {description}")
}

fn print_status(body: &Value) {
    let field = |name| body.get(name).and_then(Value::as_u64).unwrap_or(0);
    if body.get("sealed").and_then(Value::as_bool).unwrap_or(true) {
        println!(
            "sealed: {} of {} shares given (any {} of {} unseal)",
            field("progress"),
            field("t"),
            field("t"),
            field("n")
        );
    } else {
        println!("unsealed");
    }
}

pub async fn unseal(args: UnsealArgs) -> anyhow::Result<()> {
    let mut text = Zeroizing::new(String::new());
    if args.share.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the share from standard input")?;
    } else {
        std::fs::File::open(&args.share)
            .and_then(|mut f| f.read_to_string(&mut text))
            .with_context(|| format!("cannot read the share file {}", args.share.display()))?;
    }
    let body = Zeroizing::new(serde_json::json!({ "share": text.as_str() }).to_string());
    let response = reqwest::Client::new()
        .post(format!("{}/v1/sys/unseal", base_url()))
        .header("Content-Type", "application/json")
        .body(body.as_bytes().to_vec())
        .send()
        .await
        .context("cannot reach the server (ARCA_URL)")?;
    print_status(&answer(response).await?);
    Ok(())
}

pub async fn seal() -> anyhow::Result<()> {
    let token = std::env::var("ARCA_TOKEN").context("set ARCA_TOKEN to an admin token")?;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/sys/seal", base_url()))
        .header("X-Auth-Token", token)
        .send()
        .await
        .context("cannot reach the server (ARCA_URL)")?;
    print_status(&answer(response).await?);
    Ok(())
}
