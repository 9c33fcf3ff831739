//! Arca on PostgreSQL (`arca init --database-url`, `[database] url`, `ARCA_DATABASE_URL`): a data directory
//! whose data lives in a real PostgreSQL 15 serves secrets across restarts, and a password never lands in
//! arca.toml.

mod common;
use common::*;

use arca_store::postgres_testing::TempPostgres;

#[tokio::test(flavor = "multi_thread")]
async fn a_data_directory_on_postgresql_serves_across_restarts() {
    let pg = TempPostgres::new();
    let url = pg.create_database("arca_deploy");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let init = run(
        arca()
            .args(["init", "--data-dir"])
            .arg(&dir)
            .args(["--database-url", &url]),
        COMMAND_TIMEOUT,
    )
    .ok("arca init --database-url");
    let admin = init.last_line();
    let config = std::fs::read_to_string(dir.join("arca.toml")).unwrap();
    assert!(config.contains(&format!("url = \"{url}\"")), "{config}");
    assert!(
        !dir.join("arca.db").exists(),
        "no SQLite file when the data is in PostgreSQL"
    );

    let http = http();
    let mut server = Server::start(&dir);
    let id = secret_id(
        &store_text(&http, &server.url, &admin, "pg", "kept in postgres")
            .await
            .unwrap(),
    );
    server.stop();
    let server = Server::start(&dir);
    let (status, body) = get_payload(&http, &server.url, &admin, &id).await;
    assert_eq!((status, body.as_slice()), (200, &b"kept in postgres"[..]));
    drop(server);
    let verify = run(
        arca().args(["audit", "verify", "--data-dir"]).arg(&dir),
        COMMAND_TIMEOUT,
    );
    assert!(verify.status.success(), "{}", verify.describe());

    // A password is refused in arca.toml and on the command line; the environment may carry it.
    let with_password = url.replacen("arca@", "arca:hunter2@", 1);
    let refused = run(
        arca()
            .args(["init", "--data-dir"])
            .arg(tmp.path().join("other"))
            .args(["--database-url", &with_password]),
        COMMAND_TIMEOUT,
    );
    assert!(!refused.status.success());
    assert!(
        refused.stderr.contains("ARCA_DATABASE_URL"),
        "{}",
        refused.describe()
    );
    assert!(!refused.describe().contains("hunter2"));
    let edited = config.replace(&url, &with_password);
    std::fs::write(dir.join("arca.toml"), edited).unwrap();
    let refused = run(
        arca()
            .args(["secret-store", "list", "--data-dir"])
            .arg(&dir),
        COMMAND_TIMEOUT,
    );
    assert!(!refused.status.success());
    assert!(
        refused.stderr.contains("carries a password"),
        "{}",
        refused.describe()
    );
    assert!(
        !refused.stderr.contains("hunter2"),
        "{}",
        refused.describe()
    );
    std::fs::write(dir.join("arca.toml"), &config).unwrap();
    // The same URL with a password through the environment works (trust authentication ignores it).
    let listed = run(
        arca()
            .args(["secret-store", "list", "--data-dir"])
            .arg(&dir)
            .env("ARCA_DATABASE_URL", &with_password),
        COMMAND_TIMEOUT,
    )
    .ok("arca secret-store list with ARCA_DATABASE_URL");
    assert!(
        listed.stdout_str().contains("payloads=1"),
        "{}",
        listed.describe()
    );
}
