//! HATEOAS references as Barbican builds them (`barbican/common/hrefs.py`): `<host_href>/v1/secrets/<id>`,
//! where `host_href` is derived from the request (`http://<Host>`) since Arca has no `host_href` option yet.
//! A `Host` value with characters that do not belong in an authority is not echoed: the default
//! `http://localhost:9311` is used instead, so a client cannot inject text into `Location` or JSON refs.

use axum::extract::FromRequestParts;
use http::request::Parts;

/// Barbican's default `host_href`.
const DEFAULT_HOST_HREF: &str = "http://localhost:9311";

/// The base every reference in a response is built on, e.g. `http://127.0.0.1:9311`.
#[derive(Debug, Clone)]
pub(crate) struct HostHref(pub String);

fn is_authority(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_')
        })
}

impl HostHref {
    /// From a `Host` header value.
    pub(crate) fn from_host(host: Option<&str>) -> Self {
        match host.map(str::trim) {
            Some(h) if is_authority(h) => HostHref(format!("http://{h}")),
            _ => HostHref(DEFAULT_HOST_HREF.to_owned()),
        }
    }

    /// `<host>/v1/<resource>`.
    pub(crate) fn v1(&self, resource: &str) -> String {
        format!("{}/v1/{resource}", self.0)
    }

    /// A secret's reference.
    pub(crate) fn secret(&self, id: uuid::Uuid) -> String {
        // Written in place: a page of secrets builds one of these per secret.
        let mut href = String::with_capacity(self.0.len() + 48);
        href.push_str(&self.0);
        href.push_str("/v1/secrets/");
        href.push_str(
            id.hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer()),
        );
        href
    }

    /// A secret's metadata reference.
    pub(crate) fn metadata(&self, id: uuid::Uuid) -> String {
        self.v1(&format!("secrets/{id}/metadata"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for HostHref {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let host = parts
            .headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok());
        let host = host.or_else(|| parts.uri.authority().map(|a| a.as_str()));
        let mut href = HostHref::from_host(host);
        // Over TLS (`tls.rs` marks such requests) references are `https://`.
        if parts.extensions.get::<crate::tls::OverTls>().is_some() {
            href.0.replace_range(..4, "https");
        }
        Ok(href)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            HostHref::from_host(Some("127.0.0.1:9311")).0,
            "http://127.0.0.1:9311"
        );
        assert_eq!(HostHref::from_host(Some("[::1]:80")).0, "http://[::1]:80");
        assert_eq!(HostHref::from_host(Some("evil\"/x")).0, DEFAULT_HOST_HREF);
        assert_eq!(HostHref::from_host(None).0, DEFAULT_HOST_HREF);
    }

    #[test]
    fn a_secret_ref_is_the_v1_resource_of_its_id() {
        let host = HostHref::from_host(Some("kms.example:9311"));
        let id = uuid::Uuid::now_v7();
        assert_eq!(host.secret(id), host.v1(&format!("secrets/{id}")));
        assert_eq!(
            host.secret(uuid::Uuid::nil()),
            "http://kms.example:9311/v1/secrets/00000000-0000-0000-0000-000000000000"
        );
    }
}
