//! Consumers: `/v1/containers/{id}/consumers` and, from microversion 1.1, `/v1/secrets/{id}/consumers`;
//! the `consumers` of secret documents at 1.1+, and 1.2's refusal to delete a secret with consumers
//! unless `force` is given.
//!
//! Reference: barbican/api/controllers/consumers.py (POST registers idempotently and answers 200 with the
//! container or secret and a Location of `convert_consumer_to_href`; DELETE takes the consumer as a JSON
//! body and answers 200 with the container or secret, 404 "Consumer not found."; GET lists with paging —
//! container consumers by name, secret consumers by creation), barbican/common/validators.py
//! (`ContainerConsumerValidator`, `SecretConsumerValidator`), barbican/common/policies/consumers.py
//! (legacy: any role in the owning project), doc/source/api/reference/secret_consumers.rst and
//! python-barbicanclient 7.6.0 (`SecretHasConsumers`: "Secret cannot be deleted as it has consumers.").

mod common;
use common::*;

fn consumer(service: &str, id: &str) -> Value {
    json!({"service": service, "resource_type": "image", "resource_id": id})
}

#[tokio::test]
async fn container_consumers_register_list_and_remove() {
    let arca = Arca::start();
    let t = &arca.admin_token;
    let id = arca
        .create_container(t, json!({"type": "generic", "name": "c"}))
        .await;
    let path = format!("/v1/containers/{id}/consumers");

    let r = send(
        arca.admin(Method::POST, &path)
            .json(&json!({"name": "lb", "URL": "http://lb/1"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some(arca.url(&format!("/v1/consumers/{id}/consumers")))
    );
    let c = r.json();
    assert_eq!(
        c["consumers"],
        json!([{"name": "lb", "URL": "http://lb/1"}])
    );
    assert!(c["container_ref"].as_str().unwrap().ends_with(&id));
    // Idempotent.
    let r = send(
        arca.admin(Method::POST, &path)
            .json(&json!({"name": "lb", "URL": "http://lb/1"})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["consumers"].as_array().unwrap().len(), 1);
    for (name, url) in [("a-svc", "u1"), ("z-svc", "u2")] {
        let r = send(
            arca.admin(Method::POST, &path)
                .json(&json!({"name": name, "URL": url})),
        )
        .await;
        assert_eq!(r.status, 200);
    }
    let l = send(arca.admin(Method::GET, &path)).await.json();
    assert_eq!(l["total"], 3);
    let names: Vec<&str> = l["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a-svc", "lb", "z-svc"], "ordered by name");
    assert_eq!(l["consumers"][0]["status"], "ACTIVE");
    assert_recent(l["consumers"][0]["created"].as_str().unwrap());
    let p = send(arca.admin(Method::GET, &format!("{path}?limit=1&offset=1")))
        .await
        .json();
    assert_eq!(p["consumers"][0]["name"], "lb");
    assert!(
        p["next"]
            .as_str()
            .unwrap()
            .contains(&format!("/v1/containers/{id}/consumers?"))
    );
    assert!(p["previous"].is_string());
    let far = send(arca.admin(Method::GET, &format!("{path}?offset=50&limit=zz")))
        .await
        .json();
    assert_eq!(far, json!({"consumers": [], "total": 3}));

    let r = send(
        arca.admin(Method::DELETE, &path)
            .json(&json!({"name": "lb", "URL": "http://lb/1"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["consumers"].as_array().unwrap().len(), 2);
    let r = send(
        arca.admin(Method::DELETE, &path)
            .json(&json!({"name": "lb", "URL": "http://lb/1"})),
    )
    .await;
    assert_error(&r, 404);
    assert_eq!(r.json()["description"], "Consumer not found.");

    // Deleting the container takes its consumers with it.
    let r = send(arca.admin(Method::DELETE, &format!("/v1/containers/{id}"))).await;
    assert_eq!(r.status, 204);
    let r = send(arca.admin(Method::GET, &path)).await;
    assert_error(&r, 404);
}

#[tokio::test]
async fn container_consumer_bodies_and_policy() {
    let arca = Arca::start();
    let id = arca
        .create_container(&arca.admin_token, json!({"type": "generic"}))
        .await;
    let path = format!("/v1/containers/{id}/consumers");
    for (body, reason) in [
        (json!({"URL": "u"}), "'name' is a required property"),
        (json!({"name": "n"}), "'URL' is a required property"),
        (json!({"name": "", "URL": "u"}), "'' is too short"),
        (json!({"name": "x".repeat(37), "URL": "u"}), "is too long"),
        (json!({"name": "n", "URL": 3}), "3 is not of type 'string'"),
        (json!(["n"]), "is not of type 'object'"),
    ] {
        for method in [Method::POST, Method::DELETE] {
            let r = send(arca.admin(method.clone(), &path).json(&body)).await;
            assert_error_about(&r, 400, format_args!("{method} {body}"));
            let d = r.json()["description"].as_str().unwrap().to_owned();
            assert!(
                d.contains("schema 'Consumer'") && d.contains(reason),
                "{body}: {d}"
            );
        }
    }
    let r = send(
        arca.admin(Method::POST, &path)
            .header("Content-Type", "application/json")
            .body("{"),
    )
    .await;
    assert_error(&r, 400);
    let r = send(
        arca.admin(Method::POST, &path)
            .header("Content-Type", "text/plain")
            .body("{}"),
    )
    .await;
    assert_error(&r, 415);
    let r = send(
        arca.admin(
            Method::POST,
            "/v1/containers/0190a0f0-0000-7000-8000-00000000abcd/consumers",
        )
        .json(&json!({"name": "n", "URL": "u"})),
    )
    .await;
    assert_error(&r, 404);

    // Legacy rule: any role of the container's project; never another project.
    let body = json!({"name": "n", "URL": "u"});
    for role in ROLES {
        let token = arca.token("admin", &format!("u-{role}"), role);
        for method in [Method::POST, Method::GET] {
            let r = send(arca.req(method.clone(), &path, &token).json(&body)).await;
            assert_eq!(r.status, 200, "{role} {method}: {}", r.text());
        }
    }
    let outsider = arca.token("elsewhere", "x", "admin");
    for method in [Method::POST, Method::GET, Method::DELETE] {
        let r = send(arca.req(method.clone(), &path, &outsider).json(&body)).await;
        assert_error_about(&r, 403, format_args!("{method}"));
    }
}

#[tokio::test]
async fn secret_consumers_from_microversion_1_1() {
    let arca = Arca::start();
    let t = &arca.admin_token;
    let id = arca.create_text_secret(t, "s", "x").await;
    let path = format!("/v1/secrets/{id}/consumers");

    // Not a route at 1.0.
    let r = send(arca.admin(Method::GET, &path)).await;
    assert_error(&r, 404);
    let r = send(
        arca.req_v(Method::POST, &path, t, "1.0")
            .json(&consumer("image", "i1")),
    )
    .await;
    assert_error(&r, 404);

    let r = send(
        arca.req_v(Method::POST, &path, t, "1.1")
            .json(&consumer("image", "i1")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some(arca.url(&format!("/v1/consumers/{id}/consumers")))
    );
    let s = r.json();
    assert_eq!(s["consumers"], json!([consumer("image", "i1")]));
    assert!(s["secret_ref"].as_str().unwrap().ends_with(&id));
    assert_eq!(s["content_types"], json!({"default": "text/plain"}));
    let r = send(
        arca.req_v(Method::POST, &path, t, "1.1")
            .json(&consumer("image", "i1")),
    )
    .await;
    assert_eq!(
        r.json()["consumers"].as_array().unwrap().len(),
        1,
        "idempotent"
    );
    let r = send(
        arca.req_v(Method::POST, &path, t, "latest")
            .json(&consumer("volume", "v1")),
    )
    .await;
    assert_eq!(r.status, 200);

    // Secret documents carry them from 1.1; not at 1.0.
    let g = send(arca.req_v(Method::GET, &format!("/v1/secrets/{id}"), t, "1.1"))
        .await
        .json();
    assert_eq!(
        g["consumers"],
        json!([consumer("image", "i1"), consumer("volume", "v1")])
    );
    let g = send(
        arca.admin(Method::GET, &format!("/v1/secrets/{id}"))
            .header("Accept", "application/json"),
    )
    .await
    .json();
    assert!(g.get("consumers").is_none(), "{g}");
    let l = send(arca.req_v(Method::GET, "/v1/secrets", t, "1.1"))
        .await
        .json();
    assert_eq!(l["secrets"][0]["consumers"].as_array().unwrap().len(), 2);

    let l = send(arca.req_v(Method::GET, &path, t, "1.1")).await.json();
    assert_eq!(l["total"], 2);
    assert_eq!(l["consumers"][0]["service"], "image");
    assert_eq!(l["consumers"][0]["status"], "ACTIVE");
    let p = send(arca.req_v(Method::GET, &format!("{path}?limit=1"), t, "1.1"))
        .await
        .json();
    assert!(
        p["next"]
            .as_str()
            .unwrap()
            .contains(&format!("/v1/secrets/{id}/consumers?"))
    );

    let r = send(
        arca.req_v(Method::DELETE, &path, t, "1.1")
            .json(&consumer("image", "i1")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["consumers"], json!([consumer("volume", "v1")]));
    let r = send(
        arca.req_v(Method::DELETE, &path, t, "1.1")
            .json(&consumer("image", "i1")),
    )
    .await;
    assert_error(&r, 404);
    assert_eq!(r.json()["description"], "Consumer not found.");

    // Bad bodies.
    for body in [
        json!({"service": "s", "resource_type": "t"}),
        json!({"service": "", "resource_type": "t", "resource_id": "i"}),
        json!({"service": "s", "resource_type": "t", "resource_id": 1}),
        json!({"service": "x".repeat(256), "resource_type": "t", "resource_id": "i"}),
        json!(null),
    ] {
        let r = send(arca.req_v(Method::POST, &path, t, "1.1").json(&body)).await;
        assert_error_about(&r, 400, format_args!("{body}"));
        assert!(
            r.json()["description"]
                .as_str()
                .unwrap()
                .contains("schema 'Secret Consumer'")
        );
    }
    let unknown = "/v1/secrets/0190a0f0-0000-7000-8000-00000000abcd/consumers";
    let r = send(arca.req_v(Method::GET, unknown, t, "1.1")).await;
    assert_error(&r, 404);
}

#[tokio::test]
async fn secret_consumer_policy() {
    let arca = Arca::start();
    let id = arca.create_text_secret(&arca.admin_token, "s", "x").await;
    let path = format!("/v1/secrets/{id}/consumers");
    for role in ROLES {
        let token = arca.token("admin", &format!("u-{role}"), role);
        let r = send(
            arca.req_v(Method::POST, &path, &token, "1.1")
                .json(&consumer(role, "r")),
        )
        .await;
        assert_eq!(r.status, 200, "{role}: {}", r.text());
        let r = send(arca.req_v(Method::GET, &path, &token, "1.1")).await;
        assert_eq!(r.status, 200, "{role}: {}", r.text());
    }
    let outsider = arca.token("elsewhere", "x", "admin");
    for method in [Method::POST, Method::GET, Method::DELETE] {
        let r = send(
            arca.req_v(method.clone(), &path, &outsider, "1.1")
                .json(&consumer("admin", "r")),
        )
        .await;
        assert_error_about(&r, 403, format_args!("{method}"));
    }
}

#[tokio::test]
async fn deleting_a_secret_with_consumers_needs_force_from_1_2() {
    let arca = Arca::start();
    let t = &arca.admin_token;
    let id = arca.create_text_secret(t, "s", "x").await;
    let r = send(
        arca.req_v(
            Method::POST,
            &format!("/v1/secrets/{id}/consumers"),
            t,
            "1.1",
        )
        .json(&consumer("image", "i")),
    )
    .await;
    assert_eq!(r.status, 200);
    let path = format!("/v1/secrets/{id}");

    let r = send(arca.req_v(Method::DELETE, &path, t, "1.2")).await;
    assert_error(&r, 409);
    assert!(
        r.json()["description"]
            .as_str()
            .unwrap()
            .contains("Secret cannot be deleted as it has consumers.")
    );
    let r = send(arca.req_v(Method::DELETE, &format!("{path}?force=false"), t, "1.2")).await;
    assert_error(&r, 409);
    // Policy comes first: an observer is refused with 403, not told about consumers.
    let observer = arca.token("admin", "ob", "observer");
    let r = send(arca.req_v(Method::DELETE, &path, &observer, "1.2")).await;
    assert_error(&r, 403);
    let r = send(arca.req_v(Method::DELETE, &format!("{path}?force=1"), t, "1.2")).await;
    assert_eq!(r.status, 204, "{}", r.text());

    // Without consumers, or below 1.2, no force is needed.
    let id = arca.create_text_secret(t, "s2", "x").await;
    let r = send(arca.req_v(Method::DELETE, &format!("/v1/secrets/{id}"), t, "1.2")).await;
    assert_eq!(r.status, 204);
    let id = arca.create_text_secret(t, "s3", "x").await;
    send(
        arca.req_v(
            Method::POST,
            &format!("/v1/secrets/{id}/consumers"),
            t,
            "1.1",
        )
        .json(&consumer("image", "i")),
    )
    .await;
    let r = send(arca.req_v(Method::DELETE, &format!("/v1/secrets/{id}"), t, "1.1")).await;
    assert_eq!(r.status, 204);
}
