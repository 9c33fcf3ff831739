//! The PostgreSQL store over TLS, as `[database] url` configures it (`sslmode=verify-full&sslrootcert=…`): a real
//! PostgreSQL 15 with a certificate made here serves an encrypted, verified connection; a server certificate
//! from another CA is refused, and so is a server name the certificate does not carry.

use std::os::unix::fs::PermissionsExt;

use arca_core::Store;
use arca_store::postgres_testing::TempPostgres;
use arca_store::{PostgresOptions, PostgresStore};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A CA and a server certificate for 127.0.0.1 signed by it: (CA PEM, server cert PEM, server key PEM).
fn certificates() -> (String, String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Arca test PostgreSQL CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, "postgres");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    (ca_pem, cert.pem(), key.serialize_pem())
}

async fn connect(url: &str) -> Result<PostgresStore, arca_core::StoreError> {
    let options = PostgresOptions {
        connect_timeout: std::time::Duration::from_secs(5),
        acquire_timeout: std::time::Duration::from_secs(5),
        ..PostgresOptions::default()
    };
    PostgresStore::connect(url, options).await
}

#[tokio::test]
async fn tls_with_full_verification_works_and_a_wrong_ca_is_refused() {
    let pg = TempPostgres::new();
    let (ca, cert, key) = certificates();
    // The server's files live in its data directory's parent, owned by the server's user, key mode 0600.
    let dir = pg.dir();
    std::fs::write(dir.join("server.crt"), cert).unwrap();
    std::fs::write(dir.join("server.key"), key).unwrap();
    std::fs::set_permissions(
        dir.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    if nix_is_root() {
        for f in ["server.crt", "server.key"] {
            let status = std::process::Command::new("chown")
                .arg("postgres")
                .arg(dir.join(f))
                .status()
                .unwrap();
            assert!(status.success());
        }
    }
    let plain = connect(&pg.url()).await.unwrap();
    for setting in [
        format!(
            "ALTER SYSTEM SET ssl_cert_file = '{}'",
            dir.join("server.crt").display()
        ),
        format!(
            "ALTER SYSTEM SET ssl_key_file = '{}'",
            dir.join("server.key").display()
        ),
        "ALTER SYSTEM SET ssl = 'on'".to_owned(),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(setting))
            .execute(plain.pool())
            .await
            .unwrap();
    }
    plain.close().await;
    pg.restart();

    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), ca).unwrap();
    let url = format!(
        "{}?sslmode=verify-full&sslrootcert={}",
        pg.url(),
        ca_file.path().display()
    );
    let store = connect(&url).await.expect("a verified TLS connection");
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(encrypted, "the connection is TLS");
    assert!(
        store
            .list_secret_stores()
            .await
            .unwrap()
            .iter()
            .any(|s| s.global_default)
    );
    store.close().await;

    // Another CA: refused, with an error that says why rather than a hang.
    let (other_ca, _, _) = certificates();
    let other_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(other_file.path(), other_ca).unwrap();
    let wrong = format!(
        "{}?sslmode=verify-full&sslrootcert={}",
        pg.url(),
        other_file.path().display()
    );
    let refused = match connect(&wrong).await {
        Ok(_) => panic!("an untrusted server certificate is refused"),
        Err(e) => e,
    };
    assert!(refused.0.contains("database unavailable"), "{}", refused.0);
    // The certificate names 127.0.0.1, not localhost.
    let by_name = url.replacen("127.0.0.1", "localhost", 1);
    let refused = match connect(&by_name).await {
        Ok(_) => panic!("a name the certificate does not carry is refused"),
        Err(e) => e,
    };
    assert!(
        refused.0.contains("NotValidForName") || refused.0.to_lowercase().contains("certificate"),
        "{}",
        refused.0
    );
}

fn nix_is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}
