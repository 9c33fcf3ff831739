//! Quotas: `GET /v1/quotas`, `GET /v1/project-quotas`, `GET`/`PUT`/`DELETE /v1/project-quotas/{id}`, the
//! `[quotas]` defaults of `arca.toml`, and creations (secrets, orders, containers, container and secret consumers)
//! refused at a quota, also under concurrent requests.
//!
//! Reference: barbican/api/controllers/quotas.py (PUT and DELETE 204; 404 "Not Found. Sorry but your project quotas
//! are in another castle."), barbican/common/quota.py (resources secrets, orders, containers, consumers, cas;
//! configured values over defaults; negative unlimited, 0 disabled; `QuotaEnforcer` counts the project's rows),
//! barbican/common/exception.py `QuotaReached` (403, "Creation not allowed because a quota has been reached"),
//! barbican/common/validators.py `ProjectQuotaValidator`, barbican/common/policies/quotas.py (legacy: `quotas:get`
//! all roles, `project_quotas:*` `key-manager:service-admin`).

mod common;
use common::*;

const SERVICE_ADMIN: &str = "key-manager:service-admin";

async fn put_quotas(arca: &Arca, token: &str, project: &str, body: Value) -> Resp {
    send(
        arca.req(Method::PUT, &format!("/v1/project-quotas/{project}"), token)
            .json(&body),
    )
    .await
}

async fn store(arca: &Arca, token: &str) -> Resp {
    send(
        arca.req(Method::POST, "/v1/secrets", token)
            .json(&json!({"payload": "x", "payload_content_type": "text/plain"})),
    )
    .await
}

#[tokio::test]
async fn effective_and_configured_quotas() {
    let arca = Arca::start_with(&[
        ("ARCA_QUOTAS_QUOTA_SECRETS", "50"),
        ("ARCA_QUOTAS_QUOTA_CAS", "0"),
    ]);
    let sa = arca.token("ops", "sa", SERVICE_ADMIN);
    let admin = arca.token("p", "root", "admin");
    let audit = arca.token("p", "aud", "audit");

    // Any role reads its project's effective quotas: the configured defaults.
    for token in [&admin, &audit, &sa] {
        let r = send(arca.req(Method::GET, "/v1/quotas", token)).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            r.json(),
            json!({"quotas": {"secrets": 50, "orders": -1, "containers": -1, "consumers": -1, "cas": 0}})
        );
    }

    // Only the service admin manages project quotas; the project admin may not.
    for (method, path) in [
        (Method::GET, "/v1/project-quotas"),
        (Method::GET, "/v1/project-quotas/p"),
        (Method::PUT, "/v1/project-quotas/p"),
        (Method::DELETE, "/v1/project-quotas/p"),
    ] {
        let r = send(
            arca.req(method.clone(), path, &admin)
                .json(&json!({"project_quotas": {}})),
        )
        .await;
        assert_error_about(&r, 403, format_args!("{method} {path}"));
    }
    let r = send(arca.req(Method::GET, "/v1/project-quotas/p", &sa)).await;
    assert_error(&r, 404);
    assert_eq!(
        r.json()["description"],
        json!("Not Found. Sorry but your project quotas are in another castle.")
    );
    assert_eq!(
        send(arca.req(Method::GET, "/v1/project-quotas", &sa))
            .await
            .json(),
        json!({"project_quotas": [], "total": 0})
    );

    let r = put_quotas(
        &arca,
        &sa,
        "p",
        json!({"project_quotas": {"secrets": 10, "orders": 0}}),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(r.body.is_empty());
    let r = send(arca.req(Method::GET, "/v1/project-quotas/p", &sa)).await;
    assert_eq!(
        r.json(),
        json!({"project_quotas": {"secrets": 10, "orders": 0, "containers": null, "consumers": null, "cas": null}})
    );
    // PUT again changes what it names and keeps the rest.
    let r = put_quotas(
        &arca,
        &sa,
        "p",
        json!({"project_quotas": {"containers": -1, "secrets": 3}}),
    )
    .await;
    assert_eq!(r.status, 204);
    let got = send(arca.req(Method::GET, "/v1/project-quotas/p", &sa))
        .await
        .json();
    assert_eq!(
        got["project_quotas"],
        json!({"secrets": 3, "orders": 0, "containers": -1, "consumers": null, "cas": null})
    );
    let effective = send(arca.req(Method::GET, "/v1/quotas", &audit))
        .await
        .json();
    assert_eq!(
        effective,
        json!({"quotas": {"secrets": 3, "orders": 0, "containers": -1, "consumers": -1, "cas": 0}})
    );
    // Any content type is taken (Barbican enforces none on this PUT).
    let r = send(
        arca.req(Method::PUT, "/v1/project-quotas/q", &sa)
            .header("Content-Type", "text/plain")
            .body(r#"{"project_quotas": {"consumers": 7}}"#),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());

    // The list, paged.
    let all = send(arca.req(Method::GET, "/v1/project-quotas", &sa))
        .await
        .json();
    assert_eq!(all["total"], json!(2));
    assert_eq!(all["project_quotas"][0]["project_id"], json!("p"));
    assert_eq!(
        all["project_quotas"][1]["project_quotas"]["consumers"],
        json!(7)
    );
    let page = send(arca.req(Method::GET, "/v1/project-quotas?limit=1", &sa))
        .await
        .json();
    assert_eq!(page["project_quotas"].as_array().unwrap().len(), 1);
    assert!(
        page["next"]
            .as_str()
            .unwrap()
            .contains("/v1/project-quotas?")
    );
    for q in ["?limit=x", "?offset=-1", "?limit=0&offset=abc"] {
        assert_eq!(
            send(arca.req(Method::GET, &format!("/v1/project-quotas{q}"), &sa))
                .await
                .status,
            200
        );
    }

    // DELETE: 204, then the defaults again; a second DELETE is a 404.
    let r = send(arca.req(Method::DELETE, "/v1/project-quotas/p", &sa)).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let effective = send(arca.req(Method::GET, "/v1/quotas", &audit))
        .await
        .json();
    assert_eq!(effective["quotas"]["secrets"], json!(50));
    assert_error(
        &send(arca.req(Method::DELETE, "/v1/project-quotas/p", &sa)).await,
        404,
    );
    assert_error(
        &send(arca.req(Method::POST, "/v1/project-quotas/p", &sa)).await,
        405,
    );
    assert_error(&send(arca.req(Method::PUT, "/v1/quotas", &sa)).await, 405);
}

#[tokio::test]
async fn bad_quota_requests_are_400() {
    let arca = Arca::start();
    let sa = arca.token("ops", "sa", SERVICE_ADMIN);
    let p = |reason: &str, prop: &str| {
        format!(
            "Provided object does not match schema 'Project Quota': {reason}. Invalid property: '{prop}'"
        )
    };
    for (body, want) in [
        (json!([]), p("[] is not of type 'object'", "None")),
        (
            json!({}),
            p("'project_quotas' is a required property", "None"),
        ),
        (
            json!({"project_quotas": {}, "more": 1}),
            p(
                "Additional properties are not allowed ('more' was unexpected)",
                "None",
            ),
        ),
        (
            json!({"project_quotas": "all"}),
            p("'all' is not of type 'object'", "project_quotas"),
        ),
        (
            json!({"project_quotas": {"secrets": "5"}}),
            p("'5' is not of type 'integer'", "project_quotas"),
        ),
        (
            json!({"project_quotas": {"orders": 1.5}}),
            p("1.5 is not of type 'integer'", "project_quotas"),
        ),
        (
            json!({"project_quotas": {"cas": null}}),
            p("None is not of type 'integer'", "project_quotas"),
        ),
        (
            json!({"project_quotas": {"transport_keys": 1}}),
            p(
                "Additional properties are not allowed ('transport_keys' was unexpected)",
                "project_quotas",
            ),
        ),
        (
            json!({"project_quotas": {"secrets": 1e30}}),
            p("1e+30 is out of range", "project_quotas"),
        ),
    ] {
        let r = put_quotas(&arca, &sa, "p", body.clone()).await;
        assert_error_about(&r, 400, format_args!("{body}"));
        assert_eq!(r.json()["description"], json!(want), "{body}");
    }
    let r = send(arca.req(Method::PUT, "/v1/project-quotas/p", &sa)).await;
    assert_error(&r, 400);
    assert_eq!(
        r.json()["description"],
        json!("Project Quotas issue seen - No data supplied to process..")
    );
    let r = send(
        arca.req(Method::PUT, "/v1/project-quotas/p", &sa)
            .header("Content-Type", "application/json")
            .body("{"),
    )
    .await;
    assert_error(&r, 400);
    // Policy first: a caller without the role is refused before the body is read.
    let admin = arca.token("p", "root", "admin");
    let r = send(
        arca.req(Method::PUT, "/v1/project-quotas/p", &admin)
            .body("junk"),
    )
    .await;
    assert_error(&r, 403);
    assert_error(
        &send(arca.req(Method::GET, "/v1/project-quotas/p", &sa)).await,
        404,
    );
}

#[tokio::test]
async fn creations_beyond_a_quota_are_refused() {
    let arca = Arca::start_with(&[("ARCA_QUOTAS_QUOTA_ORDERS", "1")]);
    let sa = arca.token("ops", "sa", SERVICE_ADMIN);
    let creator = arca.token("p", "alice", "creator");
    let other = arca.token("q", "bob", "creator");

    // The orders default (1): the second order is refused, in another project the count starts afresh.
    let key = json!({"type": "key", "meta": {"algorithm": "aes", "bit_length": 128}});
    let first = arca.create_order(&creator, key.clone()).await;
    let r = send(arca.req(Method::POST, "/v1/orders", &creator).json(&key)).await;
    assert_error(&r, 403);
    assert_eq!(
        r.json()["description"],
        json!("Order creation issue seen - Creation not allowed because a quota has been reached.")
    );
    arca.create_order(&other, key.clone()).await;

    // A configured project quota: the project's secrets count, generated ones included.
    let r = put_quotas(
        &arca,
        &sa,
        "p",
        json!({"project_quotas": {"secrets": 3, "orders": -1}}),
    )
    .await;
    assert_eq!(r.status, 204);
    assert!(first["secret_ref"].is_string());
    assert_eq!(store(&arca, &creator).await.status, 201);
    assert_eq!(store(&arca, &creator).await.status, 201);
    let r = store(&arca, &creator).await;
    assert_error(&r, 403);
    assert_eq!(
        r.json()["description"],
        json!(
            "Secret creation issue seen - Creation not allowed because a quota has been reached."
        )
    );
    // Orders are unlimited now; generating does not count against the secrets quota.
    let more = arca.create_order(&creator, key.clone()).await;
    assert_eq!(more["status"], json!("ACTIVE"));
    // Deleting frees room; 0 disables.
    let secret = secret_id(more["secret_ref"].as_str().unwrap());
    assert_eq!(
        send(arca.req(Method::DELETE, &format!("/v1/secrets/{secret}"), &creator))
            .await
            .status,
        204
    );
    let secret = secret_id(first["secret_ref"].as_str().unwrap());
    assert_eq!(
        send(arca.req(Method::DELETE, &format!("/v1/secrets/{secret}"), &creator))
            .await
            .status,
        204
    );
    assert_eq!(store(&arca, &creator).await.status, 201);
    put_quotas(&arca, &sa, "p", json!({"project_quotas": {"secrets": 0}})).await;
    assert_error(&store(&arca, &creator).await, 403);
    assert_eq!(
        store(&arca, &other).await.status,
        201,
        "another project is not affected"
    );

    // Concurrent creations never exceed the quota: 5 of 24 succeed.
    put_quotas(&arca, &sa, "c", json!({"project_quotas": {"secrets": 5}})).await;
    let racer = arca.token("c", "r", "creator");
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let client = arca.http.clone();
        let url = arca.url("/v1/secrets");
        let token = racer.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .header("X-Auth-Token", token)
                .json(&json!({"payload": "x", "payload_content_type": "text/plain"}))
                .send()
                .await
                .expect("POST")
                .status()
                .as_u16()
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    assert_eq!(codes.iter().filter(|c| **c == 201).count(), 5, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 403).count(), 19, "{codes:?}");
    let listed = send(arca.req(Method::GET, "/v1/secrets", &racer))
        .await
        .json();
    assert_eq!(listed["total"], json!(5));
}

/// Sends `n` requests at once (`build(i)` makes the i-th) and returns their statuses.
async fn race(n: usize, build: impl Fn(usize) -> reqwest::RequestBuilder) -> Vec<u16> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let request = build(i);
            tokio::spawn(async move { request.send().await.expect("request").status().as_u16() })
        })
        .collect();
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    codes
}

fn admitted(codes: &[u16], ok: u16, want: usize) {
    assert_eq!(
        codes.iter().filter(|c| **c == ok).count(),
        want,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| **c == 403).count(),
        codes.len() - want,
        "{codes:?}"
    );
}

#[tokio::test]
async fn concurrent_containers_and_consumers_stop_at_their_quotas() {
    let arca = Arca::start_with(&[("ARCA_QUOTAS_QUOTA_CONTAINERS", "4")]);
    let sa = arca.token("ops", "sa", SERVICE_ADMIN);
    let creator = arca.token("c", "alice", "creator");
    let other = arca.token("d", "bob", "creator");

    // Containers: the default (4) admits exactly 4 of 16 concurrent creations.
    let codes = race(16, |i| {
        arca.req(Method::POST, "/v1/containers", &creator)
            .json(&json!({"type": "generic", "name": format!("c{i}")}))
    })
    .await;
    admitted(&codes, 201, 4);
    let r = send(
        arca.req(Method::POST, "/v1/containers", &creator)
            .json(&json!({"type": "generic"})),
    )
    .await;
    assert_error(&r, 403);
    assert_eq!(
        r.json()["description"],
        json!(
            "Container creation issue seen - Creation not allowed because a quota has been reached."
        )
    );
    let listed = send(arca.req(Method::GET, "/v1/containers", &creator)).await;
    assert_eq!(listed.json()["total"], json!(4));
    let container = arca
        .create_container(&other, json!({"type": "generic"}))
        .await;
    let mine = container_id(
        listed.json()["containers"][0]["container_ref"]
            .as_str()
            .unwrap(),
    );

    // Container consumers: a configured quota of 3 admits exactly 3 new consumers of 12 concurrent ones.
    let r = put_quotas(&arca, &sa, "c", json!({"project_quotas": {"consumers": 3}})).await;
    assert_eq!(r.status, 204);
    let path = format!("/v1/containers/{mine}/consumers");
    let codes = race(12, |i| {
        arca.req(Method::POST, &path, &creator)
            .json(&json!({"name": format!("svc{i}"), "URL": "http://svc.example/x"}))
    })
    .await;
    admitted(&codes, 200, 3);
    let listed = send(arca.req(Method::GET, &path, &creator)).await.json();
    assert_eq!(listed["total"], json!(3));
    // Re-registering an existing consumer writes nothing and is still allowed at the quota.
    let existing = listed["consumers"][0]["name"].as_str().unwrap().to_owned();
    let r = send(
        arca.req(Method::POST, &path, &creator)
            .json(&json!({"name": existing, "URL": "http://svc.example/x"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = send(
        arca.req(Method::POST, &path, &creator)
            .json(&json!({"name": "late", "URL": "http://svc.example/x"})),
    )
    .await;
    assert_error(&r, 403);
    assert_eq!(
        r.json()["description"],
        json!(
            "ContainerConsumer creation issue seen - Creation not allowed because a quota has been reached."
        )
    );
    // Another project's containers and consumers are not affected.
    let r = send(
        arca.req(
            Method::POST,
            &format!("/v1/containers/{container}/consumers"),
            &other,
        )
        .json(&json!({"name": "svc", "URL": "http://svc.example/x"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());

    // Secret consumers share the quota's value but are counted on their own: 3 of 12 again.
    let secret = arca.create_text_secret(&creator, "s", "v").await;
    let path = format!("/v1/secrets/{secret}/consumers");
    let codes = race(12, |i| {
        arca.req_v(Method::POST, &path, &creator, "1.1")
            .json(&json!({
                "service": "nova", "resource_type": "server", "resource_id": format!("vm-{i}")
            }))
    })
    .await;
    admitted(&codes, 200, 3);
    let listed = send(arca.req_v(Method::GET, &path, &creator, "1.1"))
        .await
        .json();
    assert_eq!(listed["total"], json!(3));
    let again = listed["consumers"][0].clone();
    let r = send(
        arca.req_v(Method::POST, &path, &creator, "1.1")
            .json(&json!({
                "service": again["service"], "resource_type": again["resource_type"],
                "resource_id": again["resource_id"]
            })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = send(
        arca.req_v(Method::POST, &path, &creator, "1.1")
            .json(&json!({
                "service": "nova", "resource_type": "server", "resource_id": "late"
            })),
    )
    .await;
    assert_error(&r, 403);
}
