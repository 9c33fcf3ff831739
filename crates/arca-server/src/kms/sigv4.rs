//! AWS Signature Version 4 for the KMS API: verification of a request's `Authorization` header (server side)
//! and signing (client side, used by `arca key`). The canonical request, string to sign and signing-key chain
//! follow AWS's published algorithm; the rules Arca adds are CRYPTO.md's "SigV4" section: only
//! `AWS4-HMAC-SHA256`, the signed headers must include `host`, `x-amz-date`, `x-amz-target` and `content-type`,
//! the scope's date is `x-amz-date`'s date and its service `kms` (any region), `x-amz-date` lies within
//! ±15 minutes of the caller-supplied "now", the real body is hashed (`x-amz-content-sha256` is ignored),
//! presigned URLs and repeated `Authorization` headers are refused, and signatures are compared in constant
//! time. Verification is two-step so the secret is looked up only for a well-formed, timely request:
//! [`parse`] reads and checks everything but the signature, [`Presented::verify`] checks it over the body.

use http::{HeaderMap, Method, Uri};
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// The only signing algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The service name in a KMS credential scope.
pub const SERVICE: &str = "kms";
/// The scope terminator.
const TERMINATOR: &str = "aws4_request";
/// How far `x-amz-date` may be from now, either way.
pub const MAX_SKEW: time::Duration = time::Duration::minutes(15);
/// Headers every KMS request must sign, so a captured body cannot be replayed as another operation.
pub const REQUIRED_SIGNED_HEADERS: [&str; 4] =
    ["content-type", "host", "x-amz-date", "x-amz-target"];

/// Why a request's signature was not accepted. Messages follow AWS's wording and never carry secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// No `Authorization` header at all.
    #[error("Missing Authentication Token")]
    Missing,
    /// The `Authorization` header or `x-amz-date` is malformed (AWS: `IncompleteSignatureException`).
    #[error("{0}")]
    Incomplete(String),
    /// Well-formed but refused by a rule (scope, algorithm, signed headers, presigned URL, duplicates).
    #[error("{0}")]
    Invalid(String),
    /// `x-amz-date` is more than 15 minutes from now.
    #[error("{0}")]
    Expired(String),
    /// The signature does not match.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS \
         Secret Access Key and signing method. Consult the service documentation for details."
    )]
    Mismatch,
}

/// A parsed, timely, policy-conforming signed request whose signature is not checked yet.
#[derive(Debug)]
pub struct Presented {
    access_key_id: String,
    region: String,
    amz_date: String,
    scope: String,
    signature: [u8; 32],
    /// The canonical request up to (and including) the newline before the payload hash.
    canonical_prefix: String,
}

impl Presented {
    /// The access key id of the credential scope.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The region of the credential scope (any is accepted).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Checks the signature over `body` with the access key's `secret`, in constant time.
    pub fn verify(&self, secret: &[u8], body: &[u8]) -> Result<(), SigV4Error> {
        self.verify_with(secret, body, None)
    }

    /// As `verify`, taking the signing key from `keys` when it was derived before from the same secret and
    /// scope (and keeping it there when not).
    pub fn verify_with(
        &self,
        secret: &[u8],
        body: &[u8],
        keys: Option<&SigningKeys>,
    ) -> Result<(), SigV4Error> {
        // The canonical request is the prefix and the body's hash; it is hashed in two parts, never joined.
        let mut canonical = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        canonical.update(self.canonical_prefix.as_bytes());
        canonical.update(hex(&sha256(body)).as_bytes());
        let canonical_hash = hex(canonical.finish().as_ref());
        // The string to sign, `ALGORITHM\n<amz date>\n<scope>\n<canonical hash>`, MACed in parts.
        let to_sign = [
            ALGORITHM.as_bytes(),
            b"\n",
            self.amz_date.as_bytes(),
            b"\n",
            self.scope.as_bytes(),
            b"\n",
            canonical_hash.as_bytes(),
        ];
        let derive = || {
            let date = &self.amz_date[..8];
            let service = self.scope.split('/').nth(2).unwrap_or_default();
            signing_key(secret, date, &self.region, service)
        };
        let key = match keys {
            Some(keys) => keys.get_or_derive(&self.access_key_id, &self.scope, secret, derive),
            None => derive(),
        };
        let expected = arca_crypto::hmac_sha256(&key[..], &to_sign);
        if arca_crypto::constant_time_eq(&expected, &self.signature) {
            Ok(())
        } else {
            Err(SigV4Error::Mismatch)
        }
    }
}

/// Reads and checks a KMS request's signature metadata at `now`: everything but the signature itself.
pub fn parse(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    now: OffsetDateTime,
) -> Result<Presented, SigV4Error> {
    parse_for(SERVICE, &REQUIRED_SIGNED_HEADERS, method, uri, headers, now)
}

/// [`parse`] for a given service and set of required signed headers (AWS's examples use other services).
fn parse_for(
    service: &str,
    required: &[&str],
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    now: OffsetDateTime,
) -> Result<Presented, SigV4Error> {
    let query = uri.query().unwrap_or("");
    if query_pairs(query).iter().any(|(k, _)| {
        k.eq_ignore_ascii_case("x-amz-signature") || k.eq_ignore_ascii_case("x-amz-algorithm")
    }) {
        return Err(SigV4Error::Invalid(
            "Presigned URLs are not accepted; sign the request in the Authorization header.".into(),
        ));
    }
    let mut authorizations = headers.get_all(http::header::AUTHORIZATION).iter();
    let authorization = authorizations.next().ok_or(SigV4Error::Missing)?;
    if authorizations.next().is_some() {
        return Err(SigV4Error::Invalid(
            "Only one Authorization header may be sent.".into(),
        ));
    }
    let authorization = authorization
        .to_str()
        .map_err(|_| SigV4Error::Incomplete("Authorization header is not ASCII.".into()))?;
    let parsed = parse_authorization(authorization)?;

    let mut scope_parts = parsed.credential.split('/');
    let (
        Some(access_key_id),
        Some(date),
        Some(region),
        Some(scope_service),
        Some(terminator),
        None,
    ) = (
        scope_parts.next(),
        scope_parts.next(),
        scope_parts.next(),
        scope_parts.next(),
        scope_parts.next(),
        scope_parts.next(),
    )
    else {
        return Err(SigV4Error::Incomplete(format!(
            "Credential should have five parts (access key id, date, region, service, {TERMINATOR})."
        )));
    };
    if access_key_id.is_empty() || region.is_empty() {
        return Err(SigV4Error::Incomplete(
            "Credential has an empty access key id or region.".into(),
        ));
    }
    if terminator != TERMINATOR {
        return Err(SigV4Error::Invalid(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'."
        )));
    }
    if scope_service != service {
        return Err(SigV4Error::Invalid(format!(
            "Credential should be scoped to correct service: '{service}'."
        )));
    }

    for name in required {
        if !parsed.signed_headers.iter().any(|h| h == name) {
            return Err(SigV4Error::Invalid(format!(
                "The header '{name}' must be signed (SignedHeaders is missing it)."
            )));
        }
    }
    let amz_date = single_header(headers, "x-amz-date")?.ok_or_else(|| {
        SigV4Error::Incomplete(
            "Authorization header requires existence of the 'X-Amz-Date' header.".into(),
        )
    })?;
    let when = parse_amz_date(&amz_date).ok_or_else(|| {
        SigV4Error::Incomplete(format!(
            "X-Amz-Date '{amz_date}' must be in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z'."
        ))
    })?;
    if date != &amz_date[..8] {
        return Err(SigV4Error::Invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
             '{date}' != '{}', from '{amz_date}'.",
            &amz_date[..8]
        )));
    }
    check_skew(when, &amz_date, now)?;

    let canonical_prefix =
        canonical_prefix(method, uri, headers, &parsed.signed_headers).map_err(|name| {
            SigV4Error::Invalid(format!("The signed header '{name}' is not in the request."))
        })?;
    Ok(Presented {
        access_key_id: access_key_id.to_owned(),
        region: region.to_owned(),
        scope: format!("{date}/{region}/{scope_service}/{TERMINATOR}"),
        amz_date,
        signature: parsed.signature,
        canonical_prefix,
    })
}

/// The three components of an `Authorization: AWS4-HMAC-SHA256 ...` header.
struct AuthorizationHeader {
    credential: String,
    signed_headers: Vec<String>,
    signature: [u8; 32],
}

fn parse_authorization(value: &str) -> Result<AuthorizationHeader, SigV4Error> {
    let value = value.trim();
    let (algorithm, rest) = value.split_once(' ').unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        return Err(SigV4Error::Incomplete(format!(
            "Unsupported AWS 'algorithm': only '{ALGORITHM}' is accepted."
        )));
    }
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for component in rest.split(',') {
        let component = component.trim();
        if component.is_empty() {
            continue;
        }
        let Some((name, value)) = component.split_once('=') else {
            return Err(SigV4Error::Incomplete(format!(
                "'{component}' not a valid key=value pair (missing equal-sign) in Authorization header."
            )));
        };
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.replace(value.trim().to_owned()).is_some() {
            return Err(SigV4Error::Incomplete(format!(
                "Authorization header has '{name}' twice."
            )));
        }
    }
    let missing = |what: &str| {
        SigV4Error::Incomplete(format!(
            "Authorization header requires '{what}' parameter. Authorization={ALGORITHM} ..."
        ))
    };
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let signed = signed.ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| missing("Signature"))?;
    let signed_headers: Vec<String> = signed.split(';').map(str::to_owned).collect();
    let sorted = signed_headers.windows(2).all(|w| w[0] < w[1]);
    if signed_headers
        .iter()
        .any(|h| h.is_empty() || h.bytes().any(|b| b.is_ascii_uppercase()))
        || !sorted
    {
        return Err(SigV4Error::Incomplete(
            "SignedHeaders must be lower-case header names, sorted, separated by ';'.".into(),
        ));
    }
    let signature = unhex32(&signature)
        .ok_or_else(|| SigV4Error::Incomplete("Signature must be 64 hexadecimal digits.".into()))?;
    Ok(AuthorizationHeader {
        credential,
        signed_headers,
        signature,
    })
}

/// The value of a header that must appear at most once (`None` when absent).
fn single_header(headers: &HeaderMap, name: &str) -> Result<Option<String>, SigV4Error> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(SigV4Error::Incomplete(format!(
            "The '{name}' header must appear once."
        )));
    }
    let text = first
        .to_str()
        .map_err(|_| SigV4Error::Incomplete(format!("The '{name}' header is not ASCII.")))?;
    Ok(Some(text.trim().to_owned()))
}

/// `YYYYMMDDTHHMMSSZ` → a UTC instant.
fn parse_amz_date(text: &str) -> Option<OffsetDateTime> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let s = text.get(range)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(digits(4..6)?).ok()?).ok()?;
    let day = u8::try_from(digits(6..8)?).ok()?;
    let hour = u8::try_from(digits(9..11)?).ok()?;
    let minute = u8::try_from(digits(11..13)?).ok()?;
    let second = u8::try_from(digits(13..15)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let clock = time::Time::from_hms(hour, minute, second).ok()?;
    Some(time::PrimitiveDateTime::new(date, clock).assume_utc())
}

/// An instant as `YYYYMMDDTHHMMSSZ` (UTC).
pub fn format_amz_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// AWS's "Signature expired" / "Signature not yet current" refusals outside ±15 minutes.
fn check_skew(when: OffsetDateTime, amz_date: &str, now: OffsetDateTime) -> Result<(), SigV4Error> {
    let now_text = || format_amz_date(now);
    if when < now - MAX_SKEW {
        return Err(SigV4Error::Expired(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            format_amz_date(now - MAX_SKEW),
            now_text()
        )));
    }
    if when > now + MAX_SKEW {
        return Err(SigV4Error::Expired(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
            format_amz_date(now + MAX_SKEW),
            now_text()
        )));
    }
    Ok(())
}

/// Percent-encodes every byte but the unreserved ones (`A-Za-z0-9-_.~`), and `/` when `keep_slash`.
fn uri_encode(bytes: &[u8], keep_slash: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The canonical URI: the path as sent, URI-encoded once more (AWS's rule for every service but S3).
pub fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    uri_encode(path.as_bytes(), true)
}

/// The query's `name=value` pairs, percent-decoded.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The canonical query string: pairs re-encoded, sorted by name then value, joined with `&`.
pub fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(query)
        .into_iter()
        .map(|(k, v)| {
            (
                uri_encode(k.as_bytes(), false),
                uri_encode(v.as_bytes(), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The canonical request up to the body's hash, built in one buffer: method, URI, query, the canonical headers
/// of `names`, the signed header names, each followed by a newline. `Err` names a header that is missing.
fn canonical_prefix(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    names: &[String],
) -> Result<String, String> {
    let mut out = String::with_capacity(512);
    out.push_str(method.as_str());
    out.push('\n');
    out.push_str(&canonical_uri(uri.path()));
    out.push('\n');
    if let Some(query) = uri.query().filter(|q| !q.is_empty()) {
        out.push_str(&canonical_query(query));
    }
    out.push('\n');
    canonical_headers(&mut out, headers, uri, names)?;
    out.push('\n');
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    Ok(out)
}

/// Appends a header value trimmed, with inner runs of spaces collapsed to one.
fn push_canonical_value(out: &mut String, value: &[u8]) {
    let text = String::from_utf8_lossy(value);
    for (i, word) in text.split_ascii_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
}

/// Appends the canonical headers block (each `name:value\n`) for `names` to `out`, or names the first header
/// that is missing. `host` falls back to the URI's authority (HTTP/2 carries it as `:authority`).
fn canonical_headers(
    out: &mut String,
    headers: &HeaderMap,
    uri: &Uri,
    names: &[String],
) -> Result<(), String> {
    for name in names {
        out.push_str(name);
        out.push(':');
        let mut values = headers.get_all(name.as_str()).iter().peekable();
        if values.peek().is_none() {
            match (name.as_str(), uri.authority()) {
                ("host", Some(authority)) => out.push_str(authority.as_str()),
                _ => return Err(name.clone()),
            }
        }
        for (i, value) in values.enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_canonical_value(out, value.as_bytes());
        }
        out.push('\n');
    }
    Ok(())
}

/// `AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of the canonical request>`.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex(&sha256(canonical_request.as_bytes()))
    )
}

/// Signing keys already derived, one per access key: the latest credential scope (date/region/service) it signed
/// with and the secret it was derived from. A signing key is four HMACs and the same for every request of an
/// access key on one day; a hit needs the same scope and, compared in constant time, the same secret.
#[derive(Default)]
pub struct SigningKeys {
    by_access_key: std::sync::Mutex<std::collections::HashMap<String, CachedSigningKey>>,
}

struct CachedSigningKey {
    scope: String,
    secret: Zeroizing<Vec<u8>>,
    key: Zeroizing<[u8; 32]>,
}

/// Access keys whose signing keys are kept; past it the cache starts over.
const SIGNING_KEYS_LIMIT: usize = 4096;

impl SigningKeys {
    fn get_or_derive(
        &self,
        access_key_id: &str,
        scope: &str,
        secret: &[u8],
        derive: impl FnOnce() -> Zeroizing<[u8; 32]>,
    ) -> Zeroizing<[u8; 32]> {
        let lock = || {
            self.by_access_key
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        };
        if let Some(hit) = lock()
            .get(access_key_id)
            .filter(|c| c.scope == scope && arca_crypto::constant_time_eq(&c.secret[..], secret))
        {
            return hit.key.clone();
        }
        let key = derive();
        let mut cached = lock();
        if cached.len() >= SIGNING_KEYS_LIMIT {
            cached.clear();
        }
        cached.insert(
            access_key_id.to_owned(),
            CachedSigningKey {
                scope: scope.to_owned(),
                secret: Zeroizing::new(secret.to_vec()),
                key: key.clone(),
            },
        );
        key
    }
}

/// The signing key: HMAC chain from `"AWS4" + secret` over date, region, service and `aws4_request`.
pub fn signing_key(secret: &[u8], date: &str, region: &str, service: &str) -> Zeroizing<[u8; 32]> {
    let mut seed = Zeroizing::new(Vec::with_capacity(4 + secret.len()));
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret);
    let k_date = Zeroizing::new(arca_crypto::hmac_sha256(&seed, &[date.as_bytes()]));
    let k_region = Zeroizing::new(arca_crypto::hmac_sha256(&k_date[..], &[region.as_bytes()]));
    let k_service = Zeroizing::new(arca_crypto::hmac_sha256(
        &k_region[..],
        &[service.as_bytes()],
    ));
    Zeroizing::new(arca_crypto::hmac_sha256(
        &k_service[..],
        &[TERMINATOR.as_bytes()],
    ))
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

fn unhex32(text: &str) -> Option<[u8; 32]> {
    let b = text.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let nibble = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

/// What a client signs with.
pub struct Credentials<'a> {
    /// The access key id (`Credential=<id>/...`).
    pub access_key_id: &'a str,
    /// The secret access key.
    pub secret_access_key: &'a [u8],
    /// The region of the scope (Arca accepts any).
    pub region: &'a str,
    /// The service of the scope: [`SERVICE`] for KMS.
    pub service: &'a str,
}

/// Signs a request in place (client side): sets `host` (from `uri` when absent) and `x-amz-date` (`now`), then
/// signs every header present in `headers` and sets `authorization`. Put `content-type` and `x-amz-target`
/// in `headers` before calling; headers added afterwards (e.g. by the HTTP client) are not signed.
pub fn sign(
    method: &Method,
    uri: &Uri,
    headers: &mut HeaderMap,
    body: &[u8],
    credentials: &Credentials<'_>,
    now: OffsetDateTime,
) -> Result<(), SigV4Error> {
    let invalid = |what: &str| SigV4Error::Invalid(format!("cannot sign: {what}"));
    headers.remove(http::header::AUTHORIZATION);
    if !headers.contains_key(http::header::HOST) {
        let authority = uri
            .authority()
            .ok_or_else(|| invalid("the URI has no host"))?;
        let value =
            http::HeaderValue::from_str(authority.as_str()).map_err(|_| invalid("bad host"))?;
        headers.insert(http::header::HOST, value);
    }
    let amz_date = format_amz_date(now);
    let value = http::HeaderValue::from_str(&amz_date).map_err(|_| invalid("bad date"))?;
    headers.insert("x-amz-date", value);

    let mut names: Vec<String> = headers.keys().map(|k| k.as_str().to_owned()).collect();
    names.sort();
    names.dedup();
    let mut canonical_request = canonical_prefix(method, uri, headers, &names)
        .map_err(|name| invalid(&format!("header {name}")))?;
    canonical_request.push_str(&hex(&sha256(body)));
    let signed = names.join(";");
    let date = &amz_date[..8];
    let scope = format!(
        "{date}/{}/{}/{TERMINATOR}",
        credentials.region, credentials.service
    );
    let to_sign = string_to_sign(&amz_date, &scope, &canonical_request);
    let key = signing_key(
        credentials.secret_access_key,
        date,
        credentials.region,
        credentials.service,
    );
    let signature = hex(&arca_crypto::hmac_sha256(&key[..], &[to_sign.as_bytes()]));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
        credentials.access_key_id
    );
    let value =
        http::HeaderValue::from_str(&authorization).map_err(|_| invalid("bad access key id"))?;
    headers.insert(http::header::AUTHORIZATION, value);
    Ok(())
}

#[cfg(test)]
#[path = "sigv4_tests.rs"]
mod tests;
