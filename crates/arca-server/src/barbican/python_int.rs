//! Python's `int()` on a string, as Barbican applies it to query values (`limit`, `offset`, `bits`)
//! and to the parts of a microversion: surrounding whitespace, an optional sign, then digits with
//! single underscores between them. Python's integers are unbounded; here values beyond `i128`
//! saturate, which no caller can tell apart since they all clamp or range-check far below that.

/// Python `int(text)`, saturating to `±i128::MAX`; `None` when `text` is not an integer.
pub(crate) fn python_int(text: &str) -> Option<i128> {
    let t = text.trim();
    let (negative, digits) = match t.as_bytes().first()? {
        b'+' => (false, &t[1..]),
        b'-' => (true, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    if !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return None;
    }
    let plain: String = digits.chars().filter(|c| *c != '_').collect();
    let magnitude = plain.parse::<i128>().unwrap_or(i128::MAX);
    Some(if negative { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_ints() {
        assert_eq!(python_int(" +1_0 "), Some(10));
        assert_eq!(python_int("-0"), Some(0));
        assert_eq!(python_int("1__0"), None);
        assert_eq!(python_int(""), None);
        assert_eq!(
            python_int("99999999999999999999"),
            Some(99_999_999_999_999_999_999)
        );
    }

    #[test]
    fn saturates_beyond_i128() {
        let huge = "9".repeat(50);
        assert_eq!(python_int(&huge), Some(i128::MAX));
        assert_eq!(python_int(&format!("-{huge}")), Some(-i128::MAX));
    }

    #[test]
    fn refuses_what_python_refuses() {
        for bad in [
            "+", "-", " ", "_1", "1_", "1.0", "0x10", "1e3", "--1", "1 2", "abc",
        ] {
            assert_eq!(python_int(bad), None, "{bad:?}");
        }
        assert_eq!(python_int("\t-0_7\n"), Some(-7));
        assert_eq!(python_int("007"), Some(7));
    }
}
