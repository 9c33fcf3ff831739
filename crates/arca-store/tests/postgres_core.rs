//! The PostgreSQL store's core methods against a real PostgreSQL 15 started by `TempPostgres` (one server per
//! test): system keys, KEKs, tokens, secrets with payloads and metadata, the secrets list (the shared cases of
//! `list_cases`), expiry queries, containers and their consumers, secret consumers, secret stores, ACLs, quotas
//! (exact under concurrent inserts from two stores), orders, the audited insert, migrations run twice and
//! concurrently, two stores on one database, and an outage (a prompt "database unavailable", then recovery).

mod common;
mod list_cases;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arca_core::{
    Acl, AclChange, AclFields, AclTarget, AuditSealer, AuditedWrite, ContainerConsumer,
    ContainerQuery, ContainerRecord, ContainerSecretRef, ContainerType, OrderRecord, OrderStatus,
    OrderType, ProjectQuotas, ProjectQuotasRecord, QuotaCheck, QuotaResource, SecretConsumer,
    SecretQuery, SecretType, Store,
};
use arca_store::postgres_testing::TempPostgres;
use arca_store::{PostgresOptions, PostgresStore};
use common::*;
use uuid::Uuid;

/// A server and a store on its `postgres` database.
async fn pg_store() -> (TempPostgres, PostgresStore) {
    let pg = TempPostgres::new();
    let store = PostgresStore::connect(&pg.url(), PostgresOptions::default())
        .await
        .expect("connect");
    (pg, store)
}

fn unlimited(resource: QuotaResource) -> QuotaCheck {
    QuotaCheck {
        resource,
        default: -1,
    }
}

fn limit(resource: QuotaResource, default: i64) -> QuotaCheck {
    QuotaCheck { resource, default }
}

fn container(project: &str, created: i64, refs: &[(Option<&str>, Uuid)]) -> ContainerRecord {
    ContainerRecord {
        id: Uuid::now_v7(),
        project_id: project.to_owned(),
        creator_id: "alice".to_owned(),
        name: Some(format!("c{created}")),
        container_type: ContainerType::Generic,
        created: at(created),
        updated: at(created),
        secret_refs: refs
            .iter()
            .map(|(name, secret_id)| ContainerSecretRef {
                name: name.map(str::to_owned),
                secret_id: *secret_id,
            })
            .collect(),
        consumers: Vec::new(),
    }
}

fn order(project: &str, created: i64) -> OrderRecord {
    OrderRecord {
        id: Uuid::now_v7(),
        project_id: project.to_owned(),
        creator_id: "alice".to_owned(),
        order_type: OrderType::Key,
        status: OrderStatus::Pending,
        meta: "{\"algorithm\":\"aes\"}".to_owned(),
        secret_id: None,
        container_id: None,
        error_status_code: None,
        error_reason: None,
        sub_status: None,
        sub_status_message: None,
        created: at(created),
        updated: at(created),
    }
}

fn secret_consumer(project: &str, resource_id: &str, created: i64) -> SecretConsumer {
    SecretConsumer {
        service: "nova".to_owned(),
        resource_type: "instance".to_owned(),
        resource_id: resource_id.to_owned(),
        project_id: project.to_owned(),
        created: at(created),
        updated: at(created),
    }
}

fn container_consumer(project: &str, name: &str, created: i64) -> ContainerConsumer {
    ContainerConsumer {
        name: name.to_owned(),
        url: format!("https://lb/{name}"),
        project_id: project.to_owned(),
        created: at(created),
        updated: at(created),
    }
}

// --- the shared list cases ---

macro_rules! list_case {
    ($name:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let (_pg, store) = pg_store().await;
            list_cases::$name(&store).await;
        }
    };
}

list_case!(default_order_is_newest_first_within_the_project);
list_case!(expired_secrets_are_excluded);
list_case!(exact_filters);
list_case!(time_filters_with_each_comparison);
list_case!(multi_key_sorts);
list_case!(limit_offset_and_total);
list_case!(pagination_is_stable_across_equal_sort_keys);

// --- schema and nodes ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_idempotent_and_serialised_between_nodes() {
    let pg = TempPostgres::new();
    let url = pg.create_database("nodes");
    // Two nodes starting together on an empty database: one migrates, the other waits and finds it done.
    let (a, b) = tokio::join!(
        PostgresStore::connect(&url, PostgresOptions::default()),
        PostgresStore::connect(&url, PostgresOptions::default())
    );
    let (a, b) = (a.expect("node a"), b.expect("node b"));
    // A third connect re-applies nothing.
    let c = PostgresStore::connect(&url, PostgresOptions::default())
        .await
        .expect("node c");
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM schema_version ORDER BY version")
            .fetch_all(c.pool())
            .await
            .unwrap();
    assert_eq!(versions, (1..=versions.len() as i64).collect::<Vec<_>>());
    assert!(versions.len() >= 2, "core and audit/KMS migrations");

    // Each node sees the other's writes at once: nothing is cached.
    let mut s = secret("p", 1);
    s.content_type = Some("text/plain".into());
    a.insert_secret(&s, Some(&payload(b"ct", "text/plain")))
        .await
        .unwrap();
    assert_eq!(b.get_secret(s.id).await.unwrap(), Some(s.clone()));
    assert!(b.delete_secret(s.id).await.unwrap());
    assert_eq!(a.get_secret(s.id).await.unwrap(), None);
    assert!(a.insert_kek(&kek("p", 1, 1)).await.unwrap());
    assert!(
        !b.insert_kek(&kek("p", 1, 2)).await.unwrap(),
        "the first node's KEK wins"
    );
    assert_eq!(b.get_active_kek("p").await.unwrap(), Some(kek("p", 1, 1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_reported_promptly_as_unavailable_and_recovers() {
    let (pg, store) = pg_store().await;
    let store = {
        drop(store);
        PostgresStore::connect(
            &pg.url(),
            PostgresOptions {
                acquire_timeout: Duration::from_secs(2),
                ..PostgresOptions::default()
            },
        )
        .await
        .unwrap()
    };
    let s = secret("p", 1);
    store.insert_secret(&s, None).await.unwrap();

    pg.stop();
    let started = Instant::now();
    let e = store
        .get_secret(s.id)
        .await
        .expect_err("the database is down");
    assert!(e.is_unavailable(), "{e}");
    assert!(e.to_string().contains("database unavailable"), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "no hang beyond the acquire timeout: {:?}",
        started.elapsed()
    );
    let e = store
        .insert_secret(&secret("p", 2), None)
        .await
        .expect_err("down");
    assert!(e.is_unavailable(), "{e}");

    pg.start();
    // The pool reconnects by itself.
    assert_eq!(store.get_secret(s.id).await.unwrap(), Some(s));

    // A connect while the server is down fails as unavailable, within the connect timeout.
    pg.stop();
    let started = Instant::now();
    let e = PostgresStore::connect(
        &pg.url(),
        PostgresOptions {
            acquire_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(2),
            ..PostgresOptions::default()
        },
    )
    .await
    .expect_err("down");
    assert!(e.is_unavailable(), "{e}");
    assert!(started.elapsed() < Duration::from_secs(4));
}

// --- keys and tokens ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_keys_keks_and_tokens() {
    let (_pg, store) = pg_store().await;
    assert_eq!(store.get_system_key("audit").await.unwrap(), None);
    assert!(store.insert_system_key("audit", &wrapped(1)).await.unwrap());
    assert!(!store.insert_system_key("audit", &wrapped(2)).await.unwrap());
    assert_eq!(
        store.get_system_key("audit").await.unwrap(),
        Some(wrapped(1))
    );

    assert_eq!(store.get_active_kek("p1").await.unwrap(), None);
    assert!(store.insert_kek(&kek("p1", 1, 1)).await.unwrap());
    assert!(store.insert_kek(&kek("p1", 2, 2)).await.unwrap());
    assert!(store.insert_kek(&kek("p2", 1, 3)).await.unwrap());
    assert!(!store.insert_kek(&kek("p1", 2, 9)).await.unwrap());
    assert_eq!(
        store.get_active_kek("p1").await.unwrap(),
        Some(kek("p1", 2, 2))
    );
    assert_eq!(store.get_kek("p1", 1).await.unwrap(), Some(kek("p1", 1, 1)));
    assert_eq!(store.get_kek("p1", 3).await.unwrap(), None);
    let created: i64 = sqlx::query_scalar(
        "SELECT created FROM project_keks WHERE project_id = 'p1' AND pkek_version = 2",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert!(created > 0, "a KEK records when it was added");

    let t = token("tok1");
    store.insert_token(&t).await.unwrap();
    assert!(store.insert_token(&t).await.is_err(), "ids are unique");
    assert_eq!(store.get_token("tok1").await.unwrap(), Some(t.clone()));
    assert!(store.revoke_token("tok1").await.unwrap());
    assert!(!store.revoke_token("nope").await.unwrap());
    assert!(store.get_token("tok1").await.unwrap().unwrap().revoked);
    assert_eq!(store.get_token("nope").await.unwrap(), None);
    let mut bad = token("tok2");
    bad.roles = vec!["a,b".into()];
    assert!(store.insert_token(&bad).await.is_err());
}

// --- secrets, payloads, metadata, expiry ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_payloads_and_metadata() {
    let (_pg, store) = pg_store().await;
    // Full precision round trip, with every optional field.
    let mut s = secret("p", 1);
    s.name = Some("n".into());
    s.algorithm = Some("aes".into());
    s.bit_length = Some(256);
    s.mode = Some("gcm".into());
    s.secret_type = SecretType::Symmetric;
    s.expiration = Some(at(1000));
    s.content_type = Some("application/octet-stream".into());
    let p = payload(&[0, 1, 2, 255], "application/octet-stream");
    store.insert_secret(&s, Some(&p)).await.unwrap();
    assert_eq!(store.get_secret(s.id).await.unwrap(), Some(s.clone()));
    assert_eq!(store.get_payload(s.id).await.unwrap(), Some(p.clone()));
    assert_eq!(
        store.get_secret_with_payload(s.id).await.unwrap(),
        Some((s.clone(), Some(p.clone())))
    );
    assert!(
        store.insert_secret(&s, None).await.is_err(),
        "ids are unique"
    );

    // PostgreSQL text cannot hold U+0000 (SQLite's can): refused as the caller's value (a 400), not a failure.
    let mut nul = secret("p", 3);
    nul.name = Some("a\0b".into());
    let e = store.insert_secret(&nul, None).await.unwrap_err();
    assert!(e.is_unstorable(), "{e}");
    assert_eq!(store.get_secret(nul.id).await.unwrap(), None);

    // Content type from the payload when the record has none; attach once.
    let bare = secret("p", 2);
    store.insert_secret(&bare, None).await.unwrap();
    assert_eq!(
        store.get_secret_with_payload(bare.id).await.unwrap(),
        Some((bare.clone(), None))
    );
    assert_eq!(store.get_payload(bare.id).await.unwrap(), None);
    let p2 = payload(b"hello", "text/plain");
    assert!(store.attach_payload(bare.id, &p2, at(50)).await.unwrap());
    assert!(!store.attach_payload(bare.id, &p2, at(51)).await.unwrap());
    assert!(
        !store
            .attach_payload(Uuid::now_v7(), &p2, at(51))
            .await
            .unwrap()
    );
    let got = store.get_secret(bare.id).await.unwrap().unwrap();
    assert_eq!(
        (got.updated, got.content_type.as_deref()),
        (at(50), Some("text/plain"))
    );
    let from_payload = secret("p", 3);
    store
        .insert_secret(&from_payload, Some(&payload(b"x", "text/plain")))
        .await
        .unwrap();
    assert_eq!(
        store
            .get_secret(from_payload.id)
            .await
            .unwrap()
            .unwrap()
            .content_type
            .as_deref(),
        Some("text/plain")
    );

    // Metadata.
    assert!(store.get_secret_metadata(s.id).await.unwrap().is_empty());
    let md: BTreeMap<String, String> = [
        ("a".to_owned(), "1".to_owned()),
        ("b".to_owned(), "2".to_owned()),
    ]
    .into();
    store.replace_secret_metadata(s.id, &md).await.unwrap();
    assert_eq!(store.get_secret_metadata(s.id).await.unwrap(), md);
    assert!(store.insert_secret_metadatum(s.id, "c", "3").await.unwrap());
    assert!(!store.insert_secret_metadatum(s.id, "c", "4").await.unwrap());
    assert!(store.update_secret_metadatum(s.id, "c", "5").await.unwrap());
    assert!(
        !store
            .update_secret_metadatum(s.id, "zz", "5")
            .await
            .unwrap()
    );
    assert!(store.delete_secret_metadatum(s.id, "a").await.unwrap());
    assert!(!store.delete_secret_metadatum(s.id, "a").await.unwrap());
    let expect: BTreeMap<String, String> = [
        ("b".to_owned(), "2".to_owned()),
        ("c".to_owned(), "5".to_owned()),
    ]
    .into();
    assert_eq!(store.get_secret_metadata(s.id).await.unwrap(), expect);
    store
        .replace_secret_metadata(s.id, &BTreeMap::new())
        .await
        .unwrap();
    assert!(store.get_secret_metadata(s.id).await.unwrap().is_empty());
    let ghost = Uuid::now_v7();
    assert!(store.replace_secret_metadata(ghost, &md).await.is_err());
    assert!(
        store
            .insert_secret_metadatum(ghost, "a", "1")
            .await
            .is_err()
    );

    // Delete cascades to the payload and metadata.
    store.insert_secret_metadatum(s.id, "k", "v").await.unwrap();
    assert!(store.delete_secret(s.id).await.unwrap());
    assert!(!store.delete_secret(s.id).await.unwrap());
    assert_eq!(store.get_payload(s.id).await.unwrap(), None);
    assert!(store.get_secret_metadata(s.id).await.unwrap().is_empty());
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM secret_payloads")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(left, 2);

    // Instants an i64 of nanoseconds cannot hold are refused, not truncated.
    let mut far = secret("p", 0);
    far.created = time::macros::datetime!(2300-01-01 0:00 UTC);
    assert!(store.insert_secret(&far, None).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_rows_are_errors_not_panics() {
    let (_pg, store) = pg_store().await;
    let s = secret("p", 1);
    store.insert_secret(&s, None).await.unwrap();
    sqlx::query("UPDATE secrets SET secret_type = 'bogus'")
        .execute(store.pool())
        .await
        .unwrap();
    assert!(store.get_secret(s.id).await.is_err());
    assert!(
        store
            .list_secrets(&SecretQuery::for_project("p", at(0), 10, 0))
            .await
            .is_err()
    );
    sqlx::query(
        "INSERT INTO project_keks (project_id, pkek_version, rk_version, wrap_alg, wrapped, mac) \
                 VALUES ('p', 1, -1, 1, '\\x00', '\\x00')",
    )
    .execute(store.pool())
    .await
    .unwrap();
    assert!(store.get_active_kek("p").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_queries() {
    let (_pg, store) = pg_store().await;
    let mut made = Vec::new();
    for (i, expires, kind) in [
        (0, Some(10), SecretType::Opaque),
        (1, Some(20), SecretType::Certificate),
        (2, Some(30), SecretType::Certificate),
        (3, None, SecretType::Opaque),
        (4, None, SecretType::Symmetric),
        (5, Some(5), SecretType::Opaque),
    ] {
        let mut s = secret(if i % 2 == 0 { "p" } else { "q" }, i);
        s.expiration = expires.map(at);
        s.secret_type = kind;
        store.insert_secret(&s, None).await.unwrap();
        made.push(s);
    }
    let counts = store.secret_expiry_counts(at(5), at(20)).await.unwrap();
    assert_eq!(
        (
            counts.expiring,
            counts.without_expiration,
            counts.certificates_expiring
        ),
        (2, 2, 1)
    );
    let soon: Vec<Uuid> = store
        .secrets_expiring_before(at(20))
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(soon, vec![made[5].id, made[0].id, made[1].id]);
    let never: Vec<Uuid> = store
        .secrets_without_expiration()
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(never, vec![made[3].id, made[4].id]);
}

// --- containers and consumers ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containers_with_references_quota_and_paging() {
    let (_pg, store) = pg_store().await;
    let a = secret("p", 1);
    let b = secret("p", 2);
    store.insert_secret(&a, None).await.unwrap();
    store.insert_secret(&b, None).await.unwrap();
    let quota2 = limit(QuotaResource::Containers, 2);

    let mut c1 = container(
        "p",
        1,
        &[(Some("one"), a.id), (None, b.id), (Some("again"), a.id)],
    );
    c1.name = Some("Web Certs".into());
    assert!(store.insert_container(&c1, quota2).await.unwrap());
    assert_eq!(store.get_container(c1.id).await.unwrap(), Some(c1.clone()));
    // A reference to a secret that does not exist: nothing written.
    let ghost = container("p", 2, &[(None, Uuid::now_v7())]);
    assert!(!store.insert_container(&ghost, quota2).await.unwrap());
    assert_eq!(store.get_container(ghost.id).await.unwrap(), None);
    let mut c2 = container("p", 2, &[]);
    c2.container_type = ContainerType::Rsa;
    assert!(store.insert_container(&c2, quota2).await.unwrap());
    assert!(
        !store
            .insert_container(&container("p", 3, &[]), quota2)
            .await
            .unwrap(),
        "at the quota"
    );
    let c3 = container("q", 3, &[]);
    assert!(
        store.insert_container(&c3, quota2).await.unwrap(),
        "another project"
    );

    // List: oldest first, name LIKE (case-insensitive, `_`/`%` wildcards), type, paging with the total.
    let q =
        |name: Option<&str>, kind: Option<ContainerType>, limit: u32, offset: u32| ContainerQuery {
            project_id: "p".into(),
            name: name.map(str::to_owned),
            container_type: kind,
            limit,
            offset,
        };
    let page = store.list_containers(&q(None, None, 10, 0)).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.containers, vec![c1.clone(), c2.clone()]);
    let page = store.list_containers(&q(None, None, 1, 1)).await.unwrap();
    assert_eq!((page.total, page.containers), (2, vec![c2.clone()]));
    let page = store
        .list_containers(&q(Some("web%"), None, 10, 0))
        .await
        .unwrap();
    assert_eq!((page.total, page.containers.len()), (1, 1));
    let page = store
        .list_containers(&q(Some("web_certs"), None, 10, 0))
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    let page = store
        .list_containers(&q(None, Some(ContainerType::Rsa), 10, 0))
        .await
        .unwrap();
    assert_eq!(page.containers, vec![c2.clone()]);

    // References: add (stamps `updated`), duplicates refused, remove.
    let r = ContainerSecretRef {
        name: Some("b".into()),
        secret_id: b.id,
    };
    assert!(store.add_container_secret(c2.id, &r, at(40)).await.unwrap());
    assert!(!store.add_container_secret(c2.id, &r, at(41)).await.unwrap());
    let gone = ContainerSecretRef {
        name: None,
        secret_id: Uuid::now_v7(),
    };
    assert!(
        !store
            .add_container_secret(c2.id, &gone, at(41))
            .await
            .unwrap()
    );
    assert!(
        !store
            .add_container_secret(Uuid::now_v7(), &r, at(41))
            .await
            .unwrap()
    );
    let got = store.get_container(c2.id).await.unwrap().unwrap();
    assert_eq!((got.updated, got.secret_refs), (at(40), vec![r.clone()]));
    let unnamed = ContainerSecretRef {
        name: None,
        secret_id: b.id,
    };
    assert!(
        store
            .remove_container_secret(c1.id, &unnamed, at(42))
            .await
            .unwrap()
    );
    assert!(
        !store
            .remove_container_secret(c1.id, &unnamed, at(43))
            .await
            .unwrap()
    );
    let got = store.get_container(c1.id).await.unwrap().unwrap();
    assert_eq!(got.updated, at(42));
    assert_eq!(got.secret_refs.len(), 2);

    // Deleting a secret removes it from every container; deleting a container cascades.
    assert!(store.delete_secret(a.id).await.unwrap());
    assert!(
        store
            .get_container(c1.id)
            .await
            .unwrap()
            .unwrap()
            .secret_refs
            .is_empty()
    );
    assert!(store.delete_container(c1.id).await.unwrap());
    assert!(!store.delete_container(c1.id).await.unwrap());
    assert_eq!(store.get_container(c1.id).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn container_consumers_are_idempotent_and_quota_checked() {
    let (_pg, store) = pg_store().await;
    let c = container("p", 1, &[]);
    assert!(
        store
            .insert_container(&c, unlimited(QuotaResource::Containers))
            .await
            .unwrap()
    );
    let two = limit(QuotaResource::Consumers, 2);
    let x = container_consumer("cp", "x", 5);
    assert!(
        store
            .upsert_container_consumer(c.id, &x, two)
            .await
            .unwrap()
    );
    let again = ContainerConsumer {
        updated: at(99),
        ..x.clone()
    };
    assert!(
        store
            .upsert_container_consumer(c.id, &again, two)
            .await
            .unwrap(),
        "idempotent"
    );
    assert!(
        store
            .upsert_container_consumer(c.id, &container_consumer("cp", "a", 6), two)
            .await
            .unwrap()
    );
    assert!(
        !store
            .upsert_container_consumer(c.id, &container_consumer("cp", "b", 7), two)
            .await
            .unwrap(),
        "at the consumers quota"
    );
    assert!(
        store
            .upsert_container_consumer(c.id, &x, two)
            .await
            .unwrap(),
        "an existing consumer is admitted at the quota"
    );
    assert!(
        !store
            .upsert_container_consumer(Uuid::now_v7(), &container_consumer("other", "z", 1), two)
            .await
            .unwrap(),
        "container gone"
    );
    let got = store.get_container(c.id).await.unwrap().unwrap();
    assert_eq!(got.updated, at(6), "a new consumer stamps the container");
    assert_eq!(
        got.consumers,
        vec![x.clone(), container_consumer("cp", "a", 6)]
    );
    let page = store.list_container_consumers(c.id, 1, 0).await.unwrap();
    assert_eq!(
        (page.total, page.consumers),
        (2, vec![container_consumer("cp", "a", 6)])
    );
    assert!(
        store
            .delete_container_consumer(c.id, "x", &x.url)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_container_consumer(c.id, "x", &x.url)
            .await
            .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_consumers() {
    let (_pg, store) = pg_store().await;
    let s = secret("p", 1);
    let t = secret("p", 2);
    store.insert_secret(&s, None).await.unwrap();
    store.insert_secret(&t, None).await.unwrap();
    let two = limit(QuotaResource::Consumers, 2);
    let c1 = secret_consumer("cp", "vm1", 10);
    let c2 = secret_consumer("cp", "vm2", 11);
    assert!(store.upsert_secret_consumer(s.id, &c1, two).await.unwrap());
    assert!(store.upsert_secret_consumer(s.id, &c1, two).await.unwrap());
    assert!(store.upsert_secret_consumer(t.id, &c2, two).await.unwrap());
    assert!(
        !store
            .upsert_secret_consumer(s.id, &secret_consumer("cp", "vm3", 12), two)
            .await
            .unwrap()
    );
    assert!(
        !store
            .upsert_secret_consumer(Uuid::now_v7(), &secret_consumer("o", "vm", 1), two)
            .await
            .unwrap()
    );
    assert_eq!(
        store.get_secret(s.id).await.unwrap().unwrap().updated,
        at(10)
    );
    let page = store.list_secret_consumers(s.id, 10, 0).await.unwrap();
    assert_eq!((page.total, page.consumers), (1, vec![c1.clone()]));
    let of = store
        .secret_consumers_of(&[s.id, t.id, Uuid::now_v7()])
        .await
        .unwrap();
    assert_eq!(of.len(), 2);
    assert_eq!(of[&t.id], vec![c2.clone()]);
    assert!(store.secret_consumers_of(&[]).await.unwrap().is_empty());
    assert!(
        store
            .delete_secret_consumer(s.id, "nova", "instance", "vm1")
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_secret_consumer(s.id, "nova", "instance", "vm1")
            .await
            .unwrap()
    );
}

// --- secret stores and ACLs ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_stores_and_preferred() {
    let (_pg, store) = pg_store().await;
    let stores = store.list_secret_stores().await.unwrap();
    assert_eq!(stores.len(), 1);
    assert!(stores[0].global_default);
    assert_eq!(stores[0].store_plugin, "store_crypto");
    let id = stores[0].id;
    assert_eq!(store.get_preferred_secret_store("p").await.unwrap(), None);
    assert!(
        !store
            .set_preferred_secret_store("p", Uuid::now_v7(), at(1))
            .await
            .unwrap()
    );
    assert!(
        store
            .set_preferred_secret_store("p", id, at(1))
            .await
            .unwrap()
    );
    assert!(
        store
            .set_preferred_secret_store("p", id, at(2))
            .await
            .unwrap()
    );
    assert_eq!(
        store.get_preferred_secret_store("p").await.unwrap(),
        Some(id)
    );
    assert!(store.delete_preferred_secret_store("p").await.unwrap());
    assert!(!store.delete_preferred_secret_store("p").await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acls_on_secrets_and_containers() {
    let (_pg, store) = pg_store().await;
    let s = secret("p", 1);
    store.insert_secret(&s, None).await.unwrap();
    let c = container("p", 1, &[]);
    store
        .insert_container(&c, unlimited(QuotaResource::Containers))
        .await
        .unwrap();
    for (target, id) in [(AclTarget::Secret, s.id), (AclTarget::Container, c.id)] {
        assert_eq!(store.get_acl(target, id).await.unwrap(), None);
        let acl = Acl {
            project_access: false,
            users: vec!["zed".into(), "amy".into(), "zed".into(), "bob".into()],
            created: at(1),
            updated: at(1),
        };
        assert!(store.put_acl(target, id, &acl).await.unwrap());
        let got = store.get_acl(target, id).await.unwrap().unwrap();
        assert_eq!(
            got.users,
            vec!["zed", "amy", "bob"],
            "given order, duplicates dropped"
        );
        assert!(!got.project_access);
        assert!(!store.put_acl(target, Uuid::now_v7(), &acl).await.unwrap());

        // PATCH keeps what it does not name; PUT without `read` removes the ACL.
        let patch = AclChange {
            read: Some(AclFields {
                project_access: Some(true),
                users: None,
            }),
            replace: false,
        };
        assert!(store.change_acl(target, id, &patch, at(5)).await.unwrap());
        let got = store.get_acl(target, id).await.unwrap().unwrap();
        assert_eq!(
            (
                got.project_access,
                got.users.len(),
                got.created,
                got.updated
            ),
            (true, 3, at(1), at(5))
        );
        let put = AclChange {
            read: None,
            replace: true,
        };
        assert!(store.change_acl(target, id, &put, at(6)).await.unwrap());
        assert_eq!(store.get_acl(target, id).await.unwrap(), None);
        assert!(
            !store
                .change_acl(target, Uuid::now_v7(), &patch, at(6))
                .await
                .unwrap()
        );
        assert!(store.put_acl(target, id, &acl).await.unwrap());
        assert!(store.delete_acl(target, id).await.unwrap());
        assert!(!store.delete_acl(target, id).await.unwrap());
    }

    // `acl_only`: the secrets whose read ACL names the user, whatever their project.
    let other = secret("elsewhere", 2);
    store.insert_secret(&other, None).await.unwrap();
    let acl = Acl {
        project_access: true,
        users: vec!["amy".into()],
        created: at(1),
        updated: at(1),
    };
    store
        .put_acl(AclTarget::Secret, other.id, &acl)
        .await
        .unwrap();
    let mut q = SecretQuery::for_project("p", at(0), 10, 0);
    q.acl_user = Some("amy".into());
    let page = store.list_secrets(&q).await.unwrap();
    assert_eq!((page.total, page.secrets), (1, vec![other.clone()]));

    // Deleting the object removes its ACL.
    assert!(store.delete_secret(other.id).await.unwrap());
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM secret_acl_users")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
}

// --- quotas ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_quotas_crud_and_secret_quota() {
    let (_pg, store) = pg_store().await;
    assert_eq!(store.get_project_quotas("p").await.unwrap(), None);
    let rec = |project: &str, created: i64, secrets: Option<i64>| ProjectQuotasRecord {
        project_id: project.to_owned(),
        quotas: ProjectQuotas {
            secrets,
            orders: Some(5),
            containers: None,
            consumers: Some(-1),
            cas: Some(0),
        },
        created: at(created),
        updated: at(created),
    };
    store
        .set_project_quotas(&rec("p", 2, Some(2)))
        .await
        .unwrap();
    store.set_project_quotas(&rec("a", 1, None)).await.unwrap();
    assert_eq!(
        store.get_project_quotas("p").await.unwrap(),
        Some(rec("p", 2, Some(2)))
    );
    // Replacing keeps `created`.
    let mut replaced = rec("p", 9, Some(1));
    store.set_project_quotas(&replaced).await.unwrap();
    replaced.created = at(2);
    assert_eq!(store.get_project_quotas("p").await.unwrap(), Some(replaced));
    let page = store.list_project_quotas(1, 0).await.unwrap();
    assert_eq!((page.total, page.records[0].project_id.as_str()), (2, "a"));
    let page = store.list_project_quotas(10, 1).await.unwrap();
    assert_eq!(page.records.len(), 1);

    // The configured limit (1) wins over the default (10); negative is unlimited; NULL takes the default.
    let ten = limit(QuotaResource::Secrets, 10);
    assert!(
        store
            .insert_secret_within_quota(&secret("p", 1), None, ten)
            .await
            .unwrap()
    );
    assert!(
        !store
            .insert_secret_within_quota(&secret("p", 2), None, ten)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .list_secrets(&SecretQuery::for_project("p", at(0), 10, 0))
            .await
            .unwrap()
            .total,
        1
    );
    let zero = limit(QuotaResource::Secrets, 0);
    assert!(
        !store
            .insert_secret_within_quota(&secret("a", 1), None, zero)
            .await
            .unwrap()
    );
    assert!(
        store
            .insert_secret_within_quota(&secret("u", 1), None, unlimited(QuotaResource::Secrets))
            .await
            .unwrap()
    );
    assert!(store.delete_project_quotas("p").await.unwrap());
    assert!(!store.delete_project_quotas("p").await.unwrap());
    assert!(
        store
            .insert_secret_within_quota(&secret("p", 3), None, ten)
            .await
            .unwrap()
    );
}

/// 50 concurrent inserts into one project with a quota of 10, from two stores (two nodes) with several
/// connections each: exactly 10 land.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_secret_quota_holds_exactly_under_concurrent_inserts_from_two_nodes() {
    let (pg, a) = pg_store().await;
    let b = PostgresStore::connect(&pg.url(), PostgresOptions::default())
        .await
        .unwrap();
    let stores: [Arc<dyn Store>; 2] = [Arc::new(a), Arc::new(b.clone())];
    let ten = limit(QuotaResource::Secrets, 10);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let store = stores[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            store
                .insert_secret_within_quota(&secret("busy", i as i64), None, ten)
                .await
                .unwrap()
        }));
    }
    let mut admitted = 0;
    for task in tasks {
        if task.await.unwrap() {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 10);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM secrets WHERE project_id = 'busy'")
        .fetch_one(b.pool())
        .await
        .unwrap();
    assert_eq!(n, 10);

    // The same for containers, orders and consumers (one quota each), concurrently.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = stores[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            let c = container("busy", i as i64, &[]);
            let o = order("busy", i as i64);
            (
                store
                    .insert_container(&c, limit(QuotaResource::Containers, 3))
                    .await
                    .unwrap(),
                store
                    .insert_order(&o, limit(QuotaResource::Orders, 4))
                    .await
                    .unwrap(),
            )
        }));
    }
    let (mut containers, mut orders) = (0, 0);
    for task in tasks {
        let (c, o) = task.await.unwrap();
        containers += usize::from(c);
        orders += usize::from(o);
    }
    assert_eq!((containers, orders), (3, 4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audited_insert_shares_one_transaction() {
    let (_pg, store) = pg_store().await;
    let sealer: AuditSealer = Arc::new(|seq, prev_mac, event| {
        let mut mac = seq.to_be_bytes().to_vec();
        mac.extend_from_slice(&prev_mac[..prev_mac.len().min(4)]);
        mac.push(event.len() as u8);
        (1, mac)
    });
    let audited = |label: &str| AuditedWrite {
        accepted: format!("{{\"{label}\":\"accepted\"}}").into_bytes(),
        refused: format!("{{\"{label}\":\"refused\"}}").into_bytes(),
        sealer: sealer.clone(),
    };
    let one = limit(QuotaResource::Secrets, 1);
    let first = secret("p1", 1);
    let (inserted, record) = store
        .insert_secret_within_quota_audited(
            &first,
            Some(&payload(b"x", "text/plain")),
            one,
            audited("a"),
        )
        .await
        .unwrap();
    assert!(inserted);
    assert_eq!(
        (record.seq, record.event.as_slice()),
        (1, &b"{\"a\":\"accepted\"}"[..])
    );
    let second = secret("p1", 2);
    let (inserted, record) = store
        .insert_secret_within_quota_audited(&second, None, one, audited("b"))
        .await
        .unwrap();
    assert!(!inserted);
    assert_eq!(
        (record.seq, record.event.as_slice()),
        (2, &b"{\"b\":\"refused\"}"[..])
    );
    assert!(store.get_secret(second.id).await.unwrap().is_none());
    let records = store.audit_records().await.unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].prev_mac, records[0].mac);
}

// --- orders ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_lifecycle() {
    let (_pg, store) = pg_store().await;
    let two = limit(QuotaResource::Orders, 2);
    let o1 = order("p", 1);
    let o2 = order("p", 2);
    assert!(store.insert_order(&o1, two).await.unwrap());
    assert!(store.insert_order(&o2, two).await.unwrap());
    assert!(!store.insert_order(&order("p", 3), two).await.unwrap());
    assert_eq!(store.get_order(o1.id).await.unwrap(), Some(o1.clone()));
    let page = store.list_orders("p", 1, 1).await.unwrap();
    assert_eq!((page.total, page.orders), (2, vec![o2.clone()]));

    // Key order: the secret and ACTIVE together.
    let key = secret("p", 10);
    let p = payload(b"key", "application/octet-stream");
    assert!(
        store
            .complete_key_order(o1.id, &key, &p, at(20))
            .await
            .unwrap()
    );
    let done = store.get_order(o1.id).await.unwrap().unwrap();
    assert_eq!(
        (
            done.status,
            done.secret_id,
            done.sub_status.as_deref(),
            done.updated
        ),
        (OrderStatus::Active, Some(key.id), Some("Unknown"), at(20))
    );
    assert_eq!(store.get_payload(key.id).await.unwrap(), Some(p.clone()));
    let orphan = secret("p", 11);
    assert!(
        !store
            .complete_key_order(Uuid::now_v7(), &orphan, &p, at(20))
            .await
            .unwrap()
    );
    assert_eq!(store.get_secret(orphan.id).await.unwrap(), None);

    // Asymmetric order: secrets, container and ACTIVE together.
    let private = secret("p", 12);
    let public = secret("p", 13);
    let mut pair = container(
        "p",
        14,
        &[
            (Some("private_key"), private.id),
            (Some("public_key"), public.id),
        ],
    );
    pair.container_type = ContainerType::Rsa;
    let generated = vec![(private.clone(), p.clone()), (public.clone(), p.clone())];
    assert!(
        store
            .complete_asymmetric_order(o2.id, &generated, &pair, at(30))
            .await
            .unwrap()
    );
    let done = store.get_order(o2.id).await.unwrap().unwrap();
    assert_eq!(
        (done.status, done.container_id),
        (OrderStatus::Active, Some(pair.id))
    );
    assert_eq!(
        store.get_container(pair.id).await.unwrap(),
        Some(pair.clone())
    );

    // A container referencing a secret that is not there rolls everything back.
    let o3 = order("q", 1);
    store.insert_order(&o3, two).await.unwrap();
    let lone = secret("q", 1);
    let broken = container("q", 2, &[(None, lone.id), (None, Uuid::now_v7())]);
    assert!(
        store
            .complete_asymmetric_order(o3.id, &[(lone.clone(), p.clone())], &broken, at(40))
            .await
            .is_err()
    );
    assert_eq!(store.get_secret(lone.id).await.unwrap(), None);
    assert_eq!(
        store.get_order(o3.id).await.unwrap().unwrap().status,
        OrderStatus::Pending
    );

    // Failing.
    assert!(store.fail_order(o3.id, 500, "boom", at(50)).await.unwrap());
    assert!(
        !store
            .fail_order(Uuid::now_v7(), 500, "boom", at(50))
            .await
            .unwrap()
    );
    let failed = store.get_order(o3.id).await.unwrap().unwrap();
    assert_eq!(
        (
            failed.status,
            failed.error_status_code,
            failed.error_reason.as_deref()
        ),
        (OrderStatus::Error, Some(500), Some("boom"))
    );
    let o4 = order("q", 5);
    store.insert_order(&o4, two).await.unwrap();
    // An order created at or after the cutoff may be another node's, in progress: left alone.
    assert!(
        !store
            .fail_pending_orders(503, "restarted", at(5), at(60))
            .await
            .unwrap()
    );
    assert_eq!(
        store.get_order(o4.id).await.unwrap().unwrap().status,
        OrderStatus::Pending
    );
    assert!(
        store
            .fail_pending_orders(503, "restarted", at(6), at(60))
            .await
            .unwrap()
    );
    assert!(
        !store
            .fail_pending_orders(503, "restarted", at(61), at(61))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .get_order(o4.id)
            .await
            .unwrap()
            .unwrap()
            .error_status_code,
        Some(503)
    );
    assert!(store.delete_order(o4.id).await.unwrap());
    assert!(!store.delete_order(o4.id).await.unwrap());
}

/// Writes racing from two nodes on one object: references added to one container all land with distinct
/// positions, and concurrent ACL patches all apply (one ACL row, no error).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_changes_of_one_object_from_two_nodes() {
    let (pg, a) = pg_store().await;
    let b = PostgresStore::connect(&pg.url(), PostgresOptions::default())
        .await
        .unwrap();
    let stores: [Arc<dyn Store>; 2] = [Arc::new(a.clone()), Arc::new(b)];
    let c = container("p", 1, &[]);
    a.insert_container(&c, unlimited(QuotaResource::Containers))
        .await
        .unwrap();
    let s = secret("p", 1);
    a.insert_secret(&s, None).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = stores[i % 2].clone();
        let (cid, sid) = (c.id, s.id);
        tasks.push(tokio::spawn(async move {
            let r = ContainerSecretRef {
                name: Some(format!("n{i}")),
                secret_id: sid,
            };
            let added = store.add_container_secret(cid, &r, at(10)).await.unwrap();
            let patch = AclChange {
                read: Some(AclFields {
                    project_access: None,
                    users: None,
                }),
                replace: false,
            };
            let changed = store
                .change_acl(AclTarget::Secret, sid, &patch, at(i as i64))
                .await
                .unwrap();
            (added, changed)
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), (true, true));
    }
    let got = a.get_container(c.id).await.unwrap().unwrap();
    assert_eq!(got.secret_refs.len(), 20);
    let seqs: Vec<i64> = sqlx::query_scalar("SELECT seq FROM container_secrets ORDER BY seq")
        .fetch_all(a.pool())
        .await
        .unwrap();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    // Twenty PATCHes serialised on the secret's row: one ACL row, created by the first, updated by each.
    let acl = a.get_acl(AclTarget::Secret, s.id).await.unwrap().unwrap();
    assert!(acl.project_access && acl.users.is_empty());
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM secret_acls")
        .fetch_one(a.pool())
        .await
        .unwrap();
    assert_eq!(rows, 1);
}
