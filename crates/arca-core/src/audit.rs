//! The tamper-evident audit log. An [`AuditEvent`] (who, from where, what, on which object, with what outcome —
//! never a payload, key or token) is encoded here into canonical JSON bytes by a hand-written encoder (domain types
//! stay non-`Serialize`); the store appends those bytes as the next record of one chain, inside its serialised
//! writer, with `mac = HMAC(K_audit, "arca/v1/audit" ‖ u64 seq ‖ prev_mac ‖ u32 key_version ‖ bytes)`.
//! [`verify_chain`] recomputes every MAC, the sequence and the links. Every appended record is also handed to an
//! [`AuditSink`] as one JSON line (with `seq` and `mac`) for a SIEM.
//!
//! The source address and request id of the request being served come from a task-local [`RequestContext`]
//! that the server sets around each request ([`with_request_context`]), so service signatures stay unchanged.

use std::future::Future;
use std::sync::Arc;

use arca_crypto::{Key256, MacKey};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{Clock, CoreError, KeyHierarchy, Principal, Store, SystemKey};

/// The MAC label of every audit record.
pub const AUDIT_LABEL: &[u8] = b"arca/v1/audit";
/// Version of the audit system key (there is one; a rotation would add versions).
pub const AUDIT_KEY_VERSION: u32 = 1;
/// The `prev_mac` of the first record.
pub const GENESIS_MAC: [u8; 32] = [0; 32];

/// One stored audit record: the event's canonical bytes plus its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the chain, from 1, without gaps.
    pub seq: u64,
    /// Version of the audit key that made `mac`.
    pub key_version: u32,
    /// The predecessor's MAC (`GENESIS_MAC` for the first record).
    pub prev_mac: Vec<u8>,
    /// `HMAC(K_audit, label ‖ seq ‖ prev_mac ‖ key_version ‖ event)`.
    pub mac: Vec<u8>,
    /// The event's canonical JSON bytes, exactly as stored.
    pub event: Vec<u8>,
}

impl AuditRecord {
    /// The record as one JSON line for a SIEM (no trailing newline): `seq`, `key_version`, `prev_mac`, `mac` (hex)
    /// and the stored event.
    pub fn json_line(&self) -> String {
        let event = String::from_utf8_lossy(&self.event);
        let mut out = String::with_capacity(200 + event.len());
        out.push_str("{\"seq\":");
        out.push_str(&self.seq.to_string());
        out.push_str(",\"key_version\":");
        out.push_str(&self.key_version.to_string());
        out.push_str(",\"prev_mac\":\"");
        push_hex(&mut out, &self.prev_mac);
        out.push_str("\",\"mac\":\"");
        push_hex(&mut out, &self.mac);
        out.push_str("\",\"event\":");
        out.push_str(&event);
        out.push('}');
        out
    }
}

/// Computes a record's MAC.
pub fn audit_mac(
    key: &Key256,
    seq: u64,
    prev_mac: &[u8],
    key_version: u32,
    event: &[u8],
) -> [u8; 32] {
    prepared_audit_mac(&MacKey::new(key), seq, prev_mac, key_version, event)
}

/// [`audit_mac`] under the audit key prepared once, for the appends of a running server and for verification.
fn prepared_audit_mac(
    key: &MacKey,
    seq: u64,
    prev_mac: &[u8],
    key_version: u32,
    event: &[u8],
) -> [u8; 32] {
    key.sign(&[
        AUDIT_LABEL,
        &seq.to_be_bytes(),
        prev_mac,
        &key_version.to_be_bytes(),
        event,
    ])
}

/// The audit record of a change, prepared for the store to append in the change's own transaction: the event
/// for each way the write can end (done, or refused by the write itself — a quota reached) and the sealer.
pub struct AuditedWrite {
    /// The event appended when the write is done.
    pub accepted: Vec<u8>,
    /// The event appended when the write refuses (answers `false`).
    pub refused: Vec<u8>,
    /// MACs the record under the audit key.
    pub sealer: AuditSealer,
}

/// Seals the next record inside the store's serialised append: given `seq` and `prev_mac`, returns the key
/// version and MAC. Handed to [`Store::append_audit`].
pub type AuditSealer = Arc<dyn Fn(u64, &[u8], &[u8]) -> (u32, Vec<u8>) + Send + Sync>;

/// Why a chain failed verification: the first broken record and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The sequence number of the first record that does not verify.
    pub seq: u64,
    /// What is wrong with it.
    pub reason: String,
}

/// Checks a whole chain, given in stored order (by `seq`): numbering from 1 without gaps, each `prev_mac` equal to
/// the predecessor's MAC, each MAC recomputed under `key`. Returns how many records verified.
pub fn verify_chain(key: &Key256, records: &[AuditRecord]) -> Result<u64, ChainBreak> {
    let key = MacKey::new(key);
    let mut expected_seq = 1u64;
    let mut prev: Vec<u8> = GENESIS_MAC.to_vec();
    for r in records {
        let broken = |reason: String| ChainBreak { seq: r.seq, reason };
        if r.seq != expected_seq {
            return Err(broken(format!(
                "expected record {expected_seq} here: a record is missing or out of order"
            )));
        }
        if !arca_crypto::constant_time_eq(&r.prev_mac, &prev) {
            return Err(broken(
                "its prev_mac is not the MAC of the record before it (a record was removed, reordered or edited)"
                    .into(),
            ));
        }
        if r.key_version != AUDIT_KEY_VERSION {
            return Err(broken(format!(
                "unknown audit key version {}",
                r.key_version
            )));
        }
        let mac = prepared_audit_mac(&key, r.seq, &r.prev_mac, r.key_version, &r.event);
        if !arca_crypto::constant_time_eq(&mac, &r.mac) {
            return Err(broken(
                "its MAC does not match its content (the record was edited)".into(),
            ));
        }
        prev = r.mac.clone();
        expected_seq += 1;
    }
    Ok(expected_seq - 1)
}

/// Where a request came from, set by the server around each request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The peer's address, if known (written `ip:port` in a record; formatted only when a record is made).
    pub source: Option<std::net::SocketAddr>,
    /// The request id (`x-openstack-request-id`), if any.
    pub request_id: Option<String>,
}

tokio::task_local! {
    static REQUEST_CONTEXT: RequestContext;
}

/// Runs `fut` with `ctx` as the request context that audit records made inside it carry.
pub async fn with_request_context<F: Future>(ctx: RequestContext, fut: F) -> F::Output {
    REQUEST_CONTEXT.scope(ctx, fut).await
}

fn current_context() -> RequestContext {
    REQUEST_CONTEXT.try_with(Clone::clone).unwrap_or_default()
}

/// How an audited action ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditOutcome {
    /// It was done.
    Success,
    /// The caller was not allowed (403) or not authenticated (401); the reason says which.
    Denied(String),
    /// It failed for another reason (not found, invalid, conflict, storage…).
    Failed(String),
}

impl AuditOutcome {
    /// The outcome of a service call's result: authorisation failures are denials, other errors failures.
    pub fn of<T>(result: &Result<T, CoreError>) -> Self {
        match result {
            Ok(_) => AuditOutcome::Success,
            Err(CoreError::Forbidden(m)) => AuditOutcome::Denied(format!("forbidden: {m}")),
            Err(CoreError::Unauthenticated) => AuditOutcome::Denied("unauthenticated".into()),
            Err(CoreError::NotFound(_)) => AuditOutcome::Failed("not found".into()),
            Err(CoreError::Conflict(_)) => AuditOutcome::Failed("conflict".into()),
            Err(CoreError::Invalid(_)) => AuditOutcome::Failed("invalid request".into()),
            Err(CoreError::QuotaReached(r)) => AuditOutcome::Failed(format!("{r} quota reached")),
            Err(CoreError::Integrity(_)) => AuditOutcome::Failed("integrity failure".into()),
            Err(CoreError::Storage(_)) => AuditOutcome::Failed("storage error".into()),
            Err(CoreError::Crypto(_)) => AuditOutcome::Failed("cryptographic failure".into()),
            Err(CoreError::Unavailable(_)) => AuditOutcome::Failed("unavailable".into()),
            Err(CoreError::Kms(e)) => AuditOutcome::Failed(e.kind.aws_name().into()),
        }
    }
}

/// One security event. Never holds a payload, key or token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// When it happened.
    pub time: OffsetDateTime,
    /// The acting user, if known.
    pub user_id: Option<String>,
    /// The acting project, if known.
    pub project_id: Option<String>,
    /// Where the request came from.
    pub source: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
    /// What was attempted (`secret.create`, `secret.payload.read`, `auth.failure`, …).
    pub action: String,
    /// The kind of object (`secret`, `container`, `token`, …).
    pub object_kind: String,
    /// The object's id, if any.
    pub object_id: Option<String>,
    /// How it ended.
    pub outcome: AuditOutcome,
}

impl AuditEvent {
    /// The canonical encoding: a JSON object with the fields in a fixed order, absent values as `null`.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let time = self
            .time
            .format(&Rfc3339)
            .unwrap_or_else(|_| self.time.unix_timestamp().to_string());
        let (outcome, reason) = match &self.outcome {
            AuditOutcome::Success => ("success", None),
            AuditOutcome::Denied(r) => ("denied", Some(r.as_str())),
            AuditOutcome::Failed(r) => ("failed", Some(r.as_str())),
        };
        let mut out = String::with_capacity(256);
        out.push('{');
        let fields: [(&str, Option<&str>); 10] = [
            ("time", Some(&time)),
            ("user_id", self.user_id.as_deref()),
            ("project_id", self.project_id.as_deref()),
            ("source", self.source.as_deref()),
            ("request_id", self.request_id.as_deref()),
            ("action", Some(&self.action)),
            ("object_kind", Some(&self.object_kind)),
            ("object_id", self.object_id.as_deref()),
            ("outcome", Some(outcome)),
            ("reason", reason),
        ];
        for (i, (name, value)) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_string(&mut out, name);
            out.push(':');
            match value {
                Some(v) => json_string(&mut out, v),
                None => out.push_str("null"),
            }
        }
        out.push('}');
        out.into_bytes()
    }
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    // Almost every value needs no escape: copy it whole.
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
}

/// Receives every appended record as one JSON line (file, standard output…).
pub trait AuditSink: Send + Sync + 'static {
    /// Writes one line; failures are the sink's to report.
    fn emit(&self, line: &str);
    /// Returns once every line emitted so far is written out (at shutdown). Nothing to do by default.
    fn flush(&self) {}
}

/// The audit log services write to. Cheap to clone. A disabled log records nothing (unit tests of services).
#[derive(Clone, Default)]
pub struct AuditLog {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    store: Arc<dyn Store>,
    keys: Arc<KeyHierarchy>,
    clock: Arc<dyn Clock>,
    sinks: Vec<Arc<dyn AuditSink>>,
    uses: Arc<UsesInFlight>,
}

/// Most use records appended in the background at once; past it `record_use` waits for a slot.
const USES_IN_FLIGHT: u32 = 4096;
/// Most use records one background append writes.
const USES_PER_BATCH: usize = 512;
/// How long the appender lets use records gather before it appends them, unless a full batch is already queued.
/// Uses are not acknowledged on their commit, so this costs no request any time; it is how long a use record may
/// wait for its commit beyond the commit itself.
const USES_GATHER: std::time::Duration = std::time::Duration::from_millis(3);

/// A use waiting for the background appender, with its slot.
type PendingUse = (AuditEvent, tokio::sync::OwnedSemaphorePermit);

/// The records of uses being appended in the background: their slots, the queue of the appender task (started
/// on first use), and whether the last append failed.
struct UsesInFlight {
    slots: Arc<tokio::sync::Semaphore>,
    failed: std::sync::atomic::AtomicBool,
    queue: std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<PendingUse>>,
}

impl Default for UsesInFlight {
    fn default() -> Self {
        Self {
            slots: Arc::new(tokio::sync::Semaphore::new(USES_IN_FLIGHT as usize)),
            failed: std::sync::atomic::AtomicBool::new(false),
            queue: std::sync::OnceLock::new(),
        }
    }
}

/// The background appender: lets uses gather for `USES_GATHER`, takes whatever is queued (up to `USES_PER_BATCH`), appends them as one
/// batch (one writer operation, chained in order), hands the records to the sinks, then frees their slots. It
/// holds the log only weakly and stops when the log is gone.
async fn append_uses(
    log: std::sync::Weak<Inner>,
    mut queue: tokio::sync::mpsc::UnboundedReceiver<PendingUse>,
) {
    use std::sync::atomic::Ordering;
    while let Some(first) = queue.recv().await {
        // Let uses gather: one commit (and one fsync) per few milliseconds, not one per handful of reads.
        if queue.len() < USES_PER_BATCH {
            tokio::time::sleep(USES_GATHER).await;
        }
        let mut batch = vec![first];
        while batch.len() < USES_PER_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let Some(inner) = log.upgrade() else {
            return;
        };
        let events = batch.iter().map(|(e, _)| e.canonical_bytes()).collect();
        match inner.append_batch(events).await {
            Ok(records) => inner.emit(&records),
            Err(e) => {
                metrics::counter!("arca_audit_write_failures_total").increment(batch.len() as u64);
                tracing::error!(error = %e, records = batch.len(), "audit write failed");
                inner.uses.failed.store(true, Ordering::Relaxed);
            }
        }
        drop(batch);
    }
}

impl Inner {
    /// The event of an action of `principal` in the current request context.
    fn event(
        &self,
        principal: Option<&Principal>,
        action: &str,
        object_kind: &str,
        object_id: Option<String>,
        outcome: AuditOutcome,
    ) -> AuditEvent {
        let ctx = current_context();
        AuditEvent {
            time: self.clock.now(),
            user_id: principal.map(|p| p.user_id.clone()),
            project_id: principal.map(|p| p.project_id.clone()),
            source: ctx.source.map(|peer| peer.to_string()),
            request_id: ctx.request_id,
            action: action.to_owned(),
            object_kind: object_kind.to_owned(),
            object_id,
            outcome,
        }
    }

    /// Appends `event` and hands the record to the sinks; a failure is counted and logged.
    async fn append_and_emit(&self, event: &AuditEvent) -> Result<(), CoreError> {
        let record = self.append(event).await.inspect_err(|e| {
            metrics::counter!("arca_audit_write_failures_total").increment(1);
            tracing::error!(error = %e, "audit write failed");
        })?;
        self.emit(std::slice::from_ref(&record));
        Ok(())
    }

    /// Hands records to the sinks as JSON lines.
    fn emit(&self, records: &[AuditRecord]) {
        if self.sinks.is_empty() {
            return;
        }
        for record in records {
            let line = record.json_line();
            for sink in &self.sinks {
                sink.emit(&line);
            }
        }
    }

    /// MACs records under the audit key inside the store's serialised append.
    async fn sealer(&self) -> Result<AuditSealer, CoreError> {
        let key = self.keys.system_mac_key(SystemKey::Audit).await?;
        Ok(Arc::new(move |seq, prev_mac, event| {
            let mac = prepared_audit_mac(&key, seq, prev_mac, AUDIT_KEY_VERSION, event);
            (AUDIT_KEY_VERSION, mac.to_vec())
        }))
    }

    /// Appends `event` to the chain under the audit key.
    async fn append(&self, event: &AuditEvent) -> Result<AuditRecord, CoreError> {
        let sealer = self.sealer().await?;
        Ok(self
            .store
            .append_audit(event.canonical_bytes(), sealer)
            .await?)
    }

    /// Appends `events` in order as one batch.
    async fn append_batch(&self, events: Vec<Vec<u8>>) -> Result<Vec<AuditRecord>, CoreError> {
        let sealer = self.sealer().await?;
        Ok(self.store.append_audit_batch(events, sealer).await?)
    }
}

impl AuditLog {
    /// A log appending to `store`'s chain under the audit system key.
    pub fn new(store: Arc<dyn Store>, keys: Arc<KeyHierarchy>, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Some(Arc::new(Inner {
                store,
                keys,
                clock,
                sinks: Vec::new(),
                uses: Arc::default(),
            })),
        }
    }

    /// The same log, also writing every record to `sink`.
    pub fn with_sink(self, sink: Arc<dyn AuditSink>) -> Self {
        match self.inner {
            Some(inner) => {
                let mut sinks = inner.sinks.clone();
                sinks.push(sink);
                Self {
                    inner: Some(Arc::new(Inner {
                        store: inner.store.clone(),
                        keys: inner.keys.clone(),
                        clock: inner.clock.clone(),
                        sinks,
                        // A queue of its own: the appender task serves the log it was started for.
                        uses: Arc::default(),
                    })),
                }
            }
            None => self,
        }
    }

    /// Records an action of `principal` (or of an unknown caller) with the current request context; durable
    /// (committed) when this returns `Ok`.
    pub async fn record(
        &self,
        principal: Option<&Principal>,
        action: &str,
        object_kind: &str,
        object_id: Option<String>,
        outcome: AuditOutcome,
    ) -> Result<(), CoreError> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        let event = inner.event(principal, action, object_kind, object_id, outcome);
        inner.append_and_emit(&event).await
    }

    /// Prepares the record of a change that the store appends in the change's own transaction (one savepoint,
    /// one fsync), as CRYPTO.md asks: `accepted_id` names the object when it is done, `refused` is the outcome
    /// when the write refuses. `None` when this log records nothing. Hand the record the store made to
    /// [`appended`](Self::appended).
    pub async fn prepare(
        &self,
        principal: &Principal,
        action: &str,
        object_kind: &str,
        accepted_id: Option<String>,
        refused: AuditOutcome,
    ) -> Result<Option<AuditedWrite>, CoreError> {
        let Some(inner) = &self.inner else {
            return Ok(None);
        };
        let accepted = inner
            .event(
                Some(principal),
                action,
                object_kind,
                accepted_id,
                AuditOutcome::Success,
            )
            .canonical_bytes();
        let refused = inner
            .event(Some(principal), action, object_kind, None, refused)
            .canonical_bytes();
        Ok(Some(AuditedWrite {
            accepted,
            refused,
            sealer: inner.sealer().await?,
        }))
    }

    /// Hands a record that a write appended in its own transaction to the sinks.
    pub fn appended(&self, record: &AuditRecord) {
        if let Some(inner) = &self.inner {
            inner.emit(std::slice::from_ref(record));
        }
    }

    /// Records a use that changes nothing (a payload read, a KMS cryptographic operation) with the current
    /// request context: the same record in the same chain as [`record`](Self::record), but appended in the
    /// background, so the response does not wait for its commit (the writer's next group commit, within
    /// milliseconds). At most `USES_IN_FLIGHT` are pending; past that the caller waits. If a background append
    /// failed, the next use is recorded in the foreground, so a broken audit log fails requests again instead
    /// of letting uses go unrecorded; `flush` waits for every pending one.
    pub async fn record_use(
        &self,
        principal: Option<&Principal>,
        action: &str,
        object_kind: &str,
        object_id: Option<String>,
        outcome: AuditOutcome,
    ) -> Result<(), CoreError> {
        use std::sync::atomic::Ordering;
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        let event = inner.event(principal, action, object_kind, object_id, outcome);
        if inner.uses.failed.load(Ordering::Relaxed) {
            inner.append_and_emit(&event).await?;
            inner.uses.failed.store(false, Ordering::Relaxed);
            return Ok(());
        }
        let closed = || CoreError::Storage(crate::StoreError("the audit log is closed".into()));
        let slot = inner
            .uses
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| closed())?;
        let queue = inner.uses.queue.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(append_uses(Arc::downgrade(inner), rx));
            tx
        });
        queue.send((event, slot)).map_err(|_| closed())
    }

    /// Records the outcome of a read-only use and passes the result through (see [`record_use`](Self::record_use)).
    pub async fn use_outcome<T>(
        &self,
        principal: &Principal,
        action: &str,
        object_kind: &str,
        object_id: Option<String>,
        result: Result<T, CoreError>,
    ) -> Result<T, CoreError> {
        self.record_use(
            Some(principal),
            action,
            object_kind,
            object_id,
            AuditOutcome::of(&result),
        )
        .await?;
        result
    }

    /// Waits until every use record appended in the background is committed (before a stop record, at shutdown).
    pub async fn flush(&self) {
        if let Some(inner) = &self.inner {
            // Every slot free means nothing is pending; the permits go back when dropped.
            let _all = inner.uses.slots.acquire_many(USES_IN_FLIGHT).await;
            for sink in &inner.sinks {
                sink.flush();
            }
        }
    }

    /// Records the outcome of a service call and passes the result through. If the record cannot be written the
    /// call fails (the response must not be sent without its audit record).
    pub async fn outcome<T>(
        &self,
        principal: &Principal,
        action: &str,
        object_kind: &str,
        object_id: Option<String>,
        result: Result<T, CoreError>,
    ) -> Result<T, CoreError> {
        self.record(
            Some(principal),
            action,
            object_kind,
            object_id,
            AuditOutcome::of(&result),
        )
        .await?;
        result
    }

    /// Verifies the store's whole chain under the audit key.
    pub async fn verify(&self) -> Result<Result<u64, ChainBreak>, CoreError> {
        let Some(inner) = &self.inner else {
            return Ok(Ok(0));
        };
        let key = inner.keys.system_key(SystemKey::Audit).await?;
        let records = inner.store.audit_records().await?;
        Ok(verify_chain(&key, &records))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(key: &Key256, n: u64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_MAC.to_vec();
        (1..=n)
            .map(|seq| {
                let event = format!("{{\"n\":{seq}}}").into_bytes();
                let mac = audit_mac(key, seq, &prev, AUDIT_KEY_VERSION, &event).to_vec();
                let r = AuditRecord {
                    seq,
                    key_version: AUDIT_KEY_VERSION,
                    prev_mac: prev.clone(),
                    mac: mac.clone(),
                    event,
                };
                prev = mac;
                r
            })
            .collect()
    }

    #[test]
    fn chain_detects_delete_edit_reorder_and_wrong_key() {
        let key = Key256::generate().unwrap();
        let good = chain(&key, 5);
        assert_eq!(verify_chain(&key, &good), Ok(5));

        let mut deleted = good.clone();
        deleted.remove(2);
        assert_eq!(verify_chain(&key, &deleted).unwrap_err().seq, 4);

        let mut edited = good.clone();
        edited[1].event = b"{\"n\":9}".to_vec();
        assert_eq!(verify_chain(&key, &edited).unwrap_err().seq, 2);

        let mut swapped = good.clone();
        swapped.swap(1, 2);
        let (a, b) = swapped.split_at_mut(2);
        std::mem::swap(&mut a[1].seq, &mut b[0].seq);
        assert_eq!(verify_chain(&key, &swapped).unwrap_err().seq, 2);

        let other = Key256::generate().unwrap();
        assert_eq!(verify_chain(&other, &good).unwrap_err().seq, 1);
    }

    /// Every escape the encoding has, in and around plain text; text without one is copied as it is.
    #[test]
    fn strings_escape_exactly_what_json_requires() {
        for (text, encoded) in [
            ("plain", r#""plain""#),
            ("", r#""""#),
            ("tab\there", r#""tab\there""#),
            ("q\"uote", r#""q\"uote""#),
            ("back\\slash", r#""back\\slash""#),
            ("\u{1}ctl\u{1f}", r#""\u0001ctl\u001f""#),
            ("é and ✓ stay as they are", r#""é and ✓ stay as they are""#),
            ("\r\n", r#""\r\n""#),
        ] {
            let mut out = String::new();
            json_string(&mut out, text);
            assert_eq!(out, encoded);
        }
    }

    #[test]
    fn canonical_encoding_escapes_and_orders() {
        let e = AuditEvent {
            time: OffsetDateTime::UNIX_EPOCH,
            user_id: Some("u\"1".into()),
            project_id: None,
            source: Some("127.0.0.1:5".into()),
            request_id: None,
            action: "secret.create".into(),
            object_kind: "secret".into(),
            object_id: None,
            outcome: AuditOutcome::Denied("x\n".into()),
        };
        let s = String::from_utf8(e.canonical_bytes()).unwrap();
        assert_eq!(
            s,
            "{\"time\":\"1970-01-01T00:00:00Z\",\"user_id\":\"u\\\"1\",\"project_id\":null,\"source\":\"127.0.0.1:5\",\"request_id\":null,\"action\":\"secret.create\",\"object_kind\":\"secret\",\"object_id\":null,\"outcome\":\"denied\",\"reason\":\"x\\n\"}"
        );
    }
}
