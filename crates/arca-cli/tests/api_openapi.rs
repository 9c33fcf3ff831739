//! The OpenAPI document against live answers. `GET /v1/openapi.json` is served without credentials; then a walk
//! over the whole API (secrets, payloads, metadata, lists, containers, consumers, ACLs, orders, quotas, secret
//! stores, versions, and error cases) checks every answer against it: the status must be documented for the
//! path and method, the content type must be one the response documents, and a JSON body must validate —
//! with the `jsonschema` crate, draft 2020-12, `$ref`s resolved into the document's `components` — against
//! the documented schema. Objects with declared properties are closed before validation, so an undocumented
//! field fails too. At the end every operation of the document must have been exercised.

mod common;
use common::*;

use std::collections::BTreeSet;
use std::sync::Mutex;

/// The document and what the walk has seen of it.
struct Spec {
    doc: Value,
    /// `(path template, method)` pairs exercised.
    seen: Mutex<BTreeSet<(String, String)>>,
}

/// Makes every object schema with `properties` and no `additionalProperties` closed.
fn close_objects(node: &mut Value) {
    match node {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            map.values_mut().for_each(close_objects);
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// `/v1/secrets/{id}` with `args` put into its placeholders in order.
fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').expect("closing brace") + start;
        out.push_str(&rest[..start]);
        out.push_str(args.next().expect("an argument per placeholder"));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

impl Spec {
    fn new(mut doc: Value) -> Spec {
        close_objects(&mut doc["components"]);
        Spec {
            doc,
            seen: Mutex::new(BTreeSet::new()),
        }
    }

    /// Why `body` does not match `schema` (which may `$ref` the components).
    fn errors(&self, schema: &Value, body: &Value, what: &str) -> Vec<String> {
        let mut root = schema.clone();
        close_objects(&mut root);
        if let Value::Object(map) = &mut root {
            map.insert(
                "$schema".into(),
                json!("https://json-schema.org/draft/2020-12/schema"),
            );
            map.insert("components".into(), self.doc["components"].clone());
        }
        let validator = jsonschema::validator_for(&root)
            .unwrap_or_else(|e| panic!("{what}: the documented schema does not compile: {e}"));
        validator
            .iter_errors(body)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect()
    }

    /// Asserts that `body` matches `schema`.
    fn validate(&self, schema: &Value, body: &Value, what: &str) {
        let errors = self.errors(schema, body, what);
        assert!(
            errors.is_empty(),
            "{what}: the body does not match the documented schema {schema}:\n{}\nbody: {body}",
            errors.join("\n")
        );
    }

    /// Checks one live answer against the document.
    fn check(&self, method: &Method, template: &str, r: &Resp) {
        let m = method.as_str().to_ascii_lowercase();
        let what = format!("{method} {template} → {}", r.status);
        let operation = &self.doc["paths"][template][&m];
        assert!(
            operation.is_object(),
            "{method} {template} is not documented"
        );
        let response = &operation["responses"][r.status.to_string()];
        assert!(
            response.is_object(),
            "{what} is not a documented status (documented: {:?}); body: {}",
            operation["responses"]
                .as_object()
                .map(|o| o.keys().collect::<Vec<_>>()),
            r.text()
        );
        let media = r
            .content_type()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match response.get("content").and_then(Value::as_object) {
            None => assert!(
                r.body.is_empty(),
                "{what}: documented without a body, answered {:?}",
                r.text()
            ),
            Some(content) => {
                let entry = content.get(&media).unwrap_or_else(|| {
                    panic!(
                        "{what}: content type {media:?} is not documented ({:?})",
                        content.keys().collect::<Vec<_>>()
                    )
                });
                if media == "application/json" {
                    self.validate(&entry["schema"], &r.json(), &what);
                }
            }
        }
        self.seen
            .lock()
            .unwrap()
            .insert((template.to_owned(), m.clone()));
    }

    /// Every documented operation not yet exercised.
    fn unexercised(&self) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        let mut missing = Vec::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                if !seen.contains(&(path.clone(), method.clone())) {
                    missing.push(format!("{method} {path}"));
                }
            }
        }
        missing
    }
}

/// The walk: a server, its document, and a caller.
struct Walk {
    arca: Arca,
    spec: Spec,
}

impl Walk {
    /// Sends `method` to `template` filled with `args` as `token` (or anonymously), with `extra` applied to the
    /// request, checks the answer against the document and returns it.
    async fn call(
        &self,
        token: Option<&str>,
        method: Method,
        template: &str,
        args: &[&str],
        extra: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Resp {
        let path = fill(template, args);
        let rb = match token {
            Some(t) => self.arca.req(method.clone(), &path, t),
            None => self.arca.anon(method.clone(), &path),
        };
        let r = send(extra(rb)).await;
        self.spec.check(&method, template, &r);
        r
    }

    /// As the admin, with `extra`.
    async fn admin(
        &self,
        method: Method,
        template: &str,
        args: &[&str],
        extra: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Resp {
        let token = self.arca.admin_token.clone();
        self.call(Some(&token), method, template, args, extra).await
    }
}

fn same(rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    rb
}

fn latest(rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    rb.header("OpenStack-API-Version", "key-manager latest")
}

fn expect(r: &Resp, status: u16) {
    assert_eq!(r.status, status, "{}", r.text());
}

fn id_of(r: &Resp, field: &str) -> String {
    let reference = r.json()[field].as_str().expect("a reference").to_owned();
    reference.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn live_answers_match_the_openapi_document() {
    let arca = Arca::start();
    let r = send(arca.anon(Method::GET, "/v1/openapi.json")).await;
    expect(&r, 200);
    let doc = r.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    let walk = Walk {
        spec: Spec::new(doc),
        arca,
    };
    let w = &walk;
    // The validation is real: references resolve, types are checked, undocumented fields are refused.
    let error_body = json!({"$ref": "#/components/schemas/ErrorBody"});
    let good = json!({"code": 404, "title": "Not Found", "description": "d"});
    assert!(w.spec.errors(&error_body, &good, "ErrorBody").is_empty());
    for bad in [
        json!({"code": "404", "title": "Not Found", "description": "d"}),
        json!({"code": 404, "title": "Not Found"}),
        json!({"code": 404, "title": "Not Found", "description": "d", "extra": 1}),
    ] {
        assert!(
            !w.spec.errors(&error_body, &bad, "ErrorBody").is_empty(),
            "{bad}"
        );
    }
    // The document describes its own route.
    expect(
        &w.call(None, Method::GET, "/v1/openapi.json", &[], same)
            .await,
        200,
    );

    versions(w).await;
    let secret = secrets(w).await;
    metadata(w, &secret).await;
    let container = containers(w, &secret).await;
    consumers(w, &secret, &container).await;
    acls(w, &secret, &container).await;
    orders(w).await;
    quotas(w).await;
    secret_stores(w).await;
    deletions(w, &secret, &container).await;

    let missing = w.spec.unexercised();
    assert!(missing.is_empty(), "never exercised: {missing:#?}");
}

async fn versions(w: &Walk) {
    for version in ["1.0", "latest"] {
        let v = |rb: reqwest::RequestBuilder| {
            rb.header("OpenStack-API-Version", format!("key-manager {version}"))
        };
        expect(&w.call(None, Method::GET, "/", &[], v).await, 300);
        expect(&w.call(None, Method::GET, "/v1", &[], v).await, 200);
    }
    let build = |rb: reqwest::RequestBuilder| rb.query(&[("build", "")]);
    expect(&w.call(None, Method::GET, "/", &[], build).await, 200);
    // A malformed microversion is a 400, an unsupported one a 406, on any route.
    for (header, status) in [("key-manager 1.x", 400), ("key-manager 9.0", 406)] {
        let h = |rb: reqwest::RequestBuilder| rb.header("OpenStack-API-Version", header);
        expect(&w.call(None, Method::GET, "/", &[], h).await, status);
        expect(&w.admin(Method::GET, "/v1/secrets", &[], h).await, status);
    }
}

/// Secrets: create (and its refusals), read, payload, two-step upload, list. Returns a text secret's id.
async fn secrets(w: &Walk) -> String {
    const C: &str = "/v1/secrets";
    const ONE: &str = "/v1/secrets/{id}";
    let body = json!({"name": "s", "payload": "hello", "payload_content_type": "text/plain",
        "algorithm": "aes", "bit_length": 256, "mode": "cbc", "secret_type": "opaque"});
    let r = w
        .admin(Method::POST, C, &[], |rb| rb.json(&body.clone()))
        .await;
    expect(&r, 201);
    let id = id_of(&r, "secret_ref");
    let binary = json!({"payload": "AAEC", "payload_content_type": "application/octet-stream",
        "payload_content_encoding": "base64"});
    let bin_id = id_of(
        &w.admin(Method::POST, C, &[], |rb| rb.json(&binary)).await,
        "secret_ref",
    );
    // Refusals: bad body, not JSON, too large, no credentials, a role that may not create.
    let bad = json!({"payload": "x"});
    expect(
        &w.admin(Method::POST, C, &[], |rb| rb.json(&bad)).await,
        400,
    );
    let text = |rb: reqwest::RequestBuilder| rb.header("Content-Type", "text/plain").body("x");
    expect(&w.admin(Method::POST, C, &[], text).await, 415);
    let huge = json!({"payload": "x".repeat(MAX_REQUEST_BYTES + 10),
        "payload_content_type": "text/plain"});
    expect(
        &w.admin(Method::POST, C, &[], |rb| rb.json(&huge)).await,
        413,
    );
    let r = w
        .call(None, Method::POST, C, &[], |rb| rb.json(&body.clone()))
        .await;
    expect(&r, 401);
    let observer = w.arca.token("admin", "obs", "observer");
    let r = w
        .call(Some(&observer), Method::POST, C, &[], |rb| {
            rb.json(&body.clone())
        })
        .await;
    expect(&r, 403);

    // Metadata at 1.0 and with consumers at 1.1+, the payload through `Accept`, unknown secrets.
    let json_accept = |rb: reqwest::RequestBuilder| rb.header("Accept", "application/json");
    expect(&w.admin(Method::GET, ONE, &[&id], json_accept).await, 200);
    expect(&w.admin(Method::GET, ONE, &[&id], latest).await, 200);
    let plain = |rb: reqwest::RequestBuilder| rb.header("Accept", "text/plain");
    expect(&w.admin(Method::GET, ONE, &[&id], plain).await, 200);
    let unknown = "0190a0f0-0000-7000-8000-00000000abcd";
    expect(&w.admin(Method::GET, ONE, &[unknown], same).await, 404);
    const PAYLOAD: &str = "/v1/secrets/{id}/payload";
    expect(&w.admin(Method::GET, PAYLOAD, &[&id], plain).await, 200);
    let octets = |rb: reqwest::RequestBuilder| rb.header("Accept", "application/octet-stream");
    expect(
        &w.admin(Method::GET, PAYLOAD, &[&bin_id], octets).await,
        200,
    );

    // Two-step: an empty secret has no payload until `PUT`; a second `PUT` conflicts.
    let empty = id_of(
        &w.admin(Method::POST, C, &[], |rb| rb.json(&json!({"name": "e"})))
            .await,
        "secret_ref",
    );
    expect(&w.admin(Method::GET, PAYLOAD, &[&empty], plain).await, 404);
    let upload = |rb: reqwest::RequestBuilder| rb.header("Content-Type", "text/plain").body("v");
    expect(&w.admin(Method::PUT, ONE, &[&empty], upload).await, 204);
    expect(&w.admin(Method::PUT, ONE, &[&empty], upload).await, 409);
    let json_put = |rb: reqwest::RequestBuilder| rb.json(&json!({}));
    expect(&w.admin(Method::PUT, ONE, &[&empty], json_put).await, 415);

    // Lists: plain, filtered, paged (with `next`), at 1.2 with consumers, and a refused sort.
    expect(&w.admin(Method::GET, C, &[], same).await, 200);
    let paged = |rb: reqwest::RequestBuilder| rb.query(&[("limit", "1"), ("offset", "1")]);
    let r = w.admin(Method::GET, C, &[], paged).await;
    expect(&r, 200);
    assert!(r.json()["next"].is_string() && r.json()["previous"].is_string());
    let filtered = |rb: reqwest::RequestBuilder| rb.query(&[("alg", "aes"), ("bits", "256")]);
    expect(&w.admin(Method::GET, C, &[], filtered).await, 200);
    expect(&w.admin(Method::GET, C, &[], latest).await, 200);
    let bad_sort = |rb: reqwest::RequestBuilder| rb.query(&[("sort", "nope")]);
    expect(&w.admin(Method::GET, C, &[], bad_sort).await, 400);
    expect(&w.call(None, Method::GET, C, &[], same).await, 401);
    id
}

async fn metadata(w: &Walk, id: &str) {
    const ALL: &str = "/v1/secrets/{id}/metadata";
    const ONE: &str = "/v1/secrets/{id}/metadata/{key}";
    let put = |rb: reqwest::RequestBuilder| rb.json(&json!({"metadata": {"a": "1", "b": "2"}}));
    expect(&w.admin(Method::PUT, ALL, &[id], put).await, 201);
    expect(&w.admin(Method::GET, ALL, &[id], same).await, 200);
    let bad = |rb: reqwest::RequestBuilder| rb.json(&json!({"metadata": {"a b": "1"}}));
    expect(&w.admin(Method::PUT, ALL, &[id], bad).await, 400);
    let post = |rb: reqwest::RequestBuilder| rb.json(&json!({"key": "c", "value": "3"}));
    expect(&w.admin(Method::POST, ALL, &[id], post).await, 201);
    expect(&w.admin(Method::POST, ALL, &[id], post).await, 409);
    expect(&w.admin(Method::GET, ONE, &[id, "c"], same).await, 200);
    expect(&w.admin(Method::GET, ONE, &[id, "zz"], same).await, 404);
    let update = |rb: reqwest::RequestBuilder| rb.json(&json!({"key": "c", "value": "4"}));
    expect(&w.admin(Method::PUT, ONE, &[id, "c"], update).await, 200);
    expect(&w.admin(Method::PUT, ONE, &[id, "a"], update).await, 409);
    expect(&w.admin(Method::DELETE, ONE, &[id, "c"], same).await, 204);
}

/// Containers: create (generic, rsa, refused), list, read, add and remove a secret. Returns a generic one.
async fn containers(w: &Walk, secret: &str) -> String {
    const C: &str = "/v1/containers";
    const ONE: &str = "/v1/containers/{id}";
    const SECRETS: &str = "/v1/containers/{id}/secrets";
    let arca = &w.arca;
    let generic = json!({"type": "generic", "name": "g",
        "secret_refs": [arca.secret_ref_entry("one", secret)]});
    let r = w
        .admin(Method::POST, C, &[], |rb| rb.json(&generic.clone()))
        .await;
    expect(&r, 201);
    let id = id_of(&r, "container_ref");
    let rsa = json!({"type": "rsa", "name": "r", "secret_refs": [
        arca.secret_ref_entry("public_key", secret), arca.secret_ref_entry("private_key", secret)]});
    let r = w.admin(Method::POST, C, &[], |rb| rb.json(&rsa)).await;
    assert_eq!(
        r.status,
        400,
        "one secret cannot be both keys: {}",
        r.text()
    );
    let bad = json!({"type": "box"});
    expect(
        &w.admin(Method::POST, C, &[], |rb| rb.json(&bad)).await,
        400,
    );
    let missing = json!({"type": "generic", "secret_refs": [
        arca.secret_ref_entry("x", "0190a0f0-0000-7000-8000-00000000abcd")]});
    expect(
        &w.admin(Method::POST, C, &[], |rb| rb.json(&missing)).await,
        404,
    );
    expect(&w.admin(Method::GET, C, &[], same).await, 200);
    let filtered = |rb: reqwest::RequestBuilder| rb.query(&[("type", "generic"), ("limit", "1")]);
    expect(&w.admin(Method::GET, C, &[], filtered).await, 200);
    expect(&w.admin(Method::GET, ONE, &[&id], same).await, 200);
    expect(&w.admin(Method::GET, ONE, &[secret], same).await, 404);

    let other = w
        .arca
        .create_text_secret(&w.arca.admin_token, "other", "o")
        .await;
    let entry = json!({"name": "two", "secret_ref": arca.url(&format!("/v1/secrets/{other}"))});
    let r = w
        .admin(Method::POST, SECRETS, &[&id], |rb| rb.json(&entry.clone()))
        .await;
    expect(&r, 201);
    let r = w
        .admin(Method::POST, SECRETS, &[&id], |rb| rb.json(&entry.clone()))
        .await;
    expect(&r, 409);
    let r = w
        .admin(Method::DELETE, SECRETS, &[&id], |rb| {
            rb.json(&entry.clone())
        })
        .await;
    expect(&r, 204);
    id
}

async fn consumers(w: &Walk, secret: &str, container: &str) {
    const CC: &str = "/v1/containers/{id}/consumers";
    const SC: &str = "/v1/secrets/{id}/consumers";
    let consumer = json!({"name": "svc", "URL": "http://svc.example/a"});
    for _ in 0..2 {
        let r = w
            .admin(Method::POST, CC, &[container], |rb| {
                rb.json(&consumer.clone())
            })
            .await;
        expect(&r, 200);
    }
    expect(&w.admin(Method::GET, CC, &[container], same).await, 200);
    let bad = json!({"name": "svc"});
    expect(
        &w.admin(Method::POST, CC, &[container], |rb| rb.json(&bad))
            .await,
        400,
    );
    let r = w
        .admin(Method::DELETE, CC, &[container], |rb| {
            rb.json(&consumer.clone())
        })
        .await;
    expect(&r, 200);

    // Secret consumers exist from 1.1.
    expect(&w.admin(Method::GET, SC, &[secret], same).await, 404);
    let sc = json!({"service": "nova", "resource_type": "server", "resource_id": "vm-1"});
    for _ in 0..2 {
        let r = w
            .admin(Method::POST, SC, &[secret], |rb| {
                latest(rb.json(&sc.clone()))
            })
            .await;
        expect(&r, 200);
    }
    expect(&w.admin(Method::GET, SC, &[secret], latest).await, 200);
    // The secret now shows its consumer, and at 1.2 refuses an unforced delete.
    expect(
        &w.admin(Method::GET, "/v1/secrets/{id}", &[secret], latest)
            .await,
        200,
    );
    expect(
        &w.admin(Method::DELETE, "/v1/secrets/{id}", &[secret], latest)
            .await,
        409,
    );
    let r = w
        .admin(Method::DELETE, SC, &[secret], |rb| {
            latest(rb.json(&sc.clone()))
        })
        .await;
    expect(&r, 200);
    expect(
        &w.admin(Method::POST, SC, &[secret], |rb| {
            latest(rb.json(&json!({})))
        })
        .await,
        400,
    );
}

async fn acls(w: &Walk, secret: &str, container: &str) {
    for (template, id) in [
        ("/v1/secrets/{id}/acl", secret),
        ("/v1/containers/{id}/acl", container),
    ] {
        expect(&w.admin(Method::GET, template, &[id], same).await, 200);
        let put = |rb: reqwest::RequestBuilder| {
            rb.json(&json!({"read": {"users": ["u1"], "project-access": false}}))
        };
        expect(&w.admin(Method::PUT, template, &[id], put).await, 200);
        let patch = |rb: reqwest::RequestBuilder| rb.json(&json!({"read": {"users": ["u2"]}}));
        expect(&w.admin(Method::PATCH, template, &[id], patch).await, 200);
        let r = w.admin(Method::GET, template, &[id], same).await;
        expect(&r, 200);
        assert_eq!(r.json()["read"]["users"], json!(["u2"]));
        let bad = |rb: reqwest::RequestBuilder| rb.json(&json!({"write": {}}));
        expect(&w.admin(Method::PUT, template, &[id], bad).await, 400);
        let text = |rb: reqwest::RequestBuilder| rb.header("Content-Type", "text/plain").body("{}");
        expect(&w.admin(Method::PATCH, template, &[id], text).await, 415);
        let observer = w.arca.token("admin", "obs", "observer");
        let r = w
            .call(Some(&observer), Method::PUT, template, &[id], put)
            .await;
        expect(&r, 403);
        expect(&w.admin(Method::DELETE, template, &[id], same).await, 200);
        let unknown = "0190a0f0-0000-7000-8000-00000000abcd";
        expect(&w.admin(Method::GET, template, &[unknown], same).await, 404);
    }
}

async fn orders(w: &Walk) {
    const C: &str = "/v1/orders";
    const ONE: &str = "/v1/orders/{id}";
    let key = json!({"type": "key", "meta": {"name": "k", "algorithm": "aes", "bit_length": 256,
        "mode": "cbc", "payload_content_type": "application/octet-stream"}});
    let r = w
        .admin(Method::POST, C, &[], |rb| rb.json(&key.clone()))
        .await;
    expect(&r, 202);
    let id = id_of(&r, "order_ref");
    let pair = json!({"type": "asymmetric", "meta": {"algorithm": "rsa", "bit_length": 2048}});
    expect(
        &w.admin(Method::POST, C, &[], |rb| rb.json(&pair)).await,
        202,
    );
    let unknown_type = json!({"type": "bogus", "meta": {}});
    expect(
        &w.admin(Method::POST, C, &[], |rb| rb.json(&unknown_type))
            .await,
        400,
    );
    let bad_bits = json!({"type": "key", "meta": {"algorithm": "aes", "bit_length": 12}});
    expect(
        &w.admin(Method::POST, C, &[], |rb| rb.json(&bad_bits)).await,
        400,
    );
    let r = w.admin(Method::GET, C, &[], same).await;
    expect(&r, 200);
    assert_eq!(r.json()["total"], 2);
    let paged = |rb: reqwest::RequestBuilder| rb.query(&[("limit", "1")]);
    expect(&w.admin(Method::GET, C, &[], paged).await, 200);
    expect(&w.admin(Method::GET, ONE, &[&id], same).await, 200);
    expect(&w.admin(Method::PUT, C, &[], same).await, 405);
    let r = w
        .admin(Method::PUT, ONE, &[&id], |rb| rb.json(&key.clone()))
        .await;
    expect(&r, 400);
    expect(&w.admin(Method::DELETE, ONE, &[&id], same).await, 204);
    expect(&w.admin(Method::GET, ONE, &[&id], same).await, 404);
}

async fn quotas(w: &Walk) {
    const MINE: &str = "/v1/quotas";
    const ALL: &str = "/v1/project-quotas";
    const ONE: &str = "/v1/project-quotas/{id}";
    expect(&w.admin(Method::GET, MINE, &[], same).await, 200);
    let sa = w.arca.token("ops", "sa", "key-manager:service-admin");
    let sa = Some(sa.as_str());
    let quota = |rb: reqwest::RequestBuilder| {
        rb.json(&json!({"project_quotas": {"secrets": 0, "containers": 5}}))
    };
    expect(&w.call(sa, Method::PUT, ONE, &["capped"], quota).await, 204);
    let bad = |rb: reqwest::RequestBuilder| rb.json(&json!({"project_quotas": {"secrets": "x"}}));
    expect(&w.call(sa, Method::PUT, ONE, &["capped"], bad).await, 400);
    expect(&w.call(sa, Method::GET, ALL, &[], same).await, 200);
    expect(&w.call(sa, Method::GET, ONE, &["capped"], same).await, 200);
    expect(&w.admin(Method::GET, ONE, &["capped"], same).await, 403);
    expect(&w.admin(Method::GET, ALL, &[], same).await, 403);
    // The quota is enforced: a secret in the capped project is refused.
    let capped = w.arca.token("capped", "c", "creator");
    let body = json!({"payload": "x", "payload_content_type": "text/plain"});
    let r = w
        .call(Some(&capped), Method::POST, "/v1/secrets", &[], |rb| {
            rb.json(&body)
        })
        .await;
    expect(&r, 403);
    expect(
        &w.call(Some(&capped), Method::GET, MINE, &[], same).await,
        200,
    );
    expect(
        &w.call(sa, Method::DELETE, ONE, &["capped"], same).await,
        204,
    );
    expect(
        &w.call(sa, Method::DELETE, ONE, &["capped"], same).await,
        404,
    );
    expect(&w.call(sa, Method::GET, ONE, &["capped"], same).await, 404);
}

async fn secret_stores(w: &Walk) {
    let r = w.admin(Method::GET, "/v1/secret-stores", &[], same).await;
    expect(&r, 200);
    let sid = r.json()["secret_stores"][0]["secret_store_ref"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    const DEFAULT: &str = "/v1/secret-stores/global-default";
    const PREFERRED: &str = "/v1/secret-stores/preferred";
    const ONE: &str = "/v1/secret-stores/{id}";
    const SET: &str = "/v1/secret-stores/{id}/preferred";
    expect(&w.admin(Method::GET, DEFAULT, &[], same).await, 200);
    expect(&w.admin(Method::GET, PREFERRED, &[], same).await, 404);
    expect(&w.admin(Method::GET, ONE, &[&sid], same).await, 200);
    expect(&w.admin(Method::GET, ONE, &["nope"], same).await, 404);
    expect(&w.admin(Method::POST, SET, &[&sid], same).await, 204);
    expect(&w.admin(Method::GET, PREFERRED, &[], same).await, 200);
    expect(&w.admin(Method::DELETE, SET, &[&sid], same).await, 204);
    let observer = w.arca.token("admin", "obs", "observer");
    let r = w
        .call(Some(&observer), Method::POST, SET, &[&sid], same)
        .await;
    expect(&r, 403);
}

async fn deletions(w: &Walk, secret: &str, container: &str) {
    expect(
        &w.admin(Method::DELETE, "/v1/containers/{id}", &[container], same)
            .await,
        204,
    );
    expect(
        &w.admin(Method::DELETE, "/v1/containers/{id}", &[container], same)
            .await,
        404,
    );
    let force = |rb: reqwest::RequestBuilder| latest(rb.query(&[("force", "true")]));
    expect(
        &w.admin(Method::DELETE, "/v1/secrets/{id}", &[secret], force)
            .await,
        204,
    );
    expect(
        &w.admin(Method::DELETE, "/v1/secrets/{id}", &[secret], same)
            .await,
        404,
    );
}
