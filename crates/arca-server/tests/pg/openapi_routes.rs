//! `tests/openapi_routes.rs` on PostgreSQL: the same tests, built as the target `pg_openapi_routes`, whose servers the harness
//! opens on fresh PostgreSQL databases (see `common::on_postgres`).

#[path = "../openapi_routes.rs"]
mod suite;
