//! The SQLite store's KMS and access-key rows: the shared cases of `kms_cases` (round trips, paging by marker,
//! atomic rotation and deletion, alias uniqueness, the tag limit, due queries) on a fresh SQLite file each.

mod common;
mod kms_cases;

use common::open_temp;

#[tokio::test]
async fn key_round_trip_update_and_paging() {
    let (_dir, _path, store) = open_temp().await;
    kms_cases::key_round_trip_update_and_paging(&store).await;
}

#[tokio::test]
async fn rotation_is_atomic_and_checks_the_current_version() {
    let (_dir, _path, store) = open_temp().await;
    kms_cases::rotation_is_atomic_and_checks_the_current_version(&store).await;
}

#[tokio::test]
async fn aliases_are_unique_per_project_and_go_with_their_key() {
    let (_dir, _path, store) = open_temp().await;
    kms_cases::aliases_are_unique_per_project_and_go_with_their_key(&store).await;
}

#[tokio::test]
async fn tags_upsert_delete_and_limit() {
    let (_dir, _path, store) = open_temp().await;
    kms_cases::tags_upsert_delete_and_limit(&store).await;
}

#[tokio::test]
async fn access_keys_round_trip_and_revoke() {
    let (_dir, _path, store) = open_temp().await;
    kms_cases::access_keys_round_trip_and_revoke(&store).await;
}
