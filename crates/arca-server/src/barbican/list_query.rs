//! The secrets list query as Barbican reads it (`SecretsController.on_get`, `clean_paging_values`,
//! `_is_valid_date_filter`, `_is_valid_sorting`) and the `next`/`previous` links (`hrefs.add_nav_hrefs`).
//!
//! Paging never fails: `limit` defaults to 10, is clamped to 1..=100 and falls back to 10 when not an
//! integer; `offset` defaults to 0 and negative or non-integer values become 0. `bits` that is not a positive
//! integer is ignored (Barbican's "GitHub issue 171" rule). An unknown `secret_type` matches nothing. Date
//! filters (`created`, `updated`, `expiration`: comma-separated `gt:`/`gte:`/`lt:`/`lte:`/plain ISO 8601
//! values) and `sort` (`key[:asc|desc],...`) that Barbican would refuse are a 400
//! "URI provided invalid query string parameters.".

use arca_core::{Cmp, SecretQuery, SecretType, SortDir, SortKey, TimeField, TimeFilter};
use time::OffsetDateTime;

use crate::error::ApiError;

use super::hrefs::HostHref;
use super::python_int::python_int;
use super::timefmt;

/// Barbican's `default_limit_paging`.
pub(crate) const DEFAULT_LIMIT: u32 = 10;
/// Barbican's `max_limit_paging`.
pub(crate) const MAX_LIMIT: u32 = 100;

/// A parsed list request.
#[derive(Debug)]
pub(crate) struct ListRequest {
    /// The query for the domain (project and time are set by the service).
    pub query: SecretQuery,
    /// `secret_type` named no known type: the answer is an empty list.
    pub matches_nothing: bool,
    /// The request's other parameters, kept for the navigation links.
    pub passthrough: Vec<(String, String)>,
}

fn bad_query() -> ApiError {
    ApiError::bad_request("URI provided invalid query string parameters.")
}

/// `clean_paging_values`.
pub(crate) fn paging(offset: Option<&str>, limit: Option<&str>) -> (u32, u32) {
    let offset = match offset.filter(|v| !v.is_empty()).map(python_int) {
        None => 0,
        Some(None) => 0,
        Some(Some(v)) if v < 0 || v > i128::from(i64::MAX) => 0,
        Some(Some(v)) => u32::try_from(v).unwrap_or(u32::MAX),
    };
    let limit = match limit.filter(|v| !v.is_empty()).map(python_int) {
        None | Some(None) => DEFAULT_LIMIT,
        Some(Some(v)) if v < 1 => 1,
        Some(Some(v)) if v > i128::from(MAX_LIMIT) => MAX_LIMIT,
        Some(Some(v)) => u32::try_from(v).unwrap_or(MAX_LIMIT),
    };
    (offset, limit)
}

/// One date filter value (`_is_valid_date_filter`, with its order-dependent rules kept).
fn date_filters(field: TimeField, value: &str) -> Result<Vec<TimeFilter>, ApiError> {
    let (mut gt, mut gte, mut lt, mut lte, mut eq) = (false, false, false, false, false);
    let mut out = Vec::new();
    for item in value.split(',') {
        let (cmp, text) = if let Some(rest) = item.strip_prefix("gt:") {
            if gt || gte {
                return Err(bad_query());
            }
            gt = true;
            (Cmp::Gt, rest)
        } else if let Some(rest) = item.strip_prefix("gte:") {
            if gt || gte || eq {
                return Err(bad_query());
            }
            gte = true;
            (Cmp::Gte, rest)
        } else if let Some(rest) = item.strip_prefix("lt:") {
            if lt || lte {
                return Err(bad_query());
            }
            lt = true;
            (Cmp::Lt, rest)
        } else if let Some(rest) = item.strip_prefix("lte:") {
            if lt || lte || eq {
                return Err(bad_query());
            }
            lte = true;
            (Cmp::Lte, rest)
        } else {
            if eq || gte || lte {
                return Err(bad_query());
            }
            eq = true;
            (Cmp::Eq, item)
        };
        let at = timefmt::parse(text).ok_or_else(bad_query)?;
        out.push(TimeFilter { field, cmp, at });
    }
    Ok(out)
}

fn sort_key(name: &str) -> Option<SortKey> {
    Some(match name {
        "algorithm" => SortKey::Algorithm,
        "bit_length" => SortKey::BitLength,
        "created" => SortKey::Created,
        "expiration" => SortKey::Expiration,
        "mode" => SortKey::Mode,
        "name" => SortKey::Name,
        "secret_type" => SortKey::SecretType,
        "status" => SortKey::Status,
        "updated" => SortKey::Updated,
        _ => return None,
    })
}

/// `sort=key[:dir],...` (`_is_valid_sorting`).
fn sorting(value: &str) -> Result<Vec<(SortKey, SortDir)>, ApiError> {
    let mut out: Vec<(SortKey, SortDir)> = Vec::new();
    for item in value.split(',') {
        let (key, dir) = match item.split_once(':') {
            Some((_, rest)) if rest.contains(':') => return Err(bad_query()),
            Some((k, d)) => (k, d),
            None => (item, "asc"),
        };
        let key = sort_key(key).ok_or_else(bad_query)?;
        let dir = match dir {
            "asc" => SortDir::Asc,
            "desc" => SortDir::Desc,
            _ => return Err(bad_query()),
        };
        if out.iter().any(|(k, _)| *k == key) {
            return Err(bad_query());
        }
        out.push((key, dir));
    }
    Ok(out)
}

/// Parses the raw query string of `GET /v1/secrets`.
pub(crate) fn parse(raw: Option<&str>) -> Result<ListRequest, ApiError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let nonempty = |key: &str| get(key).filter(|v| !v.is_empty()).map(str::to_owned);

    let (offset, limit) = paging(get("offset"), get("limit"));
    let mut query = SecretQuery::for_project("", OffsetDateTime::UNIX_EPOCH, limit, offset);
    query.name = nonempty("name");
    query.algorithm = nonempty("alg");
    query.mode = nonempty("mode");
    query.bit_length = get("bits")
        .and_then(python_int)
        .filter(|b| *b > 0)
        .and_then(|b| i64::try_from(b).ok());
    // `acl_only=true` (any case): the secrets shared with the caller through read ACLs, of any project.
    if get("acl_only").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        query.acl_user = Some(String::new());
    }
    let mut matches_nothing = false;
    if let Some(name) = nonempty("secret_type") {
        match SecretType::parse(&name) {
            Some(t) => query.secret_type = Some(t),
            None => matches_nothing = true,
        }
    }
    for (key, field) in [
        ("created", TimeField::Created),
        ("updated", TimeField::Updated),
        ("expiration", TimeField::Expiration),
    ] {
        if let Some(value) = nonempty(key) {
            query.time_filters.extend(date_filters(field, &value)?);
        }
    }
    if let Some(value) = nonempty("sort") {
        query.sort = sorting(&value)?;
    }
    let passthrough = pairs
        .iter()
        .filter(|(k, _)| k != "limit" && k != "offset")
        .cloned()
        .collect();
    Ok(ListRequest {
        query,
        matches_nothing,
        passthrough,
    })
}

/// `<host>/v1/<resource>?limit=L&offset=O[&<other parameters>]`.
fn list_href(
    host: &HostHref,
    resource: &str,
    offset: u64,
    limit: u32,
    passthrough: &[(String, String)],
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("limit", &limit.to_string());
    query.append_pair("offset", &offset.to_string());
    for (k, v) in passthrough {
        query.append_pair(k, v);
    }
    host.v1(&format!("{resource}?{}", query.finish()))
}

/// `add_nav_hrefs`: `previous` when `offset > 0`, `next` when more rows follow this page.
pub(crate) fn nav_links(
    host: &HostHref,
    offset: u32,
    limit: u32,
    total: u64,
    passthrough: &[(String, String)],
) -> (Option<String>, Option<String>) {
    nav_links_for(host, "secrets", offset, limit, total, passthrough)
}

/// [`nav_links`] for any paged collection under `/v1/` (`containers`, `secrets/<id>/consumers`, …).
pub(crate) fn nav_links_for(
    host: &HostHref,
    resource: &str,
    offset: u32,
    limit: u32,
    total: u64,
    passthrough: &[(String, String)],
) -> (Option<String>, Option<String>) {
    let previous = (offset > 0).then(|| {
        list_href(
            host,
            resource,
            u64::from(offset.saturating_sub(limit)),
            limit,
            passthrough,
        )
    });
    let next_offset = u64::from(offset) + u64::from(limit);
    let next =
        (total > next_offset).then(|| list_href(host, resource, next_offset, limit, passthrough));
    (previous, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &str) -> Result<ListRequest, ApiError> {
        parse(Some(q))
    }

    #[test]
    fn paging_is_clamped_never_refused() {
        assert_eq!(paging(None, None), (0, 10));
        assert_eq!(paging(Some("5"), Some("0")), (5, 1));
        assert_eq!(paging(Some("-3"), Some("1000")), (0, 100));
        assert_eq!(paging(Some("abc"), Some("xyz")), (0, 10));
        assert_eq!(paging(Some(""), Some("")), (0, 10));
        assert_eq!(
            paging(
                Some("99999999999999999999999"),
                Some("99999999999999999999999")
            ),
            (0, 100)
        );
        assert_eq!(paging(Some(" 7 "), Some("+2_0")), (7, 20));
    }

    #[test]
    fn filters() {
        let r = p("name=a+b&alg=aes&mode=cbc&bits=256&secret_type=symmetric").unwrap();
        assert_eq!(r.query.name.as_deref(), Some("a b"));
        assert_eq!(r.query.algorithm.as_deref(), Some("aes"));
        assert_eq!(r.query.bit_length, Some(256));
        assert_eq!(r.query.secret_type, Some(SecretType::Symmetric));
        assert!(!r.matches_nothing);
        assert_eq!(p("bits=abc").unwrap().query.bit_length, None);
        assert_eq!(p("bits=-5").unwrap().query.bit_length, None);
        assert!(p("secret_type=bogus").unwrap().matches_nothing);
    }

    #[test]
    fn date_filter_rules() {
        let r = p("created=gt:2016-01-01T00:00:00,lte:2017-01-01").unwrap();
        assert_eq!(r.query.time_filters.len(), 2);
        assert_eq!(r.query.time_filters[0].cmp, Cmp::Gt);
        assert_eq!(r.query.time_filters[1].cmp, Cmp::Lte);
        assert_eq!(
            p("expiration=2016-01-01").unwrap().query.time_filters[0].cmp,
            Cmp::Eq
        );
        for bad in [
            "created=gt:2016-01-01,gte:2016-01-01",
            "created=2016-01-01,2016-01-02",
            "created=2016-01-01,lte:2016-01-02",
            "created=lt:x",
            "updated=garbage",
            "created=gt:",
        ] {
            assert_eq!(
                p(bad).unwrap_err().status(),
                http::StatusCode::BAD_REQUEST,
                "{bad}"
            );
        }
        // Barbican only refuses `eq` after `eq`/`gte`/`lte`, not after `gt`/`lt`.
        assert!(p("created=gt:2016-01-01,2016-02-01").is_ok());
    }

    #[test]
    fn sort_rules() {
        let r = p("sort=name:desc,created").unwrap();
        assert_eq!(
            r.query.sort,
            vec![
                (SortKey::Name, SortDir::Desc),
                (SortKey::Created, SortDir::Asc)
            ]
        );
        for bad in [
            "sort=bogus",
            "sort=name:up",
            "sort=name,name:desc",
            "sort=name:asc:x",
            "sort=name,",
            "sort=NAME",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn links_keep_other_parameters() {
        let host = HostHref("http://h".into());
        let r = p("limit=2&offset=3&name=x y&alg=aes").unwrap();
        let (prev, next) = nav_links(&host, 3, 2, 10, &r.passthrough);
        assert_eq!(
            prev.as_deref(),
            Some("http://h/v1/secrets?limit=2&offset=1&name=x+y&alg=aes")
        );
        assert_eq!(
            next.as_deref(),
            Some("http://h/v1/secrets?limit=2&offset=5&name=x+y&alg=aes")
        );
        assert_eq!(nav_links(&host, 0, 10, 10, &[]), (None, None));
    }
}
