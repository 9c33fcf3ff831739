//! The OpenAPI document against the router itself: every path the router serves (`arca_server::route_paths`)
//! is described and nothing else is; on every path the methods the router answers (anything but its
//! method-not-allowed fallback) are exactly the document's operations; a trailing-slash variant, where one
//! exists, answers the same methods; operation ids are unique. Live answers are checked against the document
//! by `arca-cli/tests/api_openapi.rs`.

mod common;
use common::*;

use std::collections::BTreeSet;

const METHODS: [&str; 7] = ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "TRACE"];

/// The methods `path` answers: those that do not get the router's 405 fallback, nor (for a path the router
/// does not know at all) its 404 fallback.
async fn served(s: &Server, path: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for method in METHODS {
        let r = s
            .http
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", s.url),
            )
            .header("X-Auth-Token", &s.admin)
            .header("OpenStack-API-Version", "key-manager latest")
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(json!(null));
        let description = body["description"].as_str().unwrap_or_default();
        let fallback = (status == 405 && description.starts_with("The method "))
            || (status == 404 && description == "The resource could not be found.");
        if !fallback {
            out.insert(method.to_ascii_lowercase());
        }
    }
    out
}

#[tokio::test]
async fn the_document_describes_exactly_the_routes_served() {
    let s = Server::start().await;
    let r = s
        .http
        .get(format!("{}/v1/openapi.json", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    let documented = doc["paths"].as_object().unwrap();
    let routed: BTreeSet<&str> = arca_server::route_paths().into_iter().collect();
    let described: BTreeSet<&str> = documented.keys().map(String::as_str).collect();
    assert_eq!(routed, described, "routed paths vs documented paths");

    let mut ids = BTreeSet::new();
    for (template, item) in documented {
        let operations: BTreeSet<String> = item
            .as_object()
            .unwrap()
            .iter()
            .filter(|(method, _)| METHODS.contains(&method.to_ascii_uppercase().as_str()))
            .map(|(method, op)| {
                let id = op["operationId"].as_str().unwrap().to_owned();
                assert!(ids.insert(id.clone()), "operation id {id} repeats");
                method.clone()
            })
            .collect();
        let path = template
            .replace("{id}", "0190a0f0-0000-7000-8000-00000000abcd")
            .replace("{key}", "k");
        let answered = served(&s, &path).await;
        assert_eq!(answered, operations, "{template}: served vs documented");
        if path != "/" {
            let slashed = served(&s, &format!("{path}/")).await;
            assert!(
                slashed.is_empty() || slashed == operations,
                "{template}/ answers {slashed:?}"
            );
        }
    }
}
