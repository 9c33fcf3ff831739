//! Timestamps as Barbican reads and writes them. Out: naive UTC in Python's `isoformat()` form,
//! `YYYY-MM-DDTHH:MM:SS[.ffffff]` (fraction only when non-zero). In: ISO 8601 as `oslo_utils.timeutils.
//! parse_isotime` (the `iso8601` library) accepts it — `YYYY[-]MM[-]DD`, optionally `T` or space and
//! `HH[:MM[:SS[.f…]]]`, optionally `Z` or `±HH[[:]MM]`; no zone means UTC.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Appends `value` as exactly `width` decimal digits (zero-padded, higher digits dropped).
fn push_digits(out: &mut String, mut value: u32, width: usize) {
    let mut digits = [b'0'; 10];
    for slot in digits[..width].iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
    out.extend(digits[..width].iter().map(|&d| char::from(d)));
}

/// Formats `at` as Barbican shows timestamps (`2026-11-22T08:43:46`, or `…:46.123456` with microseconds).
/// Written digit by digit: a list page formats thirty of these and `format!` showed up in its profile.
pub(crate) fn format(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    let mut out = String::with_capacity(26);
    push_digits(&mut out, u32::try_from(at.year()).unwrap_or(0), 4);
    let fields = [
        ('-', u32::from(u8::from(at.month()))),
        ('-', u32::from(at.day())),
        ('T', u32::from(at.hour())),
        (':', u32::from(at.minute())),
        (':', u32::from(at.second())),
    ];
    for (separator, value) in fields {
        out.push(separator);
        push_digits(&mut out, value, 2);
    }
    if at.microsecond() != 0 {
        out.push('.');
        push_digits(&mut out, at.microsecond(), 6);
    }
    out
}

/// A cursor over ASCII input.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i < self.s.len() && self.i - start < max && self.s[self.i].is_ascii_digit() {
            self.i += 1;
        }
        if self.i - start < min {
            self.i = start;
            return None;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.s.get(self.i) == Some(&byte) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn done(&self) -> bool {
        self.i == self.s.len()
    }
}

/// `-N`/`-NN` or `NN`, as the iso8601 regex allows for month and day; `default` when absent.
fn date_part(c: &mut Cursor<'_>, default: u32) -> Option<u32> {
    if c.eat(b'-') {
        return c.digits(1, 2);
    }
    Some(c.digits(2, 2).unwrap_or(default))
}

/// Parses an ISO 8601 timestamp; `None` when it is not one.
pub(crate) fn parse(text: &str) -> Option<OffsetDateTime> {
    let mut c = Cursor {
        s: text.trim().as_bytes(),
        i: 0,
    };
    let year = c.digits(4, 4)?;
    let month = date_part(&mut c, 1)?;
    let day = date_part(&mut c, 1)?;
    let (mut hour, mut minute, mut second, mut micro) = (0, 0, 0, 0);
    let mut offset = UtcOffset::UTC;
    if matches!(c.peek(), Some(b'T' | b' ')) {
        c.i += 1;
        hour = c.digits(2, 2)?;
        let mark = c.i;
        c.eat(b':');
        match c.digits(2, 2) {
            Some(m) => {
                minute = m;
                let mark = c.i;
                c.eat(b':');
                match c.digits(1, 2) {
                    Some(s) => {
                        second = s;
                        if c.eat(b'.') || c.eat(b',') {
                            let start = c.i;
                            c.digits(1, usize::MAX)?;
                            let frac = &text.trim()[start..c.i];
                            let six: String =
                                frac.chars().chain(std::iter::repeat('0')).take(6).collect();
                            micro = six.parse().ok()?;
                        }
                    }
                    None => c.i = mark,
                }
            }
            None => c.i = mark,
        }
        if !c.eat(b'Z')
            && let Some(sign @ (b'+' | b'-')) = c.peek()
        {
            c.i += 1;
            let oh = c.digits(2, 2)?;
            c.eat(b':');
            let om = c.digits(2, 2).unwrap_or(0);
            let secs = i32::try_from(oh * 3600 + om * 60).ok()?;
            offset = UtcOffset::from_whole_seconds(if sign == b'-' { -secs } else { secs }).ok()?;
        }
    }
    if !c.done() {
        return None;
    }
    let date = Date::from_calendar_date(
        i32::try_from(year).ok()?,
        Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;
    let time = Time::from_hms_micro(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
        micro,
    )
    .ok()?;
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_offset(offset)
            .to_offset(UtcOffset::UTC),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_like_python_isoformat() {
        assert_eq!(
            format(datetime!(2015-03-23 20:46:51.650515 UTC)),
            "2015-03-23T20:46:51.650515"
        );
        assert_eq!(
            format(datetime!(2015-03-23 20:46:51 UTC)),
            "2015-03-23T20:46:51"
        );
        assert_eq!(
            format(datetime!(2015-03-23 20:46:51.000000123 UTC)),
            "2015-03-23T20:46:51"
        );
        assert_eq!(
            format(datetime!(2015-03-23 22:00:00 +2)),
            "2015-03-23T20:00:00"
        );
        assert_eq!(
            format(datetime!(0987-01-02 03:04:05.000042 UTC)),
            "0987-01-02T03:04:05.000042"
        );
    }

    #[test]
    fn parses_iso8601() {
        let utc = |s| parse(s).map(format);
        assert_eq!(
            utc("2015-12-28T19:14:44.180394").as_deref(),
            Some("2015-12-28T19:14:44.180394")
        );
        assert_eq!(
            utc("2015-12-28T19:14:44Z").as_deref(),
            Some("2015-12-28T19:14:44")
        );
        assert_eq!(
            utc("2015-12-28T19:14:44-05:00").as_deref(),
            Some("2015-12-29T00:14:44")
        );
        assert_eq!(
            utc("2015-12-28T19:14+0100").as_deref(),
            Some("2015-12-28T18:14:00")
        );
        assert_eq!(
            utc("2015-12-28 19:14:44").as_deref(),
            Some("2015-12-28T19:14:44")
        );
        assert_eq!(utc("2015-12-28").as_deref(), Some("2015-12-28T00:00:00"));
        assert_eq!(
            utc("20151228T191444").as_deref(),
            Some("2015-12-28T19:14:44")
        );
        assert_eq!(
            utc("2016-01-01T00:00:00.1").as_deref(),
            Some("2016-01-01T00:00:00.100000")
        );
        for bad in [
            "",
            "nonsense",
            "2015-13-01",
            "2015-02-30",
            "2015-12-28T25:00",
            "2015-12-28Tx",
            "2015-12-28T10:00:00junk",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
