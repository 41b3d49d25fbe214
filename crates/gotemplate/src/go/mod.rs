//! Go's standard-library behaviour the template language relies on, parsed and printed exactly
//! as Go does it, error messages included: numbers (`strconv.ParseFloat`, `fmt`'s `%v`/`%g`),
//! durations (`time.ParseDuration`, `Duration.String()`), byte sizes (go-humanize), time layouts,
//! string literals (`strconv.Unquote`), `net.SplitHostPort`, and `regexp`'s error wording and
//! `$1` expansion.

mod bytes;
mod duration;
mod expand;
mod ftoa;
mod net;
mod numbers;
mod quote;
mod regexp;
mod time;
mod zone;

pub use bytes::{format_bytes, parse_bytes};
pub use duration::{duration_seconds, format_go_duration, parse_go_duration};
pub use expand::expand_go;
pub use ftoa::format_float_go;
pub use net::{join_host_port, split_host_port};
pub use numbers::{format_float, format_float_g, format_g, parse_go_float};
pub use quote::unquote;
pub use regexp::{compile as compile_regex, regex_err};
pub use time::{ZERO_TIME, ZERO_TIME_UNIX, format_time, format_time_in, parse_time, parse_time_in};
pub use zone::Tz;

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;
    const MIN: i64 = 60_000_000_000;
    const HOUR: i64 = 60 * MIN;

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

    #[test]
    fn precision_g() {
        // fmt.Sprintf("%.4g", v)
        assert_eq!(format_g(1234.567, 4), "1235");
        assert_eq!(format_g(1.2345678e6, 4), "1.235e+06");
        assert_eq!(format_g(0.00012345, 4), "0.0001234");
        assert_eq!(format_g(0.000012345, 4), "1.234e-05");
        assert_eq!(format_g(0.0, 4), "0");
        assert_eq!(format_g(120.0, 4), "120");
        assert_eq!(format_g(f64::INFINITY, 4), "+Inf");
        assert_eq!(format_g(f64::NEG_INFINITY, 4), "-Inf");
        assert_eq!(format_g(f64::NAN, 4), "NaN");
        assert_eq!(format_g(1.0e21, 4), "1e+21");
    }

    #[test]
    fn strings_and_hosts() {
        assert_eq!(unquote(r#""a\tb\x41\u00e9\101""#), Ok("a\tbAéA".to_string()));
        assert_eq!(unquote(r#""\'""#), Err("invalid syntax".to_string()));
        assert_eq!(split_host_port("foo.example.com:12345"), Ok(("foo.example.com", "12345")));
        assert_eq!(split_host_port("[2001:0DB8::1]:12345"), Ok(("2001:0DB8::1", "12345")));
        assert!(split_host_port("2001:0DB8::1").is_err());
        assert!(split_host_port("[2001:0DB8::1]::12345").is_err());
        assert!(split_host_port("foo").is_err());
        assert_eq!(join_host_port("::1", "80"), "[::1]:80");
    }
}
