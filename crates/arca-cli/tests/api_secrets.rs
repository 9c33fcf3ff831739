//! The secret resource end to end: one-step and two-step creation, metadata, payload retrieval
//! with Accept negotiation, deletion and expiry.
//!
//! Reference: doc/source/api/reference/secrets.rst; barbican/api/controllers/secrets.py
//! (201 + Location + `{"secret_ref"}`, PUT 204/409, payload 404 "secret has no payload",
//! legacy payload on `GET /v1/secrets/{id}` when Accept is not JSON, `*/*` and no Accept meaning
//! metadata there), barbican/plugin/resources.py `get_secret` (`*/*` on /payload = the stored
//! type, no Accept = application/octet-stream), barbican/plugin/util/mime_types.py
//! (`content_types` `{"default": ...}`, text/plain charset forms), barbican/model/repositories.py
//! (expired secrets are filtered out of every lookup).

mod common;
use common::*;

fn meta_path(id: &str) -> String {
    format!("/v1/secrets/{id}")
}

fn payload_path(id: &str) -> String {
    format!("/v1/secrets/{id}/payload")
}

/// GET `path` as admin with no `Accept` header at all (reqwest would send `Accept: */*`).
async fn get_without_accept(arca: &Arca, path: &str) -> Resp {
    arca.raw("GET", path, &[("X-Auth-Token", &arca.admin_token)], None)
        .await
}

async fn get_payload(arca: &Arca, id: &str, accept: &str) -> Resp {
    send(
        arca.admin(Method::GET, &payload_path(id))
            .header("Accept", accept),
    )
    .await
}

#[tokio::test]
async fn create_with_every_field_then_read_metadata_and_payload() {
    let arca = Arca::start();
    let key = random_bytes(32);
    let body = json!({
        "name": "AES key",
        "expiration": "2099-12-28T19:14:44Z",
        "algorithm": "aes",
        "bit_length": 256,
        "mode": "cbc",
        "secret_type": "symmetric",
        "payload": b64(&key),
        "payload_content_type": "application/octet-stream",
        "payload_content_encoding": "base64",
    });
    let r = send(arca.admin(Method::POST, "/v1/secrets").json(&body)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(
        r.content_type().starts_with("application/json"),
        "{}",
        r.content_type()
    );
    let created = r.json();
    let obj = created.as_object().expect("object");
    assert_eq!(
        obj.len(),
        1,
        "POST answers only {{\"secret_ref\"}}: {created}"
    );
    let secret_ref = created["secret_ref"]
        .as_str()
        .expect("secret_ref")
        .to_string();
    assert!(
        secret_ref.starts_with("http://") || secret_ref.starts_with("https://"),
        "{secret_ref}"
    );
    assert_eq!(
        r.header("location").as_deref(),
        Some(secret_ref.as_str()),
        "Location must be the secret_ref (secrets.py sets both to the same URL)"
    );
    let id = secret_id(&secret_ref);

    let m = arca.secret_meta(&arca.admin_token, &id).await;
    assert_eq!(m["status"], "ACTIVE", "{m}");
    assert_eq!(m["name"], "AES key", "{m}");
    assert_eq!(m["algorithm"], "aes", "{m}");
    assert_eq!(m["bit_length"], 256, "{m}");
    assert_eq!(m["mode"], "cbc", "{m}");
    assert_eq!(m["secret_type"], "symmetric", "{m}");
    assert_eq!(m["creator_id"], "admin", "{m}");
    assert_eq!(m["secret_ref"], json!(secret_ref), "{m}");
    assert_eq!(
        m["content_types"],
        json!({"default": "application/octet-stream"}),
        "{m}"
    );
    let exp = m["expiration"]
        .as_str()
        .unwrap_or_else(|| panic!("expiration string: {m}"));
    assert_eq!(
        parse_ts(exp),
        parse_ts("2099-12-28T19:14:44"),
        "expiration round trip: {exp}"
    );
    assert_recent(m["created"].as_str().expect("created"));
    assert_recent(m["updated"].as_str().expect("updated"));
    assert!(
        m.get("payload").is_none(),
        "metadata must never contain the payload: {m}"
    );

    let p = get_payload(&arca, &id, "application/octet-stream").await;
    assert_eq!(p.status, 200, "{}", p.text());
    assert!(
        p.content_type().starts_with("application/octet-stream"),
        "payload content-type {:?}",
        p.content_type()
    );
    assert_eq!(p.body, key, "binary payload must round-trip exactly");
}

#[tokio::test]
async fn expiration_with_offset_is_normalised_to_utc() {
    // validators.py: timeutils.parse_isotime + normalize_time → stored as naive UTC.
    let arca = Arca::start();
    let id = arca
        .create_secret(
            &arca.admin_token,
            json!({"expiration": "2099-12-28T21:14:44+02:00", "payload": "x",
                   "payload_content_type": "text/plain"}),
        )
        .await;
    let m = arca.secret_meta(&arca.admin_token, &id).await;
    assert_eq!(
        parse_ts(m["expiration"].as_str().expect("expiration")),
        parse_ts("2099-12-28T19:14:44"),
        "{m}"
    );
}

#[tokio::test]
async fn minimal_secret_has_barbican_defaults() {
    let arca = Arca::start();
    let id = arca
        .create_secret(
            &arca.admin_token,
            json!({"payload": "p", "payload_content_type": "text/plain"}),
        )
        .await;
    let m = arca.secret_meta(&arca.admin_token, &id).await;
    assert_eq!(m["status"], "ACTIVE", "{m}");
    assert_eq!(
        m["secret_type"], "opaque",
        "default secret_type is opaque: {m}"
    );
    for field in ["name", "algorithm", "bit_length", "mode", "expiration"] {
        assert!(
            m.get(field).is_some_and(Value::is_null),
            "{field} must be present and null when not given: {m}"
        );
    }
    assert_eq!(m["content_types"], json!({"default": "text/plain"}), "{m}");
}

#[tokio::test]
async fn every_secret_type_round_trips() {
    let arca = Arca::start();
    for secret_type in [
        "symmetric",
        "public",
        "private",
        "passphrase",
        "certificate",
        "opaque",
    ] {
        let (body, expected, ctype): (Value, Vec<u8>, &str) = if secret_type == "passphrase" {
            let text = "correct horse battery staple";
            (
                json!({"secret_type": secret_type, "payload": text,
                       "payload_content_type": "text/plain"}),
                text.as_bytes().to_vec(),
                "text/plain",
            )
        } else {
            let bytes = random_bytes(48);
            (
                json!({"secret_type": secret_type, "payload": b64(&bytes),
                       "payload_content_type": "application/octet-stream",
                       "payload_content_encoding": "base64",
                       "algorithm": "aes", "bit_length": 384}),
                bytes,
                "application/octet-stream",
            )
        };
        let id = arca.create_secret(&arca.admin_token, body).await;
        let m = arca.secret_meta(&arca.admin_token, &id).await;
        assert_eq!(m["secret_type"], secret_type, "{m}");
        assert_eq!(m["content_types"]["default"], ctype, "{m}");
        let p = get_payload(&arca, &id, ctype).await;
        assert_eq!(p.status, 200, "{secret_type}: {}", p.text());
        assert_eq!(p.body, expected, "{secret_type} payload must round-trip");
    }
}

#[tokio::test]
async fn text_payload_round_trips_exactly() {
    let arca = Arca::start();
    let text = "pass phrase with spaces, ünïcødé and 🍺 inside";
    let id = arca
        .create_text_secret(&arca.admin_token, "txt", text)
        .await;
    let p = get_payload(&arca, &id, "text/plain").await;
    assert_eq!(p.status, 200, "{}", p.text());
    assert!(
        p.content_type().starts_with("text/plain"),
        "{:?}",
        p.content_type()
    );
    assert_eq!(p.text(), text);
    // A text secret can also be fetched as octet-stream: the UTF-8 bytes.
    let p = get_payload(&arca, &id, "application/octet-stream").await;
    assert_eq!(p.status, 200, "{}", p.text());
    assert_eq!(p.body, text.as_bytes());
}

#[tokio::test]
async fn text_plain_with_utf8_charset_is_accepted() {
    // mime_types.PLAIN_TEXT lists 'text/plain;charset=utf-8' and 'text/plain; charset=utf-8';
    // both normalise to text/plain.
    let arca = Arca::start();
    for ctype in ["text/plain;charset=utf-8", "text/plain; charset=utf-8"] {
        let id = arca
            .create_secret(
                &arca.admin_token,
                json!({"payload": "charset", "payload_content_type": ctype}),
            )
            .await;
        let m = arca.secret_meta(&arca.admin_token, &id).await;
        assert_eq!(
            m["content_types"],
            json!({"default": "text/plain"}),
            "{ctype}: {m}"
        );
        let p = get_payload(&arca, &id, "text/plain").await;
        assert_eq!(p.text(), "charset");
    }
}

#[tokio::test]
async fn random_binary_round_trips_including_the_largest_allowed() {
    let arca = Arca::start();
    for n in [1usize, 17, 1000, 15_000] {
        // 15000 bytes is 20000 base64 characters: exactly max_allowed_secret_in_bytes.
        let bytes = random_non_utf8(n);
        let id = arca
            .create_secret(
                &arca.admin_token,
                json!({"payload": b64(&bytes), "payload_content_type": "application/octet-stream",
                       "payload_content_encoding": "base64"}),
            )
            .await;
        let p = get_payload(&arca, &id, "application/octet-stream").await;
        assert_eq!(p.status, 200, "{n}: {}", p.text());
        assert_eq!(p.body.len(), n);
        assert_eq!(p.body, bytes, "{n} random bytes must round-trip");
    }
}

#[tokio::test]
async fn largest_text_payload_is_accepted() {
    let arca = Arca::start();
    let text = "a".repeat(MAX_SECRET_BYTES);
    let id = arca
        .create_text_secret(&arca.admin_token, "big", &text)
        .await;
    let p = get_payload(&arca, &id, "text/plain").await;
    assert_eq!(p.text(), text);
}

#[tokio::test]
async fn two_step_create_with_text_plain() {
    let arca = Arca::start();
    let r =
        send(arca.admin(Method::POST, "/v1/secrets").json(
            &json!({"name": "two-step", "algorithm": "aes", "bit_length": 128, "mode": "gcm"}),
        ))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = secret_id(r.json()["secret_ref"].as_str().expect("secret_ref"));

    let m = arca.secret_meta(&arca.admin_token, &id).await;
    assert_eq!(m["status"], "ACTIVE", "{m}");
    assert_eq!(m["name"], "two-step", "{m}");
    assert!(
        m.get("content_types").is_none(),
        "no payload → no content_types: {m}"
    );

    // secrets.py _secret_payload_not_found: 404 "Sorry but your secret has no payload".
    let p = get_payload(&arca, &id, "text/plain").await;
    assert_error(&p, 404);

    let r = send(
        arca.admin(Method::PUT, &meta_path(&id))
            .header("Content-Type", "text/plain")
            .body("hello two-step"),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(r.body.is_empty(), "204 has no body: {:?}", r.text());

    let m = arca.secret_meta(&arca.admin_token, &id).await;
    assert_eq!(m["content_types"], json!({"default": "text/plain"}), "{m}");
    assert_eq!(m["algorithm"], "aes", "{m}");
    let p = get_payload(&arca, &id, "text/plain").await;
    assert_eq!(p.status, 200, "{}", p.text());
    assert_eq!(p.text(), "hello two-step");

    // Second PUT: 409 "Secret already has data, cannot modify it."
    let r = send(
        arca.admin(Method::PUT, &meta_path(&id))
            .header("Content-Type", "text/plain")
            .body("again"),
    )
    .await;
    assert_error(&r, 409);
    let p = get_payload(&arca, &id, "text/plain").await;
    assert_eq!(
        p.text(),
        "hello two-step",
        "a refused PUT must not change the payload"
    );
}

#[tokio::test]
async fn two_step_create_with_raw_octet_stream() {
    let arca = Arca::start();
    let id = arca.create_empty_secret(&arca.admin_token, "raw").await;
    let bytes = random_non_utf8(300);
    let r = send(
        arca.admin(Method::PUT, &meta_path(&id))
            .header("Content-Type", "application/octet-stream")
            .body(bytes.clone()),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let m = arca.secret_meta(&arca.admin_token, &id).await;
    assert_eq!(
        m["content_types"],
        json!({"default": "application/octet-stream"}),
        "{m}"
    );
    let p = get_payload(&arca, &id, "application/octet-stream").await;
    assert_eq!(p.body, bytes);

    let r = send(
        arca.admin(Method::PUT, &meta_path(&id))
            .header("Content-Type", "application/octet-stream")
            .body(vec![1u8, 2, 3]),
    )
    .await;
    assert_error(&r, 409);
}

#[tokio::test]
async fn two_step_create_with_base64_content_encoding() {
    let arca = Arca::start();
    let id = arca.create_empty_secret(&arca.admin_token, "b64").await;
    let bytes = random_non_utf8(64);
    let r = send(
        arca.admin(Method::PUT, &meta_path(&id))
            .header("Content-Type", "application/octet-stream")
            .header("Content-Encoding", "base64")
            .body(b64(&bytes)),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let p = get_payload(&arca, &id, "application/octet-stream").await;
    assert_eq!(
        p.body, bytes,
        "Content-Encoding: base64 must be decoded before storing"
    );
}

#[tokio::test]
async fn put_payload_of_the_largest_size_is_accepted() {
    let arca = Arca::start();
    let id = arca.create_empty_secret(&arca.admin_token, "big-put").await;
    let bytes = random_bytes(MAX_SECRET_BYTES);
    let r = send(
        arca.admin(Method::PUT, &meta_path(&id))
            .header("Content-Type", "application/octet-stream")
            .body(bytes.clone()),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        get_payload(&arca, &id, "application/octet-stream")
            .await
            .body,
        bytes
    );
}

#[tokio::test]
async fn payload_accept_negotiation() {
    let arca = Arca::start();
    let id = arca
        .create_text_secret(&arca.admin_token, "neg", "negotiated")
        .await;

    let p = get_payload(&arca, &id, "text/plain").await;
    assert_eq!((p.status, p.text().as_str()), (200, "negotiated"));
    let p = get_payload(&arca, &id, "application/octet-stream").await;
    assert_eq!(
        (p.status, p.body.as_slice()),
        (200, b"negotiated".as_slice())
    );
    // resources.get_secret: '*/*' means "the stored content type".
    let p = get_payload(&arca, &id, "*/*").await;
    assert_eq!(
        (p.status, p.body.as_slice()),
        (200, b"negotiated".as_slice()),
        "{}",
        p.text()
    );
    // No Accept at all: secrets.py defaults to application/octet-stream.
    let p = get_without_accept(&arca, &payload_path(&id)).await;
    assert_eq!(p.status, 200, "{}", p.text());
    assert_eq!(p.body, b"negotiated");

    // A JSON payload does not exist: 406 (the API reference lists 406 Not Acceptable for
    // /payload; pecan answers 406 for a type it cannot serve, e.g. functional test
    // test_secret_get_invalid_mime_type uses "i/m").
    for accept in ["application/json", "i/m", "image/png"] {
        let p = get_payload(&arca, &id, accept).await;
        assert_error(&p, 406);
    }
}

#[tokio::test]
async fn binary_secret_cannot_be_served_as_text() {
    // translations.denormalize_after_decryption: UnicodeDecodeError → SecretAcceptNotSupported,
    // i.e. Not Acceptable (never a 500).
    let arca = Arca::start();
    let bytes = random_non_utf8(40);
    let id = arca
        .create_secret(
            &arca.admin_token,
            json!({"payload": b64(&bytes), "payload_content_type": "application/octet-stream",
                   "payload_content_encoding": "base64"}),
        )
        .await;
    let p = get_payload(&arca, &id, "text/plain").await;
    assert_error(&p, 406);
    let p = get_payload(&arca, &id, "application/octet-stream").await;
    assert_eq!(p.body, bytes);
}

#[tokio::test]
async fn legacy_payload_through_the_secret_url() {
    // secrets.py on_get: metadata when Accept is absent, application/json or */*; otherwise the
    // payload (deprecated API, same rule secret:decrypt).
    let arca = Arca::start();
    let bytes = random_non_utf8(24);
    let id = arca
        .create_secret(
            &arca.admin_token,
            json!({"name": "legacy", "payload": b64(&bytes),
                   "payload_content_type": "application/octet-stream",
                   "payload_content_encoding": "base64"}),
        )
        .await;
    let tid = arca
        .create_text_secret(&arca.admin_token, "legacy-text", "legacy text")
        .await;

    let r = send(
        arca.admin(Method::GET, &meta_path(&id))
            .header("Accept", "application/octet-stream"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.body, bytes,
        "Accept: application/octet-stream on the secret URL returns the payload"
    );
    let r = send(
        arca.admin(Method::GET, &meta_path(&tid))
            .header("Accept", "text/plain"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "legacy text");

    for accept in ["application/json", "*/*"] {
        let r = send(
            arca.admin(Method::GET, &meta_path(&id))
                .header("Accept", accept),
        )
        .await;
        assert_eq!(r.status, 200, "{accept}: {}", r.text());
        assert_eq!(r.json()["name"], "legacy", "{accept} → metadata");
    }
    let r = get_without_accept(&arca, &meta_path(&id)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["name"], "legacy", "no Accept → metadata");
}

#[tokio::test]
async fn delete_then_gone() {
    let arca = Arca::start();
    let id = arca
        .create_text_secret(&arca.admin_token, "doomed", "bye")
        .await;
    let keep = arca
        .create_text_secret(&arca.admin_token, "kept", "stay")
        .await;

    let r = send(arca.admin(Method::DELETE, &meta_path(&id))).await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(r.body.is_empty(), "204 has no body: {:?}", r.text());

    let r = send(
        arca.admin(Method::GET, &meta_path(&id))
            .header("Accept", "application/json"),
    )
    .await;
    assert_error(&r, 404);
    assert_error(&get_payload(&arca, &id, "text/plain").await, 404);
    let r = send(
        arca.admin(Method::PUT, &meta_path(&id))
            .header("Content-Type", "text/plain")
            .body("x"),
    )
    .await;
    assert_error(&r, 404);
    let r = send(arca.admin(Method::DELETE, &meta_path(&id))).await;
    assert_error(&r, 404);
    let r = send(arca.admin(Method::GET, &format!("/v1/secrets/{id}/metadata"))).await;
    assert_error(&r, 404);

    let list = send(arca.admin(Method::GET, "/v1/secrets")).await.json();
    assert_eq!(list["total"], 1, "{list}");
    assert!(
        list["secrets"][0]["secret_ref"]
            .as_str()
            .unwrap_or("")
            .ends_with(&keep),
        "{list}"
    );
    assert_eq!(get_payload(&arca, &keep, "text/plain").await.text(), "stay");
}

#[tokio::test]
async fn expired_secret_is_no_longer_served() {
    let arca = Arca::start();
    let expiration = format!("{}Z", iso_utc(2));
    let id = arca
        .create_secret(
            &arca.admin_token,
            json!({"name": "short-lived", "expiration": expiration, "payload": "ephemeral",
                   "payload_content_type": "text/plain"}),
        )
        .await;
    let p = get_payload(&arca, &id, "text/plain").await;
    assert_eq!(p.status, 200, "not yet expired: {}", p.text());

    let deadline = parse_ts(&expiration) + time::Duration::milliseconds(1200);
    while time::OffsetDateTime::now_utc() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // repositories.get_secret_by_id filters `expiration > utcnow`: the secret is gone for
    // every route (functional test test_secret_create_then_expire_then_check expects 404).
    assert_error(&get_payload(&arca, &id, "text/plain").await, 404);
    let r = send(
        arca.admin(Method::GET, &meta_path(&id))
            .header("Accept", "application/json"),
    )
    .await;
    assert_error(&r, 404);
    let r = send(
        arca.admin(Method::GET, &meta_path(&id))
            .header("Accept", "text/plain"),
    )
    .await;
    assert_error(&r, 404);
    let list = send(arca.admin(Method::GET, "/v1/secrets")).await.json();
    assert_eq!(list["total"], 0, "expired secrets are not listed: {list}");
}

#[tokio::test]
async fn creator_id_is_the_authenticated_user() {
    let arca = Arca::start();
    let tok = arca.token("proj-a", "alice", "creator");
    let id = arca.create_text_secret(&tok, "mine", "x").await;
    let m = arca.secret_meta(&tok, &id).await;
    assert_eq!(m["creator_id"], "alice", "{m}");
    // A creator_id in the body is ignored (secrets.py overwrites it with the context user).
    let id = arca
        .create_secret(
            &tok,
            json!({"payload": "x", "payload_content_type": "text/plain", "creator_id": "mallory"}),
        )
        .await;
    assert_eq!(arca.secret_meta(&tok, &id).await["creator_id"], "alice");
}

#[tokio::test]
async fn string_fields_are_whitespace_trimmed() {
    // barbican/api/__init__.py load_body → strip_whitespace on every string value.
    let arca = Arca::start();
    let id = arca
        .create_secret(
            &arca.admin_token,
            json!({"name": "  padded name  ", "algorithm": " aes ", "mode": "cbc ",
                   "payload": "x", "payload_content_type": "text/plain"}),
        )
        .await;
    let m = arca.secret_meta(&arca.admin_token, &id).await;
    assert_eq!(m["name"], "padded name", "{m}");
    assert_eq!(m["algorithm"], "aes", "{m}");
    assert_eq!(m["mode"], "cbc", "{m}");
}

#[tokio::test]
async fn unknown_fields_are_ignored() {
    // NewSecretValidator's schema has no additionalProperties: false.
    let arca = Arca::start();
    let id = arca
        .create_secret(
            &arca.admin_token,
            json!({"name": "extra", "payload": "x", "payload_content_type": "text/plain",
                   "flavour": "vanilla"}),
        )
        .await;
    assert_eq!(
        arca.secret_meta(&arca.admin_token, &id).await["name"],
        "extra"
    );
}

#[tokio::test]
async fn payload_is_not_stored_or_logged_in_plaintext() {
    let arca = Arca::start();
    let marker = "PLAINTEXT-MARKER-7f3a9c1e2b4d";
    let bin_marker = format!("BINARY-MARKER-{}", "q".repeat(24));
    let id = arca
        .create_text_secret(&arca.admin_token, "plain", marker)
        .await;
    let bid = arca
        .create_secret(
            &arca.admin_token,
            json!({"payload": b64(bin_marker.as_bytes()),
                   "payload_content_type": "application/octet-stream",
                   "payload_content_encoding": "base64"}),
        )
        .await;
    let pid = arca.create_empty_secret(&arca.admin_token, "put").await;
    let put_marker = "PUT-MARKER-0c9d8e7f6a5b";
    let r = send(
        arca.admin(Method::PUT, &meta_path(&pid))
            .header("Content-Type", "text/plain")
            .body(put_marker),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    // Read them back so any read path that might log is exercised too.
    assert_eq!(get_payload(&arca, &id, "text/plain").await.text(), marker);
    assert_eq!(
        get_payload(&arca, &bid, "application/octet-stream")
            .await
            .body,
        bin_marker.as_bytes()
    );
    assert_eq!(
        get_payload(&arca, &pid, "text/plain").await.text(),
        put_marker
    );

    let needles: Vec<Vec<u8>> = vec![
        marker.as_bytes().to_vec(),
        bin_marker.as_bytes().to_vec(),
        b64(bin_marker.as_bytes()).into_bytes(),
        put_marker.as_bytes().to_vec(),
    ];
    let mut files = vec![arca.server.log_path().to_path_buf()];
    let mut stack = vec![arca.data_dir()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read data dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    for f in files {
        let Ok(content) = std::fs::read(&f) else {
            continue;
        };
        for n in &needles {
            assert!(
                !content.windows(n.len()).any(|w| w == n.as_slice()),
                "{} contains a secret payload in plaintext ({:?})",
                f.display(),
                String::from_utf8_lossy(n)
            );
        }
    }
}
