//! `list_secrets` on a real SQLite file: the shared cases of `list_cases` (project isolation, expiry, each exact
//! filter, time filters with every comparison, multi-key sorts, limit/offset/total), plus the trigger-kept
//! counts, which only SQLite has.

mod common;
mod list_cases;

use arca_core::{SecretQuery, Store};
use common::*;

#[tokio::test]
async fn default_order_is_newest_first_within_the_project() {
    let (_dir, _path, store) = open_temp().await;
    list_cases::default_order_is_newest_first_within_the_project(&store).await;
}

#[tokio::test]
async fn expired_secrets_are_excluded() {
    let (_dir, _path, store) = open_temp().await;
    list_cases::expired_secrets_are_excluded(&store).await;
}

#[tokio::test]
async fn exact_filters() {
    let (_dir, _path, store) = open_temp().await;
    list_cases::exact_filters(&store).await;
}

#[tokio::test]
async fn time_filters_with_each_comparison() {
    let (_dir, _path, store) = open_temp().await;
    list_cases::time_filters_with_each_comparison(&store).await;
}

#[tokio::test]
async fn multi_key_sorts() {
    let (_dir, _path, store) = open_temp().await;
    list_cases::multi_key_sorts(&store).await;
}

#[tokio::test]
async fn limit_offset_and_total() {
    let (_dir, _path, store) = open_temp().await;
    list_cases::limit_offset_and_total(&store).await;
}

#[tokio::test]
async fn pagination_is_stable_across_equal_sort_keys() {
    let (_dir, _path, store) = open_temp().await;
    list_cases::pagination_is_stable_across_equal_sort_keys(&store).await;
}

/// The unfiltered total comes from the trigger-kept count; it must equal a full count at every step: inserts
/// and deletes with and without expiration, in several projects, at several instants.
#[tokio::test]
async fn kept_counts_match_a_full_count() {
    let (_dir, path, store) = open_temp().await;
    let mut live = Vec::new();
    for i in 0..30i64 {
        let project = if i % 3 == 0 { "other" } else { "p" };
        let mut s = secret(project, i);
        if i % 4 == 0 {
            s.expiration = Some(at(100 + i * 10));
        }
        store.insert_secret(&s, None).await.unwrap();
        live.push(s);
    }
    for s in live.iter().step_by(5) {
        assert!(store.delete_secret(s.id).await.unwrap());
    }
    let remaining: Vec<_> = live
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 5 != 0)
        .map(|(_, s)| s)
        .collect();
    for now in [at(0), at(150), at(260), at(10_000)] {
        for project in ["p", "other", "nobody"] {
            let expected = remaining
                .iter()
                .filter(|s| s.project_id == project && !s.is_expired(now))
                .count() as u64;
            let q = SecretQuery::for_project(project, now, 5, 0);
            assert_eq!(
                store.list_secrets(&q).await.unwrap().total,
                expected,
                "{project} at {now}"
            );
            // A filter takes the counting path; it must agree.
            let mut filtered = q.clone();
            filtered.time_filters.push(arca_core::TimeFilter {
                field: arca_core::TimeField::Created,
                cmp: arca_core::Cmp::Gte,
                at: at(-1),
            });
            assert_eq!(store.list_secrets(&filtered).await.unwrap().total, expected);
        }
    }
    let conn = raw(&path);
    let kept: i64 = conn
        .query_row(
            "SELECT total FROM project_secret_counts WHERE project_id = 'p'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    let actual: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM secrets WHERE project_id = 'p'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(kept, actual);
}
