//! The Vault/OpenBao KV v2 store against a real OpenBao dev server (`common::openbao`): round trips of
//! binary payloads, deletion of every version, renewal past the token TTL and a new login past its max TTL
//! or after revocation, refusals (wrong role id, a policy without the KV paths), a sealed server, an outage
//! and recovery through a TCP proxy the test cuts, TLS with the server's CA, and the checks at construction
//! (secret-id file mode, URL, CA file). Secrets never appear in messages.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arca_backends::{VaultConfig, VaultError, VaultStore};
use arca_core::{ExternalStore, ExternalStoreError};
use common::openbao::{OpenBao, Role, write_secret_file};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use uuid::Uuid;

fn store(config: VaultConfig) -> VaultStore {
    VaultStore::new(config).unwrap()
}

/// Asserts that `message` carries none of the role's secrets.
fn no_secrets(message: &str, role: &Role) {
    assert!(
        !message.contains(&role.secret_id),
        "secret id leaked: {message}"
    );
    assert!(!message.contains("hvs."), "a token leaked: {message}");
}

fn unavailable(result: Result<impl std::fmt::Debug, ExternalStoreError>) -> String {
    match result {
        Err(ExternalStoreError::Unavailable(m)) => m,
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

fn rejected(result: Result<impl std::fmt::Debug, ExternalStoreError>) -> String {
    match result {
        Err(ExternalStoreError::Rejected(m)) => m,
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn payloads_round_trip() {
    let bao = OpenBao::start().await;
    let role = bao.arca_role().await;
    let vault = store(bao.config(&role));
    vault.check().await.unwrap();
    let binary: Vec<u8> = (0..=255u8).chain([0, 0, 0]).collect();
    let large: Vec<u8> = (0..10 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    for (project, payload) in [
        ("p1", vec![0x42u8]),
        ("p1", vec![0u8]),
        ("project/../with slashes_and %", binary),
        ("p2", large),
    ] {
        let id = Uuid::now_v7();
        let locator = vault.put(project, id, &payload).await.unwrap();
        assert!(locator.starts_with("arca/"), "{locator}");
        assert!(locator.ends_with(&id.to_string()), "{locator}");
        assert_eq!(locator.matches('/').count(), 2, "{locator}");
        assert!(!locator.contains(".."), "{locator}");
        assert_eq!(*vault.get(&locator).await.unwrap(), payload);
        // What Vault holds: the payload in base64 under data.payload, at the locator.
        let held = bao
            .root_ok(Method::GET, &format!("secret/data/{locator}"), None)
            .await;
        let b64 = held["data"]["data"]["payload"].as_str().unwrap();
        use base64::Engine as _;
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
            payload
        );
    }
    // Two projects, the same secret id: two locators.
    let id = Uuid::now_v7();
    let a = vault.put("a", id, b"A").await.unwrap();
    let b = vault.put("b", id, b"B").await.unwrap();
    assert_ne!(a, b);
    assert_eq!(*vault.get(&a).await.unwrap(), b"A");
    assert_eq!(*vault.get(&b).await.unwrap(), b"B");
    // Unknown and foreign locators.
    let unknown = format!("arca/p1/{}", Uuid::now_v7());
    assert!(matches!(
        vault.get(&unknown).await,
        Err(ExternalStoreError::NotFound)
    ));
    for foreign in ["secret/x", "arca/../sys/seal", "arca/p/x?version=1"] {
        rejected(vault.get(foreign).await);
        rejected(vault.delete(foreign).await);
    }
    let shown = format!("{vault:?}");
    assert!(shown.contains(&bao.url), "{shown}");
    no_secrets(&shown, &role);
}

#[tokio::test]
async fn delete_removes_every_version() {
    let bao = OpenBao::start().await;
    let vault = store(bao.config(&bao.arca_role().await));
    let id = Uuid::now_v7();
    let locator = vault.put("p", id, b"first").await.unwrap();
    assert_eq!(vault.put("p", id, b"second").await.unwrap(), locator);
    let meta = bao
        .root_ok(Method::GET, &format!("secret/metadata/{locator}"), None)
        .await;
    assert_eq!(meta["data"]["current_version"], json!(2));
    assert_eq!(*vault.get(&locator).await.unwrap(), b"second");

    vault.delete(&locator).await.unwrap();
    assert!(matches!(
        vault.get(&locator).await,
        Err(ExternalStoreError::NotFound)
    ));
    // No version remains: the metadata itself is gone, and version 1 cannot be read either.
    let (status, _) = bao
        .root(Method::GET, &format!("secret/metadata/{locator}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = bao
        .root(
            Method::GET,
            &format!("secret/data/{locator}?version=1"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(matches!(
        vault.delete(&locator).await,
        Err(ExternalStoreError::NotFound)
    ));
    assert!(matches!(
        vault.delete(&format!("arca/p/{}", Uuid::now_v7())).await,
        Err(ExternalStoreError::NotFound)
    ));
}

/// Puts and gets a fresh secret every 300 ms for `span`; every operation must succeed.
async fn keep_working(vault: &VaultStore, span: Duration) -> usize {
    let start = Instant::now();
    let mut rounds = 0;
    while start.elapsed() < span {
        let payload = format!("round {rounds}");
        let locator = vault
            .put("p", Uuid::now_v7(), payload.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("put at {:?}: {e}", start.elapsed()));
        let got = vault
            .get(&locator)
            .await
            .unwrap_or_else(|e| panic!("get at {:?}: {e}", start.elapsed()));
        assert_eq!(*got, payload.as_bytes());
        vault.check().await.unwrap();
        rounds += 1;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    rounds
}

#[tokio::test]
async fn the_token_is_renewed_past_its_ttl() {
    let bao = OpenBao::start().await;
    // One login only: the secret id is good for a single use, so working past the 2 s TTL needs renewal.
    let role = bao.role("once", &["arca"], "2s", "30s", 1).await;
    let vault = store(bao.config(&role));
    assert!(keep_working(&vault, Duration::from_millis(3500)).await >= 5);
}

#[tokio::test]
async fn a_new_login_follows_the_max_ttl() {
    let bao = OpenBao::start().await;
    let role = bao.role("short", &["arca"], "2s", "4s", 0).await;
    let vault = store(bao.config(&role));
    assert!(keep_working(&vault, Duration::from_secs(6)).await >= 8);
}

/// The accessors of the live tokens carrying policy `policy`.
async fn accessors_with(bao: &OpenBao, policy: &str) -> Vec<String> {
    let list = bao
        .root_ok(Method::GET, "auth/token/accessors?list=true", None)
        .await;
    let mut found = Vec::new();
    for accessor in list["data"]["keys"].as_array().unwrap() {
        let (status, info) = bao
            .root(
                Method::POST,
                "auth/token/lookup-accessor",
                Some(json!({ "accessor": accessor })),
            )
            .await;
        if status.is_success()
            && info["data"]["policies"]
                .as_array()
                .is_some_and(|p| p.contains(&Value::from(policy)))
        {
            found.push(accessor.as_str().unwrap().to_owned());
        }
    }
    found
}

#[tokio::test]
async fn a_revoked_token_is_replaced_by_a_new_login() {
    let bao = OpenBao::start().await;
    let vault = store(bao.config(&bao.arca_role().await));
    let locator = vault.put("p", Uuid::now_v7(), b"kept").await.unwrap();
    let before = accessors_with(&bao, "arca").await;
    assert_eq!(before.len(), 1, "{before:?}");
    bao.root_ok(
        Method::POST,
        "auth/token/revoke-accessor",
        Some(json!({ "accessor": before[0] })),
    )
    .await;
    assert_eq!(*vault.get(&locator).await.unwrap(), b"kept");
    let after = accessors_with(&bao, "arca").await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(after, before);
    vault.check().await.unwrap();
}

#[tokio::test]
async fn a_rotated_secret_id_is_read_at_the_next_login() {
    let bao = OpenBao::start().await;
    let role = bao.arca_role().await;
    let vault = store(bao.config(&role));
    let locator = vault.put("p", Uuid::now_v7(), b"kept").await.unwrap();
    // The operator issues a new secret id, destroys the old one and revokes the token it gave.
    let fresh = bao
        .root_ok(
            Method::POST,
            "auth/approle/role/arca/secret-id",
            Some(json!({})),
        )
        .await["data"]["secret_id"]
        .as_str()
        .unwrap()
        .to_owned();
    write_secret_file(&role.secret_id_file, &fresh, 0o400);
    bao.root_ok(
        Method::POST,
        "auth/approle/role/arca/secret-id/destroy",
        Some(json!({ "secret_id": role.secret_id })),
    )
    .await;
    for accessor in accessors_with(&bao, "arca").await {
        bao.root_ok(
            Method::POST,
            "auth/token/revoke-accessor",
            Some(json!({ "accessor": accessor })),
        )
        .await;
    }
    assert_eq!(*vault.get(&locator).await.unwrap(), b"kept");
}

#[tokio::test]
async fn refusals_are_clear_and_carry_no_secret() {
    let bao = OpenBao::start().await;
    let role = bao.arca_role().await;

    let mut wrong = bao.config(&role);
    wrong.approle_role_id = "not-the-role-id".into();
    let message = rejected(store(wrong).check().await);
    assert!(message.contains("invalid role or secret ID"), "{message}");
    assert!(
        message.starts_with(&format!("Vault at {}", bao.url)),
        "{message}"
    );
    assert!(
        message.contains(&role.secret_id_file.display().to_string()),
        "{message}"
    );
    no_secrets(&message, &role);

    // A role whose policy does not cover the KV paths: logging in works, writing is refused.
    let bare = bao.role("bare", &["default"], "1h", "2h", 0).await;
    let vault = store(bao.config(&bare));
    vault.check().await.unwrap();
    let message = rejected(vault.put("p", Uuid::now_v7(), b"x").await);
    assert!(message.contains("permission denied"), "{message}");
    no_secrets(&message, &bare);

    // A mount point that does not exist.
    let mut config = bao.config(&role);
    config.kv_mountpoint = "nowhere".into();
    let vault = store(config);
    let result = vault.put("p", Uuid::now_v7(), b"x").await;
    assert!(result.is_err(), "{result:?}");
}

#[tokio::test]
async fn a_sealed_vault_is_unavailable() {
    let bao = OpenBao::start().await;
    let vault = store(bao.config(&bao.arca_role().await));
    let locator = vault.put("p", Uuid::now_v7(), b"x").await.unwrap();
    bao.root_ok(Method::POST, "sys/seal", None).await;
    let message = unavailable(vault.get(&locator).await);
    assert!(message.contains("sealed"), "{message}");
    assert!(
        message.starts_with(&format!("Vault at {}", bao.url)),
        "{message}"
    );
    unavailable(vault.check().await);
}

/// What the proxy does with connections.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Forward,
    /// Accepts and closes at once.
    Refuse,
    /// Accepts and never answers.
    Hang,
}

/// A TCP proxy 127.0.0.1:<port> → the server, which the test can cut and restore; changing the mode closes
/// every open connection.
struct Proxy {
    port: u16,
    mode: Arc<Mutex<Mode>>,
    cut: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    async fn start(target_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(Mutex::new(Mode::Forward));
        let (cut, _) = watch::channel(0u64);
        let task = tokio::spawn({
            let mode = mode.clone();
            let cut = cut.clone();
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    let now = *mode.lock().unwrap();
                    let mut cut_rx = cut.subscribe();
                    match now {
                        Mode::Refuse => drop(inbound),
                        Mode::Hang => {
                            tokio::spawn(async move {
                                let _ = cut_rx.changed().await;
                                drop(inbound);
                            });
                        }
                        Mode::Forward => {
                            tokio::spawn(async move {
                                let Ok(mut outbound) =
                                    TcpStream::connect(("127.0.0.1", target_port)).await
                                else {
                                    return;
                                };
                                tokio::select! {
                                    _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                                    _ = cut_rx.changed() => {}
                                }
                            });
                        }
                    }
                }
            }
        });
        Self {
            port,
            mode,
            cut,
            task,
        }
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
        self.cut.send_modify(|generation| *generation += 1);
    }
}

#[tokio::test]
async fn an_outage_is_unavailable_and_recovery_needs_no_new_client() {
    let bao = OpenBao::start().await;
    let role = bao.arca_role().await;
    let proxy = Proxy::start(bao.port).await;
    let url = format!("http://127.0.0.1:{}", proxy.port);
    let mut config = bao.config(&role);
    config.vault_url = url.clone();
    config.timeout = Duration::from_secs(1);
    let vault = store(config);
    let locator = vault.put("p", Uuid::now_v7(), b"survives").await.unwrap();

    for cut in [Mode::Refuse, Mode::Hang] {
        proxy.set(cut);
        for _ in 0..2 {
            let start = Instant::now();
            let message = unavailable(vault.get(&locator).await);
            assert!(
                start.elapsed() < Duration::from_secs(3),
                "{cut:?}: {:?}",
                start.elapsed()
            );
            assert!(message.starts_with(&format!("Vault at {url}")), "{message}");
            if cut == Mode::Hang {
                assert!(message.contains("no answer within 1s"), "{message}");
            }
            no_secrets(&message, &role);
        }
        unavailable(vault.check().await);
        unavailable(vault.put("p", Uuid::now_v7(), b"x").await);

        proxy.set(Mode::Forward);
        assert_eq!(*vault.get(&locator).await.unwrap(), b"survives");
        vault.check().await.unwrap();
    }

    // A server that is not there at all.
    drop(bao);
    let message = unavailable(vault.check().await);
    assert!(message.starts_with(&format!("Vault at {url}")), "{message}");
}

#[tokio::test]
async fn calls_queued_behind_an_unreachable_refresh_fail_fast() {
    let bao = OpenBao::start().await;
    let role = bao.role("short", &["arca"], "2s", "1h", 0).await;
    let proxy = Proxy::start(bao.port).await;
    let mut config = bao.config(&role);
    config.vault_url = format!("http://127.0.0.1:{}", proxy.port);
    config.timeout = Duration::from_secs(1);
    let vault = Arc::new(store(config));
    vault.check().await.unwrap();
    // Past half the TTL every call must refresh the token first, and Vault does not answer.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    proxy.set(Mode::Hang);
    let start = Instant::now();
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let vault = vault.clone();
            tokio::spawn(async move { vault.check().await })
        })
        .collect();
    for call in calls {
        unavailable(call.await.unwrap());
    }
    // One refresh waits out its timeout (with one retry at most); the others fail at once behind it.
    assert!(
        start.elapsed() < Duration::from_millis(2900),
        "{:?}",
        start.elapsed()
    );
    proxy.set(Mode::Forward);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    vault.check().await.unwrap();
}

#[tokio::test]
async fn tls_with_the_servers_ca() {
    let bao = OpenBao::start_tls().await;
    let role = bao.arca_role().await;
    let vault = store(bao.config(&role));
    vault.check().await.unwrap();
    let locator = vault.put("p", Uuid::now_v7(), b"over tls").await.unwrap();
    assert_eq!(*vault.get(&locator).await.unwrap(), b"over tls");

    // Without the CA (Mozilla's roots only) the certificate is not trusted.
    let mut config = bao.config(&role);
    config.ssl_ca_crt_file = None;
    let message = unavailable(store(config).check().await);
    assert!(
        message.starts_with(&format!("Vault at {}", bao.url)),
        "{message}"
    );
    assert!(message.to_lowercase().contains("certificate"), "{message}");
}

fn a_config(dir: &std::path::Path) -> VaultConfig {
    let file = dir.join("secret-id");
    if !file.exists() {
        write_secret_file(&file, "a-secret-id\n", 0o600);
    }
    VaultConfig::new("http://127.0.0.1:8200", "role", file)
}

#[test]
fn the_secret_id_file_is_checked_at_construction() {
    let dir = tempfile::tempdir().unwrap();
    assert!(VaultStore::new(a_config(dir.path())).is_ok());
    let cases = [
        ("open.secret-id", Some(("s3cret", 0o644)), "0644"),
        ("group.secret-id", Some(("s3cret", 0o640)), "0640"),
        ("empty.secret-id", Some(("\n", 0o400)), "empty"),
        ("missing.secret-id", None, "cannot be read"),
    ];
    for (name, content, expected) in cases {
        let path = dir.path().join(name);
        if let Some((text, mode)) = content {
            write_secret_file(&path, text, mode);
        }
        let mut config = a_config(dir.path());
        config.approle_secret_id_file = path.clone();
        let err = VaultStore::new(config).unwrap_err();
        assert!(matches!(err, VaultError::SecretIdFile { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains(expected), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
    }
}

#[test]
fn bad_settings_are_refused_at_construction() {
    let dir = tempfile::tempdir().unwrap();
    for (url, expected) in [
        ("not a url", "not a valid URL"),
        ("", "not a valid URL"),
        ("ftp://127.0.0.1:8200", "scheme"),
        ("http://user:pw@127.0.0.1:8200", "user info"),
        ("http://127.0.0.1:8200/?x=1", "query"),
    ] {
        let mut config = a_config(dir.path());
        config.vault_url = url.into();
        let err = VaultStore::new(config).unwrap_err();
        assert!(matches!(err, VaultError::Config(_)), "{url}: {err:?}");
        let message = err.to_string();
        assert!(message.contains("vault_url"), "{message}");
        assert!(message.contains(expected), "{message}");
        assert!(!message.contains("pw"), "{message}");
    }
    for mount in ["", "/", "a/../b", "with space"] {
        let mut config = a_config(dir.path());
        config.kv_mountpoint = mount.into();
        let err = VaultStore::new(config).unwrap_err();
        assert!(err.to_string().contains("kv_mountpoint"), "{err}");
    }
    let mut config = a_config(dir.path());
    config.approle_role_id = " ".into();
    assert!(
        VaultStore::new(config)
            .unwrap_err()
            .to_string()
            .contains("approle_role_id")
    );
    let mut config = a_config(dir.path());
    config.timeout = Duration::ZERO;
    assert!(
        VaultStore::new(config)
            .unwrap_err()
            .to_string()
            .contains("timeout")
    );
    for (pem, expected) in [(None, "cannot be read"), (Some("not pem"), "no PEM")] {
        let path = dir.path().join("ca.pem");
        let _ = std::fs::remove_file(&path);
        if let Some(text) = pem {
            std::fs::write(&path, text).unwrap();
        }
        let mut config = a_config(dir.path());
        config.vault_url = "https://127.0.0.1:8200".into();
        config.ssl_ca_crt_file = Some(path.clone());
        let err = VaultStore::new(config).unwrap_err();
        assert!(matches!(err, VaultError::CaFile { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains(expected), "{message}");
    }
}

#[tokio::test]
async fn a_closed_port_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::openbao::free_port();
    let mut config = a_config(dir.path());
    config.vault_url = format!("http://127.0.0.1:{port}/");
    let vault = store(config);
    let start = Instant::now();
    let message = unavailable(vault.check().await);
    assert!(start.elapsed() < Duration::from_secs(3));
    assert_eq!(
        message.split(": ").next(),
        Some(format!("Vault at http://127.0.0.1:{port}").as_str()),
        "{message}"
    );
    assert!(message.contains("cannot connect"), "{message}");
    assert!(!message.contains("a-secret-id"), "{message}");
}
