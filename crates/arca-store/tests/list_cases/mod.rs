//! The `list_secrets` cases every `Store` must pass, written once against `&dyn Store` and run by `list.rs`
//! (SQLite) and `postgres_core.rs` (PostgreSQL): project isolation, expiry, each exact filter, time filters with
//! every comparison, multi-key sorts in both directions (NULLs first ascending) with a stable `id` tiebreak, and
//! limit/offset/total.
#![allow(dead_code)] // each test binary may run a subset

use crate::common::*;
use arca_core::{
    Cmp, SecretQuery, SecretRecord, SecretType, SortDir, SortKey, Store, TimeField, TimeFilter,
};
use uuid::Uuid;

/// (name, algorithm, bit length, mode, type, expires at t0 + seconds)
type Spec = (
    Option<&'static str>,
    Option<&'static str>,
    Option<i64>,
    Option<&'static str>,
    SecretType,
    Option<i64>,
);

/// Five secrets in `p` created at t0+0…t0+4 with varied attributes, plus one in `q`. Returned in creation order.
pub async fn fixture(store: &dyn Store) -> Vec<SecretRecord> {
    let specs: [Spec; 5] = [
        (
            Some("alpha"),
            Some("aes"),
            Some(256),
            Some("cbc"),
            SecretType::Symmetric,
            None,
        ),
        (
            Some("bravo"),
            Some("aes"),
            Some(128),
            Some("gcm"),
            SecretType::Symmetric,
            Some(1000),
        ),
        (
            Some("charlie"),
            Some("rsa"),
            Some(2048),
            None,
            SecretType::Private,
            Some(2000),
        ),
        (None, None, None, None, SecretType::Opaque, None),
        (
            Some("alpha"),
            Some("aes"),
            Some(256),
            Some("gcm"),
            SecretType::Passphrase,
            Some(3000),
        ),
    ];
    let mut out = Vec::new();
    for (i, (name, alg, bits, mode, kind, expires)) in specs.into_iter().enumerate() {
        let mut s = secret("p", i as i64);
        s.name = name.map(str::to_owned);
        s.algorithm = alg.map(str::to_owned);
        s.bit_length = bits;
        s.mode = mode.map(str::to_owned);
        s.secret_type = kind;
        s.expiration = expires.map(at);
        s.updated = at(100 - i as i64);
        store.insert_secret(&s, None).await.unwrap();
        out.push(s);
    }
    store.insert_secret(&secret("q", 0), None).await.unwrap();
    out
}

pub fn query() -> SecretQuery {
    SecretQuery::for_project("p", at(10), 100, 0)
}

pub async fn ids(store: &dyn Store, q: &SecretQuery) -> Vec<Uuid> {
    let page = store.list_secrets(q).await.unwrap();
    page.secrets.iter().map(|s| s.id).collect()
}

pub fn pick(all: &[SecretRecord], order: &[usize]) -> Vec<Uuid> {
    order.iter().map(|&i| all[i].id).collect()
}

pub async fn default_order_is_newest_first_within_the_project(store: &dyn Store) {
    let all = fixture(store).await;
    let page = store.list_secrets(&query()).await.unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(
        page.secrets.iter().map(|s| s.id).collect::<Vec<_>>(),
        pick(&all, &[4, 3, 2, 1, 0])
    );
    assert_eq!(page.secrets[0], all[4], "rows come back whole");

    let other = store
        .list_secrets(&SecretQuery::for_project("q", at(10), 100, 0))
        .await
        .unwrap();
    assert_eq!(other.total, 1);
    assert!(other.secrets.iter().all(|s| s.project_id == "q"));
    let none = store
        .list_secrets(&SecretQuery::for_project("nobody", at(10), 100, 0))
        .await
        .unwrap();
    assert_eq!((none.total, none.secrets.len()), (0, 0));
}

pub async fn expired_secrets_are_excluded(store: &dyn Store) {
    let all = fixture(store).await;
    let mut q = query();
    q.now = at(1000); // exactly at #1's expiry: expired
    assert_eq!(ids(store, &q).await, pick(&all, &[4, 3, 2, 0]));
    q.now = at(2500);
    assert_eq!(ids(store, &q).await, pick(&all, &[4, 3, 0]));
    q.now = at(999_999);
    let page = store.list_secrets(&q).await.unwrap();
    assert_eq!((page.total, ids(store, &q).await), (2, pick(&all, &[3, 0])));
}

pub async fn exact_filters(store: &dyn Store) {
    let all = fixture(store).await;

    let mut q = query();
    q.name = Some("alpha".into());
    assert_eq!(ids(store, &q).await, pick(&all, &[4, 0]));

    let mut q = query();
    q.algorithm = Some("aes".into());
    assert_eq!(ids(store, &q).await, pick(&all, &[4, 1, 0]));

    let mut q = query();
    q.mode = Some("gcm".into());
    assert_eq!(ids(store, &q).await, pick(&all, &[4, 1]));

    let mut q = query();
    q.bit_length = Some(256);
    assert_eq!(ids(store, &q).await, pick(&all, &[4, 0]));

    let mut q = query();
    q.secret_type = Some(SecretType::Symmetric);
    assert_eq!(ids(store, &q).await, pick(&all, &[1, 0]));

    let mut q = query();
    q.algorithm = Some("aes".into());
    q.mode = Some("gcm".into());
    q.bit_length = Some(256);
    assert_eq!(ids(store, &q).await, pick(&all, &[4]));

    let mut q = query();
    q.name = Some("alpha' OR 1=1 --".into());
    assert_eq!(
        ids(store, &q).await,
        Vec::<Uuid>::new(),
        "values are bound, never spliced"
    );
}

pub async fn time_filters_with_each_comparison(store: &dyn Store) {
    let all = fixture(store).await;
    let created = |cmp, secs| TimeFilter {
        field: TimeField::Created,
        cmp,
        at: at(secs),
    };
    let cases = [
        (Cmp::Eq, 2, vec![2]),
        (Cmp::Gt, 2, vec![4, 3]),
        (Cmp::Gte, 2, vec![4, 3, 2]),
        (Cmp::Lt, 2, vec![1, 0]),
        (Cmp::Lte, 2, vec![2, 1, 0]),
    ];
    for (cmp, secs, want) in cases {
        let mut q = query();
        q.time_filters = vec![created(cmp, secs)];
        assert_eq!(
            ids(store, &q).await,
            pick(&all, &want),
            "created {cmp:?} {secs}"
        );
    }

    // Nanosecond precision: one nanosecond after t0+2 is no longer equal.
    let mut q = query();
    q.time_filters = vec![TimeFilter {
        field: TimeField::Created,
        cmp: Cmp::Eq,
        at: at(2) + time::Duration::nanoseconds(1),
    }];
    assert_eq!(ids(store, &q).await, Vec::<Uuid>::new());

    // A range: both filters must hold.
    let mut q = query();
    q.time_filters = vec![created(Cmp::Gte, 1), created(Cmp::Lt, 4)];
    assert_eq!(ids(store, &q).await, pick(&all, &[3, 2, 1]));

    // updated = 100 - i.
    let mut q = query();
    q.time_filters = vec![TimeFilter {
        field: TimeField::Updated,
        cmp: Cmp::Gte,
        at: at(99),
    }];
    assert_eq!(ids(store, &q).await, pick(&all, &[1, 0]));

    // Expiration filters never match a secret that does not expire (#0 and #3).
    let expiration = |cmp, secs| TimeFilter {
        field: TimeField::Expiration,
        cmp,
        at: at(secs),
    };
    let cases = [
        (Cmp::Eq, 2000, vec![2]),
        (Cmp::Gt, 2000, vec![4]),
        (Cmp::Gte, 2000, vec![4, 2]),
        (Cmp::Lt, 2000, vec![1]),
        (Cmp::Lte, 2000, vec![2, 1]),
        (Cmp::Lt, i64::from(i32::MAX), vec![4, 2, 1]),
    ];
    for (cmp, secs, want) in cases {
        let mut q = query();
        q.time_filters = vec![expiration(cmp, secs)];
        assert_eq!(
            ids(store, &q).await,
            pick(&all, &want),
            "expiration {cmp:?} {secs}"
        );
    }

    // Bounds beyond what can be stored still compare correctly.
    let mut q = query();
    q.time_filters = vec![TimeFilter {
        field: TimeField::Created,
        cmp: Cmp::Lt,
        at: time::macros::datetime!(9999-01-01 0:00 UTC),
    }];
    assert_eq!(store.list_secrets(&q).await.unwrap().total, 5);
}

pub async fn multi_key_sorts(store: &dyn Store) {
    let all = fixture(store).await;
    let sorted = |keys: &[(SortKey, SortDir)]| {
        let mut q = query();
        q.sort = keys.to_vec();
        q
    };
    use SortDir::{Asc, Desc};

    // NULL sorts first ascending (SQLite's rule), so #3 (no algorithm) leads.
    let q = sorted(&[
        (SortKey::Algorithm, Asc),
        (SortKey::BitLength, Desc),
        (SortKey::Mode, Asc),
    ]);
    assert_eq!(ids(store, &q).await, pick(&all, &[3, 0, 4, 1, 2]));

    let q = sorted(&[(SortKey::Algorithm, Desc), (SortKey::Created, Asc)]);
    assert_eq!(ids(store, &q).await, pick(&all, &[2, 0, 1, 4, 3]));

    let q = sorted(&[(SortKey::Created, Asc)]);
    assert_eq!(ids(store, &q).await, pick(&all, &[0, 1, 2, 3, 4]));

    let q = sorted(&[(SortKey::Updated, Asc)]);
    assert_eq!(ids(store, &q).await, pick(&all, &[4, 3, 2, 1, 0]));

    let q = sorted(&[(SortKey::Name, Desc), (SortKey::Created, Desc)]);
    assert_eq!(ids(store, &q).await, pick(&all, &[2, 1, 4, 0, 3]));

    let q = sorted(&[(SortKey::SecretType, Asc), (SortKey::Created, Asc)]);
    assert_eq!(ids(store, &q).await, pick(&all, &[3, 4, 2, 0, 1]));

    let q = sorted(&[(SortKey::Expiration, Desc)]);
    let got = ids(store, &q).await;
    assert_eq!(got[..3], pick(&all, &[4, 2, 1])[..]);

    // Status orders nothing, so the default order (newest first) holds.
    let q = sorted(&[(SortKey::Status, Desc)]);
    assert_eq!(ids(store, &q).await, pick(&all, &[4, 3, 2, 1, 0]));
}

pub async fn limit_offset_and_total(store: &dyn Store) {
    let all = fixture(store).await;
    let page = |limit, offset| SecretQuery::for_project("p", at(10), limit, offset);

    let first = store.list_secrets(&page(2, 0)).await.unwrap();
    assert_eq!(first.total, 5);
    assert_eq!(
        first.secrets.iter().map(|s| s.id).collect::<Vec<_>>(),
        pick(&all, &[4, 3])
    );
    assert_eq!(ids(store, &page(2, 2)).await, pick(&all, &[2, 1]));
    assert_eq!(ids(store, &page(2, 4)).await, pick(&all, &[0]));
    let past = store.list_secrets(&page(2, 10)).await.unwrap();
    assert_eq!((past.total, past.secrets.len()), (5, 0));
    let empty = store.list_secrets(&page(0, 0)).await.unwrap();
    assert_eq!((empty.total, empty.secrets.len()), (5, 0));

    let mut filtered = page(1, 1);
    filtered.algorithm = Some("aes".into());
    let got = store.list_secrets(&filtered).await.unwrap();
    assert_eq!(got.total, 3, "total counts every match, ignoring the page");
    assert_eq!(
        got.secrets.iter().map(|s| s.id).collect::<Vec<_>>(),
        pick(&all, &[1])
    );
}

pub async fn pagination_is_stable_across_equal_sort_keys(store: &dyn Store) {
    let mut made = Vec::new();
    for _ in 0..7 {
        let s = secret("same", 0); // identical created/updated
        store.insert_secret(&s, None).await.unwrap();
        made.push(s.id);
    }
    // Ties fall to creation order (v7 ids, SQLite's rowid) in the direction of the last key: newest first.
    made.sort_by(|a, b| b.cmp(a));
    let mut seen = Vec::new();
    for offset in (0..7).step_by(3) {
        seen.extend(ids(store, &SecretQuery::for_project("same", at(10), 3, offset)).await);
    }
    assert_eq!(seen, made, "each row exactly once, newest first");
}
