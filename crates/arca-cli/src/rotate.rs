//! `arca root rotate` and `arca project rotate-kek`: key rotation on a data directory, offline or while a
//! server runs on it. Root rotation shows progress (a bar on a terminal, log lines otherwise) and prints what
//! it did; an interrupted run is finished by running it again. Project KEK rotation adds the version and leaves
//! the rewrap of old objects to the server (or does it now with `--rewrap`).

use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;

use crate::cli::{ProjectRotateKekArgs, RootRotateArgs};
use crate::open::{config_path, open};
use crate::progress::Progress;

/// `arca root rotate`.
pub async fn root(args: RootRotateArgs) -> anyhow::Result<()> {
    crate::serve::init_logging();
    let dir = open(&args.data_dir, &config_path(&args.data_dir)).await?;
    let shown: Mutex<Option<Progress>> = Mutex::new(None);
    let progress = |done: u64, total: u64| {
        let mut shown = shown
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bar = shown.get_or_insert_with(|| Progress::start("rewrapping keys", total));
        let seen = bar.done();
        bar.advance(done.saturating_sub(seen));
    };
    let rotation = dir.services.root_rotation();
    let result = rotation
        .run(args.batch, Duration::from_secs(args.settle), &progress)
        .await;
    if let Some(bar) = shown
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        bar.finish();
    }
    dir.services.audit.flush().await;
    let report =
        result.context("root key rotation did not finish; run `arca root rotate` again")?;
    let retired: Vec<String> = report.retired.iter().map(u32::to_string).collect();
    println!(
        "root key rotated to version {}{}: {} keys rewrapped, retired version(s) {}",
        report.to,
        if report.resumed {
            " (finished a pending rotation)"
        } else {
            ""
        },
        report.rewrapped,
        if retired.is_empty() {
            "none".into()
        } else {
            retired.join(", ")
        }
    );
    Ok(())
}

/// `arca project rotate-kek`.
pub async fn project_kek(args: ProjectRotateKekArgs) -> anyhow::Result<()> {
    let dir = open(&args.data_dir, &config_path(&args.data_dir)).await?;
    let project = args.project.trim();
    let rotation = dir.services.pkek_rotation();
    let version = rotation
        .rotate(project)
        .await
        .with_context(|| format!("cannot rotate the key of project {project}"))?;
    println!("project {project}: KEK version {version} is active");
    if args.rewrap {
        let mut total = 0;
        loop {
            let n = rotation.rewrap_pending(500, 100_000).await?;
            total += n;
            if n == 0 {
                break;
            }
        }
        println!("re-sealed {total} objects under version {version}");
    } else {
        println!("a running server re-seals the project's older objects in the background");
    }
    dir.services.audit.flush().await;
    Ok(())
}
