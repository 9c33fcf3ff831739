//! `arca access-key create|revoke` and the `arca key` client against the real binary and server: the access
//! key's last line is `<id> <secret>`; keys are created, listed, described, used to encrypt and decrypt (with an
//! encryption context), rotated (old ciphertext still decrypts), and used to sign and verify; bad input and bad
//! credentials fail with the server's exception named and no panic.

mod common;
use common::*;

/// `arca access-key create` on the server's data directory → (id, secret).
fn access_key(server: &Arca, project: &str, user: &str, roles: &str) -> (String, String) {
    let out = run(
        arca()
            .args(["access-key", "create", "--data-dir"])
            .arg(server.data_dir())
            .args(["--project", project, "--user", user, "--roles", roles]),
        COMMAND_TIMEOUT,
    )
    .ok("arca access-key create");
    let last = out.last_line();
    let (id, secret) = last
        .split_once(' ')
        .unwrap_or_else(|| panic!("the last line is `<id> <secret>`: {last:?}"));
    assert!(
        id.starts_with("AKIA") && id.len() == 20,
        "an AWS-shaped access key id: {id}"
    );
    assert_eq!(secret.len(), 40, "a 40-character secret");
    assert!(!secret.contains(' '));
    (id.to_owned(), secret.to_owned())
}

/// `arca key ARGS…` against the server with these credentials.
fn key_cmd(server: &Arca, creds: &(String, String), args: &[&str]) -> Run {
    run(
        arca()
            .arg("key")
            .args(args)
            .env("ARCA_URL", &server.base_url)
            .env("ARCA_ACCESS_KEY_ID", &creds.0)
            .env("ARCA_SECRET_ACCESS_KEY", &creds.1),
        COMMAND_TIMEOUT,
    )
}

#[test]
fn key_client_encrypts_rotates_decrypts_signs_and_verifies() {
    let server = Arca::start();
    let creds = access_key(&server, "web", "alice", "creator");

    let key = key_cmd(&server, &creds, &["create", "--description", "backups"])
        .ok("key create")
        .last_line();
    assert!(
        key.len() == 36 && key.chars().filter(|c| *c == '-').count() == 4,
        "a key id: {key}"
    );
    let listed = key_cmd(&server, &creds, &["list"])
        .ok("key list")
        .stdout_str();
    assert!(
        listed.contains(&format!("arn:aws:kms:us-east-1:web:key/{key}")),
        "{listed}"
    );
    let described = key_cmd(&server, &creds, &["describe", &key])
        .ok("key describe")
        .stdout_str();
    let meta: serde_json::Value = serde_json::from_str(&described).expect("JSON metadata");
    assert_eq!(meta["Description"], "backups");
    assert_eq!(meta["KeySpec"], "SYMMETRIC_DEFAULT");

    let blob = key_cmd(
        &server,
        &creds,
        &[
            "encrypt",
            &key,
            "--plaintext",
            "hello",
            "--context",
            "purpose=backup",
        ],
    )
    .ok("key encrypt")
    .last_line();
    let decrypt = |ctx: &str| {
        key_cmd(
            &server,
            &creds,
            &["decrypt", "--ciphertext", &blob, "--context", ctx],
        )
    };
    assert_eq!(decrypt("purpose=backup").ok("decrypt").stdout, b"hello");
    let wrong = decrypt("purpose=other");
    assert!(!wrong.status.success());
    assert!(
        wrong.stderr.contains("InvalidCiphertextException"),
        "{}",
        wrong.describe()
    );

    key_cmd(&server, &creds, &["rotate", &key]).ok("key rotate");
    assert_eq!(
        decrypt("purpose=backup")
            .ok("decrypt after rotation")
            .stdout,
        b"hello",
        "ciphertext from before the rotation still decrypts"
    );

    let signer = key_cmd(&server, &creds, &["create", "--spec", "ECC_NIST_P256"])
        .ok("create a signing key")
        .last_line();
    let sig = key_cmd(
        &server,
        &creds,
        &[
            "sign",
            &signer,
            "--algorithm",
            "ECDSA_SHA_256",
            "--message",
            "release-1",
        ],
    )
    .ok("key sign")
    .last_line();
    let verify = |message: &str| {
        key_cmd(
            &server,
            &creds,
            &[
                "verify",
                &signer,
                "--algorithm",
                "ECDSA_SHA_256",
                "--message",
                message,
                "--signature",
                &sig,
            ],
        )
    };
    assert_eq!(verify("release-1").ok("key verify").last_line(), "valid");
    let forged = verify("release-2");
    assert!(!forged.status.success(), "{}", forged.describe());
    assert!(forged.stderr.contains("KMSInvalidSignatureException"));
}

#[test]
fn key_client_bad_input_and_bad_credentials_are_named_errors() {
    let server = Arca::start();
    let creds = access_key(&server, "web", "bob", "creator");
    let bad_spec = key_cmd(&server, &creds, &["create", "--spec", "AES_512"]);
    assert!(!bad_spec.status.success());
    assert!(
        bad_spec.stderr.contains("ValidationException"),
        "{}",
        bad_spec.describe()
    );
    let bad_context = key_cmd(
        &server,
        &creds,
        &[
            "encrypt",
            "alias/none",
            "--plaintext",
            "x",
            "--context",
            "novalue",
        ],
    );
    assert!(!bad_context.status.success());
    assert!(
        bad_context.stderr.contains("key=value"),
        "{}",
        bad_context.describe()
    );
    let missing = key_cmd(&server, &creds, &["describe", "alias/none"]);
    assert!(
        missing.stderr.contains("NotFoundException"),
        "{}",
        missing.describe()
    );

    let wrong_secret = (creds.0.clone(), "x".repeat(40));
    let r = key_cmd(&server, &wrong_secret, &["list"]);
    assert!(!r.status.success());
    assert!(
        r.stderr.contains("InvalidSignatureException"),
        "{}",
        r.describe()
    );
    let unknown = ("AKIAAAAAAAAAAAAAAAAA".to_owned(), creds.1.clone());
    let r = key_cmd(&server, &unknown, &["list"]);
    assert!(
        r.stderr.contains("UnrecognizedClientException"),
        "{}",
        r.describe()
    );
    for text in [&bad_spec.stderr, &r.stderr] {
        assert!(
            !text.contains(&creds.1),
            "the secret never appears in output"
        );
        assert!(!text.contains("panicked"));
    }
}

#[test]
fn access_keys_refuse_bad_input_and_revocation_bites() {
    let server = Arca::start();
    let bad_role = run(
        arca()
            .args(["access-key", "create", "--data-dir"])
            .arg(server.data_dir())
            .args(["--project", "web", "--user", "u", "--roles", "wizard"]),
        COMMAND_TIMEOUT,
    );
    assert!(!bad_role.status.success());
    assert!(
        bad_role.stderr.contains("unknown role"),
        "{}",
        bad_role.describe()
    );
    let empty_project = run(
        arca()
            .args(["access-key", "create", "--data-dir"])
            .arg(server.data_dir())
            .args(["--project", " ", "--user", "u", "--roles", "admin"]),
        COMMAND_TIMEOUT,
    );
    assert!(
        !empty_project.status.success(),
        "{}",
        empty_project.describe()
    );

    let creds = access_key(&server, "web", "carol", "admin");
    key_cmd(&server, &creds, &["list"]).ok("list before revocation");
    run(
        arca()
            .args(["access-key", "revoke", "--data-dir"])
            .arg(server.data_dir())
            .args(["--id", &creds.0]),
        COMMAND_TIMEOUT,
    )
    .ok("access-key revoke");
    let unknown = run(
        arca()
            .args(["access-key", "revoke", "--data-dir"])
            .arg(server.data_dir())
            .args(["--id", "AKIANOSUCHKEY0000000"]),
        COMMAND_TIMEOUT,
    );
    assert!(!unknown.status.success());
    // The server's access-key cache keeps a looked-up key for at most its TTL (5 s by default).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let r = key_cmd(&server, &creds, &["list"]);
        if !r.status.success() {
            assert!(
                r.stderr.contains("UnrecognizedClientException"),
                "{}",
                r.describe()
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "revocation never bit");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}
