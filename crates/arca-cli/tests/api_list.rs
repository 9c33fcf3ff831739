//! `GET /v1/secrets`: paging, filters, sorting and project scoping.
//!
//! Reference: doc/source/api/reference/secrets.rst (parameters, date filters, sort keys);
//! barbican/api/controllers/secrets.py SecretsController.on_get (`bits` that is not an integer
//! is ignored, bad date filters / sort → 400 "URI provided invalid query string parameters.",
//! empty page → `{"secrets": [], "total": N}`); barbican/model/repositories.py
//! `clean_paging_values` (offset < 0 or not a number → 0; limit < 1 → 1, > 100 → 100, not a
//! number → 10) and `get_secret_list`; barbican/common/hrefs.py `add_nav_hrefs` (`previous` when
//! offset > 0, `next` when total > offset + limit).

mod common;
use common::*;

async fn list(arca: &Arca, token: &str, query: &str) -> Value {
    let path = if query.is_empty() {
        "/v1/secrets".to_string()
    } else {
        format!("/v1/secrets?{query}")
    };
    let r = send(arca.req(Method::GET, &path, token)).await;
    assert_eq!(r.status, 200, "GET {path}: {}", r.text());
    assert!(
        r.content_type().starts_with("application/json"),
        "{}",
        r.content_type()
    );
    r.json()
}

fn names(v: &Value) -> Vec<String> {
    v["secrets"]
        .as_array()
        .unwrap_or_else(|| panic!("secrets must be a list: {v}"))
        .iter()
        .map(|s| s["name"].as_str().unwrap_or("<null>").to_string())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn create_n(arca: &Arca, n: usize, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..n {
        let name = format!("{prefix}{i:03}");
        arca.create_text_secret(&arca.admin_token, &name, "x").await;
        out.push(name);
    }
    out
}

fn assert_nav(link: &Value, offset: u64, limit: u64) {
    let url = link
        .as_str()
        .unwrap_or_else(|| panic!("nav link must be a string: {link}"));
    assert!(url.starts_with("http"), "{url}");
    let path = url.split('?').next().unwrap_or("");
    assert!(
        path.ends_with("/v1/secrets"),
        "nav link {url} must point at /v1/secrets"
    );
    assert_eq!(
        query_param(url, "offset").as_deref(),
        Some(offset.to_string().as_str()),
        "{url}"
    );
    assert_eq!(
        query_param(url, "limit").as_deref(),
        Some(limit.to_string().as_str()),
        "{url}"
    );
}

#[tokio::test]
async fn empty_list() {
    let arca = Arca::start();
    let v = list(&arca, &arca.admin_token, "").await;
    assert_eq!(v, json!({"secrets": [], "total": 0}));
}

#[tokio::test]
async fn list_entries_are_full_secret_metadata() {
    let arca = Arca::start();
    let id = arca
        .create_secret(
            &arca.admin_token,
            json!({"name": "entry", "algorithm": "aes", "bit_length": 256, "mode": "cbc",
                   "secret_type": "symmetric", "expiration": "2099-01-01T00:00:00Z",
                   "payload": b64(&random_bytes(32)),
                   "payload_content_type": "application/octet-stream",
                   "payload_content_encoding": "base64"}),
        )
        .await;
    let v = list(&arca, &arca.admin_token, "").await;
    assert_eq!(v["total"], 1, "{v}");
    let s = &v["secrets"][0];
    let meta = arca.secret_meta(&arca.admin_token, &id).await;
    assert_eq!(
        s, &meta,
        "a list entry is the same document as GET /v1/secrets/{{id}}"
    );
    assert!(
        v.get("next").is_none() && v.get("previous").is_none(),
        "{v}"
    );
}

#[tokio::test]
async fn default_page_is_ten_with_next_link() {
    let arca = Arca::start();
    let all = create_n(&arca, 12, "s").await;

    let p1 = list(&arca, &arca.admin_token, "").await;
    assert_eq!(p1["total"], 12, "{p1}");
    assert_eq!(
        p1["secrets"].as_array().map(Vec::len),
        Some(10),
        "default limit is 10"
    );
    assert!(
        p1.get("previous").is_none(),
        "no previous on the first page: {p1}"
    );
    assert_nav(&p1["next"], 10, 10);

    let p2 = list(&arca, &arca.admin_token, "offset=10").await;
    assert_eq!(p2["total"], 12, "{p2}");
    assert_eq!(p2["secrets"].as_array().map(Vec::len), Some(2), "{p2}");
    assert!(p2.get("next").is_none(), "no next on the last page: {p2}");
    assert_nav(&p2["previous"], 0, 10);

    let mut seen = names(&p1);
    seen.extend(names(&p2));
    assert_eq!(
        sorted(seen),
        all,
        "the two pages are the whole list, without duplicates"
    );
}

#[tokio::test]
async fn limit_and_offset_page_through_everything() {
    let arca = Arca::start();
    let all = create_n(&arca, 7, "p").await;
    let mut seen = Vec::new();
    let mut offset = 0;
    while offset < 7 {
        let v = list(
            &arca,
            &arca.admin_token,
            &format!("limit=3&offset={offset}"),
        )
        .await;
        assert_eq!(v["total"], 7, "{v}");
        let got = names(&v);
        assert_eq!(got.len(), (7 - offset).min(3), "{v}");
        if offset > 0 {
            assert_nav(&v["previous"], offset.saturating_sub(3) as u64, 3);
        } else {
            assert!(v.get("previous").is_none(), "{v}");
        }
        if offset + 3 < 7 {
            assert_nav(&v["next"], (offset + 3) as u64, 3);
        } else {
            assert!(v.get("next").is_none(), "{v}");
        }
        seen.extend(got);
        offset += 3;
    }
    assert_eq!(sorted(seen), all);

    // previous never goes below 0 (hrefs.previous_href: max(0, offset - limit)).
    let v = list(&arca, &arca.admin_token, "limit=5&offset=2").await;
    assert_nav(&v["previous"], 0, 5);
}

#[tokio::test]
async fn offset_past_the_end_is_an_empty_page_with_the_total() {
    let arca = Arca::start();
    create_n(&arca, 3, "e").await;
    let v = list(&arca, &arca.admin_token, "offset=50").await;
    assert_eq!(v, json!({"secrets": [], "total": 3}));
}

#[tokio::test]
async fn limit_is_capped_at_100() {
    let arca = Arca::start();
    create_n(&arca, 102, "c").await;
    let v = list(&arca, &arca.admin_token, "limit=1000").await;
    assert_eq!(v["total"], 102, "{}", v["total"]);
    assert_eq!(
        v["secrets"].as_array().map(Vec::len),
        Some(100),
        "limit is capped at 100"
    );
    assert_nav(&v["next"], 100, 100);
    let v = list(&arca, &arca.admin_token, "limit=100&offset=100").await;
    assert_eq!(v["secrets"].as_array().map(Vec::len), Some(2));
    assert_nav(&v["previous"], 0, 100);
}

#[tokio::test]
async fn bad_paging_values_fall_back_like_barbican() {
    // repositories.clean_paging_values never rejects: it clamps or falls back to defaults.
    let arca = Arca::start();
    create_n(&arca, 12, "b").await;
    let count = |v: &Value| v["secrets"].as_array().map(Vec::len).unwrap_or(usize::MAX);

    let v = list(&arca, &arca.admin_token, "limit=0").await;
    assert_eq!(count(&v), 1, "limit < 1 → 1: {v}");
    let v = list(&arca, &arca.admin_token, "limit=-5").await;
    assert_eq!(count(&v), 1, "limit < 1 → 1: {v}");
    let v = list(&arca, &arca.admin_token, "limit=abc").await;
    assert_eq!(count(&v), 10, "limit not a number → default 10: {v}");
    let v = list(&arca, &arca.admin_token, "offset=-3").await;
    assert_eq!(count(&v), 10, "offset < 0 → 0: {v}");
    assert!(v.get("previous").is_none(), "{v}");
    let v = list(&arca, &arca.admin_token, "offset=abc&limit=4").await;
    assert_eq!(count(&v), 4, "{v}");
    assert!(v.get("previous").is_none(), "offset not a number → 0: {v}");
    assert_nav(&v["next"], 4, 4);
    let v = list(&arca, &arca.admin_token, "limit=&offset=").await;
    assert_eq!(count(&v), 10, "empty values → defaults: {v}");
    let v = list(
        &arca,
        &arca.admin_token,
        "limit=99999999999999999999999&offset=1",
    )
    .await;
    assert_eq!(count(&v), 11, "huge limit is capped, not an error: {v}");
}

#[tokio::test]
async fn next_link_keeps_the_other_query_parameters() {
    // NOTE: Barbican 23's hrefs.add_nav_hrefs builds `secrets?limit=L&offset=O` only and drops
    // the filters; keeping them is an Arca requirement from the test brief (following `next`
    // must continue the same filtered listing).
    let arca = Arca::start();
    for i in 0..5 {
        arca.create_secret(
            &arca.admin_token,
            json!({"name": "keep me", "algorithm": "aes", "payload": format!("k{i}"),
                   "payload_content_type": "text/plain"}),
        )
        .await;
        arca.create_text_secret(&arca.admin_token, &format!("other{i}"), "x")
            .await;
    }
    let v = list(
        &arca,
        &arca.admin_token,
        "name=keep%20me&alg=aes&sort=created:asc&limit=2",
    )
    .await;
    assert_eq!(v["total"], 5, "{v}");
    let next = v["next"]
        .as_str()
        .unwrap_or_else(|| panic!("next: {v}"))
        .to_string();
    assert_nav(&v["next"], 2, 2);
    assert_eq!(
        query_param(&next, "name").as_deref(),
        Some("keep me"),
        "{next}"
    );
    assert_eq!(query_param(&next, "alg").as_deref(), Some("aes"), "{next}");
    assert_eq!(
        query_param(&next, "sort").as_deref(),
        Some("created:asc"),
        "{next}"
    );

    // Following next (same path and query on our server) continues the filtered list.
    let path_and_query = &next[next.find("/v1/secrets").expect("path")..];
    let r = send(arca.admin(Method::GET, path_and_query)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v2 = r.json();
    assert_eq!(names(&v2), vec!["keep me", "keep me"], "{v2}");
    assert_nav(&v2["previous"], 0, 2);
    assert_eq!(
        query_param(v2["previous"].as_str().unwrap_or(""), "name").as_deref(),
        Some("keep me")
    );
}

#[tokio::test]
async fn only_the_callers_project_is_listed() {
    let arca = Arca::start();
    let a = arca.token("project-a", "alice", "creator");
    let b = arca.token("project-b", "bob", "creator");
    let a_obs = arca.token("project-a", "olga", "observer");
    arca.create_text_secret(&a, "a1", "x").await;
    arca.create_text_secret(&a, "a2", "x").await;
    arca.create_text_secret(&b, "b1", "x").await;

    assert_eq!(sorted(names(&list(&arca, &a, "").await)), vec!["a1", "a2"]);
    assert_eq!(list(&arca, &a, "").await["total"], 2);
    assert_eq!(names(&list(&arca, &b, "").await), vec!["b1"]);
    assert_eq!(
        sorted(names(&list(&arca, &a_obs, "").await)),
        vec!["a1", "a2"]
    );
    // The admin of project "admin" sees only project "admin".
    assert_eq!(
        list(&arca, &arca.admin_token, "").await,
        json!({"secrets": [], "total": 0})
    );
    // Filters do not leak other projects either.
    assert_eq!(list(&arca, &b, "name=a1").await["total"], 0);
}

#[tokio::test]
async fn filter_by_name_alg_mode_bits_and_secret_type() {
    let arca = Arca::start();
    let t = arca.admin_token.clone();
    let mk = |name: &str, alg: &str, mode: &str, bits: u32, st: &str| {
        json!({"name": name, "algorithm": alg, "mode": mode, "bit_length": bits, "secret_type": st,
               "payload": b64(&random_bytes(16)), "payload_content_type": "application/octet-stream",
               "payload_content_encoding": "base64"})
    };
    arca.create_secret(&t, mk("alpha", "aes", "cbc", 256, "symmetric"))
        .await;
    arca.create_secret(&t, mk("beta", "aes", "gcm", 128, "symmetric"))
        .await;
    arca.create_secret(&t, mk("gamma", "rsa", "none", 2048, "private"))
        .await;
    arca.create_secret(&t, mk("my secret", "hmac", "cbc", 256, "opaque"))
        .await;
    arca.create_secret(
        &t,
        json!({"name": "delta", "secret_type": "passphrase", "payload": "pw",
               "payload_content_type": "text/plain"}),
    )
    .await;

    let q = |query: &'static str| {
        let arca = &arca;
        let t = t.clone();
        async move { sorted(names(&list(arca, &t, query).await)) }
    };
    assert_eq!(q("name=alpha").await, vec!["alpha"]);
    assert_eq!(q("name=my%20secret").await, vec!["my secret"]);
    assert_eq!(
        q("name=my+secret").await,
        vec!["my secret"],
        "+ is a space in a query"
    );
    assert_eq!(q("name=nope").await, Vec::<String>::new());
    assert_eq!(q("alg=aes").await, vec!["alpha", "beta"]);
    assert_eq!(q("mode=cbc").await, vec!["alpha", "my secret"]);
    assert_eq!(q("bits=256").await, vec!["alpha", "my secret"]);
    assert_eq!(q("bits=2048").await, vec!["gamma"]);
    assert_eq!(q("secret_type=symmetric").await, vec!["alpha", "beta"]);
    assert_eq!(q("secret_type=passphrase").await, vec!["delta"]);
    assert_eq!(q("alg=aes&mode=cbc&bits=256").await, vec!["alpha"]);
    assert_eq!(
        q("alg=aes&bits=128&secret_type=symmetric").await,
        vec!["beta"]
    );
    // secrets.py: "as per Github issue 171, if bits is invalid then the default should be used"
    // → a non-integer bits is no filter at all.
    assert_eq!(q("bits=abc").await.len(), 5);
    assert_eq!(
        q("bits=0").await.len(),
        5,
        "bits=0 is no filter (bits > 0 is required)"
    );
    let v = list(&arca, &t, "alg=aes").await;
    assert_eq!(v["total"], 2, "total counts the filtered set: {v}");
}

#[tokio::test]
async fn filter_by_created_and_updated_dates() {
    let arca = Arca::start();
    let t = arca.admin_token.clone();
    let before = iso_utc(-3600);
    arca.create_text_secret(&t, "old", "x").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // Whole-second boundary strictly after "old" was created and strictly before "new" is.
    let boundary = iso_utc(0);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    arca.create_text_secret(&t, "new", "x").await;
    let after = iso_utc(3600);

    let q = |query: String| {
        let arca = &arca;
        let t = t.clone();
        async move { sorted(names(&list(arca, &t, &query).await)) }
    };
    assert_eq!(q(format!("created=gt:{boundary}")).await, vec!["new"]);
    assert_eq!(q(format!("created=gte:{boundary}")).await, vec!["new"]);
    assert_eq!(q(format!("created=lt:{boundary}")).await, vec!["old"]);
    assert_eq!(q(format!("created=lte:{boundary}")).await, vec!["old"]);
    assert_eq!(
        q(format!("created=gt:{before},lt:{after}")).await,
        vec!["new", "old"]
    );
    assert_eq!(
        q(format!("created=gte:{before},lte:{boundary}")).await,
        vec!["old"]
    );
    assert_eq!(q(format!("created=gt:{after}")).await, Vec::<String>::new());
    assert_eq!(q(format!("updated=gt:{boundary}")).await, vec!["new"]);
    assert_eq!(q(format!("updated=lt:{boundary}")).await, vec!["old"]);
    // ISO 8601 with an explicit UTC designator is accepted too.
    assert_eq!(q(format!("created=gt:{boundary}Z")).await, vec!["new"]);
}

#[tokio::test]
async fn filter_by_expiration() {
    let arca = Arca::start();
    let t = arca.admin_token.clone();
    for (name, exp) in [
        ("e2030", Some("2030-01-01T00:00:00")),
        ("e2031", Some("2031-06-01T00:00:00")),
        ("never", None),
    ] {
        let mut body = json!({"name": name, "payload": "x", "payload_content_type": "text/plain"});
        if let Some(exp) = exp {
            body["expiration"] = json!(exp);
        }
        arca.create_secret(&t, body).await;
    }
    let q = |query: &'static str| {
        let arca = &arca;
        let t = t.clone();
        async move { sorted(names(&list(arca, &t, query).await)) }
    };
    assert_eq!(q("expiration=gt:2030-06-01T00:00:00").await, vec!["e2031"]);
    assert_eq!(q("expiration=lt:2030-06-01T00:00:00").await, vec!["e2030"]);
    assert_eq!(
        q("expiration=gte:2030-01-01T00:00:00,lt:2032-01-01T00:00:00").await,
        vec!["e2030", "e2031"]
    );
    assert_eq!(q("expiration=lte:2030-01-01T00:00:00").await, vec!["e2030"]);
    assert_eq!(
        q("expiration=2030-01-01T00:00:00").await,
        vec!["e2030"],
        "a bare date is equality"
    );
    assert_eq!(q("").await, vec!["e2030", "e2031", "never"]);
}

#[tokio::test]
async fn sort_orders_the_list() {
    let arca = Arca::start();
    let t = arca.admin_token.clone();
    arca.create_secret(
        &t,
        json!({"name": "m", "mode": "b", "payload": "x", "payload_content_type": "text/plain"}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    arca.create_secret(
        &t,
        json!({"name": "z", "mode": "a", "payload": "x", "payload_content_type": "text/plain"}),
    )
    .await;
    arca.create_secret(
        &t,
        json!({"name": "a", "mode": "c", "payload": "x", "payload_content_type": "text/plain"}),
    )
    .await;

    let q = |query: &'static str| {
        let arca = &arca;
        let t = t.clone();
        async move { names(&list(arca, &t, query).await) }
    };
    assert_eq!(
        q("sort=name").await,
        vec!["a", "m", "z"],
        "direction defaults to asc"
    );
    assert_eq!(q("sort=name:asc").await, vec!["a", "m", "z"]);
    assert_eq!(q("sort=name:desc").await, vec!["z", "m", "a"]);
    assert_eq!(q("sort=mode:asc").await, vec!["z", "m", "a"]);
    // "m" is a second older than "z" and "a"; whatever the timestamp precision, newest first
    // then name ascending gives a, z, m.
    assert_eq!(q("sort=created:desc,name:asc").await, vec!["a", "z", "m"]);
    assert_eq!(q("sort=created:asc,name:desc").await, vec!["m", "z", "a"]);
    assert_eq!(q("sort=updated:desc,name:asc").await, vec!["a", "z", "m"]);
    // Sorting applies before paging.
    assert_eq!(q("sort=name:desc&limit=2").await, vec!["z", "m"]);
    assert_eq!(q("sort=name:desc&limit=2&offset=2").await, vec!["a"]);
    // Every documented key is accepted.
    for key in [
        "algorithm",
        "bit_length",
        "created",
        "expiration",
        "mode",
        "name",
        "secret_type",
        "status",
        "updated",
    ] {
        let r = send(arca.admin(Method::GET, &format!("/v1/secrets?sort={key}:desc"))).await;
        assert_eq!(r.status, 200, "sort key {key}: {}", r.text());
        assert_eq!(r.json()["total"], 3);
    }
}
