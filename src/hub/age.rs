//! Ages and durations: `180d`, `90d`, `2h30m` read with `humantime`, and
//! the hub's ISO 8601 times compared with a cutoff.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Reads a duration: `45s`, `30m`, `2h`, `1d`, `1w`, `1h30m`, `180d`,
/// `2h 30m` (`humantime`'s units). A bare number is refused: an admin
/// writing `--since 180` means days, not seconds, so the unit is required.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{text}` has no unit; write it with one, e.g. {text}d for days, {text}h for hours or {text}s for seconds"
        ));
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("`{text}` is not a duration ({e}); use e.g. 45s, 30m, 2h, 1d, 1w, 180d or 1h30m"))
}

/// A time from the hub (`2026-01-13T09:30:00.123456Z`), `None` when unreadable.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

/// The moment `age` before `now` (the distant past when `age` is absurdly long).
pub fn cutoff(now: DateTime<Utc>, age: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(age).ok().and_then(|d| now.checked_sub_signed(d)).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Whole days between `time` and `now` (0 for a time in the future).
pub fn days_since(time: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - time).num_days().max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_admins_write_them() {
        let cases = [
            ("45s", 45),
            ("30m", 1800),
            ("2h", 7200),
            ("1d", 86_400),
            ("1w", 604_800),
            ("1h30m", 5400),
            ("2h 30m", 9000),
            ("180d", 180 * 86_400),
            ("7200s", 7200),
            (" 90d ", 90 * 86_400),
        ];
        for (text, secs) in cases {
            assert_eq!(parse_duration(text), Ok(Duration::from_secs(secs)), "{text}");
        }
        for bad in ["", "soon", "5x", "-1d", "d"] {
            let error = parse_duration(bad).unwrap_err();
            assert!(error.contains("duration") || error.contains('`'), "{bad}: {error}");
        }
    }

    // Issue #26: `--since 5` planned to delete every user older than five
    // seconds; a number without a unit is refused, with the fix.
    #[test]
    fn a_bare_number_is_refused_with_the_units_to_choose_from() {
        for bare in ["5", "180", " 7200 ", "0"] {
            let error = parse_duration(bare).unwrap_err();
            let n = bare.trim();
            assert_eq!(
                error,
                format!("`{n}` has no unit; write it with one, e.g. {n}d for days, {n}h for hours or {n}s for seconds")
            );
        }
    }

    #[test]
    fn hub_times_and_cutoffs() {
        let now = parse_time("2026-06-30T12:00:00Z").unwrap();
        assert_eq!(parse_time("2026-06-29T12:00:00.123456Z").map(|t| days_since(t, now)), Some(0));
        assert_eq!(parse_time("2026-01-01T00:00:00+00:00").map(|t| days_since(t, now)), Some(180));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(cutoff(now, Duration::from_secs(86_400)), parse_time("2026-06-29T12:00:00Z").unwrap());
        assert_eq!(cutoff(now, Duration::from_secs(u64::MAX)), DateTime::<Utc>::MIN_UTC);
    }
}
