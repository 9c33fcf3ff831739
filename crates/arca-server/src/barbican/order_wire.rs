//! The JSON shapes of Barbican's ACL, orders and quotas APIs: an ACL as `acls.py`'s
//! `_convert_acl_to_response_format` writes it (or `DEFAULT_ACL`), an order as `Order.to_dict_fields` with ids
//! turned into refs (`hrefs.convert_to_hrefs`), and quotas as `quota.py`'s `QuotaDriver` returns them. Only this
//! crate knows them; domain types stay free of `Serialize`.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use arca_core::{Acl, OrderRecord, ProjectQuotas, ProjectQuotasRecord, QuotaDefaults};

use super::container_wire::container_ref;
use super::hrefs::HostHref;
use super::timefmt;

/// One operation's ACL entry.
#[derive(Serialize, ToSchema)]
pub(crate) struct AclEntry {
    #[serde(rename = "project-access")]
    project_access: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    users: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<String>,
}

/// `GET .../acl`: `{"read": {...}}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Acls {
    read: AclEntry,
}

impl Acls {
    /// Renders a stored ACL, or `DEFAULT_ACL` (`{"read": {"project-access": true}}`) when there is none.
    pub(crate) fn new(acl: Option<&Acl>) -> Self {
        let read = match acl {
            Some(acl) => AclEntry {
                project_access: acl.project_access,
                users: Some(acl.users.clone()),
                created: Some(timefmt::format(acl.created)),
                updated: Some(timefmt::format(acl.updated)),
            },
            None => AclEntry {
                project_access: true,
                users: None,
                created: None,
                updated: None,
            },
        };
        Acls { read }
    }
}

/// `PUT`/`PATCH .../acl` → 200.
#[derive(Serialize, ToSchema)]
pub(crate) struct AclRef {
    /// The ACL's reference.
    pub acl_ref: String,
}

/// An order.
#[derive(Serialize, ToSchema)]
pub(crate) struct Order {
    status: &'static str,
    created: String,
    updated: String,
    #[serde(rename = "type")]
    kind: &'static str,
    meta: Value,
    order_ref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    container_ref: Option<String>,
    /// A string, as Barbican's `error_status_code` column is.
    #[serde(skip_serializing_if = "Option::is_none")]
    error_status_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_status_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    creator_id: Option<String>,
}

/// An order's reference.
pub(crate) fn order_ref(host: &HostHref, id: uuid::Uuid) -> String {
    host.v1(&format!("orders/{id}"))
}

impl Order {
    /// Renders `record`.
    pub(crate) fn new(record: &OrderRecord, host: &HostHref) -> Self {
        Order {
            status: record.status.as_str(),
            created: timefmt::format(record.created),
            updated: timefmt::format(record.updated),
            kind: record.order_type.as_str(),
            // The server wrote `meta` as JSON; a row it cannot read shows as null rather than failing the list.
            meta: serde_json::from_str(&record.meta).unwrap_or(Value::Null),
            order_ref: order_ref(host, record.id),
            secret_ref: record.secret_id.map(|id| host.secret(id)),
            container_ref: record.container_id.map(|id| container_ref(host, id)),
            error_status_code: record.error_status_code.map(|c| c.to_string()),
            error_reason: record.error_reason.clone(),
            sub_status: record.sub_status.clone(),
            sub_status_message: record.sub_status_message.clone(),
            creator_id: (!record.creator_id.is_empty()).then(|| record.creator_id.clone()),
        }
    }
}

/// `POST /v1/orders` → 202.
#[derive(Serialize, ToSchema)]
pub(crate) struct OrderCreated {
    /// The new order's reference.
    pub order_ref: String,
}

/// `GET /v1/orders`.
#[derive(Serialize, ToSchema)]
pub(crate) struct OrderList {
    /// This page.
    pub orders: Vec<Order>,
    /// How many the project has.
    pub total: u64,
    /// The next page, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The previous page, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

/// Quota values per resource (`null` for "not configured" in a project's configured quotas).
#[derive(Serialize, ToSchema)]
pub(crate) struct QuotaValues<T: Serialize> {
    secrets: T,
    orders: T,
    containers: T,
    consumers: T,
    cas: T,
}

impl QuotaValues<i64> {
    /// Effective quotas.
    pub(crate) fn effective(q: &QuotaDefaults) -> Self {
        QuotaValues {
            secrets: q.secrets,
            orders: q.orders,
            containers: q.containers,
            consumers: q.consumers,
            cas: q.cas,
        }
    }
}

impl QuotaValues<Option<i64>> {
    /// Configured quotas.
    pub(crate) fn configured(q: &ProjectQuotas) -> Self {
        QuotaValues {
            secrets: q.secrets,
            orders: q.orders,
            containers: q.containers,
            consumers: q.consumers,
            cas: q.cas,
        }
    }
}

/// `GET /v1/quotas`.
#[derive(Serialize, ToSchema)]
pub(crate) struct EffectiveQuotas {
    /// The caller's project's effective quotas.
    pub quotas: QuotaValues<i64>,
}

/// `GET /v1/project-quotas/{id}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct ProjectQuotasBody {
    /// The project's configured quotas.
    pub project_quotas: QuotaValues<Option<i64>>,
}

/// One project in `GET /v1/project-quotas`.
#[derive(Serialize, ToSchema)]
pub(crate) struct ProjectQuotasItem {
    project_id: String,
    project_quotas: QuotaValues<Option<i64>>,
}

impl ProjectQuotasItem {
    /// Renders `record`.
    pub(crate) fn new(record: &ProjectQuotasRecord) -> Self {
        ProjectQuotasItem {
            project_id: record.project_id.clone(),
            project_quotas: QuotaValues::configured(&record.quotas),
        }
    }
}

/// `GET /v1/project-quotas`.
#[derive(Serialize, ToSchema)]
pub(crate) struct ProjectQuotasList {
    /// This page.
    pub project_quotas: Vec<ProjectQuotasItem>,
    /// How many projects have configured quotas.
    pub total: u64,
    /// The next page, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The previous page, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}
