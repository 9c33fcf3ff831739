//! Version discovery (`GET /`, `GET /v1`), microversion negotiation through the
//! `OpenStack-API-Version: key-manager X.Y` header, and the headers every response carries.
//!
//! Reference: barbican/api/controllers/versions.py (document shapes, 300 on `/`),
//! barbican/api/middleware/microversion.py + microversion_parse (echo of the header, `vary`,
//! 406 for a version not served, 400 for one that does not parse), and
//! doc/source/api/microversion_history.rst (1.1 adds `consumers`; 1.2 is Hibiscus = Barbican 23).

mod common;
use common::*;

const MV: &str = "OpenStack-API-Version";

fn check_v1_links(v: &Value) {
    let links = v["links"]
        .as_array()
        .unwrap_or_else(|| panic!("links must be a list: {v}"));
    let this = links
        .iter()
        .find(|l| l["rel"] == "self")
        .unwrap_or_else(|| panic!("no rel=self link: {v}"));
    let href = this["href"].as_str().expect("self href");
    assert!(href.starts_with("http"), "self href {href:?}");
    // versions.py `_get_versioned_url('v1')` always ends the URL with a slash.
    assert!(
        href.ends_with("/v1/"),
        "self href {href:?} must end with /v1/"
    );
    let doc = links
        .iter()
        .find(|l| l["rel"] == "describedby")
        .unwrap_or_else(|| panic!("no rel=describedby link: {v}"));
    assert_eq!(doc["type"], "text/html", "{v}");
    assert!(
        doc["href"]
            .as_str()
            .unwrap_or("")
            .starts_with("https://docs.openstack.org"),
        "{v}"
    );
}

/// The pre-microversion (1.0) description of v1.
fn check_v1_stable(v: &Value) {
    assert_eq!(v["id"], "v1", "{v}");
    assert_eq!(v["status"], "stable", "{v}");
    check_v1_links(v);
    assert_eq!(
        v["media-types"],
        json!([{"base": "application/json",
                "type": "application/vnd.openstack.key-manager-v1+json"}]),
        "{v}"
    );
    assert!(
        v.get("min_version").is_none() && v.get("max_version").is_none(),
        "{v}"
    );
}

/// The microversion-aware (1.1+) description of v1.
fn check_v1_current(v: &Value) {
    assert_eq!(v["id"], "v1", "{v}");
    assert_eq!(v["status"], "CURRENT", "{v}");
    assert_eq!(v["min_version"], "1.0", "{v}");
    assert_eq!(v["max_version"], MAX_MICROVERSION, "{v}");
    check_v1_links(v);
}

fn assert_echo(r: &Resp, version: &str) {
    assert_eq!(
        r.header("openstack-api-version").as_deref(),
        Some(format!("key-manager {version}").as_str()),
        "response must echo the microversion served (status {})",
        r.status
    );
}

#[tokio::test]
async fn root_without_microversion_is_300_with_values_document() {
    let arca = Arca::start();
    let r = send(arca.anon(Method::GET, "/")).await;
    assert_eq!(
        r.status,
        300,
        "GET / must be 300 Multiple Choices: {}",
        r.text()
    );
    assert!(
        r.content_type().starts_with("application/json"),
        "{}",
        r.content_type()
    );
    let body = r.json();
    let values = body["versions"]["values"]
        .as_array()
        .unwrap_or_else(|| panic!("1.0 form is {{\"versions\": {{\"values\": [...]}}}}: {body}"));
    assert_eq!(values.len(), 1, "{body}");
    check_v1_stable(&values[0]);
    // No header means the minimum version (microversion_parse.extract_version).
    assert_echo(&r, "1.0");
    let vary = r.header("vary").unwrap_or_default().to_ascii_lowercase();
    assert!(vary.contains("openstack-api-version"), "vary: {vary:?}");
}

#[tokio::test]
async fn root_with_explicit_1_0_is_the_values_document() {
    let arca = Arca::start();
    let r = send(arca.anon(Method::GET, "/").header(MV, "key-manager 1.0")).await;
    assert_eq!(r.status, 300, "{}", r.text());
    check_v1_stable(&r.json()["versions"]["values"][0]);
    assert_echo(&r, "1.0");
}

#[tokio::test]
async fn root_with_microversion_1_1_and_later_lists_a_versions_array() {
    let arca = Arca::start();
    for (asked, served) in [("1.1", "1.1"), ("1.2", "1.2"), ("latest", MAX_MICROVERSION)] {
        let r = send(
            arca.anon(Method::GET, "/")
                .header(MV, format!("key-manager {asked}")),
        )
        .await;
        assert_eq!(r.status, 300, "{asked}: {}", r.text());
        let body = r.json();
        let versions = body["versions"]
            .as_array()
            .unwrap_or_else(|| panic!("{asked}: 1.1+ form is {{\"versions\": [...]}}: {body}"));
        assert_eq!(versions.len(), 1, "{body}");
        check_v1_current(&versions[0]);
        assert_echo(&r, served);
    }
}

#[tokio::test]
async fn v1_returns_version_document() {
    let arca = Arca::start();
    let r = send(arca.admin(Method::GET, "/v1")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    check_v1_stable(&r.json()["version"]);
    assert_echo(&r, "1.0");

    let r = send(arca.admin(Method::GET, "/v1").header(MV, "key-manager 1.1")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    check_v1_current(&r.json()["version"]);
    assert_echo(&r, "1.1");

    let r = send(
        arca.admin(Method::GET, "/v1")
            .header(MV, "key-manager latest"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    check_v1_current(&r.json()["version"]);
    assert_echo(&r, MAX_MICROVERSION);
}

#[tokio::test]
async fn every_supported_microversion_is_accepted_and_echoed_on_api_routes() {
    let arca = Arca::start();
    let id = arca.create_text_secret(&arca.admin_token, "mv", "x").await;
    for (asked, served) in [
        ("1.0", "1.0"),
        ("1.1", "1.1"),
        ("1.2", "1.2"),
        ("latest", MAX_MICROVERSION),
    ] {
        let header = format!("key-manager {asked}");
        let r = send(arca.admin(Method::GET, "/v1/secrets").header(MV, &header)).await;
        assert_eq!(r.status, 200, "{asked}: {}", r.text());
        assert_echo(&r, served);
        let vary = r.header("vary").unwrap_or_default().to_ascii_lowercase();
        assert!(
            vary.contains("openstack-api-version"),
            "{asked}: vary {vary:?}"
        );

        let r = send(
            arca.admin(Method::GET, &format!("/v1/secrets/{id}"))
                .header(MV, &header)
                .header("Accept", "application/json"),
        )
        .await;
        assert_eq!(r.status, 200, "{asked}: {}", r.text());
        assert_echo(&r, served);

        let r = send(
            arca.admin(Method::GET, &format!("/v1/secrets/{id}/payload"))
                .header(MV, &header)
                .header("Accept", "text/plain"),
        )
        .await;
        assert_eq!(r.status, 200, "{asked}: {}", r.text());
        assert_echo(&r, served);
    }
}

#[tokio::test]
async fn microversion_header_is_case_insensitive_in_service_name_and_header_name() {
    let arca = Arca::start();
    // microversion_parse lower-cases header names and compares the service type with
    // `service.lower() == service_type.lower()`.
    let r = send(
        arca.admin(Method::GET, "/v1/secrets")
            .header("openstack-api-version", "Key-Manager 1.1"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_echo(&r, "1.1");
}

#[tokio::test]
async fn unsupported_microversion_is_406() {
    let arca = Arca::start();
    for v in ["9.9", "1.3", "2.0", "0.9", "1.99"] {
        let header = format!("key-manager {v}");
        let r = send(arca.anon(Method::GET, "/").header(MV, &header)).await;
        assert_error(&r, 406);
        let r = send(arca.admin(Method::GET, "/v1/secrets").header(MV, &header)).await;
        assert_error(&r, 406);
        let r = send(
            arca.admin(Method::POST, "/v1/secrets")
                .header(MV, &header)
                .json(&json!({"payload": "x", "payload_content_type": "text/plain"})),
        )
        .await;
        assert_error(&r, 406);
    }
    // A 406 must not have created anything.
    let r = send(arca.admin(Method::GET, "/v1/secrets")).await;
    assert_eq!(r.json()["total"], 0, "{}", r.text());
}

#[tokio::test]
async fn unparseable_microversion_is_400() {
    // microversion_parse.parse_version_string raises TypeError for a value that is not
    // `X.Y` of integers, and MicroversionMiddleware turns TypeError into HTTPBadRequest
    // (ValueError, i.e. a well-formed version that is not served, is the 406 case).
    let arca = Arca::start();
    for v in ["garbage", "1", "1.x", "v1.1", "1.1.1"] {
        let header = format!("key-manager {v}");
        let r = send(arca.admin(Method::GET, "/v1/secrets").header(MV, &header)).await;
        assert_error(&r, 400);
    }
}

#[tokio::test]
async fn microversion_for_another_service_is_ignored() {
    let arca = Arca::start();
    let r = send(
        arca.admin(Method::GET, "/v1/secrets")
            .header(MV, "compute 2.1"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_echo(&r, "1.0");
    // Several services folded into one header: the key-manager entry wins.
    let r = send(
        arca.admin(Method::GET, "/v1/secrets")
            .header(MV, "compute 2.1, key-manager 1.1"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_echo(&r, "1.1");
}

#[tokio::test]
async fn error_responses_also_echo_the_microversion() {
    // MicroversionMiddleware adds the header to HTTPError responses as well.
    let arca = Arca::start();
    let r = send(
        arca.admin(
            Method::GET,
            "/v1/secrets/0b0b0b0b-1c1c-4d4d-8e8e-9f9f9f9f9f9f",
        )
        .header(MV, "key-manager 1.1")
        .header("Accept", "application/json"),
    )
    .await;
    assert_error(&r, 404);
    assert_echo(&r, "1.1");
}

#[tokio::test]
async fn consumers_field_appears_from_microversion_1_1() {
    let arca = Arca::start();
    let id = arca.create_text_secret(&arca.admin_token, "c", "x").await;

    let get = |mv: &'static str| {
        send(
            arca.admin(Method::GET, &format!("/v1/secrets/{id}"))
                .header(MV, format!("key-manager {mv}"))
                .header("Accept", "application/json"),
        )
    };
    let v10 = get("1.0").await.json();
    assert!(
        v10.get("consumers").is_none(),
        "1.0 must not show consumers: {v10}"
    );
    for mv in ["1.1", "1.2"] {
        let v = get(mv).await.json();
        assert_eq!(v["consumers"], json!([]), "{mv} must show consumers: {v}");
    }

    let list = |mv: &'static str| {
        send(
            arca.admin(Method::GET, "/v1/secrets")
                .header(MV, format!("key-manager {mv}")),
        )
    };
    let l10 = list("1.0").await.json();
    assert!(l10["secrets"][0].get("consumers").is_none(), "{l10}");
    let l11 = list("1.1").await.json();
    assert_eq!(l11["secrets"][0]["consumers"], json!([]), "{l11}");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let arca = Arca::start();
    let tok = arca.admin_token.clone();
    let id = arca.create_text_secret(&tok, "rid", "x").await;
    let cases: Vec<(&str, Resp)> = vec![
        ("GET /", send(arca.anon(Method::GET, "/")).await),
        ("GET /v1", send(arca.admin(Method::GET, "/v1")).await),
        (
            "GET list",
            send(arca.admin(Method::GET, "/v1/secrets")).await,
        ),
        (
            "POST 201",
            send(
                arca.admin(Method::POST, "/v1/secrets")
                    .json(&json!({"name": "n"})),
            )
            .await,
        ),
        (
            "GET meta",
            send(
                arca.admin(Method::GET, &format!("/v1/secrets/{id}"))
                    .header("Accept", "application/json"),
            )
            .await,
        ),
        (
            "GET payload",
            send(
                arca.admin(Method::GET, &format!("/v1/secrets/{id}/payload"))
                    .header("Accept", "text/plain"),
            )
            .await,
        ),
        (
            "404",
            send(arca.admin(
                Method::GET,
                "/v1/secrets/0b0b0b0b-1c1c-4d4d-8e8e-9f9f9f9f9f9f",
            ))
            .await,
        ),
        ("401", send(arca.anon(Method::GET, "/v1/secrets")).await),
        (
            "400",
            send(
                arca.admin(Method::POST, "/v1/secrets")
                    .header("Content-Type", "application/json")
                    .body("{not json"),
            )
            .await,
        ),
        (
            "406",
            send(
                arca.admin(Method::GET, "/v1/secrets")
                    .header(MV, "key-manager 9.9"),
            )
            .await,
        ),
        (
            "DELETE 204",
            send(arca.admin(Method::DELETE, &format!("/v1/secrets/{id}"))).await,
        ),
    ];
    let mut seen = std::collections::HashSet::new();
    for (what, r) in &cases {
        let rid = r
            .header("x-openstack-request-id")
            .unwrap_or_else(|| panic!("{what} ({}) has no x-openstack-request-id", r.status));
        // barbican/api/middleware/context.py: b'req-' + uuid4.
        assert!(
            rid.starts_with("req-"),
            "{what}: request id {rid:?} must start with req-"
        );
        assert!(
            is_uuid(&rid[4..]),
            "{what}: request id {rid:?} must be req-<uuid>"
        );
        assert!(
            seen.insert(rid.clone()),
            "{what}: request id {rid:?} reused"
        );
    }
}
