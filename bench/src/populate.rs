//! Storing the population through the real API (concurrent POSTs), collecting the new secrets' ids.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};
use tokio::task::JoinSet;

/// Stores `count` 1 KiB secrets with `concurrency` requests in flight; returns their ids.
pub async fn store(
    url: &str,
    token: &str,
    count: u64,
    concurrency: u64,
) -> anyhow::Result<Vec<String>> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency as usize)
        .build()?;
    let body = Arc::new(crate::scenarios::store_body());
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..concurrency {
        let (client, body, next) = (client.clone(), body.clone(), next.clone());
        let (endpoint, token) = (format!("{url}/v1/secrets"), token.to_owned());
        tasks.spawn(async move {
            let mut ids = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < count {
                let response = client
                    .post(&endpoint)
                    .header("X-Auth-Token", &token)
                    .header("Content-Type", "application/json")
                    .body(body.as_str().to_owned())
                    .send()
                    .await?;
                if response.status().as_u16() != 201 {
                    bail!("store answered {}", response.status());
                }
                let created: serde_json::Value = response.json().await?;
                let reference = created["secret_ref"].as_str().context("no secret_ref")?;
                ids.push(reference.rsplit('/').next().unwrap_or_default().to_owned());
            }
            Ok::<_, anyhow::Error>(ids)
        });
    }
    let mut all = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    while let Some(joined) = tasks.join_next().await {
        all.extend(joined??);
    }
    Ok(all)
}
