//! Go's and Prometheus' number, duration and byte-size syntax, parsed and printed with the
//! exact behaviour of the Go functions Loki relies on (`strconv.ParseFloat`, `time.ParseDuration`,
//! Prometheus' `model.ParseDuration`, go-humanize's `ParseBytes`/`Bytes`), error messages
//! included.

mod bytes;
mod durations;
mod numbers;

pub(crate) use bytes::format_bytes;
pub use bytes::parse_bytes;
#[cfg(test)]
pub(crate) use durations::{DAY, MIN};
pub(crate) use durations::{HOUR, MS, SEC, format_prom_duration, parse_prom_duration};
pub use durations::{format_go_duration, parse_go_duration};
pub(crate) use numbers::format_float_g;
pub use numbers::{format_float, parse_go_float};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_go_duration("2h45m"), Ok(2 * HOUR + 45 * MIN));
        assert_eq!(parse_go_duration("1µs"), Ok(1000));
        assert_eq!(parse_go_duration("1"), Err("time: missing unit in duration \"1\"".into()));
        assert_eq!(parse_go_duration("1d"), Err("time: unknown unit \"d\" in duration \"1d\"".into()));
        assert_eq!(parse_go_duration("abc"), Err("time: invalid duration \"abc\"".into()));
        assert_eq!(format_go_duration(MIN), "1m0s");
        assert_eq!(format_go_duration(HOUR), "1h0m0s");
        assert_eq!(format_go_duration(1_500_000_000), "1.5s");
        assert_eq!(format_go_duration(100 * MS), "100ms");
        assert_eq!(format_go_duration(-5 * MIN), "-5m0s");
    }

    #[test]
    fn prom_durations() {
        assert_eq!(parse_prom_duration("1h30m"), Ok(HOUR + 30 * MIN));
        assert_eq!(parse_prom_duration("1d"), Ok(DAY));
        assert!(parse_prom_duration("1.5m").is_err());
        assert!(parse_prom_duration("30m1h").is_err());
        assert_eq!(format_prom_duration(90 * SEC), "1m30s");
        assert_eq!(format_prom_duration(DAY), "1d");
        assert_eq!(format_prom_duration(5 * MIN), "5m");
    }

    #[test]
    fn bytes_and_floats() {
        assert_eq!(parse_bytes("1KiB"), Ok(1024));
        assert_eq!(parse_bytes("20 MB"), Ok(20_000_000));
        assert_eq!(parse_bytes("42"), Ok(42));
        assert_eq!(parse_bytes(""), Err("strconv.ParseFloat: parsing \"\": invalid syntax".into()));
        assert_eq!(format_bytes(1024), "1.0kB");
        assert_eq!(format_bytes(20_000_000), "20MB");
        assert_eq!(parse_go_float("0x1p3"), Ok(8.0));
        assert!(parse_go_float("0x1A").is_err());
        assert!(parse_go_float("0b1010").is_err());
        assert_eq!(format_float_g(1e21), "1e+21");
        assert_eq!(format_float_g(0.5), "0.5");
        assert_eq!(format_float_g(100.0), "100");
        assert_eq!(format_float_g(3e6), "3e+06");
        assert_eq!(format_float_g(123456.0), "123456");
    }
}
