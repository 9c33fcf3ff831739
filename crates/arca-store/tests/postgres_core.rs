//! The PostgreSQL store's core methods (keys, tokens, secrets, lists, metadata, containers, consumers, secret
//! stores, ACLs, quotas, orders) against a real PostgreSQL 15 started by `TempPostgres`; also migrations,
//! several stores on one database, quota exactness under concurrency and outages.

use arca_store::postgres_testing::TempPostgres;
use arca_store::{PostgresOptions, PostgresStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_idempotent() {
    let pg = TempPostgres::new();
    let url = pg.create_database("idem");
    let a = PostgresStore::connect(&url, PostgresOptions::default())
        .await
        .expect("first connect");
    let b = PostgresStore::connect(&url, PostgresOptions::default())
        .await
        .expect("second connect");
    let (va, vb): (i64, i64) = (
        sqlx::query_scalar("SELECT MAX(version) FROM schema_version")
            .fetch_one(a.pool())
            .await
            .expect("version"),
        sqlx::query_scalar("SELECT COUNT(*) FROM schema_version")
            .fetch_one(b.pool())
            .await
            .expect("count"),
    );
    assert!(va >= 1);
    assert_eq!(vb, va);
}
