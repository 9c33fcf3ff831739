//! Containers: `/v1/containers`, `/v1/containers/{id}` and `/v1/containers/{id}/secrets`.
//!
//! Reference: barbican/api/controllers/containers.py (create 201 with Location and
//! `{"container_ref"}`; list oldest first with `name`/`type` filters and paging; GET; DELETE 204;
//! `POST`/`DELETE .../secrets` for generic containers only: 201 / 204, 409 on a duplicate (secret, name),
//! 400 "Only 'generic' containers can be modified."; 404 "Secrets container not found." and
//! "Not Found. Provided container id is invalid."), barbican/common/validators.py
//! (`ContainerValidator`, `ContainerSecretValidator`: duplicate names/ids, host check, rsa/certificate
//! names) and barbican/common/policies/containers.py (legacy rules).

mod common;
use common::*;

async fn post_container(arca: &Arca, token: &str, body: Value) -> Resp {
    send(arca.req(Method::POST, "/v1/containers", token).json(&body)).await
}

#[tokio::test]
async fn create_get_and_delete_a_generic_container() {
    let arca = Arca::start();
    let t = &arca.admin_token;
    let a = arca.create_text_secret(t, "a", "one").await;
    let b = arca.create_text_secret(t, "b", "two").await;
    let r = post_container(
        &arca,
        t,
        json!({"name": "pair", "type": "generic",
               "secret_refs": [arca.secret_ref_entry("first", &a), arca.secret_ref_entry("second", &b)]}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let cref = r.json()["container_ref"].as_str().unwrap().to_owned();
    assert_eq!(r.header("location").as_deref(), Some(cref.as_str()));
    let id = container_id(&cref);

    let g = send(arca.admin(Method::GET, &format!("/v1/containers/{id}"))).await;
    assert_eq!(g.status, 200, "{}", g.text());
    let c = g.json();
    assert_eq!(c["container_ref"], json!(cref));
    assert_eq!(c["name"], "pair");
    assert_eq!(c["type"], "generic");
    assert_eq!(c["status"], "ACTIVE");
    assert_eq!(c["creator_id"], "admin");
    assert_eq!(c["consumers"], json!([]));
    assert_recent(c["created"].as_str().unwrap());
    assert_recent(c["updated"].as_str().unwrap());
    assert_eq!(
        c["secret_refs"],
        json!([
            {"name": "first", "secret_ref": arca.url(&format!("/v1/secrets/{a}"))},
            {"name": "second", "secret_ref": arca.url(&format!("/v1/secrets/{b}"))},
        ])
    );

    let d = send(arca.admin(Method::DELETE, &format!("/v1/containers/{id}"))).await;
    assert_eq!(d.status, 204, "{}", d.text());
    let g = send(arca.admin(Method::GET, &format!("/v1/containers/{id}"))).await;
    assert_error(&g, 404);
    assert_eq!(g.json()["description"], "Secrets container not found.");
    // The secrets themselves stay.
    arca.secret_meta(t, &a).await;
    let d = send(arca.admin(Method::DELETE, &format!("/v1/containers/{id}"))).await;
    assert_error(&d, 404);
}

#[tokio::test]
async fn rsa_and_certificate_containers_check_their_names() {
    let arca = Arca::start();
    let t = &arca.admin_token;
    let ids: Vec<String> = futures_ids(&arca, 4).await;
    let e = |n: &str, i: usize| arca.secret_ref_entry(n, &ids[i]);

    let ok = post_container(
        &arca,
        t,
        json!({"type": "rsa", "secret_refs": [
        e("public_key", 0), e("private_key", 1), e("private_key_passphrase", 2)]}),
    )
    .await;
    assert_eq!(ok.status, 201, "{}", ok.text());
    let ok = post_container(&arca, t, json!({"type": "certificate", "secret_refs": [
        e("certificate", 0), e("private_key", 1), e("intermediates", 2), e("private_key_passphrase", 3)]})).await;
    assert_eq!(ok.status, 201, "{}", ok.text());
    // Barbican checks the names only when references are given.
    let ok = post_container(&arca, t, json!({"type": "rsa", "name": "empty"})).await;
    assert_eq!(ok.status, 201, "{}", ok.text());

    let cases = [
        (
            json!({"type": "rsa", "secret_refs": [e("public_key", 0)]}),
            "The minimum required reference names are 'public_key' and'private_key' for RSA type",
        ),
        (
            json!({"type": "rsa", "secret_refs": [e("public_key", 0), e("private_key", 1), e("certificate", 2)]}),
            "only 'private_key', 'public_key' and 'private_key_passphrase' reference names are allowed for RSA type",
        ),
        (
            json!({"type": "certificate", "secret_refs": [e("private_key", 0)]}),
            "The minimum required reference name is 'certificate' for Certificate type",
        ),
        (
            json!({"type": "certificate", "secret_refs": [e("certificate", 0), e("public_key", 1)]}),
            "only 'private_key', 'certificate' , 'private_key_passphrase',  or 'intermediates' reference names are allowed for Certificate type",
        ),
        (
            json!({"type": "generic", "secret_refs": [e("x", 0), e("x", 1)]}),
            "Duplicate reference names are not allowed",
        ),
        (
            json!({"type": "generic", "secret_refs": [e("x", 0), e("y", 0)]}),
            "Duplicate secret ids are not allowed",
        ),
    ];
    for (body, reason) in cases {
        let r = post_container(&arca, t, body.clone()).await;
        assert_error_about(&r, 400, format_args!("{body}"));
        let d = r.json()["description"].as_str().unwrap().to_owned();
        assert_eq!(
            d,
            format!(
                "Provided object does not match schema 'Container': {reason}. Invalid property: 'secret_refs'"
            ),
            "{body}"
        );
    }
}

async fn futures_ids(arca: &Arca, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            arca.create_text_secret(&arca.admin_token, &format!("s{i}"), "x")
                .await,
        );
    }
    ids
}

#[tokio::test]
async fn secret_refs_must_name_live_secrets_of_the_callers_project() {
    let arca = Arca::start();
    let t = &arca.admin_token;
    let other = arca.token("other", "eve", "admin");
    let theirs = arca.create_text_secret(&other, "theirs", "x").await;
    let mine = arca.create_text_secret(t, "mine", "x").await;

    let r = post_container(
        &arca,
        t,
        json!({"type": "generic", "secret_refs": [arca.secret_ref_entry("a", &theirs)]}),
    )
    .await;
    assert_error(&r, 404);
    assert_eq!(
        r.json()["description"],
        "Secret provided for 'a' doesn't exist."
    );

    let unknown = "0190a0f0-0000-7000-8000-00000000abcd";
    let r = post_container(&arca, t, json!({"type": "generic", "secret_refs": [{"secret_ref": arca.url(&format!("/v1/secrets/{unknown}"))}]})).await;
    assert_error(&r, 404);
    assert_eq!(
        r.json()["description"],
        "Secret provided for 'None' doesn't exist."
    );

    // A ref under this server whose last segment is no UUID names no secret.
    let r = post_container(&arca, t, json!({"type": "generic", "secret_refs": [{"name": "z", "secret_ref": arca.url("/v1/secrets/not-a-uuid")}]})).await;
    assert_error(&r, 404);

    // A ref to another host is refused before any lookup (Barbican's "no spoofing" rule).
    let r = post_container(&arca, t, json!({"type": "generic", "secret_refs": [{"secret_ref": format!("http://evil.example/v1/secrets/{mine}")}]})).await;
    assert_error(&r, 400);
    assert_eq!(
        r.json()["description"],
        "Provided field value is not supported"
    );

    // A deleted secret leaves the containers that referenced it.
    let id = arca
        .create_container(
            t,
            json!({"type": "generic", "secret_refs": [arca.secret_ref_entry("m", &mine)]}),
        )
        .await;
    let d = send(arca.admin(Method::DELETE, &format!("/v1/secrets/{mine}"))).await;
    assert_eq!(d.status, 204);
    let c = send(arca.admin(Method::GET, &format!("/v1/containers/{id}")))
        .await
        .json();
    assert_eq!(c["secret_refs"], json!([]));
}

#[tokio::test]
async fn schema_errors_and_malformed_bodies_are_400_or_415() {
    let arca = Arca::start();
    let t = &arca.admin_token;
    let cases = [
        (json!({}), "'type' is a required property", "None"),
        (
            json!({"type": "dsa"}),
            "'dsa' is not one of ['generic', 'rsa', 'certificate']",
            "type",
        ),
        (json!({"type": 5}), "5 is not of type 'string'", "type"),
        (
            json!({"type": "generic", "name": 5}),
            "5 is not of type 'string', 'null'",
            "name",
        ),
        (
            json!({"type": "generic", "name": "x".repeat(256)}),
            "is too long",
            "name",
        ),
        (
            json!({"type": "generic", "secret_refs": "x"}),
            "'x' is not of type 'array'",
            "secret_refs",
        ),
        (
            json!({"type": "generic", "secret_refs": [1]}),
            "1 is not of type 'object'",
            "secret_refs",
        ),
        (
            json!({"type": "generic", "secret_refs": [{"name": "a"}]}),
            "'secret_ref' is a required property",
            "secret_refs",
        ),
        (
            json!({"type": "generic", "secret_refs": [{"secret_ref": ""}]}),
            "'' is too short",
            "secret_refs",
        ),
        (
            json!({"type": "generic", "secret_refs": [{"secret_ref": 7}]}),
            "7 is not of type 'string'",
            "secret_refs",
        ),
        (json!([]), "[] is not of type 'object'", "None"),
    ];
    for (body, reason, prop) in cases {
        let r = post_container(&arca, t, body.clone()).await;
        assert_error_about(&r, 400, format_args!("{body}"));
        let d = r.json()["description"].as_str().unwrap().to_owned();
        assert!(
            d.starts_with("Provided object does not match schema 'Container': "),
            "{d}"
        );
        assert!(d.contains(reason), "{body}: {d}");
        assert!(
            d.ends_with(&format!("Invalid property: '{prop}'")),
            "{body}: {d}"
        );
    }
    let r = send(
        arca.admin(Method::POST, "/v1/containers")
            .header("Content-Type", "application/json")
            .body("{nope"),
    )
    .await;
    assert_error(&r, 400);
    assert_eq!(r.json()["description"], "Malformed JSON");
    let r = send(
        arca.admin(Method::POST, "/v1/containers")
            .header("Content-Type", "text/plain")
            .body("{}"),
    )
    .await;
    assert_error(&r, 415);
    for path in [
        "/v1/containers/not-a-uuid",
        "/v1/containers/NOT",
        "/v1/containers/x/secrets",
        "/v1/containers/x/consumers",
    ] {
        let r = send(arca.admin(Method::GET, path)).await;
        assert_error_about(
            &r,
            if path.ends_with("secrets") { 405 } else { 404 },
            format_args!("{path}"),
        );
    }
    let r = send(arca.admin(Method::GET, "/v1/containers/not-a-uuid")).await;
    assert_eq!(
        r.json()["description"],
        "Not Found. Provided container id is invalid."
    );
    let r = send(arca.admin(Method::PUT, "/v1/containers")).await;
    assert_error(&r, 405);
}

#[tokio::test]
async fn list_pages_oldest_first_and_filters() {
    let arca = Arca::start();
    let t = &arca.admin_token;
    let mut ids = Vec::new();
    for (name, kind) in [("web-a", "generic"), ("web-b", "rsa"), ("db", "generic")] {
        ids.push(
            arca.create_container(t, json!({"name": name, "type": kind}))
                .await,
        );
    }
    let all = send(arca.admin(Method::GET, "/v1/containers")).await.json();
    assert_eq!(all["total"], 3);
    let got: Vec<String> = all["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| container_id(c["container_ref"].as_str().unwrap()))
        .collect();
    assert_eq!(got, ids, "oldest first");
    assert!(all.get("next").is_none() && all.get("previous").is_none());

    let p = send(arca.admin(Method::GET, "/v1/containers?limit=2"))
        .await
        .json();
    assert_eq!(p["containers"].as_array().unwrap().len(), 2);
    assert_eq!(p["total"], 3);
    let next = p["next"].as_str().unwrap();
    assert_eq!(query_param(next, "offset").as_deref(), Some("2"));
    assert!(next.contains("/v1/containers?"), "{next}");
    let p = send(arca.admin(Method::GET, "/v1/containers?limit=2&offset=2"))
        .await
        .json();
    assert_eq!(p["containers"].as_array().unwrap().len(), 1);
    assert_eq!(
        query_param(p["previous"].as_str().unwrap(), "offset").as_deref(),
        Some("0")
    );
    assert!(p.get("next").is_none());

    let f = send(arca.admin(Method::GET, "/v1/containers?name=db"))
        .await
        .json();
    assert_eq!(f["total"], 1);
    // `name` is a SQL LIKE pattern in Barbican.
    let f = send(arca.admin(Method::GET, "/v1/containers?name=web%25"))
        .await
        .json();
    assert_eq!(f["total"], 2);
    let f = send(arca.admin(Method::GET, "/v1/containers?type=rsa"))
        .await
        .json();
    assert_eq!(f["total"], 1);
    assert_eq!(f["containers"][0]["type"], "rsa");
    let f = send(arca.admin(Method::GET, "/v1/containers?type=bogus"))
        .await
        .json();
    assert_eq!(f, json!({"containers": [], "total": 0}));

    // Paging values are cleaned, never refused.
    for q in [
        "limit=abc",
        "limit=-1",
        "offset=-5",
        "limit=1000&offset=zz",
        "offset=99",
    ] {
        let r = send(arca.admin(Method::GET, &format!("/v1/containers?{q}"))).await;
        assert_eq!(r.status, 200, "{q}: {}", r.text());
    }
    let far = send(arca.admin(Method::GET, "/v1/containers?offset=99"))
        .await
        .json();
    assert_eq!(far, json!({"containers": [], "total": 3}));
    // Another project sees none of them.
    let other = arca.token("other", "o", "admin");
    let r = send(arca.req(Method::GET, "/v1/containers", &other))
        .await
        .json();
    assert_eq!(r, json!({"containers": [], "total": 0}));
}

#[tokio::test]
async fn legacy_policy_per_role_and_project() {
    let arca = Arca::start();
    let p = "proj";
    let tok = |u: &str, r: &str| arca.token(p, u, r);
    let (admin, creator, creator2, observer, audit) = (
        tok("ad", "admin"),
        tok("cr", "creator"),
        tok("cr2", "creator"),
        tok("ob", "observer"),
        tok("au", "audit"),
    );
    let outsider = arca.token("elsewhere", "x", "admin");
    let body = json!({"type": "generic", "name": "c"});

    for (token, want) in [
        (&admin, 201),
        (&creator, 201),
        (&observer, 403),
        (&audit, 403),
    ] {
        let r = post_container(&arca, token, body.clone()).await;
        assert_eq!(r.status, want, "create: {}", r.text());
        if want == 403 {
            assert_error(&r, 403);
            assert_eq!(
                r.json()["description"],
                "Container creation attempt not allowed - please review your user/project privileges"
            );
        }
    }
    for (token, want) in [
        (&admin, 200),
        (&creator, 200),
        (&observer, 200),
        (&audit, 403),
    ] {
        let r = send(arca.req(Method::GET, "/v1/containers", token)).await;
        assert_eq!(r.status, want, "list: {}", r.text());
    }
    let id = arca.create_container(&creator, body.clone()).await;
    let path = format!("/v1/containers/{id}");
    for token in [&admin, &creator, &creator2, &observer, &audit] {
        let r = send(arca.req(Method::GET, &path, token)).await;
        assert_eq!(r.status, 200, "get: {}", r.text());
    }
    let r = send(arca.req(Method::GET, &path, &outsider)).await;
    assert_error(&r, 403);

    // container:delete = project admin, or a creator who created it.
    for token in [&observer, &audit, &creator2, &outsider] {
        let r = send(arca.req(Method::DELETE, &path, token)).await;
        assert_error(&r, 403);
    }
    let r = send(arca.req(Method::DELETE, &path, &creator)).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let id = arca.create_container(&creator, body).await;
    let r = send(arca.req(Method::DELETE, &format!("/v1/containers/{id}"), &admin)).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = send(arca.anon(Method::GET, "/v1/containers")).await;
    assert_error(&r, 401);
}

#[tokio::test]
async fn secrets_of_a_generic_container() {
    let arca = Arca::start();
    let t = &arca.admin_token;
    let a = arca.create_text_secret(t, "a", "x").await;
    let b = arca.create_text_secret(t, "b", "x").await;
    let id = arca
        .create_container(
            t,
            json!({"type": "generic", "secret_refs": [arca.secret_ref_entry("a", &a)]}),
        )
        .await;
    let path = format!("/v1/containers/{id}/secrets");
    let add = |body: Value| send(arca.admin(Method::POST, &path).json(&body));

    let r = add(json!({"name": "b", "secret_ref": arca.url(&format!("/v1/secrets/{b}"))})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(
        r.json()["container_ref"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v1/containers/{id}"))
    );
    // The same secret under another name is fine; the same (secret, name) again is a conflict.
    let r = add(json!({"name": "b2", "secret_ref": arca.url(&format!("/v1/secrets/{b}"))})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = add(json!({"name": "b", "secret_ref": arca.url(&format!("/v1/secrets/{b}"))})).await;
    assert_error(&r, 409);
    let c = send(arca.admin(Method::GET, &format!("/v1/containers/{id}")))
        .await
        .json();
    assert_eq!(c["secret_refs"].as_array().unwrap().len(), 3);

    // Bad bodies.
    for body in [
        json!({}),
        json!({"secret_ref": ""}),
        json!({"secret_ref": 5}),
        json!({"name": null, "secret_ref": "x/y"}),
        json!("x"),
    ] {
        let r = add(body.clone()).await;
        assert_error_about(&r, 400, format_args!("{body}"));
        assert!(
            r.json()["description"]
                .as_str()
                .unwrap()
                .contains("schema 'ContainerSecret'"),
            "{}",
            r.text()
        );
    }
    let r = add(json!({"secret_ref": "no-slash"})).await;
    assert_error(&r, 404);
    assert_eq!(r.json()["description"], "Secret provided doesn't exist.");
    let other = arca.token("other", "o", "admin");
    let theirs = arca.create_text_secret(&other, "t", "x").await;
    let r = add(json!({"secret_ref": arca.url(&format!("/v1/secrets/{theirs}"))})).await;
    assert_error(&r, 404);

    // Removal names the pair exactly.
    let del = |body: Value| send(arca.admin(Method::DELETE, &path).json(&body));
    let r = del(json!({"name": "b2", "secret_ref": arca.url(&format!("/v1/secrets/{b}"))})).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = del(json!({"name": "b2", "secret_ref": arca.url(&format!("/v1/secrets/{b}"))})).await;
    assert_error(&r, 404);
    assert_eq!(
        r.json()["description"],
        "Secret provided is not in the container"
    );
    let r = del(json!({"name": "zz", "secret_ref": arca.url("/v1/secrets/0190a0f0-0000-7000-8000-00000000abcd")})).await;
    assert_error(&r, 404);
    assert!(
        r.json()["description"]
            .as_str()
            .unwrap()
            .starts_with("Secret 'zz' with reference")
    );

    // Only generic containers can be modified.
    let rsa = arca.create_container(t, json!({"type": "rsa"})).await;
    let r = send(
        arca.admin(Method::POST, &format!("/v1/containers/{rsa}/secrets"))
            .json(&json!({"secret_ref": arca.url(&format!("/v1/secrets/{a}"))})),
    )
    .await;
    assert_error(&r, 400);
    assert_eq!(
        r.json()["description"],
        "Only 'generic' containers can be modified."
    );

    // Policy: observers and other projects may not change it.
    let observer = arca.token("admin", "ob", "observer");
    let creator = arca.token("admin", "cr", "creator");
    let body = json!({"name": "c", "secret_ref": arca.url(&format!("/v1/secrets/{a}"))});
    for token in [&observer, &other] {
        let r = send(arca.req(Method::POST, &path, token).json(&body)).await;
        assert_error(&r, 403);
        let r = send(arca.req(Method::DELETE, &path, token).json(&body)).await;
        assert_error(&r, 403);
    }
    let r = send(arca.req(Method::POST, &path, &creator).json(&body)).await;
    assert_eq!(r.status, 201, "creator role may add: {}", r.text());
    let r = send(
        arca.admin(
            Method::POST,
            "/v1/containers/0190a0f0-0000-7000-8000-00000000abcd/secrets",
        )
        .json(&body),
    )
    .await;
    assert_error(&r, 404);
    let r = send(arca.admin(Method::GET, &path)).await;
    assert_error(&r, 405);
}
