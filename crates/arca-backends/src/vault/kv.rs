//! The KV v2 side of the Vault store: locators (`arca/<project>/<secret id>`, the project id escaped so it
//! can never add a path segment or `..`), and the calls on them: write `{"data":{"payload":"<base64>"}}` to
//! `<mount>/data/<locator>`, read it back, look up `<mount>/metadata/<locator>` and delete it (every version).
//! The request and answer bodies that carry the payload are zeroizing buffers.

use std::borrow::Cow;

use arca_core::ExternalStoreError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use secrecy::SecretString;
use uuid::Uuid;
use zeroize::{Zeroize, Zeroizing};

use super::http::{CallError, Http};

/// The first segment of every locator.
const PREFIX: &str = "arca";

/// The locator of secret `secret_id` of `project_id`. Letters, digits and `-` of the project id are kept;
/// every other byte (`_` included) becomes `_XX` (hex), so the mapping is one-to-one and the segment holds
/// neither `/`, `.` nor `%`. An empty project id is `_`.
pub(super) fn locator(project_id: &str, secret_id: Uuid) -> String {
    let mut segment = String::with_capacity(project_id.len() + 2);
    for b in project_id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            segment.push(char::from(b));
        } else {
            segment.push_str(&format!("_{b:02X}"));
        }
    }
    if segment.is_empty() {
        segment.push('_');
    }
    format!("{PREFIX}/{segment}/{}", secret_id.hyphenated())
}

/// Refuses a locator this store did not make: it must be `arca/…` with segments of letters, digits, `-`
/// and `_` only (so it cannot climb out of the prefix or carry a query).
pub(super) fn check_locator(locator: &str) -> Result<(), ExternalStoreError> {
    let mut segments = locator.split('/');
    let ok = segments.next() == Some(PREFIX)
        && locator.len() <= 1024
        && locator.split('/').count() >= 2
        && segments.all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if ok {
        Ok(())
    } else {
        Err(ExternalStoreError::Rejected(format!(
            "{locator:?} is not a Vault locator of Arca (arca/<project>/<secret id>)"
        )))
    }
}

#[derive(serde::Deserialize)]
struct ReadAnswer<'a> {
    #[serde(borrow)]
    data: Option<ReadData<'a>>,
}

#[derive(serde::Deserialize)]
struct ReadData<'a> {
    #[serde(borrow)]
    data: Option<PayloadField<'a>>,
}

#[derive(serde::Deserialize)]
struct PayloadField<'a> {
    #[serde(borrow)]
    payload: Option<Cow<'a, str>>,
}

/// The KV v2 engine at one mount point.
pub(super) struct Kv {
    mount: String,
}

impl Kv {
    pub(super) fn new(mount: String) -> Self {
        Self { mount }
    }

    pub(super) fn mount(&self) -> &str {
        &self.mount
    }

    /// Writes `payload` as the next version of `locator`.
    pub(super) async fn write(
        &self,
        http: &Http,
        token: SecretString,
        locator: &str,
        payload: &[u8],
    ) -> Result<(), CallError> {
        const HEAD: &[u8] = br#"{"data":{"payload":""#;
        const TAIL: &[u8] = br#""}}"#;
        let encoded = base64::encoded_len(payload.len(), true).ok_or_else(|| {
            CallError::Rejected(format!("{}: the payload is too large", http.name()))
        })?;
        let mut body = Zeroizing::new(vec![0u8; HEAD.len() + encoded + TAIL.len()]);
        body[..HEAD.len()].copy_from_slice(HEAD);
        let written = STANDARD
            .encode_slice(payload, &mut body[HEAD.len()..HEAD.len() + encoded])
            .map_err(|e| CallError::Rejected(format!("{}: base64: {e}", http.name())))?;
        let end = HEAD.len() + written;
        body[end..end + TAIL.len()].copy_from_slice(TAIL);
        body.truncate(end + TAIL.len());
        http.call(
            Method::POST,
            &format!("/v1/{}/data/{locator}", self.mount),
            Some(&token),
            Some(body),
            &format!("writing {}/data/{locator}", self.mount),
        )
        .await
        .map(drop)
    }

    /// The payload of the current version of `locator`.
    pub(super) async fn read(
        &self,
        http: &Http,
        token: SecretString,
        locator: &str,
    ) -> Result<Zeroizing<Vec<u8>>, CallError> {
        let what = format!("reading {}/data/{locator}", self.mount);
        let answer = http
            .call(
                Method::GET,
                &format!("/v1/{}/data/{locator}", self.mount),
                Some(&token),
                None,
                &what,
            )
            .await?;
        let malformed = || {
            CallError::Rejected(format!(
                "{}: {what}: the answer holds no base64 data.data.payload (not written by Arca?)",
                http.name()
            ))
        };
        let parsed: ReadAnswer<'_> = serde_json::from_slice(&answer).map_err(|_| malformed())?;
        let text = parsed
            .data
            .and_then(|d| d.data)
            .and_then(|d| d.payload)
            .ok_or_else(malformed)?;
        let mut payload = Zeroizing::new(vec![0u8; text.len() / 4 * 3 + 3]);
        let decoded = STANDARD.decode_slice(text.as_bytes(), &mut payload[..]);
        if let Cow::Owned(mut owned) = text {
            owned.zeroize();
        }
        let n = decoded.map_err(|_| malformed())?;
        payload.truncate(n);
        Ok(payload)
    }

    /// Whether `locator` has metadata (any version, deleted or not): `NotFound` if not.
    pub(super) async fn metadata(
        &self,
        http: &Http,
        token: SecretString,
        locator: &str,
    ) -> Result<(), CallError> {
        http.call(
            Method::GET,
            &format!("/v1/{}/metadata/{locator}", self.mount),
            Some(&token),
            None,
            &format!("reading {}/metadata/{locator}", self.mount),
        )
        .await
        .map(drop)
    }

    /// Deletes the metadata of `locator` and with it every version (Vault answers 204 even when absent).
    pub(super) async fn destroy(
        &self,
        http: &Http,
        token: SecretString,
        locator: &str,
    ) -> Result<(), CallError> {
        http.call(
            Method::DELETE,
            &format!("/v1/{}/metadata/{locator}", self.mount),
            Some(&token),
            None,
            &format!("deleting {}/metadata/{locator}", self.mount),
        )
        .await
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_escape_the_project_one_to_one() {
        let id = Uuid::nil();
        let nil = "00000000-0000-0000-0000-000000000000";
        assert_eq!(locator("abc-123", id), format!("arca/abc-123/{nil}"));
        assert_eq!(locator("a/../b", id), format!("arca/a_2F_2E_2E_2Fb/{nil}"));
        assert_eq!(locator("a_2F", id), format!("arca/a_5F2F/{nil}"));
        assert_eq!(locator("", id), format!("arca/_/{nil}"));
        assert_eq!(locator("é%", id), format!("arca/_C3_A9_25/{nil}"));
        for p in ["abc-123", "a/../b", "a_2F", "", "é%", "x?y#z"] {
            assert!(check_locator(&locator(p, id)).is_ok(), "{p}");
        }
    }

    #[test]
    fn foreign_locators_are_refused() {
        for bad in [
            "",
            "arca",
            "arca/",
            "other/p/x",
            "arca/../x",
            "arca/p/x?version=1",
            "arca//x",
            "arca/p/x/",
            "arca/p%2F/x",
        ] {
            assert!(
                matches!(check_locator(bad), Err(ExternalStoreError::Rejected(_))),
                "{bad:?}"
            );
        }
    }
}
