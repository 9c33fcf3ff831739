//! Real-client compatibility: python-barbicanclient (token auth, no Keystone) and the
//! `barbican` CLI (`--no-auth`, trusted-headers mode) against a real `arca server`, by
//! running the scripts in `tests/compat/` with the virtualenv `scripts/test` creates
//! (`$ARCA_COMPAT_VENV`, default `<repo>/.venv`). A missing virtualenv fails the test.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Arca, compat_venv, repo_root, rt, run_script, secret_id};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

fn python_script(venv: &Path, script: &str) -> Command {
    let mut cmd = Command::new(venv.join("bin/python"));
    cmd.arg(repo_root().join("tests/compat").join(script))
        .current_dir(repo_root())
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("OS_AUTH_URL")
        .env_remove("OS_AUTH_TOKEN")
        .env_remove("BARBICAN_ENDPOINT")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .stdin(Stdio::null());
    cmd
}

/// Runs `script` (already given its environment in `cmd`) against `arca`; when it fails, prints
/// the server's stderr after the script's output and fails with "`client` compatibility failed".
fn run_compat(arca: &Arca, script: &str, mut cmd: Command, client: &str) {
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_script(script, &mut cmd, SCRIPT_TIMEOUT)
    }));
    if out.is_err() {
        eprintln!("--- arca server stderr ---\n{}", arca.server_log());
        panic!("{client} compatibility failed (output above)");
    }
}

#[test]
fn python_barbicanclient_with_token() {
    let venv = compat_venv();
    let arca = Arca::start();
    let mut cmd = python_script(&venv, "barbicanclient_test.py");
    cmd.env("ARCA_URL", &arca.base_url)
        .env("ARCA_TOKEN", &arca.admin_token);
    run_compat(
        &arca,
        "barbicanclient_test.py",
        cmd,
        "python-barbicanclient",
    );
}

/// python-barbicanclient's containers (generic, RSA, certificate), container consumers and secret
/// consumers, including 1.2's forced delete of a secret with consumers.
#[test]
fn python_barbicanclient_containers_and_consumers() {
    let venv = compat_venv();
    let arca = Arca::start();
    let mut cmd = python_script(&venv, "barbicanclient_containers_test.py");
    cmd.env("ARCA_URL", &arca.base_url)
        .env("ARCA_TOKEN", &arca.admin_token);
    run_compat(
        &arca,
        "barbicanclient_containers_test.py",
        cmd,
        "python-barbicanclient (containers)",
    );
}

/// python-barbicanclient's orders (`create_key`, `create_asymmetric`, waiting until ACTIVE) with the
/// generated RSA key used by Python's `cryptography` to sign and verify, and its ACLs
/// (`acls.create`/`get`/`submit`/`remove`) sharing a secret with a user of another project.
#[test]
fn python_barbicanclient_orders_and_acls() {
    let venv = compat_venv();
    let arca = Arca::start();
    let reader = arca.token("compat-other", "compat-reader", "observer");
    let mut cmd = python_script(&venv, "barbicanclient_orders_acls_test.py");
    cmd.env("ARCA_URL", &arca.base_url)
        .env("ARCA_TOKEN", &arca.admin_token)
        .env("ARCA_READER_TOKEN", &reader)
        .env("ARCA_READER_USER", "compat-reader");
    run_compat(
        &arca,
        "barbicanclient_orders_acls_test.py",
        cmd,
        "python-barbicanclient (orders, ACLs)",
    );
}

/// `barbican --no-auth` sends `X-Project-Id` only (no `X-Roles`, no `X-User-Id`); like Barbican's
/// unauthenticated context, Arca's default `auth.trusted_default_roles` makes such callers admin,
/// so the stock trusted-headers configuration must serve the CLI.
#[test]
fn barbican_cli_with_trusted_headers() {
    let venv = compat_venv();
    let arca = Arca::start_trusted_headers();
    let mut cmd = python_script(&venv, "barbican_cli_test.py");
    cmd.env("ARCA_URL", &arca.base_url)
        .env("BARBICAN", venv.join("bin/barbican"));
    run_compat(&arca, "barbican_cli_test.py", cmd, "barbican CLI");
}

/// What an authenticating proxy sends in trusted-headers mode: identity and roles come
/// from X-Project-Id / X-User-Id / X-Roles, and the roles are enforced.
#[test]
fn trusted_headers_identity_and_roles() {
    let arca = Arca::start_trusted_headers();
    let (url, client) = (&arca.base_url, &arca.http);
    rt().block_on(async {
        let post = |project: Option<&str>, roles: Option<&str>| {
            let mut req = client
                .post(format!("{url}/v1/secrets"))
                .header("X-User-Id", "proxy-user")
                .json(&serde_json::json!({
                    "name": "th",
                    "payload": "trusted",
                    "payload_content_type": "text/plain",
                }));
            if let Some(p) = project {
                req = req.header("X-Project-Id", p);
            }
            if let Some(r) = roles {
                req = req.header("X-Roles", r);
            }
            async move {
                let resp = req.send().await.expect("POST /v1/secrets");
                let status = resp.status().as_u16();
                (status, resp.text().await.unwrap_or_default())
            }
        };
        let (status, body) = post(Some("p1"), Some("creator")).await;
        assert_eq!(status, 201, "X-Roles: creator may store: {body}");
        let secret_ref =
            serde_json::from_str::<serde_json::Value>(&body).expect("json")["secret_ref"]
                .as_str()
                .expect("secret_ref")
                .to_string();
        let payload_url = format!("{url}/v1/secrets/{}/payload", secret_id(&secret_ref));

        let (status, body) = post(Some("p1"), Some("observer")).await;
        assert_eq!(status, 403, "X-Roles: observer may not store: {body}");
        let (status, body) = post(None, Some("admin")).await;
        // Barbican's UnauthenticatedContextMiddleware: HTTPBadRequest('Missing X-Project-Id').
        assert_eq!(status, 400, "no X-Project-Id is 400 as in Barbican: {body}");

        let get = |project: &'static str, roles: &'static str| {
            let req = client
                .get(&payload_url)
                .header("X-Project-Id", project)
                .header("X-User-Id", "proxy-user")
                .header("X-Roles", roles)
                .header("Accept", "text/plain");
            async move {
                let resp = req.send().await.expect("GET payload");
                (
                    resp.status().as_u16(),
                    resp.text().await.unwrap_or_default(),
                )
            }
        };
        assert_eq!(
            get("p1", "observer").await,
            (200, "trusted".to_string()),
            "observer reads in p1"
        );
        let (status, body) = get("p2", "admin").await;
        assert!(
            !(200..300).contains(&status) && !body.contains("trusted"),
            "another project must not read it: {status} {body}"
        );
    });
}
