//! Tags: TagResource, UntagResource and ListResourceTags. At most 50 per key (checked in the store's write, so
//! concurrent taggers cannot pass it together); keys 1..=128 characters, values up to 256.

use super::service::KmsService;
use super::types::KmsTagPage;
use super::validate;
use crate::{CoreError, KmsErrorKind, Principal};

impl KmsService {
    /// `TagResource`: adds tags or replaces the values of existing tag keys.
    pub async fn tag_resource(
        &self,
        p: &Principal,
        key_ref: &str,
        tags: Vec<(String, String)>,
    ) -> Result<(), CoreError> {
        let mut id = None;
        let result = async {
            self.authorize(p, "TagResource")?;
            validate::tags(&tags)?;
            let key = self.resolve(p, key_ref).await?;
            id = Some(key.id);
            Self::require_not_pending(&key)?;
            if !self
                .store
                .put_kms_tags(key.id, &tags, validate::MAX_TAGS)
                .await?
            {
                return Err(CoreError::kms(
                    KmsErrorKind::LimitExceeded,
                    format!(
                        "{} would have more than {} tags",
                        key.id,
                        validate::MAX_TAGS
                    ),
                ));
            }
            Ok(())
        }
        .await;
        self.managed(p, "TagResource", id, result).await
    }

    /// `UntagResource`: removes tags by key (absent ones are ignored).
    pub async fn untag_resource(
        &self,
        p: &Principal,
        key_ref: &str,
        tag_keys: Vec<String>,
    ) -> Result<(), CoreError> {
        let mut id = None;
        let result = async {
            self.authorize(p, "UntagResource")?;
            for k in &tag_keys {
                validate::tag_key(k)?;
            }
            let key = self.resolve(p, key_ref).await?;
            id = Some(key.id);
            Self::require_not_pending(&key)?;
            if !self.store.delete_kms_tags(key.id, &tag_keys).await? {
                return Err(CoreError::kms(
                    KmsErrorKind::NotFound,
                    format!("Key {} does not exist", key.id),
                ));
            }
            Ok(())
        }
        .await;
        self.managed(p, "UntagResource", id, result).await
    }

    /// `ListResourceTags`: by tag key (`limit` 1..=50, default 50; the marker is the last tag key returned).
    pub async fn list_resource_tags(
        &self,
        p: &Principal,
        key_ref: &str,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<KmsTagPage, CoreError> {
        self.authorize(p, "ListResourceTags")?;
        let limit = validate::limit(limit, 50, 50)? as usize;
        let key = self.resolve(p, key_ref).await?;
        let mut tags = self.store.list_kms_tags(key.id).await?;
        if let Some(m) = marker {
            tags.retain(|(k, _)| k.as_str() > m);
        }
        let more = tags.len() > limit;
        tags.truncate(limit);
        let next_marker = more.then(|| tags.last().map(|(k, _)| k.clone())).flatten();
        Ok(KmsTagPage { tags, next_marker })
    }
}
