//! Go's and Prometheus' number, duration and byte-size syntax as LogQL uses it: Prometheus'
//! durations here; Go's (`strconv.ParseFloat`, `time.ParseDuration`, go-humanize's byte sizes,
//! `fmt`'s `%v`) come from `gotemplate::go`, which the template language shares.

mod durations;

#[cfg(test)]
pub(crate) use durations::{DAY, MIN};
pub(crate) use durations::{HOUR, MS, SEC, format_prom_duration, parse_prom_duration};
pub(crate) use gotemplate::go::{duration_seconds, format_bytes, format_float_g};
pub use gotemplate::go::{format_float, format_go_duration, parse_bytes, parse_go_duration, parse_go_float};

#[cfg(test)]
mod tests {
    use super::*;

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
}
