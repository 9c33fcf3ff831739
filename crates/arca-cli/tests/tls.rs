//! TLS on the API listener, over real connections to the real binary: certificates are made here with rcgen
//! (never committed), clients are reqwest on rustls with the test CA as their only root. TLS 1.3 works and
//! TLS 1.2 is refused unless `min_version = "1.2"`; with a client CA, untrusted client certificates are
//! refused and a mapped one authenticates without a token; SIGHUP serves a rotated certificate; a key file
//! that group can read stops the server at start.

mod common;

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A test certificate authority.
struct Ca {
    cert: CertificateDer<'static>,
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate and its key, as PEM.
struct Leaf {
    cert_pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).unwrap();
        Ca {
            cert: cert.der().clone(),
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    fn issue(&self, cn: &str, serial: u64, server: bool) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let sans = if server {
            vec!["127.0.0.1".to_owned(), "localhost".to_owned()]
        } else {
            Vec::new()
        };
        let mut params = CertificateParams::new(sans).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.serial_number = Some(SerialNumber::from(serial));
        params.extended_key_usages = vec![if server {
            ExtendedKeyUsagePurpose::ServerAuth
        } else {
            ExtendedKeyUsagePurpose::ClientAuth
        }];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
        }
    }
}

impl Leaf {
    fn identity(&self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        (
            vec![self.der.clone()],
            PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).unwrap(),
        )
    }
}

/// Writes `contents` to `path` with `mode`, atomically (a temporary file renamed over it).
fn write_file(path: &Path, contents: &str, mode: u32) {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .unwrap();
    f.write_all(contents.as_bytes()).unwrap();
    f.sync_all().unwrap();
    set_mode(&tmp, mode);
    std::fs::rename(&tmp, path).unwrap();
}

/// A data directory with the server's certificate files beside it.
struct Setup {
    data: DataDir,
    ca: Ca,
    cert_file: PathBuf,
    key_file: PathBuf,
    server_leaf: Leaf,
}

impl Setup {
    fn new() -> Setup {
        let data = init();
        let ca = Ca::new("Arca test CA");
        let tls_dir = data.tmp.path().join("tls");
        std::fs::create_dir(&tls_dir).unwrap();
        let cert_file = tls_dir.join("cert.pem");
        let key_file = tls_dir.join("key.pem");
        let server_leaf = ca.issue("arca-server-1", 1001, true);
        let setup = Setup {
            data,
            ca,
            cert_file,
            key_file,
            server_leaf,
        };
        setup.install(&setup.server_leaf);
        setup
    }

    fn install(&self, leaf: &Leaf) {
        write_file(&self.cert_file, &leaf.cert_pem, 0o644);
        write_file(&self.key_file, &leaf.key_pem, 0o600);
    }

    fn opts(&self) -> ServerOpts {
        ServerOpts::new(&self.data.dir)
            .env("ARCA_TLS_CERT_FILE", self.cert_file.to_str().unwrap())
            .env("ARCA_TLS_KEY_FILE", self.key_file.to_str().unwrap())
    }

    fn start(&self, opts: ServerOpts) -> Server {
        Server::start_with(opts)
            .unwrap_or_else(|f| panic!("arca server (TLS) did not start\n{}", f.describe()))
    }

    /// Writes a client CA file and appends `[[tls.client_principals]]` to arca.toml.
    fn client_ca(&self, ca: &Ca, principals: &str) -> PathBuf {
        let path = self.data.tmp.path().join("tls").join("client-ca.pem");
        write_file(&path, &ca.pem, 0o644);
        let mut toml = std::fs::read_to_string(self.data.config()).unwrap();
        toml.push_str(principals);
        std::fs::write(self.data.config(), toml).unwrap();
        path
    }
}

/// A reqwest client on rustls that trusts only `ca`, speaks only `versions`, and presents `identity`.
fn client(
    ca: &CertificateDer<'static>,
    versions: &[&'static rustls::SupportedProtocolVersion],
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> reqwest::Client {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).unwrap(),
        None => builder.with_no_client_auth(),
    };
    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .tls_info(true)
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

const TLS13: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];
const TLS12: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];

/// GET /v1/secrets with the admin token: the status, or the transport error as text.
async fn list(client: &reqwest::Client, url: &str, token: &str) -> Result<u16, String> {
    client
        .get(format!("{url}/v1/secrets"))
        .header("X-Auth-Token", token)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| format!("{e:?}"))
}

/// The DER of the certificate the server presents.
async fn peer_cert(client: &reqwest::Client, url: &str) -> Vec<u8> {
    let resp = client.get(format!("{url}/")).send().await.unwrap();
    resp.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .expect("peer certificate")
        .to_vec()
}

#[test]
fn tls13_serves_the_api_and_refs_are_https() {
    let setup = Setup::new();
    let server = setup.start(setup.opts());
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    rt().block_on(async {
        let c = client(&setup.ca.cert, TLS13, None);
        assert_eq!(
            list(&c, &server.url, &setup.data.admin_token).await,
            Ok(200)
        );
        let resp = c
            .post(format!("{}/v1/secrets", server.url))
            .header("X-Auth-Token", &setup.data.admin_token)
            .json(
                &json!({"name": "t", "payload": "over tls", "payload_content_type": "text/plain"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let secret_ref = resp.json::<Value>().await.unwrap()["secret_ref"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(secret_ref.starts_with("https://"), "{secret_ref}");
        let payload = c
            .get(format!("{secret_ref}/payload"))
            .header("X-Auth-Token", &setup.data.admin_token)
            .header("Accept", "text/plain")
            .send()
            .await
            .unwrap();
        assert_eq!(payload.status(), 200);
        assert_eq!(payload.text().await.unwrap(), "over tls");
        // Plain HTTP on the TLS port gets no API answer.
        let plain = http()
            .get(server.url.replace("https://", "http://") + "/v1/secrets")
            .header("X-Auth-Token", &setup.data.admin_token)
            .send()
            .await;
        assert!(!plain.is_ok_and(|r| r.status().is_success()));
    });
}

#[test]
fn non_loopback_with_tls_needs_no_insecure_flag() {
    let setup = Setup::new();
    let server = setup.start(setup.opts().env("ARCA_API_LISTEN", "0.0.0.0:0"));
    assert!(server.url.starts_with("https://0.0.0.0:"), "{}", server.url);
    let url = server.url.replace("0.0.0.0", "127.0.0.1");
    rt().block_on(async {
        let c = client(&setup.ca.cert, TLS13, None);
        assert_eq!(list(&c, &url, &setup.data.admin_token).await, Ok(200));
    });
}

#[test]
fn tls12_is_refused_by_default_and_served_when_chosen() {
    let setup = Setup::new();
    let server = setup.start(setup.opts());
    rt().block_on(async {
        let c12 = client(&setup.ca.cert, TLS12, None);
        assert!(
            list(&c12, &server.url, &setup.data.admin_token)
                .await
                .is_err()
        );
    });
    drop(server);
    let server = setup.start(setup.opts().env("ARCA_TLS_MIN_VERSION", "1.2"));
    rt().block_on(async {
        let c12 = client(&setup.ca.cert, TLS12, None);
        assert_eq!(
            list(&c12, &server.url, &setup.data.admin_token).await,
            Ok(200)
        );
        let c13 = client(&setup.ca.cert, TLS13, None);
        assert_eq!(
            list(&c13, &server.url, &setup.data.admin_token).await,
            Ok(200)
        );
    });
}

#[test]
fn client_certificates_are_verified_and_mapped_to_principals() {
    let setup = Setup::new();
    let client_ca = Ca::new("Arca client CA");
    let ca_file = setup.client_ca(
        &client_ca,
        "\n[[tls.client_principals]]\nsubject_cn = \"svc-a\"\nproject = \"proj-a\"\nuser = \"svc-a\"\nroles = [\"creator\"]\n",
    );
    let server = setup.start(
        setup
            .opts()
            .env("ARCA_TLS_CLIENT_CA_FILE", ca_file.to_str().unwrap())
            .env("ARCA_TLS_CLIENT_AUTH", "required"),
    );
    let mapped = client_ca.issue("svc-a", 2001, false);
    let unmapped = client_ca.issue("svc-b", 2002, false);
    let stranger = Ca::new("Somebody else's CA").issue("svc-a", 2003, false);
    rt().block_on(async {
        let token = &setup.data.admin_token;
        // No certificate, or one from another CA: the handshake fails.
        let none = client(&setup.ca.cert, TLS13, None);
        assert!(list(&none, &server.url, token).await.is_err());
        let untrusted = client(&setup.ca.cert, TLS13, Some(stranger.identity()));
        assert!(list(&untrusted, &server.url, token).await.is_err());

        // A trusted, mapped certificate authenticates without a token.
        let svc = client(&setup.ca.cert, TLS13, Some(mapped.identity()));
        let resp = svc
            .post(format!("{}/v1/secrets", server.url))
            .json(&json!({"name": "m", "payload": "by certificate", "payload_content_type": "text/plain"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let secret_ref = resp.json::<Value>().await.unwrap()["secret_ref"]
            .as_str()
            .unwrap()
            .to_owned();
        let payload = svc
            .get(format!("{secret_ref}/payload"))
            .header("Accept", "text/plain")
            .send()
            .await
            .unwrap();
        assert_eq!(payload.status(), 200);
        assert_eq!(payload.text().await.unwrap(), "by certificate");
        // It acts in its project: the secret is listed there, and the admin of project "admin" is refused it.
        let meta = svc.get(&secret_ref).send().await.unwrap();
        assert_eq!(meta.status(), 200);
        let other = client(&setup.ca.cert, TLS13, Some(unmapped.identity()));
        let resp = other
            .get(&secret_ref)
            .header("X-Auth-Token", token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{}", resp.text().await.unwrap());

        // A trusted certificate that maps to nobody: token authentication applies.
        assert_eq!(list(&other, &server.url, token).await, Ok(200));
        let resp = other
            .get(format!("{}/v1/secrets", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
    });
}

#[test]
fn sighup_serves_a_rotated_certificate() {
    let setup = Setup::new();
    let server = setup.start(setup.opts());
    let c = client(&setup.ca.cert, TLS13, None);
    let rt = rt();
    assert_eq!(
        rt.block_on(peer_cert(&c, &server.url)),
        setup.server_leaf.der.to_vec()
    );
    let rotated = setup.ca.issue("arca-server-2", 1002, true);
    setup.install(&rotated);
    let hup = |pid: u32| {
        let status = std::process::Command::new("kill")
            .arg("-HUP")
            .arg(pid.to_string())
            .status()
            .unwrap();
        assert!(status.success());
    };
    hup(server.pid());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // A fresh client each time: a pooled connection would still show the old certificate.
        let c = client(&setup.ca.cert, TLS13, None);
        if rt.block_on(peer_cert(&c, &server.url)) == rotated.der.to_vec() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "rotated certificate not served after SIGHUP\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // A reload that fails (the key no longer matches) keeps the rotated certificate in service.
    let third = setup.ca.issue("arca-server-3", 1003, true);
    write_file(&setup.cert_file, &third.cert_pem, 0o644);
    hup(server.pid());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !server.stderr().contains("TLS reload failed") {
        assert!(
            Instant::now() < deadline,
            "no reload failure logged\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let c = client(&setup.ca.cert, TLS13, None);
    assert_eq!(
        rt.block_on(peer_cert(&c, &server.url)),
        rotated.der.to_vec()
    );
}

#[test]
fn group_readable_key_is_refused_at_start() {
    let setup = Setup::new();
    set_mode(&setup.key_file, 0o640);
    let failure = match Server::start_with(setup.opts()) {
        Ok(_) => panic!("server started with a group-readable TLS key"),
        Err(f) => f,
    };
    let all = failure.describe();
    assert!(all.contains(setup.key_file.to_str().unwrap()), "{all}");
    assert!(all.contains("0640"), "{all}");
    assert!(all.contains("chmod 0400"), "{all}");
}

#[test]
fn optional_client_auth_lets_token_callers_in() {
    let setup = Setup::new();
    let client_ca = Ca::new("Arca client CA");
    let ca_file = setup.client_ca(
        &client_ca,
        "\n[[tls.client_principals]]\nsubject_cn = \"svc-o\"\nproject = \"proj-o\"\nuser = \"svc-o\"\nroles = [\"observer\"]\n",
    );
    let server = setup.start(
        setup
            .opts()
            .env("ARCA_TLS_CLIENT_CA_FILE", ca_file.to_str().unwrap())
            .env("ARCA_TLS_CLIENT_AUTH", "optional"),
    );
    let stranger = Ca::new("Somebody else's CA").issue("svc-o", 3001, false);
    let mapped = client_ca.issue("svc-o", 3002, false);
    rt().block_on(async {
        let none = client(&setup.ca.cert, TLS13, None);
        assert_eq!(
            list(&none, &server.url, &setup.data.admin_token).await,
            Ok(200)
        );
        // A certificate that is sent must still verify.
        let untrusted = client(&setup.ca.cert, TLS13, Some(stranger.identity()));
        assert!(
            list(&untrusted, &server.url, &setup.data.admin_token)
                .await
                .is_err()
        );
        // An observer by certificate may list but not create.
        let svc = client(&setup.ca.cert, TLS13, Some(mapped.identity()));
        let resp = svc
            .get(format!("{}/v1/secrets", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let resp = svc
            .post(format!("{}/v1/secrets", server.url))
            .json(&json!({"name": "o", "payload": "x", "payload_content_type": "text/plain"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403);
    });
}
