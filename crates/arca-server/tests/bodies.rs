//! Edge cases of request bodies: JSON rejections, content types, size limits, the two-step upload and the
//! list query parser, all answered with Barbican's error body.

mod common;

use common::*;

async fn post_raw(
    s: &Server,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, Value) {
    let mut rb = s.admin(Method::POST, "/v1/secrets").body(body);
    if let Some(ct) = content_type {
        rb = rb.header("Content-Type", ct);
    }
    let (status, _, v) = json_of(rb.send().await.unwrap()).await;
    (status, v)
}

#[tokio::test]
async fn json_rejections_are_barbican_errors() {
    let s = Server::start().await;
    for bad in ["", "{", "not json", "{\"a\": }"] {
        let (status, body) = post_raw(&s, Some("application/json"), bad).await;
        assert_eq!(
            assert_barbican_error(status, &body, 400),
            "Malformed JSON",
            "{bad:?}"
        );
    }
    let (status, body) = post_raw(&s, Some("application/json"), "[1]").await;
    assert!(assert_barbican_error(status, &body, 400).contains("is not of type 'object'"));
    let (status, body) = post_raw(&s, Some("application/json"), r#"{"bit_length": "big"}"#).await;
    assert!(assert_barbican_error(status, &body, 400).contains("Invalid property: 'bit_length'"));
    let (status, body) =
        post_raw(&s, Some("application/json"), r#"{"secret_type": "bogus"}"#).await;
    assert_barbican_error(status, &body, 400);
    // Unknown fields are ignored, as Barbican's schema allows them; strings are trimmed.
    let (status, body) = post_raw(
        &s,
        Some("application/json; charset=utf-8"),
        r#"{"name": "  n  ", "whatever": {"x": 1}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let r = s
        .http
        .get(body["secret_ref"].as_str().unwrap())
        .header("X-Auth-Token", &s.admin)
        .send()
        .await
        .unwrap();
    let (_, _, meta) = json_of(r).await;
    assert_eq!(meta["name"], "n");
    assert_eq!(meta["secret_type"], "opaque");
    assert!(meta["created"].as_str().unwrap().contains('T'));

    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let (status, body) = post_raw(&s, ct, "{}").await;
        let d = assert_barbican_error(status, &body, 415);
        assert_eq!(
            d,
            "Unexpected content type. Expected content types are: ['application/json']"
        );
    }
}

#[tokio::test]
async fn size_limits_are_413_with_barbican_body() {
    let s = Server::start().await;
    // Request body above max_request_bytes (25 000 by default).
    let big = json!({"name": "x".repeat(30_000)}).to_string();
    let (status, body) = post_raw(&s, Some("application/json"), big).await;
    assert_barbican_error(status, &body, 413);
    // Chunked (no Content-Length) is limited too.
    let (status_line, body) = raw_chunked(&s, &[b"{\"name\": \"", &[b'x'; 30_000], b"\"}"]).await;
    assert!(status_line.contains(" 413 "), "{status_line}");
    assert!(body.contains("\"code\":413"), "{body}");
    // Payload above max_payload_bytes (20 000) inside a request that fits.
    let (status, body) = post_raw(
        &s,
        Some("application/json"),
        json!({"payload": "y".repeat(20_001), "payload_content_type": "text/plain"}).to_string(),
    )
    .await;
    assert_eq!(
        assert_barbican_error(status, &body, 413),
        "Provided information too large to process"
    );
    let (status, _) = post_raw(
        &s,
        Some("application/json"),
        json!({"payload": "y".repeat(20_000), "payload_content_type": "text/plain"}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

/// Sends `POST /v1/secrets` with a chunked body over a raw socket; returns the status line and the body.
async fn raw_chunked(s: &Server, chunks: &[&[u8]]) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/secrets HTTP/1.1\r\nHost: {addr}\r\nX-Auth-Token: {}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        s.admin
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in chunks {
        // The server may answer and close before everything is sent.
        if stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await
            .is_err()
            || stream.write_all(chunk).await.is_err()
            || stream.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status_line = text.lines().next().unwrap_or_default().to_owned();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status_line, body)
}

#[tokio::test]
async fn two_step_upload() {
    let s = Server::start().await;
    let put = |id: &str, ct: Option<&str>, enc: Option<&str>, body: &'static [u8]| {
        let mut rb = s
            .admin(Method::PUT, &format!("/v1/secrets/{id}"))
            .body(body);
        if let Some(ct) = ct {
            rb = rb.header("Content-Type", ct);
        }
        if let Some(enc) = enc {
            rb = rb.header("Content-Encoding", enc);
        }
        rb.send()
    };
    let id = s.create(json!({"name": "later"})).await;
    let (status, _, body) = json_of(
        put(&id, Some("application/json"), None, b"{}")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        assert_barbican_error(status, &body, 415),
        "Unexpected content type. Expected content types are: ['application/octet-stream', 'text/plain']"
    );
    let (status, _, body) = json_of(put(&id, Some("text/plain"), None, b"").await.unwrap()).await;
    assert_eq!(
        assert_barbican_error(status, &body, 400),
        "Secret update issue seen - No data supplied to process.."
    );
    let (status, _, body) = json_of(
        put(
            &id,
            Some("application/octet-stream"),
            Some("base64"),
            b"!!!",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        assert_barbican_error(status, &body, 400),
        "Secret update issue seen - Problem decoding payload."
    );
    let r = put(
        &id,
        Some("application/octet-stream"),
        Some("base64"),
        b"YmVlcg==",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (status, _, body) =
        json_of(put(&id, Some("text/plain"), None, b"again").await.unwrap()).await;
    assert_eq!(
        assert_barbican_error(status, &body, 409),
        "Secret already has data, cannot modify it."
    );
    let r = s
        .admin(Method::GET, &format!("/v1/secrets/{id}/payload"))
        .header("Accept", "*/*")
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"beer");

    let id = s.create(json!({})).await;
    let r = put(&id, Some("text/plain; charset=utf-8"), None, b"plain words")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (_, _, meta) = json_of(
        s.admin(Method::GET, &format!("/v1/secrets/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(meta["content_types"]["default"], "text/plain");
}

#[tokio::test]
async fn list_query_parsing() {
    let s = Server::start().await;
    for (i, alg) in ["aes", "aes", "des"].iter().enumerate() {
        s.create(json!({"name": format!("s{i}"), "algorithm": alg, "bit_length": 128 * (i + 1)}))
            .await;
    }
    let s = &s;
    let list = |q: &'static str| async move {
        let (status, _, body) = json_of(
            s.admin(Method::GET, &format!("/v1/secrets?{q}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        (status, body)
    };
    let (_, body) = list("limit=abc&offset=-4").await;
    assert_eq!(body["secrets"].as_array().unwrap().len(), 3);
    let (_, body) = list("limit=1&alg=aes&sort=name:desc").await;
    assert_eq!(body["total"], 2);
    assert_eq!(body["secrets"][0]["name"], "s1");
    let next = body["next"].as_str().unwrap();
    assert!(
        next.contains("limit=1&offset=1") && next.contains("alg=aes"),
        "{next}"
    );
    let (_, body) = list("bits=256").await;
    assert_eq!(body["total"], 1);
    let (_, body) = list("bits=lots").await;
    assert_eq!(body["total"], 3);
    let (_, body) = list("secret_type=bogus").await;
    assert_eq!(body, json!({"secrets": [], "total": 0}));
    let (_, body) = list("created=gte:2000-01-01T00:00:00Z&sort=created").await;
    assert_eq!(body["total"], 3);
    let (_, body) = list("created=lt:2000-01-01").await;
    assert_eq!(body["total"], 0);
    for bad in [
        "sort=colour",
        "sort=name:sideways",
        "created=yesterday",
        "updated=gt:2020-01-01,gt:2021-01-01",
    ] {
        let (status, body) = list(bad).await;
        assert_eq!(
            assert_barbican_error(status, &body, 400),
            "URI provided invalid query string parameters.",
            "{bad}"
        );
    }
    // Consumers appear from microversion 1.1.
    let (_, _, body) = json_of(
        s.admin(Method::GET, "/v1/secrets?limit=1")
            .header("OpenStack-API-Version", "key-manager 1.1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["secrets"][0]["consumers"], json!([]));
}

#[tokio::test]
async fn metadata_edge_cases() {
    let s = Server::start().await;
    let id = s.create(json!({"name": "m"})).await;
    let base = format!("/v1/secrets/{id}/metadata");
    let r = s
        .admin(Method::PUT, &base)
        .json(&json!({"metadata": {"Colour": "blue"}}))
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(r).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["metadata_ref"], format!("{}{base}", s.url));
    let (_, _, body) = json_of(s.admin(Method::GET, &base).send().await.unwrap()).await;
    assert_eq!(body, json!({"metadata": {"colour": "blue"}}));

    let r = s
        .admin(Method::POST, &base)
        .json(&json!({"key": "Size", "value": "L"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("{}{base}/size", s.url)
    );
    let (status, _, body) = json_of(
        s.admin(Method::POST, &base)
            .json(&json!({"key": "size", "value": "M"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_barbican_error(status, &body, 409);
    let (status, _, body) = json_of(
        s.admin(Method::POST, &base)
            .json(&json!({"key": "a", "value": "b", "c": "d"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_barbican_error(status, &body, 400);
    let (status, _, body) = json_of(
        s.admin(Method::PUT, &base)
            .json(&json!({"metadata": {"bad key": "x"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        assert_barbican_error(status, &body, 400),
        "Invalid Key. Key must be URL safe."
    );

    let (status, _, body) = json_of(
        s.admin(Method::PUT, &format!("{base}/size"))
            .json(&json!({"key": "colour", "value": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_barbican_error(status, &body, 409);
    let (status, _, body) = json_of(
        s.admin(Method::PUT, &format!("{base}/nokey"))
            .json(&json!({"key": "nokey", "value": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_barbican_error(status, &body, 404);
    let (status, _, body) = json_of(
        s.admin(Method::PUT, &format!("{base}/size"))
            .json(&json!({"key": "size", "value": "XL"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"key": "size", "value": "XL"}));
    let r = s
        .admin(Method::DELETE, &format!("{base}/size"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (status, _, body) = json_of(
        s.admin(Method::GET, &format!("{base}/size"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        assert_barbican_error(status, &body, 404),
        "Secret metadata not found."
    );
    // Deleting an absent key is not an error in Barbican; an absent secret still is.
    let r = s
        .admin(Method::DELETE, &format!("{base}/size"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = s
        .admin(
            Method::DELETE,
            "/v1/secrets/0b0b0b0b-1c1c-4d4d-8e8e-9f9f9f9f9f9f/metadata/k",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
