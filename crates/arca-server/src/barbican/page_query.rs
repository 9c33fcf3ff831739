//! The query string of Barbican's other paged lists (containers, container and secret consumers): `offset`
//! and `limit` cleaned as `clean_paging_values` does (never refused), the other parameters kept for filters
//! and for the `next`/`previous` links.

use super::list_query::paging;

/// A parsed paged-list query.
#[derive(Debug)]
pub(crate) struct PageQuery {
    /// Rows to skip.
    pub offset: u32,
    /// Page size.
    pub limit: u32,
    /// Every parameter but `limit` and `offset`, in order.
    pub passthrough: Vec<(String, String)>,
}

impl PageQuery {
    /// Parses a raw query string.
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let (offset, limit) = paging(get("offset"), get("limit"));
        let passthrough = pairs
            .iter()
            .filter(|(k, _)| k != "limit" && k != "offset")
            .cloned()
            .collect();
        PageQuery {
            offset,
            limit,
            passthrough,
        }
    }

    /// A non-empty filter parameter (Barbican's `kw.get(name)` used only when truthy).
    pub(crate) fn filter(&self, key: &str) -> Option<&str> {
        self.passthrough
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_and_filters() {
        let q = PageQuery::parse(Some("limit=2&offset=x&name=a%20b&type="));
        assert_eq!((q.offset, q.limit), (0, 2));
        assert_eq!(q.filter("name"), Some("a b"));
        assert_eq!(q.filter("type"), None);
        assert_eq!(q.passthrough.len(), 2);
        let q = PageQuery::parse(None);
        assert_eq!((q.offset, q.limit), (0, 10));
    }
}
