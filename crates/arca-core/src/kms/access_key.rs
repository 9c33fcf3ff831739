//! Access keys: the SigV4 credentials of the KMS API. The id is public (`AKIA` + 16 characters); the secret is
//! stored only sealed under the access-key system key with the id bound in the associated data.

use time::OffsetDateTime;

/// An access key as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    /// `AKIA` + 16 uppercase characters.
    pub id: String,
    /// The project the key acts in.
    pub project_id: String,
    /// The user it acts as.
    pub user_id: String,
    /// Role names.
    pub roles: Vec<String>,
    /// The secret, sealed.
    pub sealed_secret: Vec<u8>,
    /// When it was issued.
    pub created: OffsetDateTime,
    /// Whether it was revoked.
    pub revoked: bool,
}

impl std::fmt::Debug for AccessKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeyRecord")
            .field("id", &self.id)
            .field("project_id", &self.project_id)
            .field("user_id", &self.user_id)
            .field("roles", &self.roles)
            .field("created", &self.created)
            .field("revoked", &self.revoked)
            .finish_non_exhaustive()
    }
}
