//! The KMIP secret store against a real PyKMIP 0.11 server (tests/common/kmip_server.rs): round trips of
//! payloads of several shapes, Not Found after Destroy and for unknown identifiers, an outage and the
//! recovery of the same client after a restart on the same database, an untrusted client certificate,
//! username/password credentials, and construction errors that name the PEM file.

mod common;

use std::time::{Duration, Instant};

use arca_backends::{KmipConfig, KmipError, KmipStore};
use arca_core::{ExternalStore, ExternalStoreError};
use common::kmip_server::{Ca, KmipServer};
use uuid::Uuid;

fn store(server: &KmipServer) -> KmipStore {
    KmipStore::new(server.config()).unwrap()
}

#[tokio::test]
async fn payloads_round_trip_under_distinct_locators() {
    let server = KmipServer::start();
    let store = store(&server);
    store.check().await.unwrap();

    let all_bytes: Vec<u8> = (0..=255u8).chain([0, 0, 0]).collect();
    let large: Vec<u8> = (0..10 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    let payloads: [&[u8]; 5] = [b"x", &all_bytes, &large, b"\0", b""];
    let mut locators = Vec::new();
    for payload in payloads {
        let locator = store
            .put("project-a", Uuid::new_v4(), payload)
            .await
            .unwrap();
        assert!(!locator.is_empty());
        locators.push(locator);
    }
    let mut unique = locators.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        locators.len(),
        "locators are distinct: {locators:?}"
    );
    for (locator, payload) in locators.iter().zip(payloads) {
        assert_eq!(&store.get(locator).await.unwrap()[..], payload);
    }
    // PyKMIP reads messages in quadratic time (a 1.5 MiB payload, above its default Maximum Response Size
    // that the request header raises, takes ~30 s each way): 128 KiB stays quick.
    let big: Vec<u8> = (0..128 * 1024).map(|i| (i % 253) as u8).collect();
    let locator = store.put("project-a", Uuid::new_v4(), &big).await.unwrap();
    assert_eq!(&store.get(&locator).await.unwrap()[..], &big[..]);
    // Beyond the store's own limit: refused before sending.
    let too_big = vec![7u8; 2 * 1024 * 1024 + 1];
    match store.put("project-a", Uuid::new_v4(), &too_big).await {
        Err(ExternalStoreError::Rejected(msg)) => assert!(msg.contains("limit"), "{msg}"),
        other => panic!("expected Rejected, got {other:?}"),
    }
    // The same object twice, on pooled connections.
    assert_eq!(&store.get(&locators[2]).await.unwrap()[..], &large[..]);
}

#[tokio::test]
async fn destroyed_and_unknown_objects_are_not_found() {
    let server = KmipServer::start();
    let store = store(&server);
    let locator = store
        .put("p", Uuid::new_v4(), b"short-lived")
        .await
        .unwrap();
    store.delete(&locator).await.unwrap();
    assert!(matches!(
        store.get(&locator).await,
        Err(ExternalStoreError::NotFound)
    ));
    assert!(matches!(
        store.delete(&locator).await,
        Err(ExternalStoreError::NotFound)
    ));
    for made_up in ["987654", "not-a-kmip-id", ""] {
        assert!(
            matches!(store.get(made_up).await, Err(ExternalStoreError::NotFound)),
            "get {made_up:?}"
        );
        assert!(
            matches!(
                store.delete(made_up).await,
                Err(ExternalStoreError::NotFound)
            ),
            "delete {made_up:?}"
        );
    }
    // The store still works after all those failures.
    let other = store.put("p", Uuid::new_v4(), b"kept").await.unwrap();
    assert_eq!(&store.get(&other).await.unwrap()[..], b"kept");
}

#[tokio::test]
async fn outage_is_unavailable_fast_and_the_same_client_recovers() {
    let mut server = KmipServer::start();
    let store = store(&server);
    let locator = store
        .put("p", Uuid::new_v4(), b"survives restarts")
        .await
        .unwrap();

    server.stop();
    let started = Instant::now();
    match store.get(&locator).await {
        Err(ExternalStoreError::Unavailable(msg)) => {
            assert!(msg.contains(&format!("127.0.0.1:{}", server.port)), "{msg}");
            assert!(msg.contains("connection refused"), "{msg}");
            assert!(!msg.contains("survives"), "{msg}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(matches!(
        store.put("p", Uuid::new_v4(), b"nope").await,
        Err(ExternalStoreError::Unavailable(_))
    ));
    assert!(matches!(
        store.check().await,
        Err(ExternalStoreError::Unavailable(_))
    ));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    server.resume();
    assert_eq!(
        &store.get(&locator).await.unwrap()[..],
        b"survives restarts"
    );
    store.check().await.unwrap();

    // A restart while connections sit in the pool: the stale one is replaced by itself.
    server.stop();
    server.resume();
    assert_eq!(
        &store.get(&locator).await.unwrap()[..],
        b"survives restarts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_share_the_pool() {
    let server = KmipServer::start();
    let store = std::sync::Arc::new(store(&server));
    let mut tasks = Vec::new();
    for i in 0..24u32 {
        let store = std::sync::Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let payload = format!("payload {i}").into_bytes();
            let locator = store.put("p", Uuid::new_v4(), &payload).await.unwrap();
            assert_eq!(&store.get(&locator).await.unwrap()[..], &payload[..]);
            store.delete(&locator).await.unwrap();
            locator
        }));
    }
    let mut locators = Vec::new();
    for task in tasks {
        locators.push(task.await.unwrap());
    }
    locators.sort();
    locators.dedup();
    assert_eq!(locators.len(), 24);
}

#[tokio::test]
async fn objects_belong_to_the_client_certificate_that_registered_them() {
    // PyKMIP makes the client certificate's CN the owner: another identity of the same CA cannot read them.
    let server = KmipServer::start();
    let owner = store(&server);
    let locator = owner.put("p", Uuid::new_v4(), b"mine").await.unwrap();
    let d = server.dir.path();
    let (cert, key) = server.ca.issue("someone-else", false);
    std::fs::write(d.join("other.pem"), cert).unwrap();
    std::fs::write(d.join("other.key"), key).unwrap();
    let mut config = server.config();
    config.certfile = d.join("other.pem");
    config.keyfile = d.join("other.key");
    let other = KmipStore::new(config).unwrap();
    match other.get(&locator).await {
        Err(ExternalStoreError::Rejected(msg)) => {
            assert!(msg.contains("Permission Denied"), "{msg}")
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(&owner.get(&locator).await.unwrap()[..], b"mine");
}

#[tokio::test]
async fn a_client_certificate_from_an_untrusted_ca_fails_clearly() {
    let server = KmipServer::start();
    let d = server.dir.path();
    let rogue = Ca::new("Rogue CA");
    let (cert, key) = rogue.issue("arca", false);
    std::fs::write(d.join("rogue.pem"), cert).unwrap();
    std::fs::write(d.join("rogue.key"), key).unwrap();
    let mut config = server.config();
    config.certfile = d.join("rogue.pem");
    config.keyfile = d.join("rogue.key");
    let store = KmipStore::new(config).unwrap();
    let started = Instant::now();
    match store.check().await {
        Err(ExternalStoreError::Unavailable(msg)) => {
            assert!(msg.contains("KMIP server 127.0.0.1:"), "{msg}");
            assert!(msg.contains("refused the client certificate"), "{msg}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(matches!(
        store.put("p", Uuid::new_v4(), b"x").await,
        Err(ExternalStoreError::Unavailable(_))
    ));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_server_certificate_from_an_untrusted_ca_is_refused() {
    let server = KmipServer::start();
    let d = server.dir.path();
    std::fs::write(d.join("other-ca.pem"), Ca::new("Other CA").pem).unwrap();
    let mut config = server.config();
    config.ca_certs = d.join("other-ca.pem");
    let store = KmipStore::new(config).unwrap();
    match store.check().await {
        Err(ExternalStoreError::Unavailable(msg)) => {
            assert!(msg.contains("TLS handshake"), "{msg}");
            assert!(msg.to_lowercase().contains("certificate"), "{msg}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn username_and_password_are_sent_and_accepted() {
    let server = KmipServer::start();
    let mut config = server.config();
    config.username = Some("arca".into());
    config.password = Some("s3cret-pass".into());
    assert!(!format!("{config:?}").contains("s3cret-pass"));
    let store = KmipStore::new(config).unwrap();
    store.check().await.unwrap();
    let locator = store
        .put("p", Uuid::new_v4(), b"with credentials")
        .await
        .unwrap();
    assert_eq!(&store.get(&locator).await.unwrap()[..], b"with credentials");
    store.delete(&locator).await.unwrap();
}

#[tokio::test]
async fn a_peer_that_is_not_a_kmip_server_is_unavailable_not_a_hang() {
    // Accepts TCP and then says nothing: the handshake must time out.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("CA");
    let (cert, key) = ca.issue("arca", false);
    std::fs::write(dir.path().join("ca.pem"), &ca.pem).unwrap();
    std::fs::write(dir.path().join("c.pem"), cert).unwrap();
    std::fs::write(dir.path().join("c.key"), key).unwrap();
    let mut config = KmipConfig::new(
        "127.0.0.1",
        dir.path().join("c.pem"),
        dir.path().join("c.key"),
        dir.path().join("ca.pem"),
    );
    config.port = port;
    config.timeout = Duration::from_millis(500);
    let store = KmipStore::new(config).unwrap();
    let started = Instant::now();
    match store.check().await {
        Err(ExternalStoreError::Unavailable(msg)) => assert!(msg.contains("timed out"), "{msg}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(listener);
}

#[test]
fn missing_or_invalid_pem_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = Ca::new("CA");
    let (cert, key) = ca.issue("arca", false);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    std::fs::write(d.join("c.pem"), &cert).unwrap();
    std::fs::write(d.join("c.key"), &key).unwrap();
    std::fs::write(d.join("garbage.pem"), "not a pem file\n").unwrap();
    let config = |cert: &str, key: &str, ca: &str| {
        KmipConfig::new("127.0.0.1", d.join(cert), d.join(key), d.join(ca))
    };
    KmipStore::new(config("c.pem", "c.key", "ca.pem")).unwrap();

    for (cfg, file) in [
        (config("missing.pem", "c.key", "ca.pem"), "missing.pem"),
        (config("c.pem", "missing.key", "ca.pem"), "missing.key"),
        (config("c.pem", "c.key", "missing-ca.pem"), "missing-ca.pem"),
        (config("garbage.pem", "c.key", "ca.pem"), "garbage.pem"),
        (config("c.pem", "garbage.pem", "ca.pem"), "garbage.pem"),
        (config("c.pem", "c.key", "garbage.pem"), "garbage.pem"),
        // A certificate where the key should be.
        (config("c.pem", "c.pem", "ca.pem"), "c.pem"),
    ] {
        match KmipStore::new(cfg) {
            Err(e @ KmipError::Pem { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains(file), "{msg}");
            }
            Err(e) => panic!("{file}: expected a PEM error, got {e}"),
            Ok(_) => panic!("{file}: accepted"),
        }
    }
    // A key that belongs to another certificate.
    let (_, other_key) = ca.issue("other", false);
    std::fs::write(d.join("other.key"), other_key).unwrap();
    match KmipStore::new(config("c.pem", "other.key", "ca.pem")) {
        Err(e @ KmipError::Tls(_)) => {
            let msg = e.to_string();
            assert!(msg.contains("c.pem") && msg.contains("other.key"), "{msg}");
        }
        Err(e) => panic!("mismatched key: expected a TLS error, got {e}"),
        Ok(_) => panic!("mismatched key accepted"),
    }
    // A host that is no name at all.
    assert!(matches!(
        KmipStore::new(KmipConfig::new(
            "bad host!",
            d.join("c.pem"),
            d.join("c.key"),
            d.join("ca.pem")
        )),
        Err(KmipError::InvalidHost(_))
    ));
}

/// A TLS server (trusted certificate, no client authentication) that reads one request and answers `reply`
/// bytes, then closes; answers its port.
async fn fake_server(ca: &Ca, reply: Vec<u8>) -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (cert, key) = ca.issue("fake", true);
    let certs = CertificateDer::pem_slice_iter(cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let reply = reply.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let _ = tls.write_all(&reply).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

#[tokio::test]
async fn malformed_responses_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = Ca::new("CA");
    let (cert, key) = ca.issue("arca", false);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    std::fs::write(d.join("c.pem"), cert).unwrap();
    std::fs::write(d.join("c.key"), key).unwrap();

    // A Response Message header announcing 16 bytes of body.
    let header = |len: u32| {
        let mut h = vec![0x42, 0x00, 0x7B, 0x01];
        h.extend_from_slice(&len.to_be_bytes());
        h
    };
    let mut well_framed_nonsense = header(16);
    // An Integer where the Response Header should be.
    well_framed_nonsense
        .extend_from_slice(&[0x42, 0x00, 0x7A, 0x02, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0]);
    let mut bad_padding = header(16);
    bad_padding.extend_from_slice(&[0x42, 0x00, 0x7A, 0x02, 0, 0, 0, 4, 0, 0, 0, 1, 9, 9, 9, 9]);
    let cases: Vec<(Vec<u8>, bool)> = vec![
        (b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(), true),
        (header(u32::MAX), true),
        (header(16), false), // then EOF: the connection broke
        (well_framed_nonsense, true),
        (bad_padding, true),
        (vec![0x42], false),
    ];
    for (reply, rejected) in cases {
        let port = fake_server(&ca, reply.clone()).await;
        let mut config = KmipConfig::new(
            "127.0.0.1",
            d.join("c.pem"),
            d.join("c.key"),
            d.join("ca.pem"),
        );
        config.port = port;
        config.timeout = Duration::from_secs(2);
        let store = KmipStore::new(config).unwrap();
        let result = store.get("1").await;
        match (&result, rejected) {
            (Err(ExternalStoreError::Rejected(msg)), true) => {
                assert!(msg.contains("malformed"), "{reply:?}: {msg}")
            }
            (Err(ExternalStoreError::Unavailable(_)), false) => {}
            _ => panic!("{reply:?}: unexpected {result:?}"),
        }
    }
}
