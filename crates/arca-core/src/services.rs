//! `Services`: the domain assembled from its seams (store, root key provider, clock), as the server and the
//! CLI use it. Cheap to clone.

use std::sync::Arc;

use crate::{AccessKeyService, AclService, KmsService, OrderService, QuotaDefaults, QuotaService};
use crate::{AuditLog, AuditSink, ConsumerService, ContainerService, SecretStoreService};
use crate::{
    CacheLimits, Clock, CoreError, KeyHierarchy, RootKeyProvider, SecretService, Store,
    TokenService,
};
use crate::{PayloadStores, Payloads};

/// Every domain service over one store and root of trust.
#[derive(Clone)]
pub struct Services {
    /// Secrets and their metadata.
    pub secrets: SecretService,
    /// API tokens.
    pub tokens: TokenService,
    /// Containers and their secret references.
    pub containers: ContainerService,
    /// Container and secret consumers.
    pub consumers: ConsumerService,
    /// Secret stores and project preferences.
    pub secret_stores: SecretStoreService,
    /// Secret ACLs.
    pub acls: AclService,
    /// Orders (key and key-pair generation).
    pub orders: OrderService,
    /// Quotas.
    pub quotas: QuotaService,
    /// The AWS-KMS-compatible key service.
    pub kms: KmsService,
    /// SigV4 access keys.
    pub access_keys: AccessKeyService,
    /// The key hierarchy.
    pub keys: Arc<KeyHierarchy>,
    /// The clock every service reads.
    pub clock: Arc<dyn Clock>,
    /// The tamper-evident audit log every service records to.
    pub audit: AuditLog,
    /// Where payloads go: the configured secret stores.
    pub payloads: Payloads,
    store: Arc<dyn Store>,
}

impl Services {
    /// Assembles the services and makes sure the system keys exist.
    pub async fn start(
        store: Arc<dyn Store>,
        root: Arc<dyn RootKeyProvider>,
        clock: Arc<dyn Clock>,
        limits: CacheLimits,
    ) -> Result<Self, CoreError> {
        let limits = limits.for_store(store.is_shared());
        let keys = Arc::new(KeyHierarchy::new(root, store.clone(), limits));
        keys.bootstrap_system_keys().await?;
        let audit = AuditLog::new(store.clone(), keys.clone(), clock.clone());
        let secrets = SecretService::new(store.clone(), keys.clone(), clock.clone())
            .with_audit(audit.clone());
        let containers =
            ContainerService::new(store.clone(), clock.clone()).with_audit(audit.clone());
        let consumers = ConsumerService::new(
            store.clone(),
            clock.clone(),
            containers.clone(),
            secrets.clone(),
        );
        let secret_stores = SecretStoreService::new(store.clone(), clock.clone());
        let quotas = QuotaService::new(store.clone(), clock.clone(), QuotaDefaults::default());
        let orders = OrderService::new(store.clone(), keys.clone(), clock.clone(), quotas.clone());
        let acls = AclService::new(store.clone(), clock.clone());
        let kms = KmsService::new(store.clone(), keys.clone(), clock.clone(), limits);
        let access_keys =
            AccessKeyService::new(store.clone(), keys.clone(), clock.clone(), limits.token_ttl);
        let payloads = Payloads::new(
            store.clone(),
            keys.clone(),
            PayloadStores::default(),
            Default::default(),
        );
        let mut services = Self {
            payloads,
            kms,
            access_keys,
            audit,
            acls,
            orders,
            quotas,
            store: store.clone(),
            secrets,
            containers,
            consumers,
            secret_stores,
            tokens: TokenService::new(store, keys.clone(), clock.clone(), limits.token_ttl),
            keys,
            clock,
        };
        services.apply_audit();
        Ok(services)
    }

    /// The same services, also writing every audit record to `sink` as one JSON line.
    pub fn with_audit_sink(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = self.audit.clone().with_sink(sink);
        self.apply_audit();
        self
    }

    /// The same services with `stores` as the deployment's secret stores: their rows are brought in line with
    /// the configuration (stores no longer configured keep their rows, unlisted; payloads they sealed in the
    /// database stay readable), and new payloads go to each project's preferred store or the global default.
    pub async fn with_secret_stores(mut self, stores: PayloadStores) -> Result<Self, CoreError> {
        let configured: Vec<_> = stores.all().iter().map(|s| s.record.clone()).collect();
        let rows = self.store.sync_secret_stores(&configured).await?;
        let retired_sealed = rows
            .iter()
            .filter(|r| !r.configured && r.seals_in_database())
            .map(|r| r.id)
            .collect();
        self.payloads = Payloads::new(
            self.store.clone(),
            self.keys.clone(),
            stores,
            retired_sealed,
        );
        self.apply_audit();
        Ok(self)
    }

    /// Hands the audit log and the payload placement to every service (after either or a service changed).
    fn apply_audit(&mut self) {
        self.secrets = self.secrets.clone().with_payloads(self.payloads.clone());
        self.orders = self.orders.clone().with_payloads(self.payloads.clone());
        let a = &self.audit;
        self.secrets = self.secrets.clone().with_audit(a.clone());
        self.tokens = self.tokens.clone().with_audit(a.clone());
        self.containers = self.containers.clone().with_audit(a.clone());
        self.consumers = self.consumers.clone().with_audit(a.clone());
        self.acls = self.acls.clone().with_audit(a.clone());
        self.orders = self.orders.clone().with_audit(a.clone());
        self.quotas = self.quotas.clone().with_audit(a.clone());
        self.kms = self.kms.clone().with_audit(a.clone());
        self.access_keys = self.access_keys.clone().with_audit(a.clone());
    }

    /// Drops every unwrapped key and cached key material or secret from memory (sealing the root of trust).
    pub fn purge_keys(&self) {
        self.keys.purge();
        self.kms.purge_cache();
        self.access_keys.purge_cache();
    }

    /// The expiry sweeper and reports over the same store and clock.
    pub fn expiry(&self) -> crate::ExpirySweeper {
        crate::ExpirySweeper::new(self.store.clone(), self.clock.clone())
            .with_kms(self.kms.clone())
            .with_payloads(self.payloads.clone())
    }

    /// Moving payloads between the configured secret stores, over the same store and audit log.
    pub fn store_migration(&self) -> crate::StoreMigration {
        crate::StoreMigration::new(
            self.store.clone(),
            self.payloads.clone(),
            self.audit.clone(),
        )
    }

    /// Root key rotation over the same store, hierarchy and audit log.
    pub fn root_rotation(&self) -> crate::RootRotation {
        crate::RootRotation::new(self.store.clone(), self.keys.clone(), self.audit.clone())
    }

    /// Project KEK rotation and its background rewrap over the same store, hierarchy, clock and audit log.
    pub fn pkek_rotation(&self) -> crate::PkekRotation {
        crate::PkekRotation::new(
            self.store.clone(),
            self.keys.clone(),
            self.clock.clone(),
            self.audit.clone(),
        )
    }

    /// The same services with `defaults` as the deployment's quotas (`[quotas]` of `arca.toml`).
    pub fn with_quota_defaults(mut self, defaults: QuotaDefaults) -> Self {
        self.quotas = QuotaService::new(self.store.clone(), self.clock.clone(), defaults);
        self.secrets = self.secrets.with_secrets_quota(defaults.secrets);
        self.containers = self.containers.with_containers_quota(defaults.containers);
        self.consumers = self.consumers.with_consumers_quota(defaults.consumers);
        self.orders = OrderService::new(
            self.store.clone(),
            self.keys.clone(),
            self.clock.clone(),
            self.quotas.clone(),
        );
        self.apply_audit();
        self
    }
}
