//! Several secret stores from `[secret_stores.<name>]`: the secret-stores API lists what is configured, a
//! project's preferred store receives its new payloads (else the global default), every payload remembers its
//! store, `arca secret-store migrate` moves payloads between stores (audited), a store removed from the
//! configuration keeps its sealed payloads readable, and bad configurations are refused naming the problem.
//! (The external stores, KMIP and Vault, are exercised against real servers in secret_stores_external.rs.)

mod common;
use common::*;

use std::io::Write;
use std::path::Path;

const SOFTWARE_ID: &str = "8c0a4d6e-3f1b-5b7a-9e2d-6f4c1a0b9d37";

fn append_config(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open arca.toml");
    f.write_all(text.as_bytes()).expect("append to arca.toml");
}

fn replace_stores_config(path: &Path, stores: &str) {
    let text = std::fs::read_to_string(path).expect("read arca.toml");
    let base = text
        .split("\n[secret_stores.")
        .next()
        .unwrap_or(&text)
        .to_owned();
    std::fs::write(path, format!("{base}\n{stores}")).expect("write arca.toml");
}

/// `arca secret-store list` → (name, payloads held) per store.
fn store_counts(dir: &Path) -> Vec<(String, u64)> {
    let out = run(
        arca().args(["secret-store", "list", "--data-dir"]).arg(dir),
        COMMAND_TIMEOUT,
    )
    .ok("arca secret-store list");
    out.stdout_str()
        .lines()
        .map(|l| {
            let name = l.split_whitespace().next().unwrap_or_default().to_owned();
            let n = l
                .split_whitespace()
                .find_map(|w| w.strip_prefix("payloads="))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no payloads= in {l:?}"));
            (name, n)
        })
        .collect()
}

fn count_of(counts: &[(String, u64)], name: &str) -> u64 {
    counts
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, c)| *c)
        .unwrap_or_else(|| panic!("no store {name} in {counts:?}"))
}

const TWO_SOFTWARE_STORES: &str = r#"
[secret_stores.software]
plugin = "software"
global_default = true

[secret_stores.second]
plugin = "software"
display_name = "Second Software"
"#;

#[tokio::test]
async fn payloads_go_to_the_preferred_store_and_migrate_between_stores() {
    let data = init();
    append_config(&data.config(), TWO_SOFTWARE_STORES);
    let mut server = Server::start(&data.dir);
    let http = http();
    let admin = token_create(&data.dir, "p", "boss", "admin");
    let creator = token_create(&data.dir, "p", "alice", "creator");
    let get = |path: &str, token: &str| {
        http.get(format!("{}{path}", server.url))
            .header("X-Auth-Token", token.to_owned())
    };

    let list = send(get("/v1/secret-stores", &admin)).await;
    assert_eq!(list.status, 200, "{}", list.text());
    let stores = list.json()["secret_stores"].as_array().unwrap().clone();
    assert_eq!(stores.len(), 2, "{stores:?}");
    let default = stores
        .iter()
        .find(|s| s["global_default"] == true)
        .expect("a global default");
    assert_eq!(default["name"], "Software Only Crypto");
    assert!(
        default["secret_store_ref"]
            .as_str()
            .unwrap()
            .ends_with(SOFTWARE_ID),
        "the software store keeps the id it always had: {default}"
    );
    let second = stores
        .iter()
        .find(|s| s["name"] == "Second Software")
        .expect("the second store");
    assert_eq!(second["global_default"], false);
    assert_eq!(second["secret_store_plugin"], "store_crypto");
    let second_id = second["secret_store_ref"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();

    // No preference: the global default.
    let s1 = secret_id(
        &store_text(&http, &server.url, &creator, "s1", "first payload")
            .await
            .unwrap(),
    );
    // The project prefers the second store: new payloads go there.
    let r = send(
        http.post(format!(
            "{}/v1/secret-stores/{second_id}/preferred",
            server.url
        ))
        .header("X-Auth-Token", &admin),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let s2 = secret_id(
        &store_text(&http, &server.url, &creator, "s2", "second payload")
            .await
            .unwrap(),
    );
    // Another project without a preference still uses the default.
    let other = token_create(&data.dir, "q", "bob", "creator");
    let s3 = secret_id(
        &store_text(&http, &server.url, &other, "s3", "third payload")
            .await
            .unwrap(),
    );

    let counts = store_counts(&data.dir);
    assert_eq!(count_of(&counts, "software"), 2, "{counts:?}");
    assert_eq!(count_of(&counts, "second"), 1, "{counts:?}");
    for (id, token, want) in [
        (&s1, &creator, "first payload"),
        (&s2, &creator, "second payload"),
        (&s3, &other, "third payload"),
    ] {
        let (status, body) = get_payload(&http, &server.url, token, id).await;
        assert_eq!((status, body.as_slice()), (200, want.as_bytes()));
    }

    // Moving the second store's payloads to the default, while the server runs.
    let moved = run(
        arca()
            .args(["secret-store", "migrate", "--data-dir"])
            .arg(&data.dir)
            .args(["--from", "second", "--to", "software"]),
        COMMAND_TIMEOUT,
    )
    .ok("arca secret-store migrate");
    assert!(
        moved
            .stdout_str()
            .contains("moved 1 payloads from 'second' to 'software'"),
        "{}",
        moved.describe()
    );
    let counts = store_counts(&data.dir);
    assert_eq!(count_of(&counts, "software"), 3, "{counts:?}");
    assert_eq!(count_of(&counts, "second"), 0, "{counts:?}");
    let (status, body) = get_payload(&http, &server.url, &creator, &s2).await;
    assert_eq!((status, body.as_slice()), (200, &b"second payload"[..]));

    // A rerun has nothing left to move; bad names are refused with the configured names.
    let again = run(
        arca()
            .args(["secret-store", "migrate", "--data-dir"])
            .arg(&data.dir)
            .args(["--from", "second", "--to", "software"]),
        COMMAND_TIMEOUT,
    )
    .ok("arca secret-store migrate (rerun)");
    assert!(
        again.stdout_str().contains("moved 0 payloads"),
        "{}",
        again.describe()
    );
    for (from, to, want) in [
        ("nope", "software", "no secret store named 'nope'"),
        ("software", "software", "same secret store"),
    ] {
        let bad = run(
            arca()
                .args(["secret-store", "migrate", "--data-dir"])
                .arg(&data.dir)
                .args(["--from", from, "--to", to]),
            COMMAND_TIMEOUT,
        );
        assert!(!bad.status.success(), "{}", bad.describe());
        assert!(bad.stderr.contains(want), "{}", bad.describe());
    }

    // One more payload in the second store, then the second store leaves the configuration: it is no longer
    // listed, but what it sealed in the database stays readable.
    let s4 = secret_id(
        &store_text(&http, &server.url, &creator, "s4", "fourth payload")
            .await
            .unwrap(),
    );
    server.stop();
    replace_stores_config(
        &data.config(),
        "[secret_stores.software]\nplugin = \"software\"\nglobal_default = true\n",
    );
    let server = Server::start(&data.dir);
    let list = send(
        http.get(format!("{}/v1/secret-stores", server.url))
            .header("X-Auth-Token", &admin),
    )
    .await;
    assert_eq!(
        list.json()["secret_stores"].as_array().unwrap().len(),
        1,
        "{}",
        list.text()
    );
    let (status, body) = get_payload(&http, &server.url, &creator, &s4).await;
    assert_eq!((status, body.as_slice()), (200, &b"fourth payload"[..]));
    // The preference pointed at a store that is gone: new payloads go to the default.
    let s5 = secret_id(
        &store_text(&http, &server.url, &creator, "s5", "fifth")
            .await
            .unwrap(),
    );
    let (status, _) = get_payload(&http, &server.url, &creator, &s5).await;
    assert_eq!(status, 200);
    drop(server);

    let verify = run(
        arca()
            .args(["audit", "verify", "--data-dir"])
            .arg(&data.dir),
        COMMAND_TIMEOUT,
    );
    assert!(verify.status.success(), "{}", verify.describe());
    let log = std::fs::read_to_string(data.dir.join("audit.jsonl")).expect("audit.jsonl");
    assert!(
        log.contains("\"secret.store.migrate\""),
        "the move is audited"
    );
    assert!(log.contains("\"secret_store.migrate.start\""));
    assert!(
        log.contains(&s2),
        "the moved secret is named in the audit log"
    );
}

#[test]
fn bad_secret_store_configurations_are_refused_naming_the_problem() {
    let cases: &[(&str, &str)] = &[
        (
            "[secret_stores.a]\nplugin = \"software\"\n[secret_stores.b]\nplugin = \"software\"\n",
            "no secret store is the global default",
        ),
        (
            "[secret_stores.a]\nplugin = \"software\"\nglobal_default = true\n[secret_stores.b]\nplugin = \"software\"\nglobal_default = true\n",
            "several secret stores are the global default ('a', 'b')",
        ),
        (
            "[secret_stores.a]\nplugin = \"magic\"\nglobal_default = true\n",
            "plugin \"magic\" is not known",
        ),
        (
            "[secret_stores.a]\nplugin = \"dogtag\"\nglobal_default = true\n",
            "not available in this build",
        ),
        (
            "[secret_stores.a]\nplugin = \"pkcs11\"\nglobal_default = true\n",
            "provider = \"pkcs11\"",
        ),
        (
            "[secret_stores.k]\nplugin = \"kmip\"\nglobal_default = true\nhost = \"127.0.0.1\"\npassword = \"hunter2\"\n",
            "password must not be in arca.toml",
        ),
        (
            "[secret_stores.v]\nplugin = \"vault\"\nglobal_default = true\napprole_secret_id = \"s3cr3t-id\"\n",
            "approle_secret_id must not be in arca.toml",
        ),
        (
            "[secret_stores.k]\nplugin = \"kmip\"\nglobal_default = true\nport = 5696\n",
            "missing host",
        ),
        (
            "[secret_stores.v]\nplugin = \"vault\"\nglobal_default = true\nhost = \"127.0.0.1\"\n",
            "does not use host",
        ),
        (
            "[secret_stores.a]\nplugin = \"software\"\nglobal_default = true\nvault_url = \"http://x\"\n",
            "does not use vault_url",
        ),
        (
            "[secret_stores.\"a b\"]\nplugin = \"software\"\nglobal_default = true\n",
            "letters, digits",
        ),
        (
            "[secret_stores.a]\nplugin = \"software\"\nglobal_default = true\ncolour = \"blue\"\n",
            "unknown field",
        ),
    ];
    let data = init();
    for (stores, want) in cases {
        replace_stores_config(&data.config(), stores);
        let out = run(
            arca()
                .args(["secret-store", "list", "--data-dir"])
                .arg(&data.dir),
            COMMAND_TIMEOUT,
        );
        assert!(!out.status.success(), "{stores}\n{}", out.describe());
        assert!(
            out.stderr.contains(want),
            "{stores}: want {want:?}\n{}",
            out.describe()
        );
        assert!(!out.stderr.contains("hunter2") && !out.stderr.contains("s3cr3t-id"));
        // The server refuses to start on the same configuration.
        let started = Server::start_with(ServerOpts::new(&data.dir));
        let failure = started
            .err()
            .unwrap_or_else(|| panic!("the server started with {stores}"));
        assert!(
            failure.stderr.contains(want),
            "{stores}: {}",
            failure.describe()
        );
    }
}
