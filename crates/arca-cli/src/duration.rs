//! Parsing of human durations such as `90s`, `30m`, `24h`, `7d` for token lifetimes.

use anyhow::{Context, bail};
use time::Duration;

/// Parses `<number><unit>` with unit s, m, h or d.
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number
        .parse()
        .with_context(|| format!("invalid duration {text:?}: expected e.g. 30m, 24h, 7d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" | "" => 3600,
        "d" => 86_400,
        _ => bail!("invalid duration unit in {text:?}: use s, m, h or d"),
    };
    let total = n.checked_mul(seconds).context("duration too long")?;
    Ok(Duration::seconds(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_rejects_garbage() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::seconds(90));
        assert_eq!(parse_duration("24h").unwrap(), Duration::hours(24));
        assert_eq!(parse_duration("7d").unwrap(), Duration::days(7));
        assert!(parse_duration("x").is_err());
        assert!(parse_duration("5y").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }
}
