//! Containers as the domain sees them (Barbican's model): typed groups of secret references (`generic`,
//! `rsa`, `certificate`), a request to create one, its list query, and the consumers registered on it.

use time::OffsetDateTime;
use uuid::Uuid;

/// Barbican's container types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerType {
    /// Any secrets under any (unique) names.
    Generic,
    /// `public_key`, `private_key` and optionally `private_key_passphrase`.
    Rsa,
    /// `certificate` and optionally `private_key`, `private_key_passphrase`, `intermediates`.
    Certificate,
}

impl ContainerType {
    /// All types, in Barbican's schema order.
    pub const ALL: [ContainerType; 3] = [
        ContainerType::Generic,
        ContainerType::Rsa,
        ContainerType::Certificate,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerType::Generic => "generic",
            ContainerType::Rsa => "rsa",
            ContainerType::Certificate => "certificate",
        }
    }

    /// Parses a name; `None` for anything unknown.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// One secret referenced by a container, under an optional name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSecretRef {
    /// The reference's name within the container (`private_key`, …), if any.
    pub name: Option<String>,
    /// The referenced secret.
    pub secret_id: Uuid,
}

/// A consumer registered on a container (`ContainerConsumerMetadatum`): a service's name and the URL of the
/// resource that uses the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerConsumer {
    /// The consuming service's name.
    pub name: String,
    /// The consuming resource's URL.
    pub url: String,
    /// The project that registered it.
    pub project_id: String,
    /// When it was registered.
    pub created: OffsetDateTime,
    /// When it was last registered again.
    pub updated: OffsetDateTime,
}

/// A container with its secret references and consumers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRecord {
    /// The container's id.
    pub id: Uuid,
    /// The owning project.
    pub project_id: String,
    /// The user who created it.
    pub creator_id: String,
    /// Optional name.
    pub name: Option<String>,
    /// Its type.
    pub container_type: ContainerType,
    /// Creation time.
    pub created: OffsetDateTime,
    /// Last update time (a secret added or removed, a consumer registered).
    pub updated: OffsetDateTime,
    /// The secrets it references, in the order they were added.
    pub secret_refs: Vec<ContainerSecretRef>,
    /// Its consumers, in the order they were registered.
    pub consumers: Vec<ContainerConsumer>,
}

/// A request to create a container; creator and project come from the caller. The secret references are
/// already checked against the container type's rules (names, duplicates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContainer {
    /// Optional name.
    pub name: Option<String>,
    /// Its type.
    pub container_type: ContainerType,
    /// The secrets to reference; each must be a live secret of the caller's project.
    pub secret_refs: Vec<ContainerSecretRef>,
}

/// A containers list query within one project, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerQuery {
    /// The project to list (set from the caller, never from the request).
    pub project_id: String,
    /// A name pattern as SQL `LIKE` reads it (Barbican's `Container.name.like(name)`).
    pub name: Option<String>,
    /// Exact type.
    pub container_type: Option<ContainerType>,
    /// Page size.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u32,
}

/// One page of containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerPage {
    /// The rows of this page.
    pub containers: Vec<ContainerRecord>,
    /// How many rows match in all.
    pub total: u64,
}
