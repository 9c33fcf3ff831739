//! Order operations with their authorisation and processing (`barbican/api/controllers/orders.py`,
//! `barbican/tasks/resources.py`). Placing an order records it `PENDING` (refused at the project's orders
//! quota, checked in the insert's transaction), then processes it before answering, as Barbican does without
//! a task queue: a `key` order gets random bytes as a `symmetric` secret, an `asymmetric` order an RSA key pair
//! (generated on a blocking thread) as `private`, `public` and, with a passphrase, `passphrase` secrets in an
//! `rsa` container. The generated objects and the order's `ACTIVE` state are written in one transaction; a
//! request the generator cannot serve leaves the order `ERROR` with Barbican's status code and reason.
//!
//! What Barbican's `simple_crypto` plugin generates (`barbican/plugin/crypto/base.py`): symmetric algorithms
//! `aes`, `des`, `3des`, `hmacsha1`, `hmacsha256`, `hmacsha384`, `hmacsha512` of 64, 128, 192 or 256 bits (twice
//! that in `xts` mode); asymmetric `rsa` (and `dsa`, which aws-lc-rs cannot generate). RSA sizes here are those
//! aws-lc-rs generates: 2048, 3072 and 4096 bits.

use std::sync::Arc;

use uuid::Uuid;
use zeroize::Zeroizing;

use crate::policy::authorize;
use crate::{
    Action, Clock, ContainerRecord, ContainerSecretRef, ContainerType, CoreError, KeyHierarchy,
    KeySpec, NewOrder, OrderPage, OrderRecord, OrderStatus, OrderType, Payloads, Principal,
    QuotaResource, QuotaService, SecretRecord, SecretType, Store, StoredPayload,
};

/// Barbican's task name, which prefixes an order's error reason.
const TASK: &str = "Process TypeOrder";

/// On a shared store, how long an order must have been `PENDING` before a starting node calls it interrupted
/// (processing finishes before `POST /v1/orders` answers, in seconds; another node may be at it meanwhile).
pub const INTERRUPTED_AFTER: time::Duration = time::Duration::minutes(10);
/// Symmetric algorithms of `simple_crypto`.
const SYMMETRIC_ALGORITHMS: [&str; 7] = [
    "aes",
    "des",
    "3des",
    "hmacsha1",
    "hmacsha256",
    "hmacsha384",
    "hmacsha512",
];
/// Symmetric key lengths of `simple_crypto`.
const SYMMETRIC_BITS: [u32; 4] = [64, 128, 192, 256];

/// Barbican's 404 for an unknown order (also another project's).
pub(crate) fn order_not_found() -> CoreError {
    CoreError::NotFound("Order not found.".into())
}

/// Why an order could not be processed: Barbican's status code and reason.
struct Failure {
    code: u16,
    reason: String,
}

impl Failure {
    fn unsupported() -> Self {
        Failure {
            code: 400,
            reason: format!("{TASK} issue seen - Secret generate supported plugin not found."),
        }
    }

    /// An order a stop of the server interrupted.
    fn interrupted() -> Self {
        Failure {
            code: 500,
            reason: format!(
                "{TASK} failure seen - the server stopped before the order was processed; please submit \
                 the order again."
            ),
        }
    }

    /// The secret store the key was to go to could not take it.
    fn store_unavailable(why: &CoreError) -> Self {
        Failure {
            code: 503,
            reason: format!("{TASK} failure seen - {why}"),
        }
    }

    fn internal() -> Self {
        Failure {
            code: 500,
            reason: format!("{TASK} failure seen - please contact site administrator."),
        }
    }
}

/// Whether `simple_crypto` would generate this symmetric key.
fn symmetric_supported(spec: &KeySpec) -> bool {
    let factor = match spec.mode.as_deref() {
        Some(mode) if mode.eq_ignore_ascii_case("xts") => 2,
        _ => 1,
    };
    SYMMETRIC_ALGORITHMS.contains(&spec.algorithm.to_ascii_lowercase().as_str())
        && spec.bit_length.is_multiple_of(factor)
        && SYMMETRIC_BITS.contains(&(spec.bit_length / factor))
}

/// Whether this build generates this key pair.
fn asymmetric_supported(spec: &KeySpec) -> bool {
    spec.algorithm.eq_ignore_ascii_case("rsa")
        && arca_crypto::RSA_KEY_BITS.contains(&spec.bit_length)
}

/// Orders: placing, processing, reading, listing and deleting them.
#[derive(Clone)]
pub struct OrderService {
    audit: crate::AuditLog,
    store: Arc<dyn Store>,
    payloads: Payloads,
    clock: Arc<dyn Clock>,
    quotas: QuotaService,
}

impl OrderService {
    /// The same service, recording its security events in `audit`.
    pub(crate) fn with_audit(mut self, audit: crate::AuditLog) -> Self {
        self.audit = audit;
        self
    }

    /// An order service over the store and hierarchy, enforcing `quotas`.
    pub fn new(
        store: Arc<dyn Store>,
        keys: Arc<KeyHierarchy>,
        clock: Arc<dyn Clock>,
        quotas: QuotaService,
    ) -> Self {
        let payloads = Payloads::new(
            store.clone(),
            keys,
            crate::PayloadStores::default(),
            Default::default(),
        );
        Self {
            audit: crate::AuditLog::default(),
            store,
            payloads,
            clock,
            quotas,
        }
    }

    /// The same service placing generated keys through `payloads`.
    pub(crate) fn with_payloads(mut self, payloads: Payloads) -> Self {
        self.payloads = payloads;
        self
    }

    /// Marks every order still `PENDING` as `ERROR` (500, "the server stopped before the order was
    /// processed"); `true` if there was any. Orders are processed before `POST /v1/orders` answers, so at a
    /// server's start a `PENDING` order is one a stop interrupted. Only a starting server calls this, never a
    /// command that opens the store beside a running one (`arca token create`), whose orders may be in flight.
    ///
    /// On a shared store (several nodes over one PostgreSQL) another node may be processing an order right
    /// now, so only orders pending for longer than [`INTERRUPTED_AFTER`] are failed: processing takes seconds.
    pub async fn fail_interrupted(&self) -> Result<bool, CoreError> {
        let failure = Failure::interrupted();
        let now = self.clock.now();
        let created_before = if self.store.is_shared() {
            now - INTERRUPTED_AFTER
        } else {
            // One node: every pending order was this process's predecessor's.
            now + time::Duration::days(1)
        };
        Ok(self
            .store
            .fail_pending_orders(failure.code, &failure.reason, created_before, now)
            .await?)
    }

    /// Places an order in the caller's project and processes it; returns it `ACTIVE` or `ERROR`.
    pub async fn create(
        &self,
        caller: &Principal,
        new: NewOrder,
    ) -> Result<OrderRecord, CoreError> {
        let result = self.create_unaudited(caller, new).await;
        let object_id = result.as_ref().ok().map(|r| r.id.to_string());
        self.audit
            .outcome(caller, "order.create", "order", object_id, result)
            .await
    }

    async fn create_unaudited(
        &self,
        caller: &Principal,
        new: NewOrder,
    ) -> Result<OrderRecord, CoreError> {
        authorize(caller, Action::OrderCreate, None)?;
        let now = self.clock.now();
        let order = OrderRecord {
            id: Uuid::now_v7(),
            project_id: caller.project_id.clone(),
            creator_id: caller.user_id.clone(),
            order_type: new.order_type,
            status: OrderStatus::Pending,
            meta: new.meta,
            secret_id: None,
            container_id: None,
            error_status_code: None,
            error_reason: None,
            sub_status: None,
            sub_status_message: None,
            created: now,
            updated: now,
        };
        let check = self.quotas.check(QuotaResource::Orders);
        if !self.store.insert_order(&order, check).await? {
            return Err(CoreError::QuotaReached("orders".into()));
        }
        let outcome = match new.order_type {
            OrderType::Key => self.process_key(&order, &new.spec).await,
            OrderType::Asymmetric => self.process_asymmetric(&order, &new.spec).await,
        };
        if let Err(failure) = outcome {
            self.store
                .fail_order(order.id, failure.code, &failure.reason, self.clock.now())
                .await?;
        }
        self.store
            .get_order(order.id)
            .await?
            .ok_or_else(order_not_found)
    }

    /// A new secret record of the order's project, as the generator names and stamps it.
    fn secret(&self, order: &OrderRecord, spec: &KeySpec, kind: SecretType) -> SecretRecord {
        let now = self.clock.now();
        SecretRecord {
            id: Uuid::now_v7(),
            project_id: order.project_id.clone(),
            creator_id: order.creator_id.clone(),
            name: spec.name.clone(),
            algorithm: Some(spec.algorithm.clone()),
            bit_length: Some(i64::from(spec.bit_length)),
            mode: spec.mode.clone(),
            secret_type: kind,
            expiration: spec.expiration,
            created: now,
            updated: now,
            content_type: Some(spec.content_type.clone()),
        }
    }

    async fn seal(
        &self,
        secret: &SecretRecord,
        plaintext: &[u8],
    ) -> Result<StoredPayload, Failure> {
        let content_type = secret.content_type.clone().unwrap_or_default();
        self.payloads
            .place(&secret.project_id, secret.id, plaintext, &content_type)
            .await
            .map_err(|e| match e {
                CoreError::Unavailable(_) => Failure::store_unavailable(&e),
                e => {
                    tracing::error!(error = %e, "storing a generated key failed");
                    Failure::internal()
                }
            })
    }

    /// Removes placed payloads whose secrets were not stored (external stores only; best effort).
    async fn discard(&self, secrets: &[(SecretRecord, StoredPayload)]) {
        for (secret, payload) in secrets {
            self.payloads
                .discard(&secret.project_id, secret.id, payload)
                .await;
        }
    }

    async fn process_key(&self, order: &OrderRecord, spec: &KeySpec) -> Result<(), Failure> {
        if !symmetric_supported(spec) {
            return Err(Failure::unsupported());
        }
        let mut key = Zeroizing::new(vec![0u8; (spec.bit_length / 8) as usize]);
        arca_crypto::fill_random(&mut key).map_err(|_| Failure::internal())?;
        let secret = self.secret(order, spec, SecretType::Symmetric);
        let payload = self.seal(&secret, &key).await?;
        let done = self
            .store
            .complete_key_order(order.id, &secret, &payload, self.clock.now())
            .await;
        if !matches!(done, Ok(true)) {
            self.discard(&[(secret, payload)]).await;
        }
        let done = done.map_err(|e| {
            tracing::error!(error = %e, "storing a generated key failed");
            Failure::internal()
        })?;
        if done {
            Ok(())
        } else {
            Err(Failure::internal())
        }
    }

    async fn process_asymmetric(&self, order: &OrderRecord, spec: &KeySpec) -> Result<(), Failure> {
        if !asymmetric_supported(spec) {
            return Err(Failure::unsupported());
        }
        let bits = spec.bit_length;
        let passphrase = spec.passphrase.clone();
        let pair = tokio::task::spawn_blocking(move || {
            arca_crypto::generate_rsa_pem(bits, passphrase.as_ref().map(|p| p.as_bytes()))
        })
        .await
        .map_err(|_| Failure::internal())?
        .map_err(|_| Failure::internal())?;
        let private = self.secret(order, spec, SecretType::Private);
        let public = self.secret(order, spec, SecretType::Public);
        let mut secrets = vec![
            (
                private.clone(),
                self.seal(&private, &pair.private_pem).await?,
            ),
            (public.clone(), self.seal(&public, &pair.public_pem).await?),
        ];
        let mut refs = vec![
            ContainerSecretRef {
                name: Some("private_key".into()),
                secret_id: private.id,
            },
            ContainerSecretRef {
                name: Some("public_key".into()),
                secret_id: public.id,
            },
        ];
        if let Some(pass) = spec.passphrase.as_ref().filter(|p| !p.is_empty()) {
            let secret = self.secret(order, spec, SecretType::Passphrase);
            refs.push(ContainerSecretRef {
                name: Some("private_key_passphrase".into()),
                secret_id: secret.id,
            });
            secrets.push((secret.clone(), self.seal(&secret, pass.as_bytes()).await?));
        }
        let now = self.clock.now();
        let container = ContainerRecord {
            id: Uuid::now_v7(),
            project_id: order.project_id.clone(),
            creator_id: order.creator_id.clone(),
            name: spec.name.clone(),
            container_type: ContainerType::Rsa,
            created: now,
            updated: now,
            secret_refs: refs,
            consumers: Vec::new(),
        };
        let done = self
            .store
            .complete_asymmetric_order(order.id, &secrets, &container, now)
            .await;
        if !matches!(done, Ok(true)) {
            self.discard(&secrets).await;
        }
        let done = done.map_err(|e| {
            tracing::error!(error = %e, "storing a generated key pair failed");
            Failure::internal()
        })?;
        if done {
            Ok(())
        } else {
            Err(Failure::internal())
        }
    }

    /// Loads an order of the caller's project (404 for another project's, as Barbican's lookup filters by
    /// project) and authorises `action` on it.
    async fn load(
        &self,
        caller: &Principal,
        id: Uuid,
        action: Action,
    ) -> Result<OrderRecord, CoreError> {
        let order = self
            .store
            .get_order(id)
            .await?
            .filter(|o| o.project_id == caller.project_id)
            .ok_or_else(order_not_found)?;
        authorize(caller, action, None)?;
        Ok(order)
    }

    /// An order.
    pub async fn get(&self, caller: &Principal, id: Uuid) -> Result<OrderRecord, CoreError> {
        self.load(caller, id, Action::OrderRead).await
    }

    /// An order about to be updated (`PUT /v1/orders/{id}`), which only certificate orders support.
    pub async fn get_for_update(
        &self,
        caller: &Principal,
        id: Uuid,
    ) -> Result<OrderRecord, CoreError> {
        self.load(caller, id, Action::OrderUpdate).await
    }

    /// Deletes an order (what it generated stays).
    pub async fn delete(&self, caller: &Principal, id: Uuid) -> Result<(), CoreError> {
        let object_id = Some(id.to_string());
        let result = self.delete_unaudited(caller, id).await;
        self.audit
            .outcome(caller, "order.delete", "order", object_id, result)
            .await
    }

    async fn delete_unaudited(&self, caller: &Principal, id: Uuid) -> Result<(), CoreError> {
        self.load(caller, id, Action::OrderDelete).await?;
        if self.store.delete_order(id).await? {
            Ok(())
        } else {
            Err(order_not_found())
        }
    }

    /// One page of the caller's project's orders, oldest first.
    pub async fn list(
        &self,
        caller: &Principal,
        limit: u32,
        offset: u32,
    ) -> Result<OrderPage, CoreError> {
        authorize(caller, Action::OrderList, None)?;
        Ok(self
            .store
            .list_orders(&caller.project_id, limit, offset)
            .await?)
    }

    /// Whether the caller may place orders (checked before the request body is read, as Barbican's policy
    /// check precedes body validation).
    pub fn check_create(&self, caller: &Principal) -> Result<(), CoreError> {
        authorize(caller, Action::OrderCreate, None)
    }

    /// Refuses `PUT /v1/orders` (the collection) for those the policy lets that far (`orders:put`).
    pub fn check_collection_put(&self, caller: &Principal) -> Result<(), CoreError> {
        authorize(caller, Action::OrderUpdate, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(alg: &str, bits: u32, mode: Option<&str>) -> KeySpec {
        KeySpec {
            algorithm: alg.into(),
            bit_length: bits,
            mode: mode.map(str::to_owned),
            name: None,
            expiration: None,
            content_type: "application/octet-stream".into(),
            passphrase: None,
        }
    }

    #[test]
    fn simple_crypto_rules() {
        assert!(symmetric_supported(&spec("AES", 256, Some("cbc"))));
        assert!(symmetric_supported(&spec("hmacsha256", 64, None)));
        assert!(symmetric_supported(&spec("aes", 512, Some("XTS"))));
        assert!(!symmetric_supported(&spec("aes", 512, None)));
        assert!(!symmetric_supported(&spec("aes", 136, None)));
        assert!(!symmetric_supported(&spec("blowfish", 128, None)));
        assert!(!symmetric_supported(&spec("rsa", 2048, None)));
        assert!(asymmetric_supported(&spec("RSA", 2048, None)));
        assert!(asymmetric_supported(&spec("rsa", 4096, None)));
        assert!(!asymmetric_supported(&spec("rsa", 1024, None)));
        assert!(!asymmetric_supported(&spec("dsa", 2048, None)));
        assert!(!asymmetric_supported(&spec("aes", 2048, None)));
    }
}
