//! Wall-clock times of recordings: writing `start_time`, naming files, aligning for merges.

use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{OffsetDateTime, PrimitiveDateTime};

/// `start_time` as the recorder writes it: UTC with microseconds and an explicit offset,
/// the form Python's `datetime.now(timezone.utc).isoformat()` produces
/// (`2025-10-17T10:00:00.123456+00:00`).
pub(crate) fn format_start_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// The timestamp in a recording's file name: `YYYYMMDD_HHMMSS` in UTC, as the seeds name
/// their files (`ma_session_20251012_120000.json`).
pub(crate) fn file_stamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}_{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses a `start_time`: RFC 3339, or ISO 8601 with an offset, or ISO 8601 without one
/// (Python's naive `datetime.isoformat()`), which is taken as UTC.
pub(crate) fn parse_start_time(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(s, &Iso8601::DEFAULT))
        .ok()
        .or_else(|| {
            PrimitiveDateTime::parse(s, &Iso8601::DEFAULT)
                .ok()
                .map(PrimitiveDateTime::assume_utc)
        })
}

/// Milliseconds from `earlier` to `later`.
pub(crate) fn millis_between(earlier: OffsetDateTime, later: OffsetDateTime) -> f64 {
    (later - earlier).as_seconds_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_start_times() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_760_695_200_123_456_789).unwrap();
        assert_eq!(format_start_time(t), "2025-10-17T10:00:00.123456+00:00");
        assert_eq!(file_stamp(t), "20251017_100000");
        let back = parse_start_time(&format_start_time(t)).unwrap();
        assert_eq!(back.unix_timestamp_nanos(), 1_760_695_200_123_456_000);
        for s in [
            "2025-10-17T10:00:00Z",
            "2025-10-17T12:00:00+02:00",
            "2025-10-17T10:00:00",
            "2025-10-17T10:00:00.000000",
        ] {
            let parsed = parse_start_time(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(parsed.unix_timestamp(), 1_760_695_200, "{s}");
        }
        assert!(parse_start_time("yesterday").is_none());
    }
}
