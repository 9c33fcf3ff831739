//! The JSON shapes of Barbican's containers, consumers and secret-stores APIs (`Container.to_dict_fields`,
//! the consumer models' `to_dict_fields` and `convert_secret_store_to_response_format`, with ids turned into
//! refs as `hrefs.convert_to_hrefs` does). Only this crate knows them; domain types stay free of `Serialize`.

use serde::Serialize;
use utoipa::ToSchema;

use arca_core::{ContainerConsumer, ContainerRecord, SecretConsumer, SecretStoreRecord};

use super::hrefs::HostHref;
use super::timefmt;

/// A container's reference.
pub(crate) fn container_ref(host: &HostHref, id: uuid::Uuid) -> String {
    host.v1(&format!("containers/{id}"))
}

/// One secret reference of a container.
#[derive(Serialize, ToSchema)]
pub(crate) struct ContainerSecret {
    name: Option<String>,
    secret_ref: String,
}

/// A consumer as embedded in a container.
#[derive(Serialize, ToSchema)]
pub(crate) struct EmbeddedContainerConsumer {
    name: String,
    #[serde(rename = "URL")]
    url: String,
}

/// A container.
#[derive(Serialize, ToSchema)]
pub(crate) struct Container {
    status: &'static str,
    created: String,
    updated: String,
    name: Option<String>,
    #[serde(rename = "type")]
    kind: &'static str,
    creator_id: Option<String>,
    container_ref: String,
    secret_refs: Vec<ContainerSecret>,
    consumers: Vec<EmbeddedContainerConsumer>,
}

impl Container {
    /// Renders `record`.
    pub(crate) fn new(record: &ContainerRecord, host: &HostHref) -> Self {
        Container {
            status: "ACTIVE",
            created: timefmt::format(record.created),
            updated: timefmt::format(record.updated),
            name: record.name.clone(),
            kind: record.container_type.as_str(),
            creator_id: (!record.creator_id.is_empty()).then(|| record.creator_id.clone()),
            container_ref: container_ref(host, record.id),
            secret_refs: record
                .secret_refs
                .iter()
                .map(|r| ContainerSecret {
                    name: r.name.clone(),
                    secret_ref: host.secret(r.secret_id),
                })
                .collect(),
            consumers: record
                .consumers
                .iter()
                .map(|c| EmbeddedContainerConsumer {
                    name: c.name.clone(),
                    url: c.url.clone(),
                })
                .collect(),
        }
    }
}

/// `{"container_ref": ...}` (create, add a secret).
#[derive(Serialize, ToSchema)]
pub(crate) struct ContainerRef {
    /// The container's reference.
    pub container_ref: String,
}

/// `GET /v1/containers`.
#[derive(Serialize, ToSchema)]
pub(crate) struct ContainerList {
    /// This page.
    pub containers: Vec<Container>,
    /// How many match in all.
    pub total: u64,
    /// The next page, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The previous page, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

/// A container consumer in a consumers list.
#[derive(Serialize, ToSchema)]
pub(crate) struct ContainerConsumerItem {
    status: &'static str,
    created: String,
    updated: String,
    name: String,
    #[serde(rename = "URL")]
    url: String,
}

impl ContainerConsumerItem {
    /// Renders `consumer`.
    pub(crate) fn new(consumer: &ContainerConsumer) -> Self {
        ContainerConsumerItem {
            status: "ACTIVE",
            created: timefmt::format(consumer.created),
            updated: timefmt::format(consumer.updated),
            name: consumer.name.clone(),
            url: consumer.url.clone(),
        }
    }
}

/// A secret consumer as embedded in a secret (microversion 1.1).
#[derive(Serialize, ToSchema)]
pub(crate) struct EmbeddedSecretConsumer {
    service: String,
    resource_type: String,
    resource_id: String,
}

impl EmbeddedSecretConsumer {
    /// Renders `consumer`.
    pub(crate) fn new(consumer: &SecretConsumer) -> Self {
        EmbeddedSecretConsumer {
            service: consumer.service.clone(),
            resource_type: consumer.resource_type.clone(),
            resource_id: consumer.resource_id.clone(),
        }
    }
}

/// A secret consumer in a consumers list.
#[derive(Serialize, ToSchema)]
pub(crate) struct SecretConsumerItem {
    status: &'static str,
    created: String,
    updated: String,
    service: String,
    resource_type: String,
    resource_id: String,
}

impl SecretConsumerItem {
    /// Renders `consumer`.
    pub(crate) fn new(consumer: &SecretConsumer) -> Self {
        SecretConsumerItem {
            status: "ACTIVE",
            created: timefmt::format(consumer.created),
            updated: timefmt::format(consumer.updated),
            service: consumer.service.clone(),
            resource_type: consumer.resource_type.clone(),
            resource_id: consumer.resource_id.clone(),
        }
    }
}

/// `GET .../consumers` (containers and secrets alike).
#[derive(Serialize, ToSchema)]
pub(crate) struct ConsumerList<T> {
    /// This page.
    pub consumers: Vec<T>,
    /// How many there are in all.
    pub total: u64,
    /// The next page, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The previous page, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

/// A secret store.
#[derive(Serialize, ToSchema)]
pub(crate) struct SecretStore {
    status: &'static str,
    created: String,
    updated: String,
    name: String,
    global_default: bool,
    crypto_plugin: Option<String>,
    secret_store_plugin: String,
    secret_store_ref: String,
}

impl SecretStore {
    /// Renders `store`.
    pub(crate) fn new(store: &SecretStoreRecord, host: &HostHref) -> Self {
        SecretStore {
            status: "ACTIVE",
            created: timefmt::format(store.created),
            updated: timefmt::format(store.updated),
            name: store.name.clone(),
            global_default: store.global_default,
            crypto_plugin: store.crypto_plugin.clone(),
            secret_store_plugin: store.store_plugin.clone(),
            secret_store_ref: host.v1(&format!("secret-stores/{}", store.id)),
        }
    }
}

/// `GET /v1/secret-stores`.
#[derive(Serialize, ToSchema)]
pub(crate) struct SecretStoreList {
    /// Every configured store.
    pub secret_stores: Vec<SecretStore>,
}
