//! Go's `time.Location`: `UTC`, `Local` (the process' zone: `TZ`, else `/etc/localtime`) and
//! IANA zones (`time.LoadLocation`), from jiff's time zone database (the system's zoneinfo, or
//! the copy bundled into the binary when the machine has none).

use std::sync::Arc;

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};

/// A time's location, as Go keeps it with the instant.
#[derive(Debug, Clone, PartialEq)]
pub enum Tz {
    Utc,
    Local,
    /// An IANA name (`America/New_York`), known to load.
    Named(Arc<str>),
    /// A fixed offset in seconds from a parsed `-0700` that no zone explains (printed without
    /// an abbreviation, as Go's `FixedZone("", off)` is).
    Fixed(i32),
}

impl Tz {
    /// `time.LoadLocation(name)`: `""` and `UTC` are UTC, `Local` the process' zone.
    pub fn load(name: &str) -> Option<Tz> {
        match name {
            "" | "UTC" => Some(Tz::Utc),
            "Local" => Some(Tz::Local),
            n => TimeZone::get(n).ok().map(|_| Tz::Named(Arc::from(n))),
        }
    }

    fn zone(&self) -> TimeZone {
        match self {
            Tz::Utc => TimeZone::UTC,
            Tz::Local => TimeZone::system(),
            Tz::Named(n) => TimeZone::get(n).unwrap_or(TimeZone::UTC),
            Tz::Fixed(s) => TimeZone::fixed(Offset::from_seconds(*s).unwrap_or(Offset::UTC)),
        }
    }

    /// The offset (seconds east of UTC) and abbreviation in effect at `ns` since the epoch.
    pub fn offset_at(&self, ns: i64) -> (i32, String) {
        if let Tz::Fixed(s) = self {
            return (*s, offset_name(*s));
        }
        let z = self.zone();
        let ts = Timestamp::from_nanosecond(ns as i128).unwrap_or(Timestamp::UNIX_EPOCH);
        let info = z.to_offset_info(ts);
        (info.offset().seconds(), info.abbreviation().to_string())
    }
}

/// Go's name for a zone without one: `-0700`-like `+hhmm`... Go prints `-07` style names
/// only from tzdata; a `FixedZone("")` prints its offset as the abbreviation (`+0200`).
fn offset_name(s: i32) -> String {
    let a = s.unsigned_abs();
    format!("{}{:02}{:02}", if s < 0 { '-' } else { '+' }, a / 3600, a % 3600 / 60)
}
