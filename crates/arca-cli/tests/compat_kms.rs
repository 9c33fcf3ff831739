//! Real-client compatibility of the AWS KMS API: boto3 and the `aws` CLI (awscli, `--endpoint-url`) against a
//! real `arca server`, by running the `tests/compat/kms_*.py` scripts with the virtualenv `scripts/test`
//! creates (`$ARCA_COMPAT_VENV`, default `<repo>/.venv`; a missing virtualenv, boto3 or `aws` fails the test).
//! Each test starts its own server and makes SigV4 access keys with `arca access-key create` for five
//! principals: admin and creator, observer and audit of one project, and an admin of another project.
//!
//! What the scripts cannot show at this level: that a key scheduled for deletion is really deleted when due.
//! The shortest window is 7 days and `arca server` has no clock a test can move, so that is covered where the
//! clock is a seam: `KmsService::run_due` under a `ManualClock` in `crates/arca-core/tests/kms_keys.rs` (the
//! server runs it from the expiry sweeper every `sweep_interval`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Arca, COMMAND_TIMEOUT, arca, compat_venv, repo_root, run, run_script};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(600);

/// The region every client signs for (Arca accepts any; ARNs carry it).
const REGION: &str = "us-east-1";
/// The project of the admin, creator, observer and audit principals (the account field of ARNs).
const PROJECT: &str = "kms-compat";
/// The project of the `other` principal.
const OTHER_PROJECT: &str = "kms-compat-other";

/// One principal's SigV4 credentials.
struct AccessKey {
    id: String,
    secret: String,
}

/// `arca access-key create --data-dir DIR --project P --user U --roles R` → the id and secret printed,
/// separated by one space, on the last line of its output.
fn access_key_create(dir: &Path, project: &str, user: &str, roles: &str) -> AccessKey {
    let out = run(
        arca()
            .args(["access-key", "create", "--data-dir"])
            .arg(dir)
            .args(["--project", project, "--user", user, "--roles", roles]),
        COMMAND_TIMEOUT,
    )
    .ok("arca access-key create");
    let line = out.last_line();
    let parts: Vec<&str> = line.split(' ').collect();
    assert!(
        parts.len() == 2 && parts.iter().all(|p| !p.is_empty()),
        "the last line of `arca access-key create` should be `<access key id> <secret access key>`, got {line:?}\n{}",
        out.describe()
    );
    AccessKey {
        id: parts[0].to_string(),
        secret: parts[1].to_string(),
    }
}

/// A server with the five principals' access keys.
struct KmsFixture {
    arca: Arca,
    /// (env var prefix, credentials): ARCA, ARCA_CREATOR, ARCA_OBSERVER, ARCA_AUDIT, ARCA_OTHER.
    keys: Vec<(&'static str, AccessKey)>,
    /// Holds the empty AWS config and credentials files.
    aws_home: tempfile::TempDir,
}

impl KmsFixture {
    fn start() -> KmsFixture {
        let arca = Arca::start();
        let dir = arca.data_dir();
        let keys = [
            ("ARCA", PROJECT, "kms-admin", "admin"),
            ("ARCA_CREATOR", PROJECT, "kms-creator", "creator"),
            ("ARCA_OBSERVER", PROJECT, "kms-observer", "observer"),
            ("ARCA_AUDIT", PROJECT, "kms-audit", "audit"),
            ("ARCA_OTHER", OTHER_PROJECT, "kms-other", "admin"),
        ]
        .into_iter()
        .map(|(prefix, project, user, roles)| {
            (prefix, access_key_create(&dir, project, user, roles))
        })
        .collect();
        let aws_home = tempfile::Builder::new()
            .prefix("arca-kms-aws-")
            .tempdir()
            .expect("tempdir");
        for name in ["config", "credentials"] {
            std::fs::write(aws_home.path().join(name), b"").expect("empty AWS file");
        }
        KmsFixture {
            arca,
            keys,
            aws_home,
        }
    }

    /// `<venv>/bin/python tests/compat/<script>` with the fixture's environment: ARCA_URL, ARCA_REGION,
    /// ARCA_PROJECT, ARCA_OTHER_PROJECT, <prefix>_AKID/<prefix>_SECRET for every principal, ARCA_AWS, no
    /// inherited AWS_* variable, AWS_CONFIG_FILE/AWS_SHARED_CREDENTIALS_FILE at empty files,
    /// AWS_EC2_METADATA_DISABLED=true, and no proxy for loopback.
    fn script(&self, venv: &Path, script: &str) -> Command {
        let mut cmd = Command::new(venv.join("bin/python"));
        cmd.arg(repo_root().join("tests/compat").join(script))
            .current_dir(repo_root());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("AWS_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .env("AWS_CONFIG_FILE", self.aws_home.path().join("config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.aws_home.path().join("credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("ARCA_URL", &self.arca.base_url)
            .env("ARCA_REGION", REGION)
            .env("ARCA_PROJECT", PROJECT)
            .env("ARCA_OTHER_PROJECT", OTHER_PROJECT)
            .env("ARCA_AWS", venv.join("bin/aws"))
            .stdin(Stdio::null());
        for (prefix, key) in &self.keys {
            cmd.env(format!("{prefix}_AKID"), &key.id)
                .env(format!("{prefix}_SECRET"), &key.secret);
        }
        cmd
    }

    /// Runs `script`; when it fails, prints the server's stderr after the script's output and fails with
    /// "`client` compatibility failed".
    fn run(&self, script: &str, client: &str) {
        let venv = kms_venv();
        let mut cmd = self.script(&venv, script);
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_script(script, &mut cmd, SCRIPT_TIMEOUT)
        }));
        if out.is_err() {
            eprintln!("--- arca server stderr ---\n{}", self.arca.server_log());
            panic!("{client} compatibility failed (output above)");
        }
    }
}

/// [`compat_venv`], which must also hold boto3 and the `aws` CLI (tests/compat/requirements.txt).
fn kms_venv() -> PathBuf {
    let venv = compat_venv();
    assert!(
        venv.join("bin/aws").exists(),
        "the KMS compatibility tests need {} (awscli from tests/compat/requirements.txt); run \
         `scripts/test` from the repository root, which installs it into {}",
        venv.join("bin/aws").display(),
        venv.display()
    );
    let probe = run(
        Command::new(venv.join("bin/python")).args(["-c", "import boto3, botocore, cryptography"]),
        COMMAND_TIMEOUT,
    );
    assert!(
        probe.status.success(),
        "the virtualenv {} cannot import boto3/cryptography; run `scripts/test`\n{}",
        venv.display(),
        probe.describe()
    );
    venv
}

/// CreateKey for every key spec and usage, DescribeKey by id/ARN/alias/alias ARN, ListKeys paging,
/// UpdateKeyDescription, Disable/EnableKey, Schedule/CancelKeyDeletion, aliases, tags.
#[test]
fn boto3_kms_key_management() {
    KmsFixture::start().run("kms_boto3_keys.py", "boto3 (KMS keys)");
}

/// Encrypt/Decrypt with contexts and tampering, ReEncrypt, data keys used locally, data key pairs, random,
/// RSA OAEP, Sign/Verify for every spec verified in `cryptography`, MACs, wrong usage, invalid specs.
#[test]
fn boto3_kms_cryptographic_operations() {
    KmsFixture::start().run("kms_boto3_crypto.py", "boto3 (KMS crypto)");
}

/// Enable/Disable/GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations, old ciphertext still decrypting.
#[test]
fn boto3_kms_rotation() {
    KmsFixture::start().run("kms_boto3_rotation.py", "boto3 (KMS rotation)");
}

/// SigV4 failures (wrong secret, unknown key, expired date), AWS's error body, roles, other projects.
#[test]
fn boto3_kms_authentication_and_roles() {
    KmsFixture::start().run("kms_boto3_auth.py", "boto3 (KMS auth)");
}

/// The same operations through `aws kms … --endpoint-url`.
#[test]
fn aws_cli_kms() {
    KmsFixture::start().run("kms_awscli.py", "aws CLI (KMS)");
}
