//! Real-client compatibility: python-barbicanclient (token auth, no Keystone) and the
//! `barbican` CLI (`--no-auth`, trusted-headers mode) against a real `arca server`, by
//! running the scripts in `tests/compat/` with the virtualenv `scripts/test` creates
//! (`$ARCA_COMPAT_VENV`, default `<repo>/.venv`). A missing virtualenv fails the test.

mod support;

use std::time::Duration;

use support::{Server, ServerOpts, compat_venv, http, id_of, init, repo_root, rt, run_script};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

fn python_script(venv: &std::path::Path, script: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(venv.join("bin/python"));
    cmd.arg(repo_root().join("tests/compat").join(script))
        .current_dir(repo_root())
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("OS_AUTH_URL")
        .env_remove("OS_AUTH_TOKEN")
        .env_remove("BARBICAN_ENDPOINT")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .stdin(std::process::Stdio::null());
    cmd
}

#[test]
fn python_barbicanclient_with_token() {
    let venv = compat_venv();
    let d = init();
    let server = Server::start(&d.dir);
    let mut cmd = python_script(&venv, "barbicanclient_test.py");
    cmd.env("ARCA_URL", &server.url)
        .env("ARCA_TOKEN", &d.admin_token);
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_script("barbicanclient_test.py", &mut cmd, SCRIPT_TIMEOUT)
    }));
    if out.is_err() {
        eprintln!("--- arca server stderr ---\n{}", server.stderr());
        panic!("python-barbicanclient compatibility failed (output above)");
    }
}

/// `barbican --no-auth` sends `X-Project-Id` only (no `X-Roles`, no `X-User-Id`); like Barbican's
/// unauthenticated context, Arca's default `auth.trusted_default_roles` makes such callers admin,
/// so the stock trusted-headers configuration must serve the CLI.
#[test]
fn barbican_cli_with_trusted_headers() {
    let venv = compat_venv();
    let d = init();
    let server =
        Server::start_with(ServerOpts::new(&d.dir).env("ARCA_AUTH_MODE", "trusted-headers"))
            .unwrap_or_else(|f| panic!("trusted-headers server did not start\n{}", f.describe()));
    let mut cmd = python_script(&venv, "barbican_cli_test.py");
    cmd.env("ARCA_URL", &server.url)
        .env("BARBICAN", venv.join("bin/barbican"));
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_script("barbican_cli_test.py", &mut cmd, SCRIPT_TIMEOUT)
    }));
    if out.is_err() {
        eprintln!("--- arca server stderr ---\n{}", server.stderr());
        panic!("barbican CLI compatibility failed (output above)");
    }
}

/// What an authenticating proxy sends in trusted-headers mode: identity and roles come
/// from X-Project-Id / X-User-Id / X-Roles, and the roles are enforced.
#[test]
fn trusted_headers_identity_and_roles() {
    let d = init();
    let server =
        Server::start_with(ServerOpts::new(&d.dir).env("ARCA_AUTH_MODE", "trusted-headers"))
            .unwrap_or_else(|f| panic!("trusted-headers server did not start\n{}", f.describe()));
    let url = server.url.clone();
    let client = http();
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
        let payload_url = format!("{url}/v1/secrets/{}/payload", id_of(&secret_ref));

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
