//! Shamir custody end to end through the `arca` binary: `arca init --root shamir --shares 5 --threshold 3`
//! writes five share files; the server starts sealed (`/readyz` not ready, the API 503 "sealed"); `arca unseal`
//! with two shares leaves it sealed, a duplicate and a foreign share are refused (400), the third unseals;
//! secrets work; `arca seal` seals it again (503); a restart starts sealed and the secret reads back after an
//! unseal.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;

/// `arca init --root shamir` into `TMP/data` (on PostgreSQL on a fresh database kept in `dbs`).
fn init_shamir(dbs: &Databases, tmp: &Path, shares: &str, threshold: &str) -> Run {
    run(
        arca()
            .args(["init", "--data-dir"])
            .arg(tmp.join("data"))
            .args([
                "--root",
                "shamir",
                "--shares",
                shares,
                "--threshold",
                threshold,
            ])
            .args(dbs.init_args()),
        COMMAND_TIMEOUT,
    )
}

fn metrics_url(server: &Server) -> String {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let out = server.stdout();
        if let Some(url) = out
            .lines()
            .find_map(|l| l.trim().strip_prefix("metrics on "))
        {
            return url.trim().to_owned();
        }
        assert!(Instant::now() < deadline, "no `metrics on` line:\n{out}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn unseal(server: &Server, share: &Path) -> Run {
    run(
        arca()
            .args(["unseal", "--share"])
            .arg(share)
            .env("ARCA_URL", &server.url),
        COMMAND_TIMEOUT,
    )
}

fn readyz(server: &Server) -> u16 {
    let url = format!("{}/readyz", metrics_url(server));
    rt().block_on(async { http().get(url).send().await.unwrap().status().as_u16() })
}

fn store(server: &Server, token: &str) -> Run {
    run(
        arca()
            .args(["secret", "store", "--payload", "kept through seals"])
            .env("ARCA_URL", &server.url)
            .env("ARCA_TOKEN", token),
        COMMAND_TIMEOUT,
    )
}

fn get(server: &Server, token: &str, reference: &str) -> Run {
    run(
        arca()
            .args(["secret", "get", reference, "--payload"])
            .env("ARCA_URL", &server.url)
            .env("ARCA_TOKEN", token),
        COMMAND_TIMEOUT,
    )
}

fn assert_sealed_503(server: &Server, token: &str) {
    let refused = store(server, token);
    assert!(!refused.status.success(), "{}", refused.describe());
    assert!(
        refused.stderr.contains("503") && refused.stderr.contains("sealed"),
        "{}",
        refused.describe()
    );
}

#[test]
fn refused_thresholds_name_the_rule() {
    let dbs = Databases::new();
    let tmp = tempfile::tempdir().unwrap();
    for (n, m) in [("5", "1"), ("3", "4"), ("17", "3")] {
        let out = init_shamir(&dbs, tmp.path(), n, m);
        assert!(!out.status.success(), "{}", out.describe());
        assert!(
            out.stderr.contains("2 ≤ threshold ≤ shares ≤ 16"),
            "{}",
            out.describe()
        );
    }
    let out = run(
        arca()
            .args(["init", "--data-dir"])
            .arg(tmp.path().join("data"))
            .args(["--root", "shamir"]),
        COMMAND_TIMEOUT,
    );
    assert!(
        out.stderr.contains("--shares N and --threshold M"),
        "{}",
        out.describe()
    );
}

#[test]
fn init_unseal_seal_restart() {
    let dbs = Databases::new();
    let tmp = tempfile::tempdir().unwrap();
    let init = init_shamir(&dbs, tmp.path(), "5", "3").ok("arca init --root shamir");
    let data = tmp.path().join("data");
    let token = init.last_line();
    let shares: Vec<PathBuf> = (1..=5)
        .map(|i| data.join(format!("unseal-share-{i}")))
        .collect();
    for share in &shares {
        assert_eq!(mode_of(share), 0o400, "{}", share.display());
        assert!(init.stdout_str().contains(&share.display().to_string()));
    }
    assert_eq!(mode_of(&data.join("root.sealed")), 0o400);
    assert!(
        init.stdout_str().contains("custodian"),
        "{}",
        init.describe()
    );
    // Another deployment's share.
    let other = tempfile::tempdir().unwrap();
    init_shamir(&dbs, other.path(), "5", "3").ok("the other deployment");
    let foreign = other.path().join("data/unseal-share-1");

    let mut server = Server::start(&data);
    assert_eq!(readyz(&server), 503, "not ready while sealed");
    assert_sealed_503(&server, &token);

    let one = unseal(&server, &shares[0]).ok("first share");
    assert!(
        one.stdout_str().contains("sealed: 1 of 3"),
        "{}",
        one.describe()
    );
    let dup = unseal(&server, &shares[0]);
    assert!(
        !dup.status.success() && dup.stderr.contains("400"),
        "{}",
        dup.describe()
    );
    let two = unseal(&server, &shares[3]).ok("second share");
    assert!(
        two.stdout_str().contains("sealed: 2 of 3"),
        "{}",
        two.describe()
    );
    let bad = unseal(&server, &foreign);
    assert!(
        !bad.status.success() && bad.stderr.contains("400") && bad.stderr.contains("another"),
        "{}",
        bad.describe()
    );
    assert_sealed_503(&server, &token);
    let three = unseal(&server, &shares[4]).ok("third share");
    assert!(
        three.stdout_str().contains("unsealed"),
        "{}",
        three.describe()
    );
    assert_eq!(readyz(&server), 200);

    let reference = store(&server, &token).ok("store").last_line();
    assert!(
        get(&server, &token, &reference)
            .ok("get")
            .stdout_str()
            .contains("kept through seals")
    );

    let sealed = run(
        arca()
            .arg("seal")
            .env("ARCA_URL", &server.url)
            .env("ARCA_TOKEN", &token),
        COMMAND_TIMEOUT,
    )
    .ok("arca seal");
    assert!(
        sealed.stdout_str().contains("sealed: 0 of 3"),
        "{}",
        sealed.describe()
    );
    assert_sealed_503(&server, &token);
    assert_eq!(readyz(&server), 503);

    // The unseal and the seal are on the audit chain (its JSON lines).
    let audit = std::fs::read_to_string(data.join("audit.jsonl")).unwrap_or_default();
    for action in ["\"sys.unseal\"", "\"sys.seal\""] {
        assert!(audit.contains(action), "{action} missing from\n{audit}");
    }

    server.stop();
    let server = Server::start(&data);
    assert_eq!(readyz(&server), 503, "a restart starts sealed");
    for share in [&shares[1], &shares[2], &shares[3]] {
        unseal(&server, share).ok("unseal after restart");
    }
    assert!(
        get(&server, &token, &reference)
            .ok("get after restart")
            .stdout_str()
            .contains("kept through seals")
    );
}

/// Offline commands in Shamir custody unseal in-process from `ARCA_UNSEAL_SHARES`: with M shares `arca token
/// create` and `arca audit verify` work; with fewer, or a foreign share, they fail naming the variable; without
/// it they fail with the sealed message. A server refuses the variable.
#[test]
fn offline_commands_unseal_from_share_files() {
    let dbs = Databases::new();
    let tmp = tempfile::tempdir().unwrap();
    init_shamir(&dbs, tmp.path(), "4", "2").ok("arca init --root shamir");
    let data = tmp.path().join("data");
    let share = |i: u32| data.join(format!("unseal-share-{i}")).display().to_string();
    let token_create = |shares: Option<String>| {
        let mut cmd = arca();
        cmd.args(["token", "create", "--data-dir"])
            .arg(&data)
            .args(["--project", "p", "--user", "u", "--roles", "creator"]);
        if let Some(s) = shares {
            cmd.env("ARCA_UNSEAL_SHARES", s);
        }
        run(&mut cmd, COMMAND_TIMEOUT)
    };
    let sealed = token_create(None);
    assert!(!sealed.status.success());
    assert!(sealed.stderr.contains("sealed"), "{}", sealed.describe());
    let short = token_create(Some(share(1)));
    assert!(!short.status.success());
    assert!(
        short
            .stderr
            .contains("ARCA_UNSEAL_SHARES holds 1 valid shares; 2 of the 4"),
        "{}",
        short.describe()
    );
    let other = tempfile::tempdir().unwrap();
    init_shamir(&dbs, other.path(), "2", "2").ok("another deployment");
    let foreign = other
        .path()
        .join("data/unseal-share-1")
        .display()
        .to_string();
    let refused = token_create(Some(format!("{},{foreign}", share(1))));
    assert!(!refused.status.success());
    assert!(
        refused.stderr.contains("is refused"),
        "{}",
        refused.describe()
    );
    let made =
        token_create(Some(format!("{}, {}", share(2), share(4)))).ok("token create with 2 shares");
    assert!(made.last_line().starts_with("arca_"), "{}", made.describe());
    run(
        arca()
            .args(["audit", "verify", "--data-dir"])
            .arg(&data)
            .env("ARCA_UNSEAL_SHARES", format!("{},{}", share(1), share(3))),
        COMMAND_TIMEOUT,
    )
    .ok("audit verify with 2 shares");
    let server = run(
        arca()
            .args(["server", "--data-dir"])
            .arg(&data)
            .env("ARCA_UNSEAL_SHARES", share(1)),
        COMMAND_TIMEOUT,
    );
    assert!(!server.status.success());
    assert!(
        server.stderr.contains("arca unseal"),
        "{}",
        server.describe()
    );
}

/// Root rotation in Shamir custody: `arca root rotate` (unsealed in-process from `ARCA_UNSEAL_SHARES`) adds a
/// root key version sealed under the same unseal key, rewraps every key and retires the old version; the same
/// shares then unseal a restarted server, which reads the secret stored before the rotation.
#[test]
fn root_rotation_keeps_the_shares() {
    let dbs = Databases::new();
    let tmp = tempfile::tempdir().unwrap();
    let init = init_shamir(&dbs, tmp.path(), "3", "2").ok("arca init --root shamir");
    let token = init.last_line();
    let data = tmp.path().join("data");
    let share = |i: u32| data.join(format!("unseal-share-{i}"));
    let mut server = Server::start(&data);
    unseal(&server, &share(1)).ok("first share");
    unseal(&server, &share(3)).ok("second share");
    let reference = store(&server, &token).ok("store").last_line();
    server.stop();

    let rotated = run(
        arca()
            .args(["root", "rotate", "--settle", "0", "--data-dir"])
            .arg(&data)
            .env(
                "ARCA_UNSEAL_SHARES",
                format!("{},{}", share(2).display(), share(3).display()),
            ),
        COMMAND_TIMEOUT,
    )
    .ok("arca root rotate in Shamir custody");
    let said = rotated.stdout_str();
    assert!(
        said.contains("rotated to version 2") && said.contains("retired version(s) 1"),
        "{}",
        rotated.describe()
    );
    let server = Server::start(&data);
    assert_sealed_503(&server, &token);
    unseal(&server, &share(2)).ok("first share after rotation");
    unseal(&server, &share(1)).ok("second share after rotation");
    let read = get(&server, &token, &reference).ok("read after rotation");
    assert_eq!(read.stdout_str().trim(), "kept through seals");
}

/// While sealed the KMS API answers 503 `DependencyTimeoutException` naming the seal (even authentication
/// needs the access-key system key), and refused shares are throttled like authentication failures: past
/// `[auth] failure_limit` a share is answered 429.
#[test]
fn sealed_kms_is_503_and_refused_shares_are_throttled() {
    let dbs = Databases::new();
    let tmp = tempfile::tempdir().unwrap();
    init_shamir(&dbs, tmp.path(), "3", "2").ok("arca init --root shamir");
    let data = tmp.path().join("data");
    let share = |i: u32| data.join(format!("unseal-share-{i}"));
    let shares = format!("{},{}", share(1).display(), share(2).display());
    let issued = run(
        arca()
            .args(["access-key", "create", "--data-dir"])
            .arg(&data)
            .args(["--project", "p", "--user", "u", "--roles", "admin"])
            .env("ARCA_UNSEAL_SHARES", &shares),
        COMMAND_TIMEOUT,
    )
    .ok("access-key create with shares");
    let last = issued.last_line();
    let (akid, secret) = last.split_once(' ').unwrap();
    let server = Server::start_with(ServerOpts::new(&data).env("ARCA_AUTH_FAILURE_LIMIT", "2"))
        .unwrap_or_else(|f| panic!("{}", f.describe()));
    let listed = run(
        arca()
            .args(["key", "list"])
            .env("ARCA_URL", &server.url)
            .env("ARCA_ACCESS_KEY_ID", akid)
            .env("ARCA_SECRET_ACCESS_KEY", secret),
        COMMAND_TIMEOUT,
    );
    assert!(!listed.status.success());
    assert!(
        listed.stderr.contains("503")
            && listed.stderr.contains("DependencyTimeoutException")
            && listed.stderr.contains("sealed"),
        "{}",
        listed.describe()
    );
    let other = tempfile::tempdir().unwrap();
    init_shamir(&dbs, other.path(), "2", "2").ok("another deployment");
    let foreign = other.path().join("data/unseal-share-1");
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let refused = unseal(&server, &foreign);
        assert!(!refused.status.success());
        statuses.push(refused.stderr.clone());
    }
    assert!(statuses[0].contains("400"), "{statuses:?}");
    assert!(
        statuses.iter().any(|s| s.contains("429")),
        "refused shares are throttled: {statuses:?}"
    );
    // None of that unsealed anything.
    assert_eq!(readyz(&server), 503);
}
