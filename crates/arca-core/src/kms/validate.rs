//! The AWS limits on KMS inputs: alias names, descriptions, tags, deletion windows, rotation periods, byte
//! counts and paging. Each check fails with the AWS exception kind and a message naming the limit.

use crate::{CoreError, KmsErrorKind};

/// Longest description.
pub(crate) const MAX_DESCRIPTION: usize = 8192;
/// Most tags on one key.
pub(crate) const MAX_TAGS: u32 = 50;
/// Longest plaintext `Encrypt` takes.
pub(crate) const MAX_PLAINTEXT: usize = 4096;
/// Longest message `Sign`, `Verify`, `GenerateMac` take.
pub(crate) const MAX_MESSAGE: usize = 4096;
/// Pending window bounds and default (days).
pub(crate) const PENDING_WINDOW: (u32, u32, u32) = (7, 30, 30);
/// Rotation period bounds and default (days).
pub(crate) const ROTATION_PERIOD: (u32, u32, u32) = (90, 2560, 365);

fn validation(message: String) -> CoreError {
    CoreError::kms(KmsErrorKind::Validation, message)
}

/// `alias/` + 1..=250 of `[a-zA-Z0-9:/_-]`, not `alias/aws/…`, at most 256 characters in all.
pub(crate) fn alias_name(name: &str) -> Result<(), CoreError> {
    let bad = |why: &str| {
        CoreError::kms(
            KmsErrorKind::InvalidAliasName,
            format!("alias name {name:?} is invalid: {why}"),
        )
    };
    let Some(rest) = name.strip_prefix("alias/") else {
        return Err(bad("it must begin with alias/"));
    };
    if rest.is_empty() || name.len() > 256 {
        return Err(bad("it must be 7 to 256 characters long"));
    }
    if name.starts_with("alias/aws/") {
        return Err(bad(
            "the prefix alias/aws/ is reserved for AWS managed keys",
        ));
    }
    if !rest
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '_' | '-'))
    {
        return Err(bad("only letters, digits and : / _ - are allowed"));
    }
    Ok(())
}

/// At most 8192 characters.
pub(crate) fn description(text: &str) -> Result<(), CoreError> {
    if text.chars().count() > MAX_DESCRIPTION {
        return Err(validation(format!(
            "Description must be at most {MAX_DESCRIPTION} characters long"
        )));
    }
    Ok(())
}

/// Tag keys 1..=128 characters, values 0..=256, no `aws:` prefix, no repeated key in one request.
pub(crate) fn tags(tags: &[(String, String)]) -> Result<(), CoreError> {
    let bad = |m: String| CoreError::kms(KmsErrorKind::Tag, m);
    for (i, (key, value)) in tags.iter().enumerate() {
        tag_key(key)?;
        if value.chars().count() > 256 {
            return Err(bad(format!(
                "the value of tag {key:?} exceeds 256 characters"
            )));
        }
        if tags[..i].iter().any(|(k, _)| k == key) {
            return Err(bad(format!("tag key {key:?} appears more than once")));
        }
    }
    if tags.len() > MAX_TAGS as usize {
        return Err(CoreError::kms(
            KmsErrorKind::LimitExceeded,
            format!("a key may have at most {MAX_TAGS} tags"),
        ));
    }
    Ok(())
}

/// A tag key: 1..=128 characters, not `aws:…`.
pub(crate) fn tag_key(key: &str) -> Result<(), CoreError> {
    let n = key.chars().count();
    if n == 0 || n > 128 {
        return Err(CoreError::kms(
            KmsErrorKind::Tag,
            format!("tag key {key:?} must be 1 to 128 characters long"),
        ));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(CoreError::kms(
            KmsErrorKind::Tag,
            format!("tag key {key:?} uses the reserved prefix aws:"),
        ));
    }
    Ok(())
}

/// A value within `(min, max, default)`, or the default.
pub(crate) fn days(
    value: Option<u32>,
    (min, max, default): (u32, u32, u32),
    what: &str,
) -> Result<u32, CoreError> {
    let v = value.unwrap_or(default);
    if !(min..=max).contains(&v) {
        return Err(validation(format!(
            "{what} must be between {min} and {max} days, not {v}"
        )));
    }
    Ok(v)
}

/// A byte count within 1..=1024.
pub(crate) fn byte_count(n: usize, what: &str) -> Result<(), CoreError> {
    if !(1..=1024).contains(&n) {
        return Err(validation(format!(
            "{what} must be between 1 and 1024, not {n}"
        )));
    }
    Ok(())
}

/// A page size: 1..=`max`, default `default`.
pub(crate) fn limit(limit: Option<u32>, max: u32, default: u32) -> Result<u32, CoreError> {
    let l = limit.unwrap_or(default);
    if !(1..=max).contains(&l) {
        return Err(validation(format!(
            "Limit must be between 1 and {max}, not {l}"
        )));
    }
    Ok(l)
}

/// The marker error.
pub(crate) fn bad_marker() -> CoreError {
    CoreError::kms(
        KmsErrorKind::InvalidMarker,
        "the marker is not one this service returned; start again without a marker",
    )
}

/// A length check on inputs with AWS's 1..=`max` byte bound.
pub(crate) fn bytes_len(len: usize, max: usize, what: &str) -> Result<(), CoreError> {
    if len == 0 || len > max {
        return Err(validation(format!(
            "{what} must be 1 to {max} bytes long, not {len}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_rules() {
        assert!(alias_name("alias/my-key_1:x/y").is_ok());
        for bad in ["my", "alias/", "alias/aws/x", "alias/a b", "alias/é"] {
            assert_eq!(
                alias_name(bad).unwrap_err().kms_kind(),
                Some(KmsErrorKind::InvalidAliasName),
                "{bad}"
            );
        }
        assert!(alias_name(&format!("alias/{}", "a".repeat(250))).is_ok());
        assert!(alias_name(&format!("alias/{}", "a".repeat(251))).is_err());
    }

    #[test]
    fn ranges() {
        assert_eq!(days(None, PENDING_WINDOW, "w").unwrap(), 30);
        assert!(days(Some(6), PENDING_WINDOW, "w").is_err());
        assert!(days(Some(2561), ROTATION_PERIOD, "p").is_err());
        assert!(byte_count(0, "n").is_err() && byte_count(1025, "n").is_err());
        assert!(tags(&[("aws:x".into(), String::new())]).is_err());
        assert!(tags(&[("a".into(), "1".into()), ("a".into(), "2".into())]).is_err());
    }
}
