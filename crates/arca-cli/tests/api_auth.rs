//! Authentication (token mode: `X-Auth-Token` or `Authorization: Bearer`; trusted-headers mode:
//! `X-Project-Id`/`X-User-Id`/`X-Roles`) and authorisation under Barbican's legacy policy.
//!
//! Legacy rules (barbican/common/policies/base.py and the `deprecated_*` rules in
//! barbican/common/policies/secrets.py and secretmeta.py), for a secret without ACLs
//! (ACLMixin.get_acl_dict_for_user then sets `read_project_access: True`):
//! - `secrets:post` = admin_or_creator; `secrets:get` = all_but_audit (admin, observer, creator)
//! - `secret:get` = secret_non_private_read (all_users + project match) → admin, creator,
//!   observer, audit of the secret's project
//! - `secret:decrypt` = secret_decrypt_non_private_read (all_but_audit + project match) → audit
//!   is denied the payload (also for the legacy `GET /v1/secrets/{id}` with a non-JSON Accept,
//!   controllers._do_enforce_rbac switches to secret:decrypt)
//! - `secret:put` = admin_or_creator and project match
//! - `secret:delete` = project admin, or the creator, or (creator role in the project and the
//!   secret is not private) → any creator of the project
//! - `secret_meta:get` = like secret:get; `secret_meta:post|put|delete` = project admin or
//!   creator role in the project
//!
//! Every rule requires the secret's project: another project's principal gets 403 (the secret is
//! found first — SecretsController._lookup uses get_secret_by_id without a project — then RBAC
//! refuses), while an unknown id stays 404.

mod common;
use common::*;

const P1: &str = "11111111111111111111111111111111";
const P2: &str = "22222222222222222222222222222222";

struct Fixture {
    arca: Arca,
    /// role → token in project P1 (user "u-<role>")
    p1: Vec<(&'static str, String)>,
    /// role → token in project P2
    p2: Vec<(&'static str, String)>,
    /// creator in P1 who owns `secret`
    owner: String,
    /// a text secret in P1 with metadata {"k": "v"}
    secret: String,
}

async fn fixture() -> Fixture {
    let arca = Arca::start();
    let p1 = ROLES
        .iter()
        .map(|r| (*r, arca.token(P1, &format!("u-{r}"), r)))
        .collect();
    let p2 = ROLES
        .iter()
        .map(|r| (*r, arca.token(P2, &format!("x-{r}"), r)))
        .collect();
    let owner = arca.token(P1, "owner", "creator");
    let secret = arca
        .create_text_secret(&owner, "shared", "top secret")
        .await;
    let r = send(
        arca.req(
            Method::PUT,
            &format!("/v1/secrets/{secret}/metadata"),
            &owner,
        )
        .json(&json!({"metadata": {"k": "v"}})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    Fixture {
        arca,
        p1,
        p2,
        owner,
        secret,
    }
}

/// One authenticated route: (label, method, path, content-type, body, accept).
type Route = (
    &'static str,
    Method,
    String,
    Option<&'static str>,
    String,
    Option<&'static str>,
);

/// Every authenticated route.
fn routes(id: &str) -> Vec<Route> {
    vec![
        (
            "list",
            Method::GET,
            "/v1/secrets".into(),
            None,
            String::new(),
            None,
        ),
        (
            "create",
            Method::POST,
            "/v1/secrets".into(),
            Some("application/json"),
            json!({"payload": "x", "payload_content_type": "text/plain"}).to_string(),
            None,
        ),
        (
            "get metadata",
            Method::GET,
            format!("/v1/secrets/{id}"),
            None,
            String::new(),
            Some("application/json"),
        ),
        (
            "get payload",
            Method::GET,
            format!("/v1/secrets/{id}/payload"),
            None,
            String::new(),
            Some("text/plain"),
        ),
        (
            "legacy payload",
            Method::GET,
            format!("/v1/secrets/{id}"),
            None,
            String::new(),
            Some("text/plain"),
        ),
        (
            "put payload",
            Method::PUT,
            format!("/v1/secrets/{id}"),
            Some("text/plain"),
            "data".into(),
            None,
        ),
        (
            "delete",
            Method::DELETE,
            format!("/v1/secrets/{id}"),
            None,
            String::new(),
            None,
        ),
        (
            "get user metadata",
            Method::GET,
            format!("/v1/secrets/{id}/metadata"),
            None,
            String::new(),
            None,
        ),
        (
            "put user metadata",
            Method::PUT,
            format!("/v1/secrets/{id}/metadata"),
            Some("application/json"),
            json!({"metadata": {"k": "w"}}).to_string(),
            None,
        ),
        (
            "post metadatum",
            Method::POST,
            format!("/v1/secrets/{id}/metadata"),
            Some("application/json"),
            json!({"key": "new", "value": "n"}).to_string(),
            None,
        ),
        (
            "get metadatum",
            Method::GET,
            format!("/v1/secrets/{id}/metadata/k"),
            None,
            String::new(),
            None,
        ),
        (
            "put metadatum",
            Method::PUT,
            format!("/v1/secrets/{id}/metadata/k"),
            Some("application/json"),
            json!({"key": "k", "value": "w"}).to_string(),
            None,
        ),
        (
            "delete metadatum",
            Method::DELETE,
            format!("/v1/secrets/{id}/metadata/k"),
            None,
            String::new(),
            None,
        ),
    ]
}

fn build(arca: &Arca, (_, method, path, ctype, body, accept): &Route) -> reqwest::RequestBuilder {
    let mut rb = arca.anon(method.clone(), path);
    if let Some(c) = ctype {
        rb = rb.header("Content-Type", *c);
    }
    if let Some(a) = accept {
        rb = rb.header("Accept", *a);
    }
    if !body.is_empty() {
        rb = rb.body(body.clone());
    }
    rb
}

/// Whether the legacy policy lets `role` (in the secret's project) use the route `label`.
fn legacy_allows(role: &str, label: &str) -> bool {
    match label {
        "create" | "put payload" | "delete" | "put user metadata" | "post metadatum"
        | "put metadatum" | "delete metadatum" => matches!(role, "admin" | "creator"),
        "list" | "get payload" | "legacy payload" => {
            matches!(role, "admin" | "creator" | "observer")
        }
        "get metadata" | "get user metadata" | "get metadatum" => true,
        other => panic!("unknown route {other}"),
    }
}

fn success_code(label: &str) -> u16 {
    match label {
        "create" | "put user metadata" | "post metadatum" => 201,
        "put payload" | "delete" | "delete metadatum" => 204,
        _ => 200,
    }
}

#[tokio::test]
async fn missing_credentials_are_401() {
    let f = fixture().await;
    let fake = "0b0b0b0b-1c1c-4d4d-8e8e-9f9f9f9f9f9f";
    for id in [f.secret.as_str(), fake, "not-a-uuid"] {
        for route in routes(id) {
            let r = send(build(&f.arca, &route)).await;
            // Barbican's own 401 comes from keystonemiddleware; Arca uses the Barbican error body
            // for every API error (DESIGN.md "Errors on the Barbican API use Barbican's body").
            assert_error_about(
                &r,
                401,
                format_args!("{} {} without credentials", route.1, route.2),
            );
        }
    }
    // Nothing happened to the secret.
    let m = f.arca.secret_meta(&f.owner, &f.secret).await;
    assert_eq!(m["name"], "shared");
}

#[tokio::test]
async fn invalid_tokens_are_401() {
    let f = fixture().await;
    let good = f.owner.clone();
    let mut tampered = good.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    let bad = [
        "arca_bogus".to_string(),
        "not-even-arca".to_string(),
        tampered,
        format!("{good}x"),
        good[..good.len() - 1].to_string(),
        "arca_".to_string(),
    ];
    for tok in &bad {
        let r = send(f.arca.req(Method::GET, "/v1/secrets", tok)).await;
        assert_error(&r, 401);
        let r = send(
            f.arca
                .anon(Method::GET, "/v1/secrets")
                .header("Authorization", format!("Bearer {tok}")),
        )
        .await;
        assert_error(&r, 401);
        let r = send(
            f.arca
                .req(
                    Method::GET,
                    &format!("/v1/secrets/{}/payload", f.secret),
                    tok,
                )
                .header("Accept", "text/plain"),
        )
        .await;
        assert_error(&r, 401);
    }
    // Other Authorization schemes and empty values are not tokens.
    for value in ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer ", ""] {
        let r = send(
            f.arca
                .anon(Method::GET, "/v1/secrets")
                .header("Authorization", value),
        )
        .await;
        assert_error(&r, 401);
    }
    let r = send(
        f.arca
            .anon(Method::GET, "/v1/secrets")
            .header("X-Auth-Token", ""),
    )
    .await;
    assert_error(&r, 401);
    // Identity headers are not trusted in token mode.
    let r = send(
        f.arca
            .anon(Method::GET, "/v1/secrets")
            .header("X-Project-Id", P1)
            .header("X-User-Id", "u-admin")
            .header("X-Roles", "admin"),
    )
    .await;
    assert_error(&r, 401);
}

#[tokio::test]
async fn both_token_header_forms_work() {
    let f = fixture().await;
    let path = format!("/v1/secrets/{}/payload", f.secret);
    let r = send(
        f.arca
            .anon(Method::GET, &path)
            .header("X-Auth-Token", &f.owner)
            .header("Accept", "text/plain"),
    )
    .await;
    assert_eq!((r.status, r.text()), (200, "top secret".to_string()));
    let r = send(
        f.arca
            .anon(Method::GET, &path)
            .header("Authorization", format!("Bearer {}", f.owner))
            .header("Accept", "text/plain"),
    )
    .await;
    assert_eq!((r.status, r.text()), (200, "top secret".to_string()));
    // The admin token from `arca init` works too.
    let r = send(
        f.arca
            .anon(Method::GET, "/v1/secrets")
            .header("Authorization", format!("Bearer {}", f.arca.admin_token)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn expired_token_is_401() {
    let arca = Arca::start();
    let tok = arca.token_ttl("p", "short", "creator", "2s");
    let r = send(arca.req(Method::GET, "/v1/secrets", &tok)).await;
    assert_eq!(r.status, 200, "fresh token: {}", r.text());
    tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
    let r = send(arca.req(Method::GET, "/v1/secrets", &tok)).await;
    assert_error(&r, 401);
}

#[tokio::test]
async fn legacy_policy_matrix_in_the_secrets_project() {
    let f = fixture().await;
    let mut mismatches = Vec::new();
    for (role, tok) in &f.p1 {
        for route in routes(&f.secret) {
            let label = route.0;
            let allowed = legacy_allows(role, label);
            // Writes that succeed change state: run allowed ones on a fresh secret of the owner.
            let target = if allowed && matches!(label, "put payload" | "delete") {
                let fresh = if label == "put payload" {
                    f.arca.create_empty_secret(&f.owner, "fresh").await
                } else {
                    f.arca.create_text_secret(&f.owner, "fresh", "x").await
                };
                routes(&fresh)
                    .into_iter()
                    .find(|r| r.0 == label)
                    .expect("route")
            } else if allowed && matches!(label, "post metadatum") {
                let mut r = route.clone();
                r.4 = json!({"key": format!("new-{role}"), "value": "n"}).to_string();
                r
            } else {
                route.clone()
            };
            let r = send(build(&f.arca, &target).header("X-Auth-Token", tok)).await;
            let expected = if allowed { success_code(label) } else { 403 };
            if r.status != expected {
                mismatches.push(format!(
                    "{role} {label} ({} {}): expected {expected}, got {}: {}",
                    target.1,
                    target.2,
                    r.status,
                    r.text()
                ));
            } else if !allowed {
                assert_error(&r, 403);
            }
            // The delete metadatum case removes "k": put it back for the next role.
            if label == "delete metadatum" {
                let r = send(
                    f.arca
                        .req(
                            Method::PUT,
                            &format!("/v1/secrets/{}/metadata", f.secret),
                            &f.owner,
                        )
                        .json(&json!({"metadata": {"k": "v"}})),
                )
                .await;
                assert_eq!(r.status, 201, "{}", r.text());
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "legacy policy violations:\n{}",
        mismatches.join("\n")
    );
    // Denied writes changed nothing.
    let p = send(
        f.arca
            .req(
                Method::GET,
                &format!("/v1/secrets/{}/payload", f.secret),
                &f.owner,
            )
            .header("Accept", "text/plain"),
    )
    .await;
    assert_eq!(p.text(), "top secret");
}

#[tokio::test]
async fn creator_may_delete_a_secret_created_by_another_creator() {
    // deprecated secret:delete: "(rule:secret_project_creator_role and not rule:secret_private_read)".
    let f = fixture().await;
    let other_creator = f.arca.token(P1, "someone-else", "creator");
    let r = send(f.arca.req(
        Method::DELETE,
        &format!("/v1/secrets/{}", f.secret),
        &other_creator,
    ))
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
}

#[tokio::test]
async fn audit_sees_metadata_but_never_the_payload() {
    let f = fixture().await;
    let audit = &f.p1.iter().find(|(r, _)| *r == "audit").expect("audit").1;
    let m = f.arca.secret_meta(audit, &f.secret).await;
    assert_eq!(m["name"], "shared");
    for accept in ["text/plain", "application/octet-stream", "*/*"] {
        let r = send(
            f.arca
                .req(
                    Method::GET,
                    &format!("/v1/secrets/{}/payload", f.secret),
                    audit,
                )
                .header("Accept", accept),
        )
        .await;
        assert_error(&r, 403);
        assert!(!r.text().contains("top secret"));
    }
    let r = send(
        f.arca
            .req(Method::GET, &format!("/v1/secrets/{}", f.secret), audit)
            .header("Accept", "application/octet-stream"),
    )
    .await;
    assert_error(&r, 403);
    assert!(!r.text().contains("top secret"));
}

#[tokio::test]
async fn another_projects_principal_gets_403_on_every_secret_route() {
    let f = fixture().await;
    for (role, tok) in &f.p2 {
        for route in routes(&f.secret) {
            if matches!(route.0, "list" | "create") {
                continue; // project-scoped collection routes, covered by api_list
            }
            let r = send(build(&f.arca, &route).header("X-Auth-Token", tok)).await;
            assert_error_about(
                &r,
                403,
                format_args!(
                    "{role} of another project, {} ({} {})",
                    route.0, route.1, route.2
                ),
            );
            assert!(!r.text().contains("top secret"));
        }
    }
    // The admin of project "admin" is just another project here.
    let r = send(
        f.arca
            .admin(Method::GET, &format!("/v1/secrets/{}/payload", f.secret))
            .header("Accept", "text/plain"),
    )
    .await;
    assert_error(&r, 403);
    let r = send(
        f.arca
            .admin(Method::DELETE, &format!("/v1/secrets/{}", f.secret)),
    )
    .await;
    assert_error(&r, 403);
    // Nothing changed.
    let m = f.arca.secret_meta(&f.owner, &f.secret).await;
    assert_eq!(m["name"], "shared");
    let r = send(f.arca.req(
        Method::GET,
        &format!("/v1/secrets/{}/metadata", f.secret),
        &f.owner,
    ))
    .await;
    assert_eq!(r.json(), json!({"metadata": {"k": "v"}}));
}

#[tokio::test]
async fn another_project_gets_404_for_unknown_ids() {
    let f = fixture().await;
    let tok = &f.p2[0].1;
    for id in ["0b0b0b0b-1c1c-4d4d-8e8e-9f9f9f9f9f9f", "not-a-uuid"] {
        let r = send(f.arca.req(Method::GET, &format!("/v1/secrets/{id}"), tok)).await;
        assert_error(&r, 404);
    }
}

#[tokio::test]
async fn forbidden_requests_do_not_leak_the_payload_or_create_anything() {
    let f = fixture().await;
    let observer = &f
        .p1
        .iter()
        .find(|(r, _)| *r == "observer")
        .expect("observer")
        .1;
    let r =
        send(f.arca.req(Method::POST, "/v1/secrets", observer).json(
            &json!({"name": "sneaky", "payload": "x", "payload_content_type": "text/plain"}),
        ))
        .await;
    assert_error(&r, 403);
    let r = send(f.arca.req(Method::GET, "/v1/secrets?name=sneaky", observer)).await;
    assert_eq!(r.json()["total"], 0, "{}", r.text());
}

#[tokio::test]
async fn multiple_roles_combine() {
    let f = fixture().await;
    let tok = f.arca.token(P1, "multi", "observer,audit");
    let r = send(
        f.arca
            .req(
                Method::GET,
                &format!("/v1/secrets/{}/payload", f.secret),
                &tok,
            )
            .header("Accept", "text/plain"),
    )
    .await;
    assert_eq!(
        (r.status, r.text()),
        (200, "top secret".to_string()),
        "observer grants decrypt"
    );
    let r = send(
        f.arca
            .req(Method::POST, "/v1/secrets", &tok)
            .json(&json!({"name": "n"})),
    )
    .await;
    assert_error(&r, 403);
    let tok = f.arca.token(P1, "multi2", "audit,creator");
    let r = send(
        f.arca
            .req(Method::POST, "/v1/secrets", &tok)
            .json(&json!({"name": "n"})),
    )
    .await;
    assert_eq!(r.status, 201, "creator grants create: {}", r.text());
}

// ---- trusted-headers mode ----

fn as_headers(
    rb: reqwest::RequestBuilder,
    project: &str,
    user: &str,
    roles: &str,
) -> reqwest::RequestBuilder {
    rb.header("X-Project-Id", project)
        .header("X-User-Id", user)
        .header("X-Roles", roles)
}

#[tokio::test]
async fn trusted_headers_identify_the_caller() {
    let arca = Arca::start_trusted_headers();
    let r = send(as_headers(
        arca.anon(Method::POST, "/v1/secrets").json(
            &json!({"name": "hdr", "payload": "via headers", "payload_content_type": "text/plain"}),
        ),
        "proj-h",
        "carol",
        "creator",
    ))
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = secret_id(r.json()["secret_ref"].as_str().expect("secret_ref"));

    let r = send(as_headers(
        arca.anon(Method::GET, &format!("/v1/secrets/{id}"))
            .header("Accept", "application/json"),
        "proj-h",
        "olga",
        "observer",
    ))
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["creator_id"], "carol");

    let r = send(as_headers(
        arca.anon(Method::GET, &format!("/v1/secrets/{id}/payload"))
            .header("Accept", "text/plain"),
        "proj-h",
        "olga",
        "observer",
    ))
    .await;
    assert_eq!((r.status, r.text()), (200, "via headers".to_string()));

    let r = send(as_headers(
        arca.anon(Method::GET, &format!("/v1/secrets/{id}/payload"))
            .header("Accept", "text/plain"),
        "proj-h",
        "aud",
        "audit",
    ))
    .await;
    assert_error(&r, 403);

    let r = send(as_headers(
        arca.anon(Method::POST, "/v1/secrets")
            .json(&json!({"name": "nope"})),
        "proj-h",
        "olga",
        "observer",
    ))
    .await;
    assert_error(&r, 403);

    // Another project.
    let r = send(as_headers(
        arca.anon(Method::GET, &format!("/v1/secrets/{id}"))
            .header("Accept", "application/json"),
        "proj-other",
        "eve",
        "admin",
    ))
    .await;
    assert_error(&r, 403);
    let r = send(as_headers(
        arca.anon(Method::GET, "/v1/secrets"),
        "proj-other",
        "eve",
        "admin",
    ))
    .await;
    assert_eq!(r.json()["total"], 0);
    let r = send(as_headers(
        arca.anon(Method::GET, "/v1/secrets"),
        "proj-h",
        "olga",
        "observer",
    ))
    .await;
    assert_eq!(r.json()["total"], 1);
}

#[tokio::test]
async fn trusted_headers_roles_are_a_trimmed_lowercased_list() {
    // context.py: roles = [r.strip().lower() for r in X-Roles.split(',') if r]
    let arca = Arca::start_trusted_headers();
    for roles in ["Creator", "observer, creator", " CREATOR ,audit"] {
        let r = send(as_headers(
            arca.anon(Method::POST, "/v1/secrets")
                .json(&json!({"name": roles})),
            "p",
            "u",
            roles,
        ))
        .await;
        assert_eq!(r.status, 201, "X-Roles {roles:?}: {}", r.text());
    }
    // A role outside the legacy set grants nothing.
    let r = send(as_headers(
        arca.anon(Method::GET, "/v1/secrets"),
        "p",
        "u",
        "member",
    ))
    .await;
    assert_error(&r, 403);
    let r = send(as_headers(
        arca.anon(Method::POST, "/v1/secrets")
            .json(&json!({"name": "m"})),
        "p",
        "u",
        "member,reader",
    ))
    .await;
    assert_error(&r, 403);
}

#[tokio::test]
async fn trusted_headers_without_roles_default_to_admin() {
    // UnauthenticatedContextMiddleware: "If a role wasn't specified we default to admin" — this
    // is what `barbican --no-auth --os-project-id P` relies on (it sends X-Project-Id only).
    let arca = Arca::start_trusted_headers();
    let r = send(
        arca.anon(Method::POST, "/v1/secrets")
            .header("X-Project-Id", "solo")
            .json(
                &json!({"name": "noroles", "payload": "x", "payload_content_type": "text/plain"}),
            ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = secret_id(r.json()["secret_ref"].as_str().expect("secret_ref"));
    let r = send(
        arca.anon(Method::DELETE, &format!("/v1/secrets/{id}"))
            .header("X-Project-Id", "solo"),
    )
    .await;
    assert_eq!(r.status, 204, "admin may delete: {}", r.text());
}

#[tokio::test]
async fn trusted_headers_without_project_is_400() {
    // UnauthenticatedContextMiddleware._get_project_id_from_header:
    // HTTPBadRequest(detail='Missing X-Project-Id').
    let arca = Arca::start_trusted_headers();
    let r = send(
        arca.anon(Method::GET, "/v1/secrets")
            .header("X-Roles", "admin")
            .header("X-User-Id", "u"),
    )
    .await;
    assert_error(&r, 400);
    let r = send(
        arca.anon(Method::GET, "/v1/secrets")
            .header("X-Project-Id", ""),
    )
    .await;
    assert_error(&r, 400);
    let r = send(
        arca.anon(Method::POST, "/v1/secrets")
            .json(&json!({"name": "x"})),
    )
    .await;
    assert_error(&r, 400);
}
