//! User metadata on secrets: `/v1/secrets/{id}/metadata` and `/v1/secrets/{id}/metadata/{key}`.
//!
//! Reference: doc/source/api/reference/secret_metadata.rst and
//! barbican/api/controllers/secretmeta.py: GET → 200 `{"metadata": {...}}`; PUT (replace all)
//! → 201 `{"metadata_ref": ".../metadata"}`; POST `{"key","value"}` → 201 with Location
//! `.../metadata/{key}` and the pair, 409 if the key exists; GET/PUT key → 200 with the pair,
//! 404 "Secret metadata not found." for an unknown key, 409 when the body's key differs from the
//! URL's; DELETE key → 204; POST on a key URL → 405 (secrets.py `_lookup`). Keys are lowercased
//! and must match `^[A-Za-z0-9_-]*$`; values must be strings; the metadatum schema has
//! `additionalProperties: False` and 255-character limits (barbican/common/validators.py).

mod common;
use common::*;

fn md(id: &str) -> String {
    format!("/v1/secrets/{id}/metadata")
}

fn mdk(id: &str, key: &str) -> String {
    format!("/v1/secrets/{id}/metadata/{key}")
}

async fn put_json(arca: &Arca, path: &str, body: Value) -> Resp {
    send(arca.admin(Method::PUT, path).json(&body)).await
}

async fn post_json(arca: &Arca, path: &str, body: Value) -> Resp {
    send(arca.admin(Method::POST, path).json(&body)).await
}

async fn get_all(arca: &Arca, id: &str) -> Value {
    let r = send(arca.admin(Method::GET, &md(id))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.content_type().starts_with("application/json"),
        "{}",
        r.content_type()
    );
    r.json()
}

#[tokio::test]
async fn new_secret_has_empty_metadata() {
    let arca = Arca::start();
    let id = arca.create_text_secret(&arca.admin_token, "m", "x").await;
    assert_eq!(get_all(&arca, &id).await, json!({"metadata": {}}));
}

#[tokio::test]
async fn put_replaces_all_metadata_and_lowercases_keys() {
    let arca = Arca::start();
    let id = arca.create_text_secret(&arca.admin_token, "m", "x").await;

    let r = put_json(
        &arca,
        &md(&id),
        json!({"metadata": {"Description": "contains the AES key", "geolocation": "12.3456, -98.7654"}}),
    )
    .await;
    assert_eq!(
        r.status,
        201,
        "secretmeta.py on_put answers 201: {}",
        r.text()
    );
    let body = r.json();
    let mref = body["metadata_ref"]
        .as_str()
        .unwrap_or_else(|| panic!("metadata_ref: {body}"));
    assert!(mref.starts_with("http"), "{mref}");
    assert!(
        mref.ends_with(&format!("/v1/secrets/{id}/metadata")),
        "{mref}"
    );

    assert_eq!(
        get_all(&arca, &id).await,
        json!({"metadata": {"description": "contains the AES key", "geolocation": "12.3456, -98.7654"}})
    );

    // A second PUT replaces everything that was there.
    let r = put_json(&arca, &md(&id), json!({"metadata": {"access-limit": "0"}})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        get_all(&arca, &id).await,
        json!({"metadata": {"access-limit": "0"}})
    );

    // An empty map clears it.
    let r = put_json(&arca, &md(&id), json!({"metadata": {}})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(get_all(&arca, &id).await, json!({"metadata": {}}));
}

#[tokio::test]
async fn metadata_does_not_touch_the_secret() {
    let arca = Arca::start();
    let id = arca
        .create_text_secret(&arca.admin_token, "keepme", "payload stays")
        .await;
    let before = arca.secret_meta(&arca.admin_token, &id).await;
    let r = put_json(&arca, &md(&id), json!({"metadata": {"k": "v"}})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let after = arca.secret_meta(&arca.admin_token, &id).await;
    assert_eq!(after["name"], before["name"]);
    assert_eq!(after["content_types"], before["content_types"]);
    assert!(
        after.get("metadata").is_none(),
        "secret metadata does not embed user metadata: {after}"
    );
    let p = send(
        arca.admin(Method::GET, &format!("/v1/secrets/{id}/payload"))
            .header("Accept", "text/plain"),
    )
    .await;
    assert_eq!(p.text(), "payload stays");
}

#[tokio::test]
async fn post_adds_one_key_and_conflicts_on_existing() {
    let arca = Arca::start();
    let id = arca.create_text_secret(&arca.admin_token, "m", "x").await;

    let r = post_json(
        &arca,
        &md(&id),
        json!({"key": "Access-Limit", "value": "11"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"key": "access-limit", "value": "11"}),
        "key is lowercased"
    );
    let loc = r
        .header("location")
        .unwrap_or_else(|| panic!("POST metadatum needs a Location"));
    assert!(
        loc.ends_with(&format!("/v1/secrets/{id}/metadata/access-limit")),
        "Location {loc:?}"
    );

    let r = post_json(
        &arca,
        &md(&id),
        json!({"key": "access-limit", "value": "12"}),
    )
    .await;
    assert_error(&r, 409);
    let r = post_json(
        &arca,
        &md(&id),
        json!({"key": "ACCESS-LIMIT", "value": "12"}),
    )
    .await;
    assert_error(&r, 409);

    let r = post_json(&arca, &md(&id), json!({"key": "second_key", "value": ""})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        get_all(&arca, &id).await,
        json!({"metadata": {"access-limit": "11", "second_key": ""}})
    );
}

#[tokio::test]
async fn get_put_delete_one_key() {
    let arca = Arca::start();
    let id = arca.create_text_secret(&arca.admin_token, "m", "x").await;
    let r = put_json(
        &arca,
        &md(&id),
        json!({"metadata": {"access-limit": "0", "other": "o"}}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());

    let r = send(arca.admin(Method::GET, &mdk(&id, "access-limit"))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"key": "access-limit", "value": "0"}));

    let r = put_json(
        &arca,
        &mdk(&id, "access-limit"),
        json!({"key": "access-limit", "value": "11"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"key": "access-limit", "value": "11"}));
    let r = send(arca.admin(Method::GET, &mdk(&id, "access-limit"))).await;
    assert_eq!(r.json(), json!({"key": "access-limit", "value": "11"}));

    let r = send(arca.admin(Method::DELETE, &mdk(&id, "access-limit"))).await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(r.body.is_empty(), "204 has no body: {:?}", r.text());
    let r = send(arca.admin(Method::GET, &mdk(&id, "access-limit"))).await;
    assert_error(&r, 404);
    assert_eq!(
        get_all(&arca, &id).await,
        json!({"metadata": {"other": "o"}})
    );
}

#[tokio::test]
async fn unknown_key_is_404_for_get_and_put() {
    let arca = Arca::start();
    let id = arca.create_text_secret(&arca.admin_token, "m", "x").await;
    let r = send(arca.admin(Method::GET, &mdk(&id, "missing"))).await;
    assert_error(&r, 404);
    // PUT on a key that does not exist does not create it (secretmeta.py on_put → 404).
    let r = put_json(
        &arca,
        &mdk(&id, "missing"),
        json!({"key": "missing", "value": "v"}),
    )
    .await;
    assert_error(&r, 404);
    assert_eq!(get_all(&arca, &id).await, json!({"metadata": {}}));
}

#[tokio::test]
async fn delete_of_an_absent_key_is_204() {
    // repositories.SecretUserMetadatumRepo.delete_metadatum is a filtered query.delete(): no
    // row, no error, and secretmeta.py answers 204 regardless.
    let arca = Arca::start();
    let id = arca.create_text_secret(&arca.admin_token, "m", "x").await;
    let r = send(arca.admin(Method::DELETE, &mdk(&id, "never-set"))).await;
    assert_eq!(r.status, 204, "{}", r.text());
}

#[tokio::test]
async fn put_key_with_mismatched_body_key_is_409() {
    let arca = Arca::start();
    let id = arca.create_text_secret(&arca.admin_token, "m", "x").await;
    let r = put_json(&arca, &md(&id), json!({"metadata": {"a": "1", "b": "2"}})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = put_json(&arca, &mdk(&id, "a"), json!({"key": "b", "value": "9"})).await;
    assert_error(&r, 409);
    assert_eq!(
        get_all(&arca, &id).await,
        json!({"metadata": {"a": "1", "b": "2"}})
    );
}

#[tokio::test]
async fn post_on_a_key_url_is_405() {
    let arca = Arca::start();
    let id = arca.create_text_secret(&arca.admin_token, "m", "x").await;
    let r = post_json(&arca, &mdk(&id, "k"), json!({"key": "k", "value": "v"})).await;
    assert_error(&r, 405);
}

#[tokio::test]
async fn metadata_of_unknown_or_malformed_secret_is_404() {
    let arca = Arca::start();
    for id in ["0b0b0b0b-1c1c-4d4d-8e8e-9f9f9f9f9f9f", "not-a-uuid"] {
        assert_error(&send(arca.admin(Method::GET, &md(id))).await, 404);
        assert_error(
            &put_json(&arca, &md(id), json!({"metadata": {"a": "b"}})).await,
            404,
        );
        assert_error(
            &post_json(&arca, &md(id), json!({"key": "a", "value": "b"})).await,
            404,
        );
        assert_error(&send(arca.admin(Method::GET, &mdk(id, "a"))).await, 404);
        assert_error(
            &put_json(&arca, &mdk(id, "a"), json!({"key": "a", "value": "b"})).await,
            404,
        );
        assert_error(&send(arca.admin(Method::DELETE, &mdk(id, "a"))).await, 404);
    }
}

#[tokio::test]
async fn invalid_metadata_bodies_are_400() {
    let arca = Arca::start();
    let id = arca.create_text_secret(&arca.admin_token, "m", "x").await;
    let bad_puts = [
        json!({"metadata": {"bad key": "v"}}),
        json!({"metadata": {"bad/key": "v"}}),
        json!({"metadata": {"bad.key": "v"}}),
        json!({"metadata": {"ключ": "v"}}),
        json!({"metadata": {"k": 5}}),
        json!({"metadata": {"k": null}}),
        json!({"metadata": {"k": ["v"]}}),
        json!({"metadata": "not an object"}),
        json!({"metadata": ["k", "v"]}),
        json!({"no_metadata": {}}),
        json!({}),
        json!([]),
    ];
    for body in bad_puts {
        let r = put_json(&arca, &md(&id), body.clone()).await;
        assert_error_about(&r, 400, format_args!("PUT metadata {body}"));
    }
    let bad_posts = [
        json!({"key": "bad key", "value": "v"}),
        json!({"key": "bad!", "value": "v"}),
        json!({"key": "k", "value": 5}),
        json!({"key": 5, "value": "v"}),
        json!({"key": "k"}),
        json!({"value": "v"}),
        json!({"key": "k", "value": "v", "extra": "x"}),
        json!({"key": "k".repeat(256), "value": "v"}),
        json!({"key": "k", "value": "v".repeat(256)}),
        json!({}),
    ];
    for body in bad_posts {
        let r = post_json(&arca, &md(&id), body.clone()).await;
        assert_error_about(&r, 400, format_args!("POST metadatum {body}"));
    }
    let r = put_json(&arca, &mdk(&id, "k"), json!({"key": "k", "value": 1})).await;
    // Body validation on PUT key happens before the existence check in secretmeta.py.
    assert_error(&r, 400);
    for (method, path) in [(Method::PUT, md(&id)), (Method::POST, md(&id))] {
        let r = send(
            arca.admin(method.clone(), &path)
                .header("Content-Type", "application/json")
                .body("{\"metadata\": {"),
        )
        .await;
        assert_error(&r, 400);
    }
    assert_eq!(
        get_all(&arca, &id).await,
        json!({"metadata": {}}),
        "nothing was stored"
    );
}

#[tokio::test]
async fn limits_on_key_and_value_length_are_inclusive() {
    let arca = Arca::start();
    let id = arca.create_text_secret(&arca.admin_token, "m", "x").await;
    let key = "k".repeat(255);
    let r = post_json(
        &arca,
        &md(&id),
        json!({"key": key, "value": "v".repeat(255)}),
    )
    .await;
    assert_eq!(r.status, 201, "255 characters is allowed: {}", r.text());
    let r = send(arca.admin(Method::GET, &mdk(&id, &key))).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn metadata_requires_json_content_type() {
    // secretmeta.py: @enforce_content_types(['application/json']) on PUT, POST and PUT key.
    let arca = Arca::start();
    let id = arca.create_text_secret(&arca.admin_token, "m", "x").await;
    let r = put_json(&arca, &md(&id), json!({"metadata": {"k": "v"}})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let cases = [
        (Method::PUT, md(&id), json!({"metadata": {"a": "b"}})),
        (Method::POST, md(&id), json!({"key": "a", "value": "b"})),
        (
            Method::PUT,
            mdk(&id, "k"),
            json!({"key": "k", "value": "w"}),
        ),
    ];
    for (method, path, body) in cases {
        for ctype in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let mut rb = arca.admin(method.clone(), &path).body(body.to_string());
            if let Some(c) = ctype {
                rb = rb.header("Content-Type", c);
            }
            let r = send(rb).await;
            assert_error_about(&r, 415, format_args!("{method} {path} with {ctype:?}"));
        }
    }
    assert_eq!(get_all(&arca, &id).await, json!({"metadata": {"k": "v"}}));
}
