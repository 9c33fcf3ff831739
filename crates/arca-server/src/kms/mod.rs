//! The AWS KMS JSON 1.1 protocol on the API listener: `POST /` with `X-Amz-Target: TrentService.<Op>`.
//! [`handle`] is the `POST /` route beside Barbican's `GET /` (a `POST /` without the header stays
//! Barbican's 405); [`serve`] checks the content type, reads the body under a size cap, authenticates with
//! SigV4 over the real body (before any JSON is parsed) and dispatches to one handler per operation, grouped
//! one file per operation family. Every KMS response carries `Content-Type: application/x-amz-json-1.1` and
//! an `x-amzn-RequestId`. `sigv4` is public so clients (`arca key`) sign with the code that verifies.

mod aliases;
mod auth;
mod crypto;
mod data_keys;
mod error;
mod keys;
mod macs;
mod random;
mod rotation;
mod signing;
pub mod sigv4;
mod tags;
mod wire;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode};
use serde::Serialize;

use arca_core::Principal;

use crate::state::AppState;
use error::KmsApiError;

/// The response header carrying the request id, as AWS names it (a constant: a name given as `&str` is copied
/// into a new allocation on every insert).
const REQUEST_ID_HEADER: http::HeaderName = http::HeaderName::from_static("x-amzn-requestid");

/// The largest request body accepted (AWS's own limits keep real requests far below).
pub const MAX_BODY: usize = 64 * 1024;
/// The `X-Amz-Target` prefix of KMS operations.
pub const TARGET_PREFIX: &str = "TrentService.";

/// What every handler gets: the state, the authenticated principal and the region for ARNs.
pub(crate) struct Ctx<'a> {
    pub state: &'a AppState,
    pub principal: &'a Principal,
    pub region: &'a str,
}

impl Ctx<'_> {
    /// The KMS domain service.
    pub(crate) fn kms(&self) -> &arca_core::KmsService {
        &self.state.services.kms
    }
}

/// What a handler answers: the serialized JSON body.
pub(crate) type Answer = Result<Vec<u8>, KmsApiError>;

/// The buffer a response is serialized into at first: an Encrypt answer of 4 KiB of plaintext fits, so a
/// response is written once instead of growing from 128 bytes through copies (which, for a Decrypt or a data
/// key, would leave copies of the plaintext behind in freed memory).
const RESPONSE_CAPACITY: usize = 8 * 1024;

/// Serializes a response shape.
pub(crate) fn ok<T: Serialize>(value: &T) -> Answer {
    let mut body = Vec::with_capacity(RESPONSE_CAPACITY);
    serde_json::to_writer(&mut body, value)
        .map_err(|_| KmsApiError::internal("The response could not be serialized."))?;
    Ok(body)
}

/// `POST /`: the KMS protocol when `X-Amz-Target` is present, else Barbican's 405 (with `Allow`, as the
/// router's method-not-allowed fallback answers on `/`).
pub(crate) async fn handle(State(state): State<AppState>, request: Request) -> Response {
    if !request.headers().contains_key("x-amz-target") {
        let mut response =
            crate::error::ApiError::method_not_allowed(&Method::POST).into_response();
        response
            .headers_mut()
            .insert(http::header::ALLOW, HeaderValue::from_static("GET,HEAD"));
        return response;
    }
    let mut response = match serve(&state, request).await {
        Ok(body) => (
            StatusCode::OK,
            [(http::header::CONTENT_TYPE, error::CONTENT_TYPE)],
            body,
        )
            .into_response(),
        Err(refusal) => refusal.into_response(),
    };
    if let Ok(id) = HeaderValue::from_str(&request_id()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    response
}

/// A fresh `x-amzn-RequestId`: UUID-shaped, a random per-process prefix and a counter (no random draw per
/// request).
fn request_id() -> String {
    use std::sync::LazyLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: LazyLock<u64> = LazyLock::new(|| uuid::Uuid::new_v4().as_u64_pair().0);
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    uuid::Uuid::from_u64_pair(*PREFIX, COUNTER.fetch_add(1, Ordering::Relaxed)).to_string()
}

/// Serves one KMS request.
async fn serve(state: &AppState, request: Request) -> Answer {
    let (parts, body) = request.into_parts();
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if content_type.as_deref() != Some(error::CONTENT_TYPE) {
        return Err(KmsApiError::serialization(format!(
            "The KMS API takes Content-Type: {}.",
            error::CONTENT_TYPE
        )));
    }
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| KmsApiError::too_large(MAX_BODY))?;
    let now = time::OffsetDateTime::now_utc();
    let caller = auth::authenticate(state, &parts, &body, now).await?;
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ctx = Ctx {
        state,
        principal: &caller.principal,
        region: &caller.region,
    };
    let operation = target.strip_prefix(TARGET_PREFIX).unwrap_or("");
    unsupported_members(&body)?;
    let answer = dispatch(&ctx, operation, &body).await.unwrap_or_else(|| {
        Err(KmsApiError::client(
            "UnknownOperationException",
            format!("The operation '{target}' is not one Arca's KMS API offers."),
        ))
    });
    // A plaintext (Encrypt, a data key's import) came in this body, base64-encoded.
    crate::wipe::wipe_body(body);
    answer
}

/// Refuses the members Arca does not implement rather than silently ignoring them: `GrantTokens` (there are
/// no grants, so any token is invalid) and `DryRun: true` (the operation would really run). The body is
/// parsed for them only when their names occur in it.
fn unsupported_members(body: &[u8]) -> Result<(), KmsApiError> {
    let mentions = |name: &[u8]| memchr::memmem::find(body, name).is_some();
    if !mentions(b"GrantTokens") && !mentions(b"DryRun") {
        return Ok(());
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Members {
        grant_tokens: Option<Vec<String>>,
        dry_run: Option<bool>,
    }
    let members: Members = wire::parse(body)?;
    if members.grant_tokens.is_some_and(|t| !t.is_empty()) {
        return Err(KmsApiError::client(
            "InvalidGrantTokenException",
            "Arca has no grants, so no grant token is valid; send the request without GrantTokens.",
        ));
    }
    if members.dry_run == Some(true) {
        return Err(KmsApiError::client(
            "UnsupportedOperationException",
            "DryRun is not supported; send the request without it.",
        ));
    }
    Ok(())
}

/// Runs `operation`, or `None` when there is no such operation.
async fn dispatch(ctx: &Ctx<'_>, operation: &str, body: &[u8]) -> Option<Answer> {
    Some(match operation {
        "CreateKey" => keys::create_key(ctx, body).await,
        "DescribeKey" => keys::describe_key(ctx, body).await,
        "ListKeys" => keys::list_keys(ctx, body).await,
        "UpdateKeyDescription" => keys::update_key_description(ctx, body).await,
        "EnableKey" => keys::enable_key(ctx, body).await,
        "DisableKey" => keys::disable_key(ctx, body).await,
        "ScheduleKeyDeletion" => keys::schedule_key_deletion(ctx, body).await,
        "CancelKeyDeletion" => keys::cancel_key_deletion(ctx, body).await,
        "Encrypt" => crypto::encrypt(ctx, body).await,
        "Decrypt" => crypto::decrypt(ctx, body).await,
        "ReEncrypt" => crypto::re_encrypt(ctx, body).await,
        "GenerateDataKey" => data_keys::generate_data_key(ctx, body, true).await,
        "GenerateDataKeyWithoutPlaintext" => data_keys::generate_data_key(ctx, body, false).await,
        "GenerateDataKeyPair" => data_keys::generate_data_key_pair(ctx, body, true).await,
        "GenerateDataKeyPairWithoutPlaintext" => {
            data_keys::generate_data_key_pair(ctx, body, false).await
        }
        "GenerateRandom" => random::generate_random(ctx, body).await,
        "Sign" => signing::sign(ctx, body).await,
        "Verify" => signing::verify(ctx, body).await,
        "GetPublicKey" => signing::get_public_key(ctx, body).await,
        "GenerateMac" => macs::generate_mac(ctx, body).await,
        "VerifyMac" => macs::verify_mac(ctx, body).await,
        "CreateAlias" => aliases::create_alias(ctx, body).await,
        "UpdateAlias" => aliases::update_alias(ctx, body).await,
        "DeleteAlias" => aliases::delete_alias(ctx, body).await,
        "ListAliases" => aliases::list_aliases(ctx, body).await,
        "EnableKeyRotation" => rotation::enable_key_rotation(ctx, body).await,
        "DisableKeyRotation" => rotation::disable_key_rotation(ctx, body).await,
        "GetKeyRotationStatus" => rotation::get_key_rotation_status(ctx, body).await,
        "RotateKeyOnDemand" => rotation::rotate_key_on_demand(ctx, body).await,
        "ListKeyRotations" => rotation::list_key_rotations(ctx, body).await,
        "TagResource" => tags::tag_resource(ctx, body).await,
        "UntagResource" => tags::untag_resource(ctx, body).await,
        "ListResourceTags" => tags::list_resource_tags(ctx, body).await,
        _ => return None,
    })
}
