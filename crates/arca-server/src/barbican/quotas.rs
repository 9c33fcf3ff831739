//! Quotas (`barbican/api/controllers/quotas.py`): `GET /v1/quotas` (the caller's project's effective quotas, any
//! role), and for `key-manager:service-admin` only `GET /v1/project-quotas` (paged), `GET`, `PUT` (204) and
//! `DELETE` (204) `/v1/project-quotas/{project_id}`, where an unknown project is Barbican's 404 "Not Found. Sorry
//! but your project quotas are in another castle.". `PUT` takes any content type (Barbican enforces none here),
//! refuses an empty body ("No data supplied to process.") and validates with `ProjectQuotaValidator`: integer
//! values for `secrets`, `orders`, `containers`, `consumers`, `cas` and nothing else. The policy is enforced
//! first (403 before 400).

use std::collections::HashMap;

use super::json_out::Json;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use http::StatusCode;
use http::request::Parts;
use serde_json::Value;

use arca_core::ProjectQuotas;

use crate::auth::Caller;
use crate::error::{ApiError, CoreResultExt};
use crate::state::AppState;

use super::body::{RawBody, parse_json};
use super::hrefs::HostHref;
use super::list_query::nav_links_for;
use super::openapi_types as doc;
use super::order_wire::{
    EffectiveQuotas, ProjectQuotasBody, ProjectQuotasItem, ProjectQuotasList, QuotaValues,
};
use super::page_query::PageQuery;
use super::schema::{Ty, additional_properties, check_type, invalid, py_repr};

const OP: &str = "Project Quotas";
const SCHEMA: &str = "Project Quota";
const RESOURCES: [&str; 5] = ["secrets", "orders", "containers", "consumers", "cas"];

/// `{project_id}` of `/v1/project-quotas/{project_id}`: any text, as Barbican takes it.
#[derive(Debug)]
pub(crate) struct ProjectPath {
    /// The project.
    pub project_id: String,
}

impl<S: Send + Sync> FromRequestParts<S> for ProjectPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::no_route())?;
        params
            .get("id")
            .cloned()
            .map(|project_id| ProjectPath { project_id })
            .ok_or_else(ApiError::no_route)
    }
}

/// `ProjectQuotaValidator`, reporting what `jsonschema`'s best match would: errors nearer the root first.
pub(crate) fn validate(body: &Value) -> Result<ProjectQuotas, ApiError> {
    let root = body.as_object().ok_or_else(|| {
        invalid(
            SCHEMA,
            &check_type(body, &[Ty::Object]).err().unwrap_or_default(),
            None,
        )
    })?;
    let Some(quotas) = root.get("project_quotas") else {
        return Err(invalid(
            SCHEMA,
            "'project_quotas' is a required property",
            None,
        ));
    };
    if let Some(reason) = additional_properties(root, &["project_quotas"]) {
        return Err(invalid(SCHEMA, &reason, None));
    }
    let fail = |reason: &str| invalid(SCHEMA, reason, Some("project_quotas"));
    let map = quotas
        .as_object()
        .ok_or_else(|| fail(&format!("{} is not of type 'object'", py_repr(quotas))))?;
    if let Some(reason) = additional_properties(map, &RESOURCES) {
        return Err(fail(&reason));
    }
    let mut values = [None; 5];
    for (slot, name) in values.iter_mut().zip(RESOURCES) {
        let Some(value) = map.get(name) else { continue };
        check_type(value, &[Ty::Integer]).map_err(|r| fail(&r))?;
        let number = value
            .as_i64()
            .or_else(|| {
                value
                    .as_f64()
                    .filter(|f| f.abs() < 9.0e18)
                    .map(|f| f as i64)
            })
            .ok_or_else(|| fail(&format!("{} is out of range", py_repr(value))))?;
        *slot = Some(number);
    }
    let [secrets, orders, containers, consumers, cas] = values;
    Ok(ProjectQuotas {
        secrets,
        orders,
        containers,
        consumers,
        cas,
    })
}

/// `GET /v1/quotas`.
#[utoipa::path(get, path = "/v1/quotas", tag = "quotas",
    responses(
        (status = 200, description = "The caller's project's effective quotas (-1: unlimited)", body = EffectiveQuotas),
        (status = 403, description = "Not allowed", body = doc::ErrorBody),
    ))]
pub(crate) async fn effective(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<Json<EffectiveQuotas>, ApiError> {
    let quotas = state
        .services
        .quotas
        .effective(&caller)
        .await
        .op("Quotas")?;
    Ok(Json(EffectiveQuotas {
        quotas: QuotaValues::effective(&quotas),
    }))
}

/// `GET /v1/project-quotas`.
#[utoipa::path(get, path = "/v1/project-quotas", tag = "quotas", params(doc::Paging),
    responses(
        (status = 200, description = "A page of the projects with configured quotas", body = ProjectQuotasList),
        (status = 403, description = "Only `key-manager:service-admin`", body = doc::ErrorBody),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    host: HostHref,
    RawQuery(raw): RawQuery,
) -> Result<Json<ProjectQuotasList>, ApiError> {
    let query = PageQuery::parse(raw.as_deref());
    let page = state
        .services
        .quotas
        .list(&caller, query.limit, query.offset)
        .await
        .op(OP)?;
    let (previous, next) = if page.records.is_empty() {
        (None, None)
    } else {
        nav_links_for(
            &host,
            "project-quotas",
            query.offset,
            query.limit,
            page.total,
            &query.passthrough,
        )
    };
    Ok(Json(ProjectQuotasList {
        project_quotas: page.records.iter().map(ProjectQuotasItem::new).collect(),
        total: page.total,
        next,
        previous,
    }))
}

/// `GET /v1/project-quotas/{project_id}`.
#[utoipa::path(get, path = "/v1/project-quotas/{id}", tag = "quotas", params(doc::ProjectId),
    responses(
        (status = 200, description = "The project's configured quotas (null: the default)", body = ProjectQuotasBody),
        (status = 403, description = "Only `key-manager:service-admin`", body = doc::ErrorBody),
        (status = 404, description = "The project has no configured quotas", body = doc::ErrorBody),
    ))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: ProjectPath,
) -> Result<Json<ProjectQuotasBody>, ApiError> {
    let record = state
        .services
        .quotas
        .project(&caller, &path.project_id)
        .await
        .op(OP)?;
    Ok(Json(ProjectQuotasBody {
        project_quotas: QuotaValues::configured(&record.quotas),
    }))
}

/// `PUT /v1/project-quotas/{project_id}` → 204.
#[utoipa::path(put, path = "/v1/project-quotas/{id}", tag = "quotas", params(doc::ProjectId),
    request_body = doc::ProjectQuotasPut,
    responses(
        (status = 204, description = "Configured"),
        (status = 400, description = "Empty body or invalid quotas", body = doc::ErrorBody),
        (status = 403, description = "Only `key-manager:service-admin`", body = doc::ErrorBody),
        (status = 413, description = "The body is too large", body = doc::ErrorBody),
    ))]
pub(crate) async fn put(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: ProjectPath,
    body: RawBody,
) -> Result<StatusCode, ApiError> {
    let quotas = &state.services.quotas;
    // Authorise before looking at the body (the policy decorator runs first).
    quotas.check_admin(&caller).op(OP)?;
    if body.bytes.is_empty() {
        return Err(ApiError::issue(
            StatusCode::BAD_REQUEST,
            OP,
            "No data supplied to process.",
        ));
    }
    let given = validate(&parse_json(&body.bytes)?)?;
    quotas.set(&caller, &path.project_id, &given).await.op(OP)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v1/project-quotas/{project_id}` → 204.
#[utoipa::path(delete, path = "/v1/project-quotas/{id}", tag = "quotas", params(doc::ProjectId),
    responses(
        (status = 204, description = "The project is back to the defaults"),
        (status = 403, description = "Only `key-manager:service-admin`", body = doc::ErrorBody),
        (status = 404, description = "The project has no configured quotas", body = doc::ErrorBody),
    ))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: ProjectPath,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .quotas
        .delete(&caller, &path.project_id)
        .await
        .op(OP)?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(body: Value) -> String {
        match validate(&body) {
            Ok(_) => panic!("accepted {body}"),
            Err(e) => e.description().to_owned(),
        }
    }

    #[test]
    fn project_quota_schema() {
        let q =
            validate(&json!({"project_quotas": {"secrets": 5, "orders": -1, "cas": 2.0}})).unwrap();
        assert_eq!(
            (q.secrets, q.orders, q.containers, q.cas),
            (Some(5), Some(-1), None, Some(2))
        );
        let p = |reason: &str, prop: &str| {
            format!(
                "Provided object does not match schema 'Project Quota': {reason}. Invalid property: '{prop}'"
            )
        };
        assert_eq!(err(json!([])), p("[] is not of type 'object'", "None"));
        assert_eq!(
            err(json!({})),
            p("'project_quotas' is a required property", "None")
        );
        assert_eq!(
            err(json!({"project_quotas": {}, "x": 1})),
            p(
                "Additional properties are not allowed ('x' was unexpected)",
                "None"
            )
        );
        assert_eq!(
            err(json!({"project_quotas": 3})),
            p("3 is not of type 'object'", "project_quotas")
        );
        assert_eq!(
            err(json!({"project_quotas": {"secrets": "10"}})),
            p("'10' is not of type 'integer'", "project_quotas")
        );
        assert_eq!(
            err(json!({"project_quotas": {"secrets": true}})),
            p("True is not of type 'integer'", "project_quotas")
        );
        assert_eq!(
            err(json!({"project_quotas": {"secrets": null}})),
            p("None is not of type 'integer'", "project_quotas")
        );
        assert_eq!(
            err(json!({"project_quotas": {"transport_keys": 1}})),
            p(
                "Additional properties are not allowed ('transport_keys' was unexpected)",
                "project_quotas"
            )
        );
    }
}
