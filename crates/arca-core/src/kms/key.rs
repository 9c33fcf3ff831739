//! KMS domain types as the store keeps them: a key's row (state, current version, rotation schedule), its
//! versions (sealed material), its aliases. Key spec and usage are stored by their AWS names; the service turns
//! them into `arca_crypto` enums. No key material is ever held here unsealed.

use time::OffsetDateTime;
use uuid::Uuid;

/// A KMS key's lifecycle state (AWS `KeyState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyState {
    /// Usable for cryptographic operations.
    Enabled,
    /// Kept but refused for cryptographic operations.
    Disabled,
    /// Scheduled for deletion; refused for everything but describe and cancel.
    PendingDeletion,
}

impl KeyState {
    /// The AWS name (`Enabled`, `Disabled`, `PendingDeletion`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "PendingDeletion",
        }
    }

    /// Parses an AWS name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "Enabled" => Some(KeyState::Enabled),
            "Disabled" => Some(KeyState::Disabled),
            "PendingDeletion" => Some(KeyState::PendingDeletion),
            _ => None,
        }
    }
}

/// How a key version came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RotationKind {
    /// The material the key was created with.
    Initial,
    /// Made by the automatic rotation schedule.
    Automatic,
    /// Made by `RotateKeyOnDemand`.
    OnDemand,
}

impl RotationKind {
    /// The stored (and AWS `RotationType`) name.
    pub fn as_str(self) -> &'static str {
        match self {
            RotationKind::Initial => "INITIAL",
            RotationKind::Automatic => "AUTOMATIC",
            RotationKind::OnDemand => "ON_DEMAND",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "INITIAL" => Some(RotationKind::Initial),
            "AUTOMATIC" => Some(RotationKind::Automatic),
            "ON_DEMAND" => Some(RotationKind::OnDemand),
            _ => None,
        }
    }
}

/// An enabled automatic rotation schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationSchedule {
    /// Days between automatic rotations (90..=2560).
    pub period_days: u32,
    /// When the next automatic rotation is due.
    pub next_rotation: OffsetDateTime,
}

/// A KMS key as stored (spec and usage by AWS name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsKeyRow {
    /// The key id (a UUID).
    pub id: Uuid,
    /// The owning project (the "account" of its ARN).
    pub project_id: String,
    /// Free text, at most 8192 characters.
    pub description: String,
    /// AWS `KeySpec` name.
    pub key_spec: String,
    /// AWS `KeyUsage` name.
    pub key_usage: String,
    /// Lifecycle state.
    pub state: KeyState,
    /// When it was created.
    pub created: OffsetDateTime,
    /// When a key pending deletion is destroyed.
    pub deletion_date: Option<OffsetDateTime>,
    /// The version new ciphertexts and signatures use (1, 2, …).
    pub current_version: u32,
    /// The automatic rotation schedule, if enabled.
    pub rotation: Option<RotationSchedule>,
}

/// One version of a key's material, sealed by the key hierarchy (never plaintext).
#[derive(Clone, PartialEq, Eq)]
pub struct KmsKeyVersionRow {
    /// The key.
    pub key_id: Uuid,
    /// The version (1 is the initial material).
    pub version: u32,
    /// The sealed material.
    pub sealed: Vec<u8>,
    /// When it was made.
    pub created: OffsetDateTime,
    /// How it was made.
    pub kind: RotationKind,
}

impl std::fmt::Debug for KmsKeyVersionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsKeyVersionRow")
            .field("key_id", &self.key_id)
            .field("version", &self.version)
            .field("created", &self.created)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// An alias: a project-unique name (`alias/…`) pointing at one of the project's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsAlias {
    /// The owning project.
    pub project_id: String,
    /// The full name, `alias/…`.
    pub name: String,
    /// The key it points at.
    pub key_id: Uuid,
    /// When it was created.
    pub created: OffsetDateTime,
    /// When it was last pointed somewhere.
    pub updated: OffsetDateTime,
}

/// A key and the tags it is created with, as one insert.
#[derive(Debug, Clone)]
pub struct NewKmsKey {
    /// The key row (state `Enabled`, current version 1).
    pub key: KmsKeyRow,
    /// Version 1.
    pub version: KmsKeyVersionRow,
    /// Initial tags (unique keys).
    pub tags: Vec<(String, String)>,
}

/// A KMS key as the service returns it: the row with spec and usage parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsKey {
    /// The key id.
    pub id: Uuid,
    /// The owning project (the "account" of its ARN).
    pub project_id: String,
    /// Free text.
    pub description: String,
    /// AWS `KeySpec`.
    pub key_spec: arca_crypto::KmsKeySpec,
    /// AWS `KeyUsage`.
    pub key_usage: arca_crypto::KmsKeyUsage,
    /// Lifecycle state.
    pub state: KeyState,
    /// When it was created.
    pub created: OffsetDateTime,
    /// When a key pending deletion is destroyed.
    pub deletion_date: Option<OffsetDateTime>,
    /// The version new ciphertexts use.
    pub current_version: u32,
    /// The automatic rotation schedule, if enabled.
    pub rotation: Option<RotationSchedule>,
}

impl KmsKey {
    /// The key's ARN as seen from `region`: `arn:aws:kms:<region>:<project>:key/<id>`.
    pub fn arn(&self, region: &str) -> String {
        key_arn(region, &self.project_id, self.id)
    }

    /// Whether the key is enabled.
    pub fn enabled(&self) -> bool {
        self.state == KeyState::Enabled
    }

    /// The key from its stored row; a row whose spec or usage this build does not know is corrupt.
    pub(crate) fn from_row(row: &KmsKeyRow) -> Result<Self, crate::CoreError> {
        let corrupt =
            || crate::CoreError::Integrity(format!("KMS key {} (unknown spec or usage)", row.id));
        Ok(KmsKey {
            id: row.id,
            project_id: row.project_id.clone(),
            description: row.description.clone(),
            key_spec: arca_crypto::KmsKeySpec::parse(&row.key_spec).ok_or_else(corrupt)?,
            key_usage: arca_crypto::KmsKeyUsage::parse(&row.key_usage).ok_or_else(corrupt)?,
            state: row.state,
            created: row.created,
            deletion_date: row.deletion_date,
            current_version: row.current_version,
            rotation: row.rotation,
        })
    }
}

/// `arn:aws:kms:<region>:<project>:key/<id>`.
pub fn key_arn(region: &str, project: &str, id: Uuid) -> String {
    format!("arn:aws:kms:{region}:{project}:key/{id}")
}

/// `arn:aws:kms:<region>:<project>:<alias name>` (the name already starts with `alias/`).
pub fn alias_arn(region: &str, project: &str, alias: &str) -> String {
    format!("arn:aws:kms:{region}:{project}:{alias}")
}
