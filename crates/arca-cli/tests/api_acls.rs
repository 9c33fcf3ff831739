//! ACLs on secrets: `GET`/`PUT`/`PATCH`/`DELETE /v1/secrets/{id}/acl`, their effect on every role, and
//! `acl_only=true` in the secrets list.
//!
//! Reference: barbican/api/controllers/acls.py (GET answers `DEFAULT_ACL` `{"read": {"project-access": true}}`
//! without an ACL; PUT replaces, PATCH merges, both 200 `{"acl_ref"}`; DELETE 200), barbican/common/validators.py
//! `ACLValidator` (only `read`, with `users` and `project-access`), barbican/common/policies/acls.py and the legacy
//! rules of base.py/secrets.py/secretmeta.py: `secret_acls:get` needs any role but audit in the project,
//! `put_patch`/`delete` the project's admin or the secret's creator; `project-access: false` makes a secret
//! private (only admins, the creator and listed users read it; a creator-role user who is not its creator may
//! not delete it); listed users of any project read metadata and payload (`secret_acl_read`).

mod common;
use common::*;

fn acl_path(id: &str) -> String {
    format!("/v1/secrets/{id}/acl")
}

async fn put_acl(arca: &Arca, token: &str, id: &str, method: Method, body: Value) -> Resp {
    send(arca.req(method, &acl_path(id), token).json(&body)).await
}

async fn get_acl(arca: &Arca, token: &str, id: &str) -> Resp {
    send(arca.req(Method::GET, &acl_path(id), token)).await
}

async fn status(arca: &Arca, token: &str, method: Method, path: &str) -> u16 {
    send(
        arca.req(method, path, token)
            .header("Accept", "application/json"),
    )
    .await
    .status
}

async fn payload_status(arca: &Arca, token: &str, id: &str) -> u16 {
    send(
        arca.req(Method::GET, &format!("/v1/secrets/{id}/payload"), token)
            .header("Accept", "text/plain"),
    )
    .await
    .status
}

#[tokio::test]
async fn default_put_patch_delete_round_trip() {
    let arca = Arca::start();
    let admin = arca.admin_token.clone();
    let id = arca.create_text_secret(&admin, "s", "x").await;

    let r = get_acl(&arca, &admin, &id).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"read": {"project-access": true}}));

    let r = put_acl(
        &arca,
        &admin,
        &id,
        Method::PUT,
        json!({"read": {"users": ["u1", "u2"]}}),
    )
    .await;
    assert_eq!(
        r.status,
        200,
        "PUT answers 200 (acls.py on_put): {}",
        r.text()
    );
    assert_eq!(
        r.json()["acl_ref"],
        json!(arca.url(&format!("/v1/secrets/{id}/acl")))
    );
    let acl = get_acl(&arca, &admin, &id).await.json();
    assert_eq!(acl["read"]["users"], json!(["u1", "u2"]));
    assert_eq!(
        acl["read"]["project-access"],
        json!(true),
        "PUT defaults project-access to true"
    );
    assert_recent(acl["read"]["created"].as_str().expect("created"));
    assert_recent(acl["read"]["updated"].as_str().expect("updated"));

    // PATCH changes only what it names.
    let r = put_acl(
        &arca,
        &admin,
        &id,
        Method::PATCH,
        json!({"read": {"project-access": false}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let acl = get_acl(&arca, &admin, &id).await.json();
    assert_eq!(acl["read"]["users"], json!(["u1", "u2"]));
    assert_eq!(acl["read"]["project-access"], json!(false));
    let r = put_acl(
        &arca,
        &admin,
        &id,
        Method::PATCH,
        json!({"read": {"users": []}}),
    )
    .await;
    assert_eq!(r.status, 200);
    let acl = get_acl(&arca, &admin, &id).await.json();
    assert_eq!(acl["read"]["users"], json!([]));
    assert_eq!(acl["read"]["project-access"], json!(false));

    // PUT replaces: project-access back to its default.
    let r = put_acl(
        &arca,
        &admin,
        &id,
        Method::PUT,
        json!({"read": {"users": ["u3", "u3"]}}),
    )
    .await;
    assert_eq!(r.status, 200);
    let acl = get_acl(&arca, &admin, &id).await.json();
    assert_eq!(
        acl["read"]["users"],
        json!(["u3"]),
        "duplicates are kept once"
    );
    assert_eq!(acl["read"]["project-access"], json!(true));

    // PUT without `read` removes the ACL; PATCH with an empty one changes nothing.
    let r = put_acl(&arca, &admin, &id, Method::PUT, json!({})).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        get_acl(&arca, &admin, &id).await.json(),
        json!({"read": {"project-access": true}})
    );
    let r = put_acl(&arca, &admin, &id, Method::PATCH, json!({"read": {}})).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        get_acl(&arca, &admin, &id).await.json(),
        json!({"read": {"project-access": true}})
    );

    // DELETE: 200 with a JSON null, also when there is no ACL.
    put_acl(
        &arca,
        &admin,
        &id,
        Method::PUT,
        json!({"read": {"users": ["u1"]}}),
    )
    .await;
    for _ in 0..2 {
        let r = send(arca.admin(Method::DELETE, &acl_path(&id))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json(), Value::Null);
        assert_eq!(
            get_acl(&arca, &admin, &id).await.json(),
            json!({"read": {"project-access": true}})
        );
    }

    // The trailing-slash form is served too; other methods are 405.
    let r = send(arca.admin(Method::GET, &format!("{}/", acl_path(&id)))).await;
    assert_eq!(r.status, 200);
    let r = send(arca.admin(Method::POST, &acl_path(&id)).json(&json!({}))).await;
    assert_error(&r, 405);

    // Deleting the secret takes its ACL along; the ACL of an unknown secret is a 404.
    put_acl(
        &arca,
        &admin,
        &id,
        Method::PUT,
        json!({"read": {"users": ["u1"]}}),
    )
    .await;
    assert_eq!(
        status(&arca, &admin, Method::DELETE, &format!("/v1/secrets/{id}")).await,
        204
    );
    assert_error(&get_acl(&arca, &admin, &id).await, 404);
}

#[tokio::test]
async fn private_secrets_and_acl_users_across_roles_and_projects() {
    let arca = Arca::start();
    let alice = arca.token("p", "alice", "creator"); // the secret's creator
    let root = arca.token("p", "root", "admin");
    let bob = arca.token("p", "bob", "creator");
    let obs = arca.token("p", "obs", "observer");
    let aud = arca.token("p", "aud", "audit");
    let carol = arca.token("q", "carol", "observer"); // listed, other project
    let dave = arca.token("q", "dave", "audit"); // listed, other project, audit role
    let eve = arca.token("q", "eve", "admin"); // not listed, other project

    let id = arca.create_text_secret(&alice, "shared", "s3cr3t").await;
    let meta = format!("/v1/secrets/{id}");
    let user_meta = format!("/v1/secrets/{id}/metadata");

    // Default ACL: the project's roles decide; other projects see nothing.
    assert_eq!(status(&arca, &obs, Method::GET, &meta).await, 200);
    assert_eq!(payload_status(&arca, &obs, &id).await, 200);
    assert_eq!(status(&arca, &aud, Method::GET, &meta).await, 200);
    assert_eq!(
        payload_status(&arca, &aud, &id).await,
        403,
        "audit never decrypts"
    );
    for other in [&carol, &eve] {
        assert_eq!(status(&arca, other, Method::GET, &meta).await, 403);
        assert_eq!(payload_status(&arca, other, &id).await, 403);
    }

    // Who may read and change the ACL.
    assert_eq!(
        get_acl(&arca, &obs, &id).await.status,
        200,
        "secret_acls:get: all but audit"
    );
    assert_eq!(get_acl(&arca, &bob, &id).await.status, 200);
    assert_error(&get_acl(&arca, &aud, &id).await, 403);
    assert_error(&get_acl(&arca, &carol, &id).await, 403);
    let private = json!({"read": {"users": ["carol", "dave"], "project-access": false}});
    for who in [&bob, &obs, &aud, &carol, &eve] {
        let r = put_acl(&arca, who, &id, Method::PUT, private.clone()).await;
        assert_error(&r, 403);
        assert!(
            r.json()["description"]
                .as_str()
                .unwrap_or_default()
                .starts_with("SecretACL(s) Update attempt not allowed"),
            "{}",
            r.text()
        );
        assert_error(
            &send(arca.req(Method::DELETE, &acl_path(&id), who)).await,
            403,
        );
    }
    let r = put_acl(&arca, &alice, &id, Method::PUT, private.clone()).await;
    assert_eq!(r.status, 200, "the creator sets the ACL: {}", r.text());
    let r = put_acl(&arca, &root, &id, Method::PUT, private.clone()).await;
    assert_eq!(
        r.status,
        200,
        "the project's admin sets the ACL: {}",
        r.text()
    );

    // Private: the project's roles no longer read; the admin, the creator and listed users do.
    for (who, name, expect) in [
        (&root, "admin", 200),
        (&alice, "creator", 200),
        (&carol, "listed observer of q", 200),
        (&dave, "listed audit of q", 200),
        (&bob, "other creator of p", 403),
        (&obs, "observer of p", 403),
        (&aud, "audit of p", 403),
        (&eve, "unlisted admin of q", 403),
    ] {
        assert_eq!(
            status(&arca, who, Method::GET, &meta).await,
            expect,
            "{name}: metadata"
        );
        assert_eq!(
            payload_status(&arca, who, &id).await,
            expect,
            "{name}: payload"
        );
        assert_eq!(
            status(&arca, who, Method::GET, &user_meta).await,
            expect,
            "{name}: user metadata"
        );
    }
    let r = send(
        arca.req(Method::GET, &format!("/v1/secrets/{id}/payload"), &dave)
            .header("Accept", "text/plain"),
    )
    .await;
    assert_eq!(
        r.text(),
        "s3cr3t",
        "a listed user of another project reads the payload"
    );

    // Listed users only read: no writes, no deletes, no ACL.
    for who in [&carol, &dave] {
        assert_error(&send(arca.req(Method::DELETE, &meta, who)).await, 403);
        let r = send(
            arca.req(Method::PUT, &user_meta, who)
                .json(&json!({"metadata": {"k": "v"}})),
        )
        .await;
        assert_error(&r, 403);
        assert_error(&get_acl(&arca, who, &id).await, 403);
    }
    // A creator-role user who is not the creator may not delete a private secret (secret:delete).
    assert_error(&send(arca.req(Method::DELETE, &meta, &bob)).await, 403);
    let r = send(
        arca.req(Method::PUT, &user_meta, &bob)
            .json(&json!({"metadata": {"k": "v"}})),
    )
    .await;
    assert_error(&r, 403);

    // Shared but not private: the project's roles read again, listed users still read.
    let r = put_acl(
        &arca,
        &alice,
        &id,
        Method::PATCH,
        json!({"read": {"project-access": true}}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(payload_status(&arca, &obs, &id).await, 200);
    assert_eq!(payload_status(&arca, &carol, &id).await, 200);
    assert_eq!(
        payload_status(&arca, &dave, &id).await,
        200,
        "secret_acl_read needs no role"
    );
    assert_eq!(payload_status(&arca, &eve, &id).await, 403);
    assert_eq!(
        send(
            arca.req(Method::PUT, &user_meta, &bob)
                .json(&json!({"metadata": {"k": "v"}}))
        )
        .await
        .status,
        201,
        "a creator-role user writes metadata of a non-private secret"
    );
    // ...and deletes it (secret_project_creator_role and not secret_private_read).
    assert_eq!(status(&arca, &bob, Method::DELETE, &meta).await, 204);
}

#[tokio::test]
async fn acl_only_lists_the_secrets_shared_with_the_caller() {
    let arca = Arca::start();
    let alice = arca.token("p", "alice", "creator");
    let carol = arca.token("q", "carol", "creator");
    let shared: Vec<String> = {
        let mut ids = Vec::new();
        for i in 0..3 {
            ids.push(
                arca.create_text_secret(&alice, &format!("shared-{i}"), "x")
                    .await,
            );
        }
        ids
    };
    let _private = arca.create_text_secret(&alice, "mine", "x").await;
    let own = arca.create_text_secret(&carol, "carol's", "x").await;
    for id in &shared {
        let r = put_acl(
            &arca,
            &alice,
            id,
            Method::PUT,
            json!({"read": {"users": ["carol"]}}),
        )
        .await;
        assert_eq!(r.status, 200);
    }
    let list = |token: String, query: &'static str| {
        let arca = &arca;
        async move {
            let r = send(arca.req(Method::GET, &format!("/v1/secrets{query}"), &token)).await;
            assert_eq!(r.status, 200, "{}", r.text());
            r.json()
        }
    };
    let all = list(carol.clone(), "?acl_only=true").await;
    assert_eq!(all["total"], json!(3));
    let mut got: Vec<String> = all["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| secret_id(s["secret_ref"].as_str().unwrap()))
        .collect();
    got.sort();
    let mut want = shared.clone();
    want.sort();
    assert_eq!(
        got, want,
        "only the secrets whose ACL lists carol, from any project"
    );
    let page = list(carol.clone(), "?acl_only=True&limit=2").await;
    assert_eq!(page["secrets"].as_array().unwrap().len(), 2);
    let next = page["next"].as_str().expect("next link");
    assert_eq!(query_param(next, "acl_only").as_deref(), Some("True"));
    let named = list(carol.clone(), "?acl_only=true&name=shared-1").await;
    assert_eq!(named["total"], json!(1));
    // Without it (or with anything but "true"), the caller's own project.
    for q in ["", "?acl_only=false", "?acl_only=yes"] {
        let own_list = list(carol.clone(), q).await;
        assert_eq!(own_list["total"], json!(1), "{q}");
        assert_eq!(
            secret_id(own_list["secrets"][0]["secret_ref"].as_str().unwrap()),
            own
        );
    }
    assert_eq!(
        list(alice.clone(), "?acl_only=true").await["total"],
        json!(0)
    );
    // The list policy still applies.
    let aud = arca.token("q", "carol", "audit");
    assert_error(
        &send(arca.req(Method::GET, "/v1/secrets?acl_only=true", &aud)).await,
        403,
    );
}

#[tokio::test]
async fn bad_acl_requests_are_4xx_in_barbicans_order() {
    let arca = Arca::start();
    let admin = arca.admin_token.clone();
    let obs = arca.token("admin", "obs", "observer");
    let id = arca.create_text_secret(&admin, "s", "x").await;

    // Unknown and malformed secret ids: 404 before anything else.
    let unknown = "0b0b0b0b-0000-4000-8000-000000000000";
    for path in [acl_path(unknown), "/v1/secrets/not-a-uuid/acl".to_string()] {
        assert_error(&send(arca.admin(Method::GET, &path)).await, 404);
        assert_error(
            &send(arca.admin(Method::PUT, &path).json(&json!({}))).await,
            404,
        );
    }
    // Policy before the body: an observer gets 403 whatever it sends.
    let r = send(
        arca.req(Method::PUT, &acl_path(&id), &obs)
            .header("Content-Type", "text/plain")
            .body("junk"),
    )
    .await;
    assert_error(&r, 403);
    // Then the content type, then the JSON, then the schema.
    let r = send(
        arca.admin(Method::PUT, &acl_path(&id))
            .header("Content-Type", "text/plain")
            .body("{}"),
    )
    .await;
    assert_error(&r, 415);
    let r = send(
        arca.admin(Method::PATCH, &acl_path(&id))
            .header("Content-Type", "application/json")
            .body("{\"read\": "),
    )
    .await;
    assert_error(&r, 400);
    assert_eq!(r.json()["description"], json!("Malformed JSON"));
    for (body, reason) in [
        (json!([]), "is not of type 'object'"),
        (
            json!({"write": {"users": []}}),
            "Additional properties are not allowed ('write' was unexpected)",
        ),
        (json!({"read": "all"}), "'all' is not of type 'object'"),
        (
            json!({"read": {"users": "carol"}}),
            "'carol' is not of type 'array'",
        ),
        (
            json!({"read": {"users": [42]}}),
            "42 is not of type 'string'",
        ),
        (
            json!({"read": {"users": [null]}}),
            "None is not of type 'string'",
        ),
        (
            json!({"read": {"project-access": "false"}}),
            "'false' is not of type 'boolean'",
        ),
        (
            json!({"read": {"project-access": 0}}),
            "0 is not of type 'boolean'",
        ),
        (
            json!({"read": {"users": [], "groups": []}}),
            "Additional properties are not allowed ('groups' was unexpected)",
        ),
        (json!({"read": {"users": ["x".repeat(256)]}}), "is too long"),
    ] {
        for method in [Method::PUT, Method::PATCH] {
            let r = put_acl(&arca, &admin, &id, method.clone(), body.clone()).await;
            assert_error_about(&r, 400, format_args!("{method} {body}"));
            let d = r.json()["description"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            assert!(
                d.starts_with("Provided object does not match schema 'ACL': ")
                    && d.contains(reason),
                "{body}: {d}"
            );
        }
    }
    // Nothing was changed by the refused requests.
    assert_eq!(
        get_acl(&arca, &admin, &id).await.json(),
        json!({"read": {"project-access": true}})
    );
    // No token: 401.
    assert_error(&send(arca.anon(Method::GET, &acl_path(&id))).await, 401);
}

#[tokio::test]
async fn container_acls_share_and_hide_containers() {
    let arca = Arca::start();
    let alice = arca.token("p", "alice", "creator");
    let obs = arca.token("p", "obs", "observer");
    let bob = arca.token("p", "bob", "creator");
    let carol = arca.token("q", "carol", "observer");
    let secret = arca.create_text_secret(&alice, "s", "x").await;
    let id = arca
        .create_container(
            &alice,
            json!({"type": "generic", "name": "c",
            "secret_refs": [arca.secret_ref_entry("a", &secret)]}),
        )
        .await;
    let path = format!("/v1/containers/{id}/acl");
    let container = format!("/v1/containers/{id}");

    let r = send(arca.req(Method::GET, &path, &obs)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"read": {"project-access": true}}));
    assert_eq!(status(&arca, &obs, Method::GET, &container).await, 200);
    assert_eq!(status(&arca, &carol, Method::GET, &container).await, 403);

    let private = json!({"read": {"users": ["carol"], "project-access": false}});
    assert_error(
        &send(arca.req(Method::PUT, &path, &bob).json(&private)).await,
        403,
    );
    let r = send(arca.req(Method::PUT, &path, &alice).json(&private)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["acl_ref"], json!(arca.url(&path)));
    assert_eq!(
        status(&arca, &carol, Method::GET, &container).await,
        200,
        "listed user of q"
    );
    assert_eq!(
        status(&arca, &obs, Method::GET, &container).await,
        403,
        "private to p's observer"
    );
    assert_eq!(status(&arca, &alice, Method::GET, &container).await, 200);
    assert_error(
        &send(arca.req(Method::DELETE, &container, &carol)).await,
        403,
    );
    let r = send(
        arca.req(Method::PATCH, &path, &alice)
            .json(&json!({"read": {"project-access": true}})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(status(&arca, &obs, Method::GET, &container).await, 200);
    let got = send(arca.req(Method::GET, &path, &alice)).await.json();
    assert_eq!(got["read"]["users"], json!(["carol"]));
    let r = send(arca.req(Method::DELETE, &path, &alice)).await;
    assert_eq!(r.status, 200);
    assert_eq!(status(&arca, &carol, Method::GET, &container).await, 403);
    // Bad ids and bodies.
    assert_error(
        &send(arca.req(Method::GET, "/v1/containers/nope/acl", &alice)).await,
        404,
    );
    let unknown = "/v1/containers/0b0b0b0b-0000-4000-8000-000000000000/acl";
    assert_error(
        &send(arca.req(Method::PUT, unknown, &alice).json(&private)).await,
        404,
    );
    let r = send(
        arca.req(Method::PUT, &path, &alice)
            .json(&json!({"read": {"users": 5}})),
    )
    .await;
    assert_error(&r, 400);
    let r = send(
        arca.req(Method::PUT, &path, &alice)
            .header("Content-Type", "text/plain")
            .body("{}"),
    )
    .await;
    assert_error(&r, 415);
}

/// Sends the PATCHes of `bodies` to `path` at once; each must answer 200.
async fn patch_at_once(arca: &Arca, path: &str, bodies: Vec<Value>) {
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let request = arca.admin(Method::PATCH, path).json(&body);
            tokio::spawn(async move { request.send().await.expect("PATCH").status().as_u16() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
}

/// Concurrent PATCHes of one ACL never undo each other: each is merged into the ACL as it is inside the
/// store's write. (PATCH replaces the fields it names — `users` is a whole list in Barbican — so the lost update
/// to rule out is of another PATCH's field: a `users` PATCH racing a `project-access` PATCH keeps both.)
#[tokio::test]
async fn concurrent_patches_of_one_acl_lose_no_update() {
    let arca = Arca::start();
    let token = arca.admin_token.clone();
    let secret = arca.create_text_secret(&token, "s", "v").await;
    let container = arca
        .create_container(&token, json!({"type": "generic"}))
        .await;
    for path in [acl_path(&secret), format!("/v1/containers/{container}/acl")] {
        for round in 0..12 {
            let reset = json!({"read": {"users": [], "project-access": true}});
            let r = send(arca.admin(Method::PUT, &path).json(&reset)).await;
            assert_eq!(r.status, 200, "{}", r.text());
            // Several PATCHes of `users` (each a whole list) race one PATCH of `project-access`.
            let mut bodies: Vec<Value> = (0..6)
                .map(|i| json!({"read": {"users": [format!("u{round}-{i}"), "shared"]}}))
                .collect();
            bodies.insert(3, json!({"read": {"project-access": false}}));
            patch_at_once(&arca, &path, bodies).await;
            let r = send(arca.admin(Method::GET, &path)).await;
            assert_eq!(r.status, 200, "{}", r.text());
            let read = &r.json()["read"];
            assert_eq!(
                read["project-access"],
                json!(false),
                "{path} round {round}: {read}"
            );
            let users = read["users"].as_array().unwrap();
            assert_eq!(users.len(), 2, "{path} round {round}: {read}");
            assert!(
                users[0]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("u{round}-"))
                    && users[1] == "shared",
                "{path} round {round}: {read}"
            );
        }
    }
}
