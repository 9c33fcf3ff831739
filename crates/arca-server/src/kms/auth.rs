//! Who is calling the KMS API: SigV4 over the request head and the real body, with the secret access key
//! looked up through `AccessKeyService::secret_for`. The signature is checked before any JSON is parsed. An
//! unknown access key is `UnrecognizedClientException`, a bad or stale signature `InvalidSignatureException`,
//! no `Authorization` at all `MissingAuthenticationTokenException`. Failures are audited as `auth.failure`,
//! counted, and throttled per source address like the Barbican API's.

use http::request::Parts;
use time::OffsetDateTime;

use arca_core::Principal;

use super::error::KmsApiError;
use super::sigv4;
use crate::state::AppState;

/// An authenticated KMS caller and the region its signature was scoped to (used in ARNs).
pub(crate) struct KmsCaller {
    /// The principal the access key belongs to.
    pub principal: Principal,
    /// The region of the credential scope.
    pub region: String,
}

/// Authenticates a request from its head and full body at `now`.
pub(crate) async fn authenticate(
    state: &AppState,
    parts: &Parts,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<KmsCaller, KmsApiError> {
    match verify(state, parts, body, now).await {
        Ok(caller) => Ok(caller),
        Err(refusal) if refusal.status().is_client_error() => {
            Err(record_failure(state, parts, refusal).await)
        }
        Err(other) => Err(other),
    }
}

async fn verify(
    state: &AppState,
    parts: &Parts,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<KmsCaller, KmsApiError> {
    let presented = sigv4::parse(&parts.method, &parts.uri, &parts.headers, now)?;
    let Some((principal, secret)) = state
        .services
        .access_keys
        .secret_for(presented.access_key_id())
        .await?
    else {
        return Err(KmsApiError::client(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    };
    presented.verify_with(&secret, body, Some(&state.signing_keys))?;
    Ok(KmsCaller {
        principal,
        region: presented.region().to_owned(),
    })
}

/// Audits and counts a refused authentication; past the per-minute limit from one address the answer
/// becomes `ThrottlingException`.
async fn record_failure(state: &AppState, parts: &Parts, refusal: KmsApiError) -> KmsApiError {
    crate::metrics::auth_failure("kms_sigv4");
    let outcome = arca_core::AuditOutcome::Denied(format!(
        "KMS authentication failed: {}",
        refusal.type_name()
    ));
    if let Err(e) = state
        .services
        .audit
        .record(
            None,
            "auth.failure",
            "request",
            Some("/".to_owned()),
            outcome,
        )
        .await
    {
        return KmsApiError::from(e);
    }
    let Some(axum::extract::ConnectInfo(peer)) = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    else {
        return refusal;
    };
    match state.throttle.failure(peer.ip()) {
        Ok(()) => refusal,
        Err(seconds) => {
            metrics::counter!("arca_auth_throttled_total").increment(1);
            KmsApiError::client(
                "ThrottlingException",
                format!("Rate exceeded: too many failed authentications; retry in {seconds} s."),
            )
        }
    }
}
