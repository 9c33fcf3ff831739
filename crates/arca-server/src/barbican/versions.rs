//! Version discovery (`barbican/api/controllers/versions.py`): `GET /` answers 300 Multiple Choices with the
//! versions document (`{"versions": {"values": [...]}}` at microversion 1.0, `{"versions": [...]}` from 1.1,
//! `{"build": ...}` with `?build`), and `GET /v1` answers 200 with `{"version": {...}}`. Neither needs
//! authentication.

use super::json_out::Json;
use axum::extract::{Extension, RawQuery};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::hrefs::HostHref;
use super::microversion::ApiVersion;
use super::openapi_types as doc;
use super::wire;

/// `GET /`.
#[utoipa::path(get, path = "/", tag = "versions", params(doc::BuildQuery),
    responses(
        (status = 300, description = "The versions document (its 1.0 or 1.1+ form)", body = doc::VersionsDocument),
        (status = 200, description = "With `?build`: the build version", body = wire::Build),
    ))]
pub(crate) async fn root(
    Extension(version): Extension<ApiVersion>,
    host: HostHref,
    RawQuery(raw): RawQuery,
) -> Response {
    let asks_build =
        form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).any(|(k, _)| k == "build");
    if asks_build {
        return Json(wire::Build {
            build: env!("CARGO_PKG_VERSION"),
        })
        .into_response();
    }
    let info = wire::VersionInfo::v1(&host, version);
    if version.at_least(1) {
        (
            StatusCode::MULTIPLE_CHOICES,
            Json(wire::Versions {
                versions: vec![info],
            }),
        )
            .into_response()
    } else {
        let body = wire::VersionsLegacy {
            versions: wire::VersionValues { values: vec![info] },
        };
        (StatusCode::MULTIPLE_CHOICES, Json(body)).into_response()
    }
}

/// `GET /v1`.
#[utoipa::path(get, path = "/v1", tag = "versions",
    responses((status = 200, description = "The v1 version document", body = wire::Version)))]
pub(crate) async fn v1(
    Extension(version): Extension<ApiVersion>,
    host: HostHref,
) -> Json<wire::Version> {
    Json(wire::Version {
        version: wire::VersionInfo::v1(&host, version),
    })
}
