//! Secret stores: `/v1/secret-stores`, `/global-default`, `/preferred`, `/{id}` and `/{id}/preferred`.
//!
//! Reference: barbican/api/controllers/secretstores.py and doc/source/api/reference/store_backends.rst
//! (answers with multiple backends enabled; Arca has exactly one store, the global default — see
//! crates/arca-server/src/barbican/secret_stores.rs for that choice), barbican/common/policies/
//! secretstores.py (legacy: reads `rule:all_users`, preference changes `rule:admin`).

mod common;
use common::*;

#[tokio::test]
async fn one_store_which_is_the_global_default() {
    let arca = Arca::start();
    let l = send(arca.admin(Method::GET, "/v1/secret-stores")).await;
    assert_eq!(l.status, 200, "{}", l.text());
    let l = l.json();
    let stores = l["secret_stores"].as_array().unwrap();
    assert_eq!(stores.len(), 1);
    let s = &stores[0];
    assert_eq!(s["global_default"], true);
    assert_eq!(s["status"], "ACTIVE");
    assert_eq!(s["secret_store_plugin"], "store_crypto");
    assert_eq!(s["crypto_plugin"], "simple_crypto");
    assert!(s["name"].is_string());
    let sref = s["secret_store_ref"].as_str().unwrap().to_owned();
    assert!(sref.starts_with(&arca.url("/v1/secret-stores/")), "{sref}");
    let sid = sref.rsplit('/').next().unwrap().to_owned();
    assert!(is_uuid(&sid));

    let g = send(arca.admin(Method::GET, "/v1/secret-stores/global-default")).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.json(), *s);
    let one = send(arca.admin(Method::GET, &format!("/v1/secret-stores/{sid}/"))).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json(), *s);
    for bad in [
        "/v1/secret-stores/0190a0f0-0000-7000-8000-00000000abcd",
        "/v1/secret-stores/nope",
    ] {
        let r = send(arca.admin(Method::GET, bad)).await;
        assert_error(&r, 404);
        assert_eq!(
            r.json()["description"],
            "Not Found. Secret store not found."
        );
    }

    for role in ROLES {
        let token = arca.token("p", &format!("u-{role}"), role);
        for path in [
            "/v1/secret-stores",
            "/v1/secret-stores/global-default",
            &format!("/v1/secret-stores/{sid}"),
        ] {
            let r = send(arca.req(Method::GET, path, &token)).await;
            assert_eq!(r.status, 200, "{role} {path}: {}", r.text());
        }
    }
    let r = send(arca.anon(Method::GET, "/v1/secret-stores")).await;
    assert_error(&r, 401);
    let r = send(arca.admin(Method::POST, "/v1/secret-stores")).await;
    assert_error(&r, 405);
}

#[tokio::test]
async fn a_project_admin_sets_and_clears_the_preferred_store() {
    let arca = Arca::start();
    let admin = arca.token("p", "ad", "admin");
    let creator = arca.token("p", "cr", "creator");
    let other = arca.token("q", "ad", "admin");
    let sid = send(arca.req(Method::GET, "/v1/secret-stores/global-default", &admin))
        .await
        .json()["secret_store_ref"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let preferred = format!("/v1/secret-stores/{sid}/preferred");

    let r = send(arca.req(Method::GET, "/v1/secret-stores/preferred", &admin)).await;
    assert_error(&r, 404);
    assert_eq!(
        r.json()["description"],
        "Not Found. No preferred secret store defined for this project."
    );

    for role in ["creator", "observer", "audit"] {
        let token = arca.token("p", &format!("u-{role}"), role);
        let r = send(arca.req(Method::POST, &preferred, &token)).await;
        assert_error_about(&r, 403, format_args!("{role}"));
        let r = send(arca.req(Method::DELETE, &preferred, &token)).await;
        assert_error_about(&r, 403, format_args!("{role}"));
    }
    let r = send(arca.req(Method::POST, &preferred, &admin)).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = send(arca.req(Method::POST, &preferred, &admin)).await;
    assert_eq!(r.status, 204, "setting it again is fine");
    let r = send(arca.req(Method::GET, "/v1/secret-stores/preferred", &creator)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.json()["secret_store_ref"]
            .as_str()
            .unwrap()
            .ends_with(&sid)
    );
    // Per project.
    let r = send(arca.req(Method::GET, "/v1/secret-stores/preferred", &other)).await;
    assert_error(&r, 404);

    let r = send(arca.req(Method::DELETE, &preferred, &admin)).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = send(arca.req(Method::DELETE, &preferred, &admin)).await;
    assert_error(&r, 404);
    let r = send(arca.req(Method::GET, "/v1/secret-stores/preferred", &admin)).await;
    assert_error(&r, 404);

    let unknown = "/v1/secret-stores/0190a0f0-0000-7000-8000-00000000abcd/preferred";
    let r = send(arca.req(Method::POST, unknown, &admin)).await;
    assert_error(&r, 404);
    let r = send(arca.req(Method::GET, &preferred, &admin)).await;
    assert_error(&r, 405);
}
