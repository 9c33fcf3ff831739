//! `/v1/sys/*`: sealing and unsealing a Shamir-custody root of trust, as Vault does. `POST /v1/sys/unseal`
//! (unauthenticated: nothing can authenticate while sealed) takes one share file's text per call, only over TLS
//! or from a loopback address; refused shares answer 400 and count against the source's authentication-failure
//! throttle. `GET /v1/sys/seal-status` reports progress; `POST /v1/sys/seal` (an admin token) drops every key
//! and cached key material. Both transitions are audited: the seal before it happens, the unseal right after
//! (the audit chain needs its key).

use axum::extract::{ConnectInfo, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use arca_core::{AuditOutcome, Role, SealStatus, Sealable};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The routes, merged into the API router.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/sys/unseal", post(unseal))
        .route("/v1/sys/seal", post(seal))
        .route("/v1/sys/seal-status", get(seal_status))
}

/// The wire shape of a seal status.
#[derive(Serialize)]
struct StatusBody {
    /// `shamir` when the root of trust can be sealed, `none` otherwise.
    #[serde(rename = "type")]
    kind: &'static str,
    sealed: bool,
    t: u8,
    n: u8,
    progress: u8,
}

impl From<Option<SealStatus>> for StatusBody {
    fn from(status: Option<SealStatus>) -> Self {
        match status {
            Some(s) => Self {
                kind: "shamir",
                sealed: s.sealed,
                t: s.threshold,
                n: s.shares,
                progress: s.progress,
            },
            None => Self {
                kind: "none",
                sealed: false,
                t: 0,
                n: 0,
                progress: 0,
            },
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnsealRequest {
    share: String,
}

fn sealable(state: &AppState) -> Option<&dyn Sealable> {
    state.services.keys.root().sealable()
}

async fn seal_status(State(state): State<AppState>) -> Json<StatusBody> {
    Json(sealable(&state).map(|s| s.seal_status()).into())
}

async fn unseal(
    State(state): State<AppState>,
    parts: http::request::Parts,
    body: axum::body::Bytes,
) -> Result<Json<StatusBody>, ApiError> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    let over_tls = parts.extensions.get::<crate::tls::OverTls>().is_some();
    if !over_tls && !peer.is_some_and(|p| p.ip().is_loopback()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "unseal shares are accepted only over TLS or from a loopback address",
        ));
    }
    let Some(root) = sealable(&state) else {
        return Err(ApiError::bad_request(
            "this deployment's root of trust is not sealable ([root_key] provider is not \"shamir\")",
        ));
    };
    let body = Zeroizing::new(body.to_vec());
    let request: UnsealRequest = serde_json::from_slice(&body).map_err(|_| {
        ApiError::bad_request("expected a JSON body {\"share\": \"<the share file's text>\"}")
    })?;
    let share = Zeroizing::new(request.share);
    let was_sealed = root.seal_status().sealed;
    match root.submit_share(&share) {
        Ok(status) => {
            if was_sealed && !status.sealed {
                tracing::info!("unsealed");
                state
                    .services
                    .audit
                    .record(None, "sys.unseal", "root_key", None, AuditOutcome::Success)
                    .await
                    .map_err(|e| ApiError::core("Unseal", e))?;
            }
            Ok(Json(Some(status).into()))
        }
        Err(refused) => {
            tracing::warn!(reason = %refused, "an unseal share was refused");
            crate::metrics::auth_failure("unseal_share");
            if let Some(ip) = peer.map(|p| p.ip())
                && let Err(seconds) = state.throttle.failure(ip)
            {
                metrics::counter!("arca_auth_throttled_total").increment(1);
                return Err(ApiError::throttled(seconds));
            }
            let status = match refused {
                arca_core::ShareRefused::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            Err(ApiError::new(status, refused.to_string()))
        }
    }
}

async fn seal(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<StatusBody>, ApiError> {
    if !principal.roles.contains(&Role::Admin) {
        crate::metrics::denied("policy");
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "sealing Arca needs the admin role",
        ));
    }
    let Some(root) = sealable(&state) else {
        return Err(ApiError::bad_request(
            "this deployment's root of trust is not sealable ([root_key] provider is not \"shamir\")",
        ));
    };
    state
        .services
        .audit
        .record(
            Some(&principal),
            "sys.seal",
            "root_key",
            None,
            AuditOutcome::Success,
        )
        .await
        .map_err(|e| ApiError::core("Seal", e))?;
    state.services.audit.flush().await;
    root.seal();
    state.services.purge_keys();
    // A request that unwrapped a key just before the seal may cache it just after the purge: purge once more
    // when such in-flight requests are over.
    let services = state.services.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        services.purge_keys();
    });
    tracing::warn!(user = %principal.user_id, "sealed by an administrator");
    Ok(Json(Some(root.seal_status()).into()))
}
