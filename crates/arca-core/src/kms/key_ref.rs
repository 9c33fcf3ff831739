//! Resolving what a caller names a key by — a key id, a key ARN `arn:aws:kms:<region>:<project>:key/<id>`, an
//! alias name `alias/…` or an alias ARN — to a key id or alias name inside the caller's project. Any region is
//! accepted (none is stored); an ARN naming another project is "not found", exactly like a missing key.

use uuid::Uuid;

use crate::{CoreError, KmsErrorKind};

/// What a key reference names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyRef {
    /// A key by id.
    Id(Uuid),
    /// An alias by full name (`alias/…`).
    Alias(String),
}

fn not_found(key_ref: &str) -> CoreError {
    CoreError::kms(
        KmsErrorKind::NotFound,
        format!("Invalid keyId {key_ref}: no such key or alias in this account"),
    )
}

/// Parses `key_ref` as seen by a caller in `project`.
pub(crate) fn parse_key_ref(project: &str, key_ref: &str) -> Result<KeyRef, CoreError> {
    if key_ref.is_empty() || key_ref.len() > 2048 {
        return Err(CoreError::kms(
            KmsErrorKind::Validation,
            "KeyId must be 1 to 2048 characters long",
        ));
    }
    if let Some(rest) = key_ref.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, _region, account, resource] = parts[..] else {
            return Err(not_found(key_ref));
        };
        if !partition.starts_with("aws") || service != "kms" || account != project {
            return Err(not_found(key_ref));
        }
        return match resource.strip_prefix("key/") {
            Some(id) => Uuid::parse_str(id)
                .map(KeyRef::Id)
                .map_err(|_| not_found(key_ref)),
            None if resource.starts_with("alias/") => Ok(KeyRef::Alias(resource.to_owned())),
            None => Err(not_found(key_ref)),
        };
    }
    if key_ref.starts_with("alias/") {
        return Ok(KeyRef::Alias(key_ref.to_owned()));
    }
    Uuid::parse_str(key_ref)
        .map(KeyRef::Id)
        .map_err(|_| not_found(key_ref))
}

/// Parses an alias name given where only an alias may be (CreateAlias, UpdateAlias, DeleteAlias): the name
/// itself or an alias ARN of the caller's project.
pub(crate) fn parse_alias_name(project: &str, name: &str) -> Result<String, CoreError> {
    if name.starts_with("arn:") {
        return match parse_key_ref(project, name)? {
            KeyRef::Alias(alias) => Ok(alias),
            KeyRef::Id(_) => Err(CoreError::kms(
                KmsErrorKind::InvalidAliasName,
                format!("{name} is a key ARN, not an alias name"),
            )),
        };
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let id = Uuid::now_v7();
        assert_eq!(parse_key_ref("p", &id.to_string()).unwrap(), KeyRef::Id(id));
        assert_eq!(
            parse_key_ref("p", &format!("arn:aws:kms:eu-west-1:p:key/{id}")).unwrap(),
            KeyRef::Id(id)
        );
        assert_eq!(
            parse_key_ref("p", "alias/a/b").unwrap(),
            KeyRef::Alias("alias/a/b".into())
        );
        assert_eq!(
            parse_key_ref("p", "arn:aws:kms:us-east-1:p:alias/x").unwrap(),
            KeyRef::Alias("alias/x".into())
        );
        for bad in [
            format!("arn:aws:kms:us-east-1:other:key/{id}"),
            "arn:aws:s3:us-east-1:p:key/x".to_owned(),
            "nope".to_owned(),
            format!("arn:aws:kms:us-east-1:p:grant/{id}"),
        ] {
            let e = parse_key_ref("p", &bad).unwrap_err();
            assert_eq!(e.kms_kind(), Some(KmsErrorKind::NotFound), "{bad}");
        }
        assert_eq!(
            parse_key_ref("p", "").unwrap_err().kms_kind(),
            Some(KmsErrorKind::Validation)
        );
    }
}
