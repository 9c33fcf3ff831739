//! SoftHSM2 fixtures for the PKCS#11 provider tests. SoftHSM2 reads `SOFTHSM2_CONF` once per process, and
//! these tests may not set environment variables in-process (`unsafe_code` is forbidden), so every test
//! re-runs itself as a child process ([`in_softhsm`]) with its own token directory, token and PIN in the
//! environment. A missing SoftHSM2 fails the test with a message naming `scripts/test`, never a skip.
#![allow(dead_code)]

pub mod kmip_server;
pub mod openbao;

use std::path::{Path, PathBuf};
use std::process::Command;

use arca_backends::Pkcs11Config;

/// Debian's SoftHSM2 module.
pub const LIB: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The token every test initialises.
pub const TOKEN: &str = "arca";
/// Its user PIN.
pub const PIN: &str = "1234";

const CHILD: &str = "ARCA_SOFTHSM_TEST_DIR";

/// The temporary directory of the current child test (its softhsm2.conf and tokens/).
pub fn test_dir() -> PathBuf {
    PathBuf::from(std::env::var(CHILD).expect("run through in_softhsm"))
}

/// The token directory SoftHSM2 uses in this child.
pub fn tokens_dir() -> PathBuf {
    test_dir().join("tokens")
}

fn require_softhsm() {
    let util = Command::new("softhsm2-util").arg("--version").output();
    assert!(
        Path::new(LIB).exists() && util.is_ok_and(|o| o.status.success()),
        "SoftHSM2 is not installed ({LIB} and softhsm2-util are needed): run scripts/test, which installs the Debian package softhsm2"
    );
}

/// Writes a softhsm2.conf with its own token directory under `dir`, initialises token `arca` (PIN 1234) and
/// returns the conf path.
pub fn make_softhsm(dir: &Path) -> PathBuf {
    require_softhsm();
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let out = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args([
            "--init-token",
            "--free",
            "--label",
            TOKEN,
            "--pin",
            PIN,
            "--so-pin",
            PIN,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "softhsm2-util --init-token failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    conf
}

/// Runs `body` in a child process of this test binary with a fresh SoftHSM2 token (`SOFTHSM2_CONF`) and the
/// PIN in `ARCA_ROOT_KEY_PIN`. `name` is the test's own name.
pub fn in_softhsm(name: &str, body: impl FnOnce()) {
    if std::env::var_os(CHILD).is_some() {
        body();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let conf = make_softhsm(dir.path());
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("SOFTHSM2_CONF", &conf)
        .env(CHILD, dir.path())
        .env("ARCA_ROOT_KEY_PIN", PIN)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} failed in its SoftHSM2 child:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The configuration of the test token, the PIN from the environment.
pub fn config() -> Pkcs11Config {
    Pkcs11Config::new(PathBuf::from(LIB), TOKEN.into(), None)
}
