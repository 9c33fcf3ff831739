//! Who is calling: the `Caller` extractor turns a request into an `arca_core::Principal`. In `token` mode it
//! reads `X-Auth-Token` (or `Authorization: Bearer`) and asks the token service; in `trusted-headers` mode it
//! believes `X-Project-Id`, `X-User-Id` and `X-Roles` as set by an authenticating proxy. A missing or bad
//! token is a 401; a missing `X-Project-Id` is Barbican's 400 `Missing X-Project-Id`
//! (`UnauthenticatedContextMiddleware`). Tokens are never logged or echoed. Over TLS, a verified client
//! certificate that `[[tls.client_principals]]` maps to a principal authenticates the request before either.

use axum::extract::FromRequestParts;
use http::HeaderMap;
use http::request::Parts;

use arca_core::{Principal, Role};

use crate::AuthMode;
use crate::error::ApiError;
use crate::state::AppState;

/// An authenticated caller. Authorisation (Barbican's policy) is decided by the domain services.
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub Principal);

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The presented token: `X-Auth-Token`, else `Authorization: Bearer <token>`.
fn presented_token(headers: &HeaderMap) -> Option<&str> {
    if let Some(token) = header(headers, "x-auth-token") {
        return Some(token);
    }
    let authorization = header(headers, "authorization")?;
    let (scheme, rest) = authorization.split_once(' ')?;
    let token = rest.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Roles from a comma-separated `X-Roles` value.
fn parse_roles(value: &str) -> Vec<Role> {
    value
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(Role::parse)
        .collect()
}

fn from_trusted_headers(
    headers: &HeaderMap,
    default_roles: &[String],
) -> Result<Principal, ApiError> {
    let project_id = header(headers, "x-project-id")
        .ok_or_else(|| ApiError::bad_request("Missing X-Project-Id"))?;
    let user_id = header(headers, "x-user-id").unwrap_or_default();
    let roles = match headers.get("x-roles") {
        Some(value) => parse_roles(value.to_str().map_err(|_| ApiError::unauthenticated())?),
        None => default_roles.iter().map(|r| Role::parse(r)).collect(),
    };
    Ok(Principal {
        project_id: project_id.to_owned(),
        user_id: user_id.to_owned(),
        roles,
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // A verified client certificate mapped by `[[tls.client_principals]]` authenticates the request.
        if let Some(crate::tls::ClientCertPrincipal(principal)) = parts.extensions.get() {
            return Ok(Caller(principal.clone()));
        }
        let authenticated =
            match state.config.auth.mode {
                AuthMode::TrustedHeaders => {
                    from_trusted_headers(&parts.headers, &state.config.auth.trusted_default_roles)
                }
                AuthMode::Token => match presented_token(&parts.headers) {
                    None => Err(ApiError::unauthenticated()),
                    Some(token) => state
                        .services
                        .tokens
                        .authenticate(token)
                        .await
                        .map_err(|e| match e {
                            arca_core::CoreError::Unauthenticated => ApiError::unauthenticated(),
                            other => ApiError::core("Authentication", other),
                        }),
                },
            };
        match authenticated {
            Ok(principal) => Ok(Caller(principal)),
            Err(refusal) => {
                if refusal.status() == http::StatusCode::UNAUTHORIZED {
                    // Recorded before the 401 is sent; if the record cannot be written the answer is a 500.
                    let outcome = arca_core::AuditOutcome::Denied("authentication failed".into());
                    let path = parts.uri.path().to_owned();
                    state
                        .services
                        .audit
                        .record(None, "auth.failure", "request", Some(path), outcome)
                        .await
                        .map_err(|e| ApiError::core("Authentication", e))?;
                }
                Err(throttle_failure(parts, state, refusal))
            }
        }
    }
}

/// Counts an authentication failure and throttles its source (`throttle.rs`): past `[auth] failure_limit`
/// failures a minute from one address the answer is 429 with `Retry-After` instead of the 401.
fn throttle_failure(parts: &Parts, state: &AppState, refusal: ApiError) -> ApiError {
    if refusal.status() != http::StatusCode::UNAUTHORIZED {
        return refusal;
    }
    crate::metrics::auth_failure("invalid_credentials");
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
            ApiError::throttled(seconds)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn token_sources() {
        assert_eq!(
            presented_token(&headers(&[("x-auth-token", " abc ")])),
            Some("abc")
        );
        assert_eq!(
            presented_token(&headers(&[("authorization", "Bearer xyz")])),
            Some("xyz")
        );
        assert_eq!(
            presented_token(&headers(&[("authorization", "bearer  xyz ")])),
            Some("xyz")
        );
        assert_eq!(
            presented_token(&headers(&[("authorization", "Basic xyz")])),
            None
        );
        assert_eq!(
            presented_token(&headers(&[("authorization", "Bearer ")])),
            None
        );
        assert_eq!(presented_token(&headers(&[])), None);
    }

    #[test]
    fn trusted_headers() {
        let p = from_trusted_headers(
            &headers(&[
                ("x-project-id", "p1"),
                ("x-user-id", "u1"),
                ("x-roles", "admin, creator,,"),
            ]),
            &[],
        )
        .unwrap();
        assert_eq!(p.project_id, "p1");
        assert_eq!(p.roles, vec![Role::Admin, Role::Creator]);
        let p = from_trusted_headers(
            &headers(&[("x-project-id", "p1")]),
            &["observer".to_owned()],
        )
        .unwrap();
        assert_eq!(p.roles, vec![Role::Observer]);
        assert_eq!(p.user_id, "");
        assert!(from_trusted_headers(&headers(&[("x-user-id", "u")]), &[]).is_err());
    }
}
