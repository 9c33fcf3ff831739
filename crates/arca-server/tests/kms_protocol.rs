//! The KMS protocol's refusals over real HTTP: authentication (missing, unknown key, bad signature, stale
//! date, unsigned header, presigned URL, duplicate Authorization), content type, body size, unknown target,
//! malformed JSON, duplicate context keys, invalid base64, validation and roles. Each answers AWS's
//! `__type` with a 4xx; every KMS answer carries `x-amzn-RequestId` and the JSON 1.1 content type.

mod common;
mod kms_common;

use arca_core::Role;
use kms_common::{Kms, StatusCode, json};

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

#[tokio::test]
async fn authentication_refusals() {
    let k = Kms::start().await;
    let body = b"{}".to_vec();

    // No Authorization at all.
    let mut h = k.signed("ListKeys", &body, &k.id, &k.secret, now());
    h.remove("authorization");
    k.send("/", h, body.clone())
        .await
        .error("MissingAuthenticationTokenException");

    // Unknown access key.
    let h = k.signed("ListKeys", &body, "AKIANOSUCHKEY0000000", &k.secret, now());
    let m = k
        .send("/", h, body.clone())
        .await
        .error("UnrecognizedClientException");
    assert_eq!(m, "The security token included in the request is invalid.");

    // Wrong secret.
    let h = k.signed("ListKeys", &body, &k.id, "not-the-secret", now());
    k.send("/", h, body.clone())
        .await
        .error("InvalidSignatureException");

    // Body changed after signing.
    let h = k.signed("ListKeys", &body, &k.id, &k.secret, now());
    k.send("/", h, b"{ }".to_vec())
        .await
        .error("InvalidSignatureException");

    // Expired and future dates.
    let h = k.signed(
        "ListKeys",
        &body,
        &k.id,
        &k.secret,
        now() - time::Duration::minutes(20),
    );
    let m = k
        .send("/", h, body.clone())
        .await
        .error("InvalidSignatureException");
    assert!(m.starts_with("Signature expired"), "{m}");
    let h = k.signed(
        "ListKeys",
        &body,
        &k.id,
        &k.secret,
        now() + time::Duration::minutes(20),
    );
    k.send("/", h, body.clone())
        .await
        .error("InvalidSignatureException");

    // x-amz-target not signed (added after signing).
    let mut h = k.signed("ListKeys", &body, &k.id, &k.secret, now());
    h.remove("x-amz-target");
    let mut resigned = h.clone();
    resigned.remove("authorization");
    let uri: http::Uri = format!("{}/", k.server.url).parse().unwrap();
    arca_server::kms::sigv4::sign(
        &http::Method::POST,
        &uri,
        &mut resigned,
        &body,
        &arca_server::kms::sigv4::Credentials {
            access_key_id: &k.id,
            secret_access_key: k.secret.as_bytes(),
            region: "us-east-1",
            service: "kms",
        },
        now(),
    )
    .unwrap();
    resigned.insert("x-amz-target", "TrentService.ListKeys".parse().unwrap());
    let m = k
        .send("/", resigned, body.clone())
        .await
        .error("InvalidSignatureException");
    assert!(m.contains("x-amz-target"), "{m}");

    // Presigned query.
    let h = k.signed("ListKeys", &body, &k.id, &k.secret, now());
    k.send("/?X-Amz-Signature=abc", h, body.clone())
        .await
        .error("InvalidSignatureException");

    // Two Authorization headers.
    let mut h = k.signed("ListKeys", &body, &k.id, &k.secret, now());
    let auth = h["authorization"].clone();
    h.append("authorization", auth);
    k.send("/", h, body.clone())
        .await
        .error("InvalidSignatureException");

    // Malformed Authorization.
    let mut h = k.signed("ListKeys", &body, &k.id, &k.secret, now());
    h.insert(
        "authorization",
        "AWS4-HMAC-SHA256 Credential=x".parse().unwrap(),
    );
    k.send("/", h, body.clone())
        .await
        .error("IncompleteSignatureException");

    // A revoked access key stops working.
    let (id, secret) = k.access_key("p1", "u", &[Role::Admin]).await;
    k.call_as(&id, &secret, "ListKeys", json!({})).await.ok();
    assert!(k.server.services.access_keys.revoke(&id).await.unwrap());
    k.call_as(&id, &secret, "ListKeys", json!({}))
        .await
        .error("UnrecognizedClientException");
}

#[tokio::test]
async fn protocol_refusals() {
    let k = Kms::start().await;

    // Wrong content type.
    let body = b"{}".to_vec();
    let mut h = k.signed("ListKeys", &body, &k.id, &k.secret, now());
    h.insert("content-type", "application/json".parse().unwrap());
    let r = k.send("/", h, body.clone()).await;
    r.error("SerializationException");
    assert_eq!(r.headers["content-type"], "application/x-amz-json-1.1");
    assert!(r.headers.contains_key("x-amzn-requestid"));

    // Too large.
    let big = vec![b' '; 70 * 1024];
    let h = k.signed("ListKeys", &big, &k.id, &k.secret, now());
    let r = k.send("/", h, big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body["__type"].is_string());

    // Unknown operation, and a target of another service.
    k.call("Nope", json!({}))
        .await
        .error("UnknownOperationException");
    let bytes = b"{}".to_vec();
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        "content-type",
        "application/x-amz-json-1.1".parse().unwrap(),
    );
    h.insert(
        "x-amz-target",
        "DynamoDB_20120810.ListTables".parse().unwrap(),
    );
    let uri: http::Uri = format!("{}/", k.server.url).parse().unwrap();
    arca_server::kms::sigv4::sign(
        &http::Method::POST,
        &uri,
        &mut h,
        &bytes,
        &arca_server::kms::sigv4::Credentials {
            access_key_id: &k.id,
            secret_access_key: k.secret.as_bytes(),
            region: "us-east-1",
            service: "kms",
        },
        now(),
    )
    .unwrap();
    k.send("/", h, bytes)
        .await
        .error("UnknownOperationException");

    // Bad JSON, wrong member types, duplicate context keys, invalid base64.
    let bad = b"{\"KeyId\":".to_vec();
    let h = k.signed("DescribeKey", &bad, &k.id, &k.secret, now());
    k.send("/", h, bad).await.error("SerializationException");
    k.call("DescribeKey", json!({"KeyId": 5}))
        .await
        .error("SerializationException");
    let dup =
        br#"{"KeyId":"alias/x","Plaintext":"aGk=","EncryptionContext":{"a":"1","a":"2"}}"#.to_vec();
    let h = k.signed("Encrypt", &dup, &k.id, &k.secret, now());
    let m = k.send("/", h, dup).await.error("SerializationException");
    assert!(m.contains("duplicate"), "{m}");
    k.call("Encrypt", json!({"KeyId": "alias/x", "Plaintext": "%%%"}))
        .await
        .error("SerializationException");

    // Validation.
    let m = k
        .call("DescribeKey", json!({}))
        .await
        .error("ValidationException");
    assert!(
        m.starts_with("1 validation error detected: Value 'null' at 'keyId'"),
        "{m}"
    );
    k.call("DescribeKey", json!({"KeyId": ""}))
        .await
        .error("ValidationException");
    k.call("ListKeys", json!({"Limit": 0}))
        .await
        .error("ValidationException");
    k.call("CreateKey", json!({"KeySpec": "RSA_1024"}))
        .await
        .error("ValidationException");
    k.call("GenerateRandom", json!({"NumberOfBytes": 1025}))
        .await
        .error("ValidationException");
    let big = "A".repeat(5464); // 4098 bytes
    k.call("Encrypt", json!({"KeyId": "alias/x", "Plaintext": big}))
        .await
        .error("ValidationException");
    k.call("DescribeKey", json!({"KeyId": "alias/none"}))
        .await
        .error("NotFoundException");

    // POST / without X-Amz-Target is still Barbican's 405.
    let r = k
        .server
        .http
        .post(format!("{}/", k.server.url))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["code"], 405);
}

#[tokio::test]
async fn roles() {
    let k = Kms::start().await;
    let key = k.create_key(json!({})).await;
    let (id, secret) = k.access_key("p1", "auditor", &[Role::Audit]).await;
    k.call_as(&id, &secret, "ListKeys", json!({}))
        .await
        .error("AccessDeniedException");
    let (id, secret) = k.access_key("p1", "watcher", &[Role::Observer]).await;
    k.call_as(&id, &secret, "DescribeKey", json!({"KeyId": key}))
        .await
        .ok();
    k.call_as(
        &id,
        &secret,
        "Encrypt",
        json!({"KeyId": key, "Plaintext": "aGk="}),
    )
    .await
    .error("AccessDeniedException");
    // Another project's key is not found.
    let (id, secret) = k.access_key("p2", "other", &[Role::Admin]).await;
    k.call_as(&id, &secret, "DescribeKey", json!({"KeyId": key}))
        .await
        .error("NotFoundException");
}

#[tokio::test]
async fn failures_are_throttled() {
    let mut config = arca_server::ServerConfig::default();
    config.auth.failure_limit = 3;
    let k = Kms::with_config(config).await;
    for _ in 0..3 {
        k.call_as(&k.id, "wrong", "ListKeys", json!({}))
            .await
            .error("InvalidSignatureException");
    }
    k.call_as(&k.id, "wrong", "ListKeys", json!({}))
        .await
        .error("ThrottlingException");
}
