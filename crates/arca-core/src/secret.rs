//! Secrets as the domain sees them (Barbican's model): the metadata record, a new-secret request, payloads, and
//! the list query with its filters and sort keys.

use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

/// Barbican's secret types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretType {
    /// A symmetric key.
    Symmetric,
    /// A public key.
    Public,
    /// A private key.
    Private,
    /// A passphrase.
    Passphrase,
    /// An X.509 certificate.
    Certificate,
    /// Anything else (Barbican's default).
    Opaque,
}

impl SecretType {
    /// All types, in Barbican's order.
    pub const ALL: [SecretType; 6] = [
        SecretType::Symmetric,
        SecretType::Public,
        SecretType::Private,
        SecretType::Passphrase,
        SecretType::Certificate,
        SecretType::Opaque,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretType::Symmetric => "symmetric",
            SecretType::Public => "public",
            SecretType::Private => "private",
            SecretType::Passphrase => "passphrase",
            SecretType::Certificate => "certificate",
            SecretType::Opaque => "opaque",
        }
    }

    /// Parses a name; `None` for anything unknown.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// A secret's metadata (never its payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRecord {
    /// The secret's id.
    pub id: Uuid,
    /// The owning project.
    pub project_id: String,
    /// The user who created it.
    pub creator_id: String,
    /// Optional name.
    pub name: Option<String>,
    /// Optional algorithm (free text, e.g. `aes`).
    pub algorithm: Option<String>,
    /// Optional bit length.
    pub bit_length: Option<i64>,
    /// Optional mode (free text, e.g. `cbc`).
    pub mode: Option<String>,
    /// Barbican secret type.
    pub secret_type: SecretType,
    /// When it expires, if ever.
    pub expiration: Option<OffsetDateTime>,
    /// Creation time.
    pub created: OffsetDateTime,
    /// Last update time.
    pub updated: OffsetDateTime,
    /// The payload's content type once a payload is stored.
    pub content_type: Option<String>,
}

impl SecretRecord {
    /// Whether the secret has expired at `now`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expiration.is_some_and(|at| at <= now)
    }
}

/// A plaintext payload on its way in or out; zeroized on drop, not `Debug`.
pub struct Payload {
    /// The payload bytes.
    pub bytes: Zeroizing<Vec<u8>>,
    /// Its content type.
    pub content_type: String,
}

/// A request to create a secret; the creator and project come from the caller.
pub struct NewSecret {
    /// Optional name.
    pub name: Option<String>,
    /// Optional algorithm.
    pub algorithm: Option<String>,
    /// Optional bit length.
    pub bit_length: Option<i64>,
    /// Optional mode.
    pub mode: Option<String>,
    /// Secret type.
    pub secret_type: SecretType,
    /// Optional expiry; must be in the future.
    pub expiration: Option<OffsetDateTime>,
    /// Optional payload (else a two-step create).
    pub payload: Option<Payload>,
}

/// A comparison in a time filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// Equal.
    Eq,
    /// Strictly greater.
    Gt,
    /// Greater or equal.
    Gte,
    /// Strictly less.
    Lt,
    /// Less or equal.
    Lte,
}

/// A timestamp field that can be filtered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeField {
    /// `created`.
    Created,
    /// `updated`.
    Updated,
    /// `expiration`.
    Expiration,
}

/// One time filter, e.g. `created=gte:2026-01-01T00:00:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeFilter {
    /// Which field.
    pub field: TimeField,
    /// Which comparison.
    pub cmp: Cmp,
    /// Against what.
    pub at: OffsetDateTime,
}

/// A sort key of the secrets list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// `name`.
    Name,
    /// `created`.
    Created,
    /// `updated`.
    Updated,
    /// `expiration`.
    Expiration,
    /// `algorithm`.
    Algorithm,
    /// `bit_length`.
    BitLength,
    /// `mode`.
    Mode,
    /// `secret_type`.
    SecretType,
    /// `status` (always ACTIVE today; kept for Barbican compatibility).
    Status,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDir {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// A secrets list query within one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretQuery {
    /// The project to list (set from the caller, never from the request).
    pub project_id: String,
    /// Only secrets not expired at this time.
    pub now: OffsetDateTime,
    /// Exact name.
    pub name: Option<String>,
    /// Exact algorithm.
    pub algorithm: Option<String>,
    /// Exact mode.
    pub mode: Option<String>,
    /// Exact bit length.
    pub bit_length: Option<i64>,
    /// Exact type.
    pub secret_type: Option<SecretType>,
    /// Time filters, all of which must hold.
    pub time_filters: Vec<TimeFilter>,
    /// Sort keys in order; empty means newest first by creation.
    pub sort: Vec<(SortKey, SortDir)>,
    /// Page size.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u32,
    /// `acl_only=true`: instead of the project's secrets, those (of any project) whose read ACL lists this
    /// user.
    pub acl_user: Option<String>,
}

impl SecretQuery {
    /// A query for all of a project's secrets with no filters.
    pub fn for_project(project_id: &str, now: OffsetDateTime, limit: u32, offset: u32) -> Self {
        Self {
            project_id: project_id.to_owned(),
            now,
            name: None,
            algorithm: None,
            mode: None,
            bit_length: None,
            secret_type: None,
            time_filters: Vec::new(),
            sort: Vec::new(),
            limit,
            offset,
            acl_user: None,
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretPage {
    /// The rows of this page.
    pub secrets: Vec<SecretRecord>,
    /// How many rows match in all.
    pub total: u64,
}
