//! SigV4 against AWS's published examples (AKIDEXAMPLE), a sign→verify round trip, and every refusal.

use super::*;

const SECRET: &[u8] = b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn at(y: i32, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> OffsetDateTime {
    let date = time::Date::from_calendar_date(y, time::Month::try_from(mo).unwrap(), d).unwrap();
    time::PrimitiveDateTime::new(date, time::Time::from_hms(h, mi, s).unwrap()).assume_utc()
}

#[test]
fn aws_signing_key_examples() {
    // "Examples of how to derive a signing key for Signature Version 4".
    let key = signing_key(SECRET, "20120215", "us-east-1", "iam");
    assert_eq!(
        hex(&key[..]),
        "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
    );
    // "Calculate the signature": the 2011 IAM example's string to sign.
    let sts = "AWS4-HMAC-SHA256\n20110909T233600Z\n20110909/us-east-1/iam/aws4_request\n\
               3511de7e95d28ecd39e9513b642aee07e54f4941150d8df8bf94b328ef7e55e2";
    let key = signing_key(SECRET, "20110909", "us-east-1", "iam");
    assert_eq!(
        hex(&arca_crypto::hmac_sha256(&key[..], &[sts.as_bytes()])),
        "ced6826de92d2bdeed8f846f0bf508e8559e98e4b0199114b84c54174deb456c"
    );
}

fn iam_request() -> (Method, Uri, HeaderMap) {
    let uri: Uri = "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"
        .parse()
        .unwrap();
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8"
            .parse()
            .unwrap(),
    );
    (Method::GET, uri, headers)
}

#[test]
fn aws_iam_list_users_example_signs_and_verifies() {
    let (method, uri, mut headers) = iam_request();
    let now = at(2015, 8, 30, 12, 36, 0);
    let credentials = Credentials {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: SECRET,
        region: "us-east-1",
        service: "iam",
    };
    sign(&method, &uri, &mut headers, b"", &credentials, now).unwrap();
    assert_eq!(
        headers["authorization"],
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date, \
         Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    );
    assert_eq!(headers["x-amz-date"], "20150830T123600Z");
    let presented =
        parse_for("iam", &["host", "x-amz-date"], &method, &uri, &headers, now).unwrap();
    assert_eq!(presented.access_key_id(), "AKIDEXAMPLE");
    presented.verify(SECRET, b"").unwrap();
    assert_eq!(presented.verify(b"other", b""), Err(SigV4Error::Mismatch));
    assert_eq!(presented.verify(SECRET, b"x"), Err(SigV4Error::Mismatch));

    // Through the cache of signing keys: a key derived from one secret is never used for another.
    let keys = SigningKeys::default();
    presented.verify_with(SECRET, b"", Some(&keys)).unwrap();
    presented.verify_with(SECRET, b"", Some(&keys)).unwrap();
    assert_eq!(
        presented.verify_with(b"other", b"", Some(&keys)),
        Err(SigV4Error::Mismatch)
    );
    presented.verify_with(SECRET, b"", Some(&keys)).unwrap();
    assert_eq!(
        presented.verify_with(SECRET, b"x", Some(&keys)),
        Err(SigV4Error::Mismatch)
    );
    // A request of another day (so another scope) with the same access key gets its own signing key.
    let later = at(2015, 8, 31, 12, 36, 0);
    sign(&method, &uri, &mut headers, b"", &credentials, later).unwrap();
    let next_day = parse_for(
        "iam",
        &["host", "x-amz-date"],
        &method,
        &uri,
        &headers,
        later,
    )
    .unwrap();
    next_day.verify_with(SECRET, b"", Some(&keys)).unwrap();
    assert_eq!(
        presented.verify_with(b"other", b"", Some(&keys)),
        Err(SigV4Error::Mismatch)
    );
}

#[test]
fn aws_test_suite_get_vanilla() {
    let uri: Uri = "https://example.amazonaws.com/".parse().unwrap();
    let mut headers = HeaderMap::new();
    let credentials = Credentials {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: SECRET,
        region: "us-east-1",
        service: "service",
    };
    sign(
        &Method::GET,
        &uri,
        &mut headers,
        b"",
        &credentials,
        at(2015, 8, 30, 12, 36, 0),
    )
    .unwrap();
    assert!(
        headers["authorization"].to_str().unwrap().ends_with(
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        )
    );
}

#[test]
fn canonical_pieces() {
    assert_eq!(canonical_uri(""), "/");
    assert_eq!(canonical_uri("/a b/%20"), "/a%20b/%2520");
    assert_eq!(canonical_query("b=2&a=1&a=0&c"), "a=0&a=1&b=2&c=");
    assert_eq!(canonical_query("k=a%2Fb+c"), "k=a%2Fb%2Bc");
    let mut value = String::new();
    push_canonical_value(&mut value, b"  a   b\t c  ");
    assert_eq!(value, "a b c");
    let mut h = HeaderMap::new();
    h.append("x-a", " one ".parse().unwrap());
    h.append("x-a", "two  three".parse().unwrap());
    let uri: Uri = "/".parse().unwrap();
    let mut block = String::new();
    canonical_headers(&mut block, &h, &uri, &["x-a".into()]).unwrap();
    assert_eq!(block, "x-a:one,two three\n");
    assert_eq!(
        canonical_headers(&mut String::new(), &h, &uri, &["x-b".into()]),
        Err("x-b".to_owned())
    );
    // The whole prefix: method, URI, sorted query, headers (host from the authority when absent), names.
    let uri: Uri = "http://kms.test:8080/a?b=2&a=1".parse().unwrap();
    assert_eq!(
        canonical_prefix(&Method::POST, &uri, &h, &["host".into(), "x-a".into()]).unwrap(),
        "POST\n/a\na=1&b=2\nhost:kms.test:8080\nx-a:one,two three\n\nhost;x-a\n"
    );
    assert_eq!(
        parse_amz_date("20261122T103000Z"),
        Some(at(2026, 11, 22, 10, 30, 0))
    );
    for bad in [
        "20261122T103000",
        "2026-11-22T10:30:00Z",
        "20261322T103000Z",
        "2026112xT103000Z",
    ] {
        assert_eq!(parse_amz_date(bad), None, "{bad}");
    }
    assert_eq!(unhex32(&"aB".repeat(32)), Some([0xab; 32]));
    assert_eq!(unhex32(&"g0".repeat(32)), None);
    assert_eq!(unhex32("ab"), None);
}

const NOW: (i32, u8, u8, u8, u8, u8) = (2026, 11, 22, 10, 30, 0);

fn now() -> OffsetDateTime {
    at(NOW.0, NOW.1, NOW.2, NOW.3, NOW.4, NOW.5)
}

fn kms_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "content-type",
        "application/x-amz-json-1.1".parse().unwrap(),
    );
    h.insert("x-amz-target", "TrentService.Encrypt".parse().unwrap());
    h
}

fn kms_credentials() -> Credentials<'static> {
    Credentials {
        access_key_id: "AKIAARCAEXAMPLE00001",
        secret_access_key: b"secret-secret",
        region: "eu-west-3",
        service: SERVICE,
    }
}

fn signed_kms(body: &[u8], signed_at: OffsetDateTime) -> (Uri, HeaderMap) {
    let uri: Uri = "http://127.0.0.1:9311/".parse().unwrap();
    let mut h = kms_headers();
    sign(
        &Method::POST,
        &uri,
        &mut h,
        body,
        &kms_credentials(),
        signed_at,
    )
    .unwrap();
    (uri, h)
}

#[test]
fn kms_round_trip() {
    let body = br#"{"KeyId":"alias/x","Plaintext":"aGk="}"#;
    let (uri, h) = signed_kms(body, now());
    let p = parse(&Method::POST, &uri, &h, now()).unwrap();
    assert_eq!(p.access_key_id(), "AKIAARCAEXAMPLE00001");
    assert_eq!(p.region(), "eu-west-3");
    p.verify(b"secret-secret", body).unwrap();
    // A changed body, method, target or secret fails.
    assert_eq!(p.verify(b"secret-secret", b"{}"), Err(SigV4Error::Mismatch));
    assert_eq!(p.verify(b"secret-secreT", body), Err(SigV4Error::Mismatch));
    let p = parse(&Method::PUT, &uri, &h, now()).unwrap();
    assert_eq!(p.verify(b"secret-secret", body), Err(SigV4Error::Mismatch));
    let mut other = h.clone();
    other.insert("x-amz-target", "TrentService.Decrypt".parse().unwrap());
    let p = parse(&Method::POST, &uri, &other, now()).unwrap();
    assert_eq!(p.verify(b"secret-secret", body), Err(SigV4Error::Mismatch));
    // x-amz-content-sha256 is ignored: the real body is hashed.
    let mut lying = h.clone();
    lying.insert("x-amz-content-sha256", "UNSIGNED-PAYLOAD".parse().unwrap());
    let p = parse(&Method::POST, &uri, &lying, now()).unwrap();
    p.verify(b"secret-secret", body).unwrap();
    // Within the skew either way.
    for skew in [-14, 14] {
        let (uri, h) = signed_kms(body, now() + time::Duration::minutes(skew));
        parse(&Method::POST, &uri, &h, now())
            .unwrap()
            .verify(b"secret-secret", body)
            .unwrap();
    }
}

fn refusal(h: &HeaderMap, uri: &Uri) -> SigV4Error {
    parse(&Method::POST, uri, h, now()).unwrap_err()
}

#[test]
fn refusals() {
    let (uri, h) = signed_kms(b"{}", now());
    // No Authorization.
    let mut none = h.clone();
    none.remove("authorization");
    assert_eq!(refusal(&none, &uri), SigV4Error::Missing);
    // Two Authorization headers.
    let mut two = h.clone();
    two.append("authorization", h["authorization"].clone());
    assert!(matches!(refusal(&two, &uri), SigV4Error::Invalid(_)));
    // Presigned query.
    let presigned: Uri = "http://127.0.0.1:9311/?X-Amz-Signature=00".parse().unwrap();
    assert!(matches!(refusal(&h, &presigned), SigV4Error::Invalid(m) if m.contains("Presigned")));
    // Expired and not yet current.
    let (_, old) = signed_kms(b"{}", now() - time::Duration::minutes(16));
    assert!(
        matches!(refusal(&old, &uri), SigV4Error::Expired(m) if m.starts_with("Signature expired"))
    );
    let (_, future) = signed_kms(b"{}", now() + time::Duration::minutes(16));
    assert!(
        matches!(refusal(&future, &uri), SigV4Error::Expired(m) if m.contains("not yet current"))
    );
    // Missing x-amz-date.
    let mut no_date = h.clone();
    no_date.remove("x-amz-date");
    assert!(matches!(refusal(&no_date, &uri), SigV4Error::Incomplete(_)));
    // A required header left unsigned (signed without x-amz-target).
    let mut unsigned = HeaderMap::new();
    unsigned.insert(
        "content-type",
        "application/x-amz-json-1.1".parse().unwrap(),
    );
    sign(
        &Method::POST,
        &uri,
        &mut unsigned,
        b"{}",
        &kms_credentials(),
        now(),
    )
    .unwrap();
    unsigned.insert("x-amz-target", "TrentService.Encrypt".parse().unwrap());
    assert!(
        matches!(refusal(&unsigned, &uri), SigV4Error::Invalid(m) if m.contains("x-amz-target"))
    );
    // A signed header that is absent.
    let mut absent = h.clone();
    absent.remove("x-amz-target");
    assert!(matches!(refusal(&absent, &uri), SigV4Error::Invalid(_)));
    let auth = h["authorization"].to_str().unwrap().to_owned();
    let with = |value: String| {
        let mut m = h.clone();
        m.insert("authorization", value.parse().unwrap());
        refusal(&m, &uri)
    };
    // Another algorithm.
    assert!(matches!(
        with(auth.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512")),
        SigV4Error::Incomplete(_)
    ));
    // Another service, terminator, or a scope date that is not x-amz-date's.
    assert!(matches!(
        with(auth.replace("/kms/", "/iam/")),
        SigV4Error::Invalid(_)
    ));
    assert!(matches!(
        with(auth.replace("aws4_request", "aws5_request")),
        SigV4Error::Invalid(_)
    ));
    assert!(matches!(
        with(auth.replace("/20261122/", "/20261121/")),
        SigV4Error::Invalid(_)
    ));
    // Malformed components.
    assert!(matches!(
        with(auth.replace("Signature=", "Signature=zz")),
        SigV4Error::Incomplete(_)
    ));
    assert!(matches!(
        with(auth.replace("Credential=", "Cred=")),
        SigV4Error::Incomplete(_)
    ));
    assert!(matches!(
        with(auth.replace("/eu-west-3", "")),
        SigV4Error::Incomplete(_)
    ));
    assert!(matches!(
        with(auth.replace(
            "SignedHeaders=content-type;host",
            "SignedHeaders=host;content-type"
        )),
        SigV4Error::Incomplete(_)
    ));
    assert!(matches!(
        with("AWS4-HMAC-SHA256".to_owned()),
        SigV4Error::Incomplete(_)
    ));
    // Any region is accepted (the signature then fails only because the scope changed).
    let p = parse(
        &Method::POST,
        &uri,
        &{
            let mut m = h.clone();
            m.insert(
                "authorization",
                auth.replace("eu-west-3", "ap-south-9").parse().unwrap(),
            );
            m
        },
        now(),
    )
    .unwrap();
    assert_eq!(p.region(), "ap-south-9");
    assert_eq!(p.verify(b"secret-secret", b"{}"), Err(SigV4Error::Mismatch));
}
