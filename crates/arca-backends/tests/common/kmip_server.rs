//! A real PyKMIP 0.11 server for the KMIP store tests: a CA, a server certificate (SAN IP 127.0.0.1, EKU
//! serverAuth) and a client certificate (EKU clientAuth) made with rcgen in a temporary directory, a
//! `server.conf` on a free port with mutual TLS, and `pykmip-server` from the compat venv (`ARCA_COMPAT_VENV`,
//! else `<repo>/.venv`) started and waited for; the process is killed on drop. A missing venv fails the test
//! with a message naming `scripts/test`, never a skip. PyKMIP forks helper processes, so the server runs in its
//! own process group and the whole group is killed.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arca_backends::KmipConfig;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// The `pykmip-server` script of the compat venv.
pub fn pykmip_server_bin() -> PathBuf {
    let venv = std::env::var_os("ARCA_COMPAT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv"));
    let bin = venv.join("bin/pykmip-server");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/test (it creates .venv with PyKMIP from tests/compat/requirements.txt) \
         or point ARCA_COMPAT_VENV at a venv with PyKMIP 0.11",
        bin.display()
    );
    bin
}

/// A test certificate authority.
pub struct Ca {
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
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
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf certificate and key as PEM: a server one (SAN IP 127.0.0.1) or a client one.
    pub fn issue(&self, cn: &str, server: bool) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let sans = if server {
            vec!["127.0.0.1".to_owned()]
        } else {
            Vec::new()
        };
        let mut params = CertificateParams::new(sans).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![if server {
            ExtendedKeyUsagePurpose::ServerAuth
        } else {
            ExtendedKeyUsagePurpose::ClientAuth
        }];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// A running PyKMIP server and the client material to reach it.
pub struct KmipServer {
    pub dir: tempfile::TempDir,
    /// The CA of the server and client certificates (to issue more clients).
    pub ca: Ca,
    pub port: u16,
    child: Option<Child>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl KmipServer {
    /// Makes the certificates and starts a server on a free port.
    pub fn start() -> KmipServer {
        pykmip_server_bin();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ca = Ca::new("Arca test KMIP CA");
        let (server_cert, server_key) = ca.issue("pykmip-server", true);
        let (client_cert, client_key) = ca.issue("arca", false);
        for (name, body) in [
            ("ca.pem", &ca.pem),
            ("server.pem", &server_cert),
            ("server.key", &server_key),
            ("client.pem", &client_cert),
            ("client.key", &client_key),
        ] {
            std::fs::write(d.join(name), body).unwrap();
        }
        std::fs::create_dir_all(d.join("policies")).unwrap();
        let port = free_port();
        std::fs::write(
            d.join("server.conf"),
            format!(
                "[server]\nhostname=127.0.0.1\nport={port}\ncertificate_path={dir}/server.pem\n\
                 key_path={dir}/server.key\nca_path={dir}/ca.pem\nauth_suite=TLS1.2\n\
                 policy_path={dir}/policies\nenable_tls_client_auth=True\n\
                 database_path={dir}/pykmip.db\nlogging_level=INFO\n",
                dir = d.display()
            ),
        )
        .unwrap();
        let mut server = KmipServer {
            dir,
            ca,
            port,
            child: None,
        };
        server.resume();
        server
    }

    /// The store configuration for the trusted client certificate.
    pub fn config(&self) -> KmipConfig {
        let d = self.dir.path();
        let mut config = KmipConfig::new(
            "127.0.0.1",
            d.join("client.pem"),
            d.join("client.key"),
            d.join("ca.pem"),
        );
        config.port = self.port;
        config.timeout = Duration::from_secs(3);
        config
    }

    /// Kills the server and the processes it forked (the policy monitor), all in its own process group;
    /// the database stays.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Ok(pgid) = i32::try_from(child.id()) {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pgid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, configuration and database.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let d = self.dir.path();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join("stderr.log"))
            .unwrap();
        let child = Command::new(pykmip_server_bin())
            .arg("-f")
            .arg(d.join("server.conf"))
            .arg("-l")
            .arg(d.join("server.log"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            // Its own process group, so that `stop` also reaches the processes it forks.
            .process_group(0)
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "pykmip-server exited with {status}; its output:\n{}\n{}",
                    std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default(),
                    std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "pykmip-server did not listen on port {} within 30 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for KmipServer {
    fn drop(&mut self) {
        self.stop();
    }
}
