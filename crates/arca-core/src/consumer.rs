//! Secret consumers (Barbican's `SecretConsumerMetadatum`, microversion 1.1): a service's resource that uses a
//! secret, and pages of consumers of a secret or a container.

use time::OffsetDateTime;

use crate::ContainerConsumer;

/// A consumer registered on a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretConsumer {
    /// The consuming service's type (`image`, `volume`, …).
    pub service: String,
    /// The consuming resource's type.
    pub resource_type: String,
    /// The consuming resource's id.
    pub resource_id: String,
    /// The project that registered it.
    pub project_id: String,
    /// When it was registered.
    pub created: OffsetDateTime,
    /// When it was last registered again.
    pub updated: OffsetDateTime,
}

/// One page of a secret's consumers (Barbican orders them by creation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretConsumerPage {
    /// The rows of this page.
    pub consumers: Vec<SecretConsumer>,
    /// How many there are in all.
    pub total: u64,
}

/// One page of a container's consumers (Barbican orders them by name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerConsumerPage {
    /// The rows of this page.
    pub consumers: Vec<ContainerConsumer>,
    /// How many there are in all.
    pub total: u64,
}
