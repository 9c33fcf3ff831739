//! Edge cases of negotiation: microversions, request ids, versions documents, `Accept` on payloads,
//! authentication headers and routing errors.

mod common;

use common::*;

const MV: &str = "OpenStack-API-Version";

#[tokio::test]
async fn versions_documents_follow_the_microversion() {
    let s = Server::start().await;
    let (status, headers, body) = json_of(s.anon(Method::GET, "/").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::MULTIPLE_CHOICES);
    assert_eq!(headers[MV], "key-manager 1.0");
    assert!(
        headers["vary"]
            .to_str()
            .unwrap()
            .contains("OpenStack-API-Version")
    );
    let v = &body["versions"]["values"][0];
    assert_eq!(v["status"], "stable");
    assert_eq!(
        v["media-types"][0]["type"],
        "application/vnd.openstack.key-manager-v1+json"
    );
    assert_eq!(v["links"][0]["href"], format!("{}/v1/", s.url));

    let (status, headers, body) = json_of(
        s.anon(Method::GET, "/")
            .header(MV, "key-manager latest")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::MULTIPLE_CHOICES);
    assert_eq!(headers[MV], "key-manager 1.2");
    assert_eq!(body["versions"][0]["max_version"], "1.2");
    assert_eq!(body["versions"][0]["min_version"], "1.0");

    for path in ["/v1", "/v1/"] {
        let (status, _, body) = json_of(
            s.anon(Method::GET, path)
                .header(MV, "key-manager 1.1")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["version"]["status"], "CURRENT");
    }
}

#[tokio::test]
async fn microversion_refusals_and_request_ids() {
    let s = Server::start().await;
    let (status, headers, body) = json_of(
        s.anon(Method::GET, "/")
            .header(MV, "key-manager 1.3")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(assert_barbican_error(status, &body, 406).contains("1.3"));
    assert!(
        headers["x-openstack-request-id"]
            .to_str()
            .unwrap()
            .starts_with("req-")
    );
    let (status, _, body) = json_of(
        s.admin(Method::GET, "/v1/secrets")
            .header(MV, "key-manager one.two")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_barbican_error(status, &body, 400);

    // Unknown routes and methods: Barbican bodies, request id and the negotiated version.
    let (status, headers, body) = json_of(
        s.anon(Method::GET, "/nope")
            .header(MV, "key-manager 1.1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_barbican_error(status, &body, 404);
    assert_eq!(headers[MV], "key-manager 1.1");
    let id1 = headers["x-openstack-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let (status, headers, body) =
        json_of(s.admin(Method::DELETE, "/v1/secrets").send().await.unwrap()).await;
    assert_barbican_error(status, &body, 405);
    assert_ne!(headers["x-openstack-request-id"].to_str().unwrap(), id1);
    let (status, _, body) = json_of(
        s.admin(Method::POST, "/v1/secrets/x/metadata/k")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_barbican_error(status, &body, 405);
}

#[tokio::test]
async fn authentication_headers() {
    let s = Server::start().await;
    let (status, _, body) = json_of(s.anon(Method::GET, "/v1/secrets").send().await.unwrap()).await;
    assert_barbican_error(status, &body, 401);
    let (status, _, body) = json_of(
        s.anon(Method::GET, "/v1/secrets")
            .header("X-Auth-Token", "arca_garbage")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_barbican_error(status, &body, 401);
    let r = s
        .anon(Method::GET, "/v1/secrets")
        .header("Authorization", format!("Bearer {}", s.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Trusted-header identity is ignored in token mode.
    let r = s
        .anon(Method::GET, "/v1/secrets")
        .header("X-Project-Id", "p1")
        .header("X-Roles", "admin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn trusted_headers_mode() {
    let mut config = arca_server::ServerConfig::default();
    config.auth.mode = arca_server::AuthMode::TrustedHeaders;
    config.auth.trusted_default_roles = vec!["creator".into()];
    let s = Server::with_config(config).await;
    let (status, _, body) = json_of(s.anon(Method::GET, "/v1/secrets").send().await.unwrap()).await;
    assert_eq!(
        assert_barbican_error(status, &body, 400),
        "Missing X-Project-Id"
    );
    // No X-Roles: the configured default (creator) applies.
    let r = s
        .anon(Method::POST, "/v1/secrets")
        .header("X-Project-Id", "tp")
        .header("X-User-Id", "u")
        .json(&json!({"payload": "x", "payload_content_type": "text/plain"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = s
        .anon(Method::GET, "/v1/secrets")
        .header("X-Project-Id", "tp")
        .header("X-Roles", "audit")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = s
        .anon(Method::GET, "/v1/secrets")
        .header("X-Project-Id", "tp")
        .header("X-Roles", "observer, audit")
        .send()
        .await
        .unwrap();
    let (_, _, body) = json_of(r).await;
    assert_eq!(body["total"], 1);
}

#[tokio::test]
async fn payload_accept_negotiation() {
    let s = Server::start().await;
    let text = s
        .create(json!({"payload": "héllo", "payload_content_type": "text/plain"}))
        .await;
    let bin = s
        .create(json!({"payload": "//79", "payload_content_type": "application/octet-stream", "payload_content_encoding": "base64"}))
        .await;
    let fetch = |id: &str, accept: Option<&str>, legacy: bool| {
        let path = if legacy {
            format!("/v1/secrets/{id}")
        } else {
            format!("/v1/secrets/{id}/payload")
        };
        let mut rb = s.admin(Method::GET, &path);
        if let Some(a) = accept {
            rb = rb.header("Accept", a);
        }
        rb.send()
    };

    let r = fetch(&text, Some("text/plain"), false).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(r.text().await.unwrap(), "héllo");
    let r = fetch(&text, Some("*/*"), false).await.unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    // No Accept at all: Barbican defaults to application/octet-stream.
    let token = s.admin.clone();
    let (head, body) = raw(
        &s,
        "GET",
        &format!("/v1/secrets/{text}/payload"),
        &[("X-Auth-Token", &token)],
    )
    .await;
    assert!(
        head.contains("content-type: application/octet-stream"),
        "{head}"
    );
    assert_eq!(body, "héllo".as_bytes());
    let r = fetch(&bin, Some("*/*"), false).await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"\xff\xfe\xfd");

    for (id, accept) in [
        (&text, "application/json"),
        (&bin, "text/plain"),
        (&text, "text/html"),
        (&text, "text/plain, */*"),
    ] {
        let (status, _, body) = json_of(fetch(id, Some(accept), false).await.unwrap()).await;
        let d = assert_barbican_error(status, &body, 406);
        assert_eq!(
            d, "Secret payload retrieval issue seen - Wrong payload content-type.",
            "{accept}"
        );
    }

    // Legacy: GET /v1/secrets/{id} with a non-JSON Accept returns the payload.
    let r = fetch(&text, Some("text/plain"), true).await.unwrap();
    assert_eq!(r.text().await.unwrap(), "héllo");
    let (status, _, body) = json_of(fetch(&text, Some("*/*"), true).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["content_types"]["default"], "text/plain");
    let (head, body) = raw(
        &s,
        "GET",
        &format!("/v1/secrets/{text}"),
        &[("X-Auth-Token", &token)],
    )
    .await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["status"],
        "ACTIVE"
    );

    // A secret without a payload.
    let empty = s.create(json!({"name": "two-step"})).await;
    let (status, _, body) = json_of(fetch(&empty, Some("text/plain"), false).await.unwrap()).await;
    assert_eq!(
        assert_barbican_error(status, &body, 404),
        "Not Found. Sorry but your secret has no payload."
    );
    let (_, _, body) = json_of(fetch(&empty, Some("application/json"), true).await.unwrap()).await;
    assert!(body.get("content_types").is_none(), "{body}");
}

#[tokio::test]
async fn malformed_ids_are_404() {
    let s = Server::start().await;
    let id = s.create(json!({"name": "x"})).await;
    for bad in [
        "nope".to_owned(),
        id.to_uppercase(),
        id.replace('-', ""),
        "%ff%fe".to_owned(),
    ] {
        let (status, _, body) = json_of(
            s.admin(Method::GET, &format!("/v1/secrets/{bad}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_barbican_error(status, &body, 404);
    }
    let (status, _, body) = json_of(
        s.admin(
            Method::GET,
            "/v1/secrets/0b0b0b0b-1c1c-4d4d-8e8e-9f9f9f9f9f9f",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        assert_barbican_error(status, &body, 404),
        "Not Found. Sorry but your secret is in another castle."
    );
}
