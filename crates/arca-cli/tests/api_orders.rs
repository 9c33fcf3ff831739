//! Orders: `POST`/`GET`/`PUT /v1/orders` and `GET`/`PUT`/`DELETE /v1/orders/{id}`.
//!
//! Reference: barbican/api/controllers/orders.py (202 with `Location` and `{"order_ref"}`; 404 "Not Found. Sorry
//! but your order is in another castle." for unknown and other projects' orders; `PUT /v1/orders` 405 "Order update
//! is not supported."; `PUT` on an order only for certificate orders), barbican/common/validators.py
//! `TypeOrderValidator`, barbican/tasks/resources.py (ERROR with `error_status_code`/`error_reason` "Process
//! TypeOrder issue seen - ..."; ACTIVE with `sub_status` "Unknown"), barbican/plugin/crypto/base.py and
//! simple_crypto.py (symmetric algorithms and 64..256-bit keys; RSA with PKCS#8 PEM, encrypted with a
//! passphrase), barbican/common/policies/orders.py (post/put: admin or creator; list: all but audit; get: all
//! roles; delete: admin).

mod common;
use common::*;

async fn post_order(arca: &Arca, token: &str, body: Value) -> Resp {
    send(arca.req(Method::POST, "/v1/orders", token).json(&body)).await
}

async fn payload(arca: &Arca, token: &str, secret_ref: &str, accept: &str) -> Resp {
    let id = secret_id(secret_ref);
    send(
        arca.req(Method::GET, &format!("/v1/secrets/{id}/payload"), token)
            .header("Accept", accept),
    )
    .await
}

#[tokio::test]
async fn key_orders_generate_symmetric_secrets() {
    let arca = Arca::start();
    let admin = arca.admin_token.clone();
    let body = json!({"type": "key", "meta": {"name": "  k1 ", "algorithm": "AES", "bit_length": 256,
        "mode": "cbc", "payload_content_type": "application/octet-stream", "extra": [1]}});
    let r = post_order(&arca, &admin, body).await;
    assert_eq!(r.status, 202, "{}", r.text());
    let order_ref = r.json()["order_ref"].as_str().unwrap().to_string();
    assert_eq!(r.header("location").as_deref(), Some(order_ref.as_str()));
    let id = order_id(&order_ref);
    let order = send(arca.admin(Method::GET, &format!("/v1/orders/{id}")))
        .await
        .json();
    assert_eq!(order["status"], json!("ACTIVE"));
    assert_eq!(order["type"], json!("key"));
    assert_eq!(order["order_ref"], json!(order_ref));
    assert_eq!(order["sub_status"], json!("Unknown"));
    assert_eq!(order["sub_status_message"], json!("Unknown"));
    assert_eq!(order["creator_id"], json!("admin"));
    assert_eq!(
        order["meta"],
        json!({"name": "k1", "algorithm": "AES", "bit_length": 256, "mode": "cbc",
               "payload_content_type": "application/octet-stream", "expiration": null, "extra": [1]})
    );
    assert!(order.get("container_ref").is_none() && order.get("error_status_code").is_none());
    assert_recent(order["created"].as_str().unwrap());
    let secret_ref = order["secret_ref"].as_str().expect("secret_ref");
    let secret = arca.secret_meta(&admin, &secret_id(secret_ref)).await;
    assert_eq!(secret["secret_type"], json!("symmetric"));
    assert_eq!(secret["algorithm"], json!("AES"));
    assert_eq!(secret["bit_length"], json!(256));
    assert_eq!(secret["mode"], json!("cbc"));
    assert_eq!(secret["name"], json!("k1"));
    assert_eq!(
        secret["content_types"]["default"],
        json!("application/octet-stream")
    );
    let key = payload(&arca, &admin, secret_ref, "application/octet-stream").await;
    assert_eq!(key.status, 200);
    assert_eq!(key.body.len(), 32);

    // Every symmetric size simple_crypto generates, and xts at twice the size.
    for (alg, bits, mode) in [
        ("aes", 128, None),
        ("aes", 192, None),
        ("des", 64, None),
        ("3des", 192, None),
        ("hmacsha256", 256, None),
        ("hmacsha512", 128, None),
        ("aes", 512, Some("xts")),
    ] {
        let mut meta = json!({"algorithm": alg, "bit_length": bits});
        if let Some(m) = mode {
            meta["mode"] = json!(m);
        }
        let order = arca
            .create_order(&admin, json!({"type": "key", "meta": meta}))
            .await;
        assert_eq!(order["status"], json!("ACTIVE"), "{alg} {bits}: {order}");
        let key = payload(
            &arca,
            &admin,
            order["secret_ref"].as_str().unwrap(),
            "application/octet-stream",
        )
        .await;
        assert_eq!(key.body.len(), bits / 8, "{alg} {bits}");
    }
    // A text content type is kept; an expiration is applied to the secret.
    let order = arca
        .create_order(
            &admin,
            json!({"type": "key", "meta": {"algorithm": "aes", "bit_length": 128,
            "payload_content_type": "text/plain", "expiration": iso_utc(3600)}}),
        )
        .await;
    let secret = arca
        .secret_meta(&admin, &secret_id(order["secret_ref"].as_str().unwrap()))
        .await;
    assert_eq!(secret["content_types"]["default"], json!("text/plain"));
    assert!(secret["expiration"].is_string());
    assert!(order["meta"]["expiration"].is_string());

    // What simple_crypto cannot generate: accepted, then ERROR 400.
    for meta in [
        json!({"algorithm": "aes", "bit_length": 136}),
        json!({"algorithm": "blowfish", "bit_length": 128}),
        json!({"algorithm": "aes", "bit_length": 512}),
        json!({"algorithm": "rsa", "bit_length": 2048}),
    ] {
        let order = arca
            .create_order(&admin, json!({"type": "key", "meta": meta}))
            .await;
        assert_eq!(order["status"], json!("ERROR"), "{meta}");
        assert_eq!(order["error_status_code"], json!("400"));
        assert_eq!(
            order["error_reason"],
            json!("Process TypeOrder issue seen - Secret generate supported plugin not found.")
        );
        assert!(order.get("secret_ref").is_none());
    }
}

#[tokio::test]
async fn asymmetric_orders_generate_rsa_containers() {
    let arca = Arca::start();
    let creator = arca.token("p", "alice", "creator");
    let order = arca
        .create_order(
            &creator,
            json!({"type": "asymmetric", "meta": {"name": "pair", "algorithm": "rsa",
            "bit_length": 2048, "passphrase": "correct horse"}}),
        )
        .await;
    assert_eq!(order["status"], json!("ACTIVE"), "{order}");
    assert!(order.get("secret_ref").is_none());
    assert!(
        order["meta"].get("passphrase").is_none(),
        "the passphrase is never echoed: {order}"
    );
    let container = container_id(order["container_ref"].as_str().expect("container_ref"));
    let c = send(arca.req(
        Method::GET,
        &format!("/v1/containers/{container}"),
        &creator,
    ))
    .await;
    assert_eq!(c.status, 200, "{}", c.text());
    let c = c.json();
    assert_eq!(c["type"], json!("rsa"));
    assert_eq!(c["name"], json!("pair"));
    assert_eq!(c["creator_id"], json!("alice"));
    let refs: std::collections::BTreeMap<String, String> = c["secret_refs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["secret_ref"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        refs.keys().cloned().collect::<Vec<_>>(),
        vec!["private_key", "private_key_passphrase", "public_key"]
    );
    let private = payload(
        &arca,
        &creator,
        &refs["private_key"],
        "application/octet-stream",
    )
    .await;
    assert!(
        private
            .text()
            .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"),
        "{}",
        private.text()
    );
    let public = payload(
        &arca,
        &creator,
        &refs["public_key"],
        "application/octet-stream",
    )
    .await;
    assert!(public.text().starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let pass = payload(
        &arca,
        &creator,
        &refs["private_key_passphrase"],
        "application/octet-stream",
    )
    .await;
    assert_eq!(pass.text(), "correct horse");
    for (name, kind) in [
        ("private_key", "private"),
        ("public_key", "public"),
        ("private_key_passphrase", "passphrase"),
    ] {
        let s = arca.secret_meta(&creator, &secret_id(&refs[name])).await;
        assert_eq!(s["secret_type"], json!(kind));
        assert_eq!(s["algorithm"], json!("rsa"));
        assert_eq!(s["bit_length"], json!(2048));
    }

    // Without a passphrase: a plain PKCS#8 key and two references; 3072 bits too.
    let order = arca
        .create_order(
            &creator,
            json!({"type": "asymmetric", "meta": {"algorithm": "RSA", "bit_length": 3072}}),
        )
        .await;
    assert_eq!(order["status"], json!("ACTIVE"), "{order}");
    let container = container_id(order["container_ref"].as_str().unwrap());
    let c = send(arca.req(
        Method::GET,
        &format!("/v1/containers/{container}"),
        &creator,
    ))
    .await
    .json();
    assert_eq!(c["secret_refs"].as_array().unwrap().len(), 2);
    let private_ref = c["secret_refs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == json!("private_key"))
        .unwrap()["secret_ref"]
        .as_str()
        .unwrap()
        .to_string();
    let private = payload(&arca, &creator, &private_ref, "application/octet-stream").await;
    assert!(private.text().starts_with("-----BEGIN PRIVATE KEY-----\n"));

    // Sizes and algorithms this build cannot generate: ERROR 400.
    for meta in [
        json!({"algorithm": "rsa", "bit_length": 1024}),
        json!({"algorithm": "dsa", "bit_length": 2048}),
        json!({"algorithm": "aes", "bit_length": 256}),
    ] {
        let order = arca
            .create_order(&creator, json!({"type": "asymmetric", "meta": meta}))
            .await;
        assert_eq!(order["status"], json!("ERROR"), "{meta}");
        assert_eq!(order["error_status_code"], json!("400"));
    }
}

#[tokio::test]
async fn orders_are_listed_paged_and_deleted_by_role() {
    let arca = Arca::start();
    let admin = arca.token("p", "root", "admin");
    let creator = arca.token("p", "alice", "creator");
    let observer = arca.token("p", "obs", "observer");
    let audit = arca.token("p", "aud", "audit");
    let stranger = arca.token("q", "eve", "admin");
    let key = json!({"type": "key", "meta": {"algorithm": "aes", "bit_length": 128}});

    // orders:post is admin or creator.
    assert_error(&post_order(&arca, &observer, key.clone()).await, 403);
    assert_error(&post_order(&arca, &audit, key.clone()).await, 403);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let o = arca.create_order(&creator, key.clone()).await;
        ids.push(order_id(o["order_ref"].as_str().unwrap()));
    }
    ids.push(order_id(
        arca.create_order(&admin, key.clone()).await["order_ref"]
            .as_str()
            .unwrap(),
    ));

    // orders:get is all but audit; a page links to the next and previous.
    assert_error(
        &send(arca.req(Method::GET, "/v1/orders", &audit)).await,
        403,
    );
    let r = send(arca.req(Method::GET, "/v1/orders?limit=2&offset=1", &observer)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let page = r.json();
    assert_eq!(page["total"], json!(4));
    let listed: Vec<String> = page["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| order_id(o["order_ref"].as_str().unwrap()))
        .collect();
    assert_eq!(listed, ids[1..3].to_vec(), "oldest first");
    assert_eq!(
        query_param(page["next"].as_str().unwrap(), "offset").as_deref(),
        Some("3")
    );
    assert_eq!(
        query_param(page["previous"].as_str().unwrap(), "offset").as_deref(),
        Some("0")
    );
    assert!(page["next"].as_str().unwrap().contains("/v1/orders?"));
    // Bad paging is cleaned, never refused.
    for q in [
        "?limit=abc&offset=-5",
        "?limit=0",
        "?limit=1000&offset=x",
        "?offset=99999999999999999999",
    ] {
        let r = send(arca.req(Method::GET, &format!("/v1/orders{q}"), &observer)).await;
        assert_eq!(r.status, 200, "{q}: {}", r.text());
    }
    let empty = send(arca.req(Method::GET, "/v1/orders?offset=10", &observer))
        .await
        .json();
    assert_eq!(empty, json!({"orders": [], "total": 4}));
    let other = send(arca.req(Method::GET, "/v1/orders", &stranger))
        .await
        .json();
    assert_eq!(other["total"], json!(0));

    // order:get is any role in the project; another project's order is not found.
    let one = format!("/v1/orders/{}", ids[0]);
    assert_eq!(send(arca.req(Method::GET, &one, &audit)).await.status, 200);
    let r = send(arca.req(Method::GET, &one, &stranger)).await;
    assert_error(&r, 404);
    assert_eq!(
        r.json()["description"],
        json!("Not Found. Sorry but your order is in another castle.")
    );
    for bad in [
        "/v1/orders/nope",
        "/v1/orders/0b0b0b0b-0000-4000-8000-000000000000",
    ] {
        assert_error(&send(arca.req(Method::GET, bad, &admin)).await, 404);
        assert_error(&send(arca.req(Method::DELETE, bad, &admin)).await, 404);
    }

    // order:delete is the project's admin only; the generated secret stays.
    let secret_ref = send(arca.req(Method::GET, &one, &admin)).await.json()["secret_ref"]
        .as_str()
        .unwrap()
        .to_string();
    assert_error(&send(arca.req(Method::DELETE, &one, &creator)).await, 403);
    assert_error(&send(arca.req(Method::DELETE, &one, &observer)).await, 403);
    assert_error(&send(arca.req(Method::DELETE, &one, &stranger)).await, 404);
    let r = send(arca.req(Method::DELETE, &one, &admin)).await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_error(&send(arca.req(Method::GET, &one, &admin)).await, 404);
    arca.secret_meta(&admin, &secret_id(&secret_ref)).await;

    // PUT on the collection: 403 by policy, else 405; PUT on an order: only certificate orders update.
    let r = send(arca.req(Method::PUT, "/v1/orders", &creator).json(&key)).await;
    assert_error(&r, 405);
    assert_eq!(
        r.json()["description"],
        json!("Order update is not supported.")
    );
    assert_error(
        &send(arca.req(Method::PUT, "/v1/orders", &observer)).await,
        403,
    );
    let two = format!("/v1/orders/{}", ids[1]);
    let r = send(arca.req(Method::PUT, &two, &creator).json(&key)).await;
    assert_error(&r, 400);
    assert_eq!(
        r.json()["description"],
        json!("Updates are not supported for order type key.")
    );
    let asym = json!({"type": "asymmetric", "meta": {"algorithm": "rsa", "bit_length": 2048}});
    let r = send(arca.req(Method::PUT, &two, &creator).json(&asym)).await;
    assert_eq!(r.json()["description"], json!("Cannot modify order type."));
    assert_error(
        &send(arca.req(Method::PUT, &two, &observer).json(&key)).await,
        403,
    );
    let r = send(
        arca.req(Method::PUT, &two, &creator)
            .header("Content-Type", "text/plain")
            .body("x"),
    )
    .await;
    assert_error(&r, 415);
    // Other methods: 405.
    assert_error(
        &send(arca.req(Method::POST, &two, &creator).json(&key)).await,
        405,
    );
    assert_error(
        &send(arca.req(Method::DELETE, "/v1/orders", &admin)).await,
        405,
    );
}

#[tokio::test]
async fn bad_order_requests_are_400_with_barbicans_words() {
    let arca = Arca::start();
    let admin = arca.admin_token.clone();
    let order = |reason: &str, prop: &str| {
        format!(
            "Provided object does not match schema 'Order': {reason}. Invalid property: '{prop}'"
        )
    };
    let secret = |reason: &str, prop: &str| {
        format!(
            "Provided object does not match schema 'Secret' within 'Order': {reason}. Invalid property: '{prop}'"
        )
    };
    let cases: Vec<(Value, String)> = vec![
        (json!([]), order("[] is not of type 'object'", "None")),
        (
            json!({"type": "key"}),
            order("'meta' is a required property", "meta"),
        ),
        (
            json!({"meta": {}}),
            order("'type' is a required property", "type"),
        ),
        (
            json!({"type": "key", "meta": []}),
            order("[] is not of type 'object'", "meta"),
        ),
        (
            json!({"type": "secret", "meta": {}}),
            order(
                "'secret' is not one of ['key', 'asymmetric', 'certificate']",
                "type",
            ),
        ),
        (
            json!({"type": 7, "meta": {}}),
            order("7 is not of type 'string'", "type"),
        ),
        (
            json!({"type": "key", "meta": {"bit_length": 256}}),
            order("'algorithm' is required field for key type order", "meta"),
        ),
        (
            json!({"type": "key", "meta": {"algorithm": "aes"}}),
            order("'bit_length' is required field for key type order", "meta"),
        ),
        (
            json!({"type": "asymmetric", "meta": {"algorithm": "rsa"}}),
            order(
                "'bit_length' is required field for asymmetric key type order",
                "meta",
            ),
        ),
        (
            json!({"type": "key", "meta": {"algorithm": "aes", "bit_length": 255}}),
            "Provided field value is not supported".to_string(),
        ),
        (
            json!({"type": "key", "meta": {"algorithm": "aes", "bit_length": "256"}}),
            secret("'256' is not of type 'integer'", "bit_length"),
        ),
        (
            json!({"type": "key", "meta": {"algorithm": "aes", "bit_length": 0}}),
            secret("0 is less than the minimum of 1", "bit_length"),
        ),
        (
            json!({"type": "key", "meta": {"algorithm": 5, "bit_length": 256}}),
            secret("5 is not of type 'string'", "algorithm"),
        ),
        (
            json!({"type": "key", "meta": {"algorithm": "aes", "bit_length": 256, "expiration": "2001-01-01"}}),
            secret("'expiration' is before current time", "expiration"),
        ),
        (
            json!({"type": "key", "meta": {"algorithm": "aes", "bit_length": 256, "payload_content_type": "image/png"}}),
            secret(
                "payload_content_type is not one of ['text/plain', 'text/plain;charset=utf-8', 'text/plain; charset=utf-8', 'application/octet-stream']",
                "payload_content_type",
            ),
        ),
        (
            json!({"type": "key", "meta": {"algorithm": "aes", "bit_length": 256, "payload": "abc",
            "payload_content_type": "text/plain"}}),
            order("'payload' not allowed for key type order", "meta"),
        ),
        (
            json!({"type": "asymmetric", "meta": {"algorithm": "rsa", "bit_length": 2048, "passphrase": 12}}),
            order("12 is not of type 'string'", "meta"),
        ),
        (
            json!({"type": "certificate", "meta": {}}),
            order(
                "certificate orders are not supported: Arca has no certificate authority",
                "type",
            ),
        ),
    ];
    for (body, want) in cases {
        let r = post_order(&arca, &admin, body.clone()).await;
        assert_error_about(&r, 400, format_args!("{body}"));
        assert_eq!(r.json()["description"], json!(want), "{body}");
    }
    // Not JSON: 415; broken JSON: 400; no token: 401.
    let r = send(
        arca.admin(Method::POST, "/v1/orders")
            .header("Content-Type", "text/plain")
            .body("{}"),
    )
    .await;
    assert_error(&r, 415);
    let r = send(
        arca.admin(Method::POST, "/v1/orders")
            .header("Content-Type", "application/json")
            .body("{\"type\""),
    )
    .await;
    assert_error(&r, 400);
    assert_eq!(r.json()["description"], json!("Malformed JSON"));
    assert_error(
        &send(arca.anon(Method::POST, "/v1/orders").json(&json!({}))).await,
        401,
    );
    // Policy first: an observer is refused before its body is looked at.
    let obs = arca.token("admin", "o", "observer");
    let r = send(
        arca.req(Method::POST, "/v1/orders", &obs)
            .header("Content-Type", "text/plain")
            .body("x"),
    )
    .await;
    assert_error(&r, 403);
    // None of these placed an order.
    let list = send(arca.admin(Method::GET, "/v1/orders")).await.json();
    assert_eq!(list["total"], json!(0));
}
