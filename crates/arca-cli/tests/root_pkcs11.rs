//! `arca init --root pkcs11` and `arca server` on a real SoftHSM2 token: the keys are generated in the token
//! and named in `[root_key]` (no root.key, no PIN in arca.toml); secrets survive a restart; when the token
//! goes away a request whose project KEK is not cached answers 503 with a clear message, and the server
//! recovers by itself once the token is back. A missing SoftHSM2 fails the tests, naming `scripts/test`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const LIB: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "1234";

/// A SoftHSM2 configuration with its own token directory and an initialised token `arca`.
struct Hsm {
    conf: PathBuf,
    tokens: PathBuf,
    pin_file: PathBuf,
    /// The databases of this test's data directories on PostgreSQL.
    dbs: Databases,
}

fn softhsm(dir: &Path) -> Hsm {
    let util = Command::new("softhsm2-util").arg("--version").output();
    assert!(
        Path::new(LIB).exists() && util.is_ok_and(|o| o.status.success()),
        "SoftHSM2 is not installed ({LIB} and softhsm2-util are needed): run scripts/test, which installs the Debian package softhsm2"
    );
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
            "arca",
            "--pin",
            PIN,
            "--so-pin",
            PIN,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "softhsm2-util: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pin_file = dir.join("hsm.pin");
    std::fs::write(&pin_file, format!("{PIN}\n")).unwrap();
    set_mode(&pin_file, 0o400);
    Hsm {
        conf,
        tokens,
        pin_file,
        dbs: Databases::new(),
    }
}

fn init_pkcs11(hsm: &Hsm, data: &Path, pin_file: &Path) -> Run {
    run(
        arca()
            .env("SOFTHSM2_CONF", &hsm.conf)
            .arg("init")
            .arg("--data-dir")
            .arg(data)
            .args([
                "--root",
                "pkcs11",
                "--pkcs11-library",
                LIB,
                "--token-label",
                "arca",
            ])
            .arg("--pin-file")
            .arg(pin_file)
            .args(hsm.dbs.init_args()),
        COMMAND_TIMEOUT,
    )
}

fn start(hsm: &Hsm, data: &Path) -> Server {
    Server::start_with(
        ServerOpts::new(data)
            .env("SOFTHSM2_CONF", hsm.conf.to_str().unwrap())
            .env("ARCA_KEYS_PKEK_CACHE_TTL", "0"),
    )
    .unwrap_or_else(|f| panic!("arca server did not start\n{}", f.describe()))
}

#[test]
fn secrets_live_under_keys_in_the_hsm_and_survive_an_outage() {
    let tmp = tempfile::tempdir().unwrap();
    let hsm = softhsm(tmp.path());
    let data = tmp.path().join("data");
    let init = init_pkcs11(&hsm, &data, &hsm.pin_file).ok("arca init --root pkcs11");
    let admin = init.last_line();
    assert!(
        init.stdout_str().contains("arca-mkek-v1"),
        "{}",
        init.describe()
    );
    assert!(!data.join("root.key").exists(), "no root.key with an HSM");
    let config = std::fs::read_to_string(data.join("arca.toml")).unwrap();
    assert!(config.contains("provider = \"pkcs11\""), "{config}");
    assert!(config.contains("token_label = \"arca\""), "{config}");
    assert!(
        config.contains(&format!("pin_file = \"{}\"", hsm.pin_file.display())),
        "{config}"
    );
    assert!(!config.contains(PIN), "the PIN is never in arca.toml");

    // A second init against the same token refuses to make more keys.
    let again = init_pkcs11(&hsm, &tmp.path().join("data2"), &hsm.pin_file);
    assert!(!again.status.success());
    assert!(
        again.describe().contains("already holds root key objects"),
        "{}",
        again.describe()
    );

    let rt = rt();
    let client = http();
    let mut server = start(&hsm, &data);
    let secret_ref = rt
        .block_on(store_text(
            &client,
            &server.url,
            &admin,
            "s",
            "kept in the HSM's care",
        ))
        .unwrap();
    let id = secret_id(&secret_ref);
    let (status, body) = rt.block_on(get_payload(&client, &server.url, &admin, &id));
    assert_eq!(
        (status, body.as_slice()),
        (200, b"kept in the HSM's care".as_slice())
    );

    // Restart: the keys are found again in the token. The `pkcs11` secret store (payloads sealed under the
    // HSM root of trust) becomes the global default beside the software store the first secret went to.
    server.stop();
    let mut config = std::fs::read_to_string(data.join("arca.toml")).unwrap();
    config.push_str(
        "\n[secret_stores.hsm]\nplugin = \"pkcs11\"\nglobal_default = true\n\n[secret_stores.software]\nplugin = \"software\"\n",
    );
    std::fs::write(data.join("arca.toml"), config).unwrap();
    let server = start(&hsm, &data);
    let (status, body) = rt.block_on(get_payload(&client, &server.url, &admin, &id));
    assert_eq!(
        (status, body.as_slice()),
        (200, b"kept in the HSM's care".as_slice())
    );
    let default = rt.block_on(send(
        client
            .get(format!("{}/v1/secret-stores/global-default", server.url))
            .header("X-Auth-Token", &admin),
    ));
    assert_eq!(default.status, 200, "{}", default.text());
    assert_eq!(default.json()["crypto_plugin"], "p11_crypto");
    assert_eq!(default.json()["name"], "PKCS11 HSM");
    let in_hsm_store = secret_id(
        &rt.block_on(store_text(
            &client,
            &server.url,
            &admin,
            "h",
            "in the pkcs11 store",
        ))
        .unwrap(),
    );
    let (status, body) = rt.block_on(get_payload(&client, &server.url, &admin, &in_hsm_store));
    assert_eq!(
        (status, body.as_slice()),
        (200, b"in the pkcs11 store".as_slice())
    );
    let listed = run(
        arca()
            .args(["secret-store", "list", "--data-dir"])
            .arg(&data)
            .env("SOFTHSM2_CONF", hsm.conf.to_str().unwrap()),
        COMMAND_TIMEOUT,
    )
    .ok("arca secret-store list");
    assert!(
        listed
            .stdout_str()
            .lines()
            .any(|l| l.starts_with("hsm ") && l.contains("payloads=1")),
        "{}",
        listed.describe()
    );

    // The token goes away: 503 with a message that says so.
    let away = tmp.path().join("tokens-away");
    std::fs::rename(&hsm.tokens, &away).unwrap();
    let resp = rt.block_on(send(
        client
            .get(format!("{}/v1/secrets/{id}/payload", server.url))
            .header("X-Auth-Token", &admin)
            .header("Accept", "text/plain"),
    ));
    assert_eq!(resp.status, 503, "{}", resp.text());
    assert!(
        resp.text().contains("is unavailable") && resp.text().contains("HSM"),
        "{}",
        resp.text()
    );

    // It comes back: the same server serves again, no restart.
    std::fs::rename(&away, &hsm.tokens).unwrap();
    // Calls fail fast for a quarter second after a failed reconnection, then try again.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (status, body) = rt.block_on(get_payload(&client, &server.url, &admin, &id));
    assert_eq!(
        (status, body.as_slice()),
        (200, b"kept in the HSM's care".as_slice())
    );
    let second = rt
        .block_on(store_text(
            &client,
            &server.url,
            &admin,
            "t",
            "after the outage",
        ))
        .unwrap();
    let (status, _) = rt.block_on(get_payload(
        &client,
        &server.url,
        &admin,
        &secret_id(&second),
    ));
    assert_eq!(status, 200);
}

#[test]
fn init_refuses_bad_pkcs11_settings_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let hsm = softhsm(tmp.path());

    // A PIN file others can read.
    let open_pin = tmp.path().join("open.pin");
    std::fs::write(&open_pin, PIN).unwrap();
    set_mode(&open_pin, 0o644);
    let out = init_pkcs11(&hsm, &tmp.path().join("a"), &open_pin);
    assert!(!out.status.success());
    assert!(out.describe().contains("chmod 0400"), "{}", out.describe());

    // A wrong PIN.
    let wrong = tmp.path().join("wrong.pin");
    std::fs::write(&wrong, "4321").unwrap();
    set_mode(&wrong, 0o400);
    let out = init_pkcs11(&hsm, &tmp.path().join("b"), &wrong);
    assert!(!out.status.success());
    assert!(
        out.describe().contains("refused the PIN"),
        "{}",
        out.describe()
    );

    // Missing settings are named by the command line.
    let out = run(
        arca()
            .arg("init")
            .arg("--data-dir")
            .arg(tmp.path().join("c"))
            .args(["--root", "pkcs11"]),
        COMMAND_TIMEOUT,
    );
    assert!(!out.status.success());
    assert!(
        out.describe().contains("--pkcs11-library"),
        "{}",
        out.describe()
    );

    // A PIN written into arca.toml is refused at start-up, naming the fix.
    let data = tmp.path().join("d");
    let admin = init_pkcs11(&hsm, &data, &hsm.pin_file).ok("arca init --root pkcs11");
    assert!(!admin.last_line().is_empty());
    let config = std::fs::read_to_string(data.join("arca.toml")).unwrap();
    std::fs::write(
        data.join("arca.toml"),
        config.replace("pool_size = 8", "pool_size = 8\npin = \"1234\""),
    )
    .unwrap();
    let failure =
        Server::start_with(ServerOpts::new(&data).env("SOFTHSM2_CONF", hsm.conf.to_str().unwrap()))
            .err()
            .expect("a PIN in arca.toml is refused");
    assert!(
        failure.describe().contains("ARCA_ROOT_KEY_PIN"),
        "{}",
        failure.describe()
    );
}

/// Root rotation with the HSM: `arca root rotate` makes `-v2` objects in the token, rewraps every key under
/// them and destroys the `-v1` objects; a restarted server reads the secret stored before.
#[test]
fn root_rotation_moves_to_new_hsm_objects() {
    let tmp = tempfile::tempdir().unwrap();
    let hsm = softhsm(tmp.path());
    let data = tmp.path().join("data");
    let admin = init_pkcs11(&hsm, &data, &hsm.pin_file)
        .ok("arca init --root pkcs11")
        .last_line();
    let rt = rt();
    let client = http();
    let mut server = start(&hsm, &data);
    let secret_ref = rt
        .block_on(store_text(
            &client,
            &server.url,
            &admin,
            "r",
            "rotated under the HSM",
        ))
        .unwrap();
    let id = secret_id(&secret_ref);
    server.stop();
    let rotated = run(
        arca()
            .env("SOFTHSM2_CONF", &hsm.conf)
            .args(["root", "rotate", "--settle", "0", "--data-dir"])
            .arg(&data),
        COMMAND_TIMEOUT,
    )
    .ok("arca root rotate with the HSM");
    let said = rotated.stdout_str();
    assert!(
        said.contains("rotated to version 2") && said.contains("retired version(s) 1"),
        "{}",
        rotated.describe()
    );
    let server = start(&hsm, &data);
    let (status, body) = rt.block_on(get_payload(&client, &server.url, &admin, &id));
    assert_eq!(
        (status, body.as_slice()),
        (200, b"rotated under the HSM".as_slice())
    );
}
