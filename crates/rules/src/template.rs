//! Expansion of alert labels and annotations in Prometheus' template language, by the
//! workspace's Go-template engine (`gotemplate`): `$labels`, `$value`, `.Labels`, `.Value`,
//! variables, `if`/`range`/`with`, and Prometheus' functions (`humanize`, `humanizeDuration`,
//! `humanizePercentage`, `title`, `reReplaceAll`, ...). Functions that need a PromQL engine
//! (`query`, `first`, `value`) are refused when the rule is checked.

use std::collections::BTreeMap;

/// Expands `text` for one alert: its labels, its value, and the server's URL (`$externalURL`).
pub fn expand(text: &str, labels: &BTreeMap<String, String>, value: f64, external_url: &str) -> Result<String, String> {
    gotemplate::expand_alert_template(text, labels, value, &BTreeMap::new(), external_url)
}

/// Checks that `text` parses (its functions exist, its variables are declared).
pub fn check(text: &str) -> Result<(), String> {
    gotemplate::check_alert_template(text)
}

/// Go's `%v` of a float64.
pub fn go_float(v: f64) -> String {
    gotemplate::go::format_float_g(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_templates_expand() {
        let l: BTreeMap<String, String> = [("app".to_string(), "shop".to_string())].into();
        assert_eq!(expand("{{ $labels.app }} has {{ $value }} errors", &l, 42.0, "").unwrap(), "shop has 42 errors");
        assert_eq!(expand("{{.Labels.app}}/{{ .Labels.none }}/{{ .Value }}", &l, 0.5, "").unwrap(), "shop//0.5");
        assert_eq!(expand("x {{- $value | humanize -}} y", &l, 1234567.0, "").unwrap(), "x1.235My");
        assert_eq!(expand("{{ $value | humanizeDuration }}", &l, 90061.0, "").unwrap(), "1d 1h 1m 1s");
        assert_eq!(expand("{{ if gt $value 1.0 }}big{{ else }}small{{ end }}", &l, 2.0, "").unwrap(), "big");
        assert_eq!(expand("{{ $externalURL }}/alerting", &l, 1.0, "http://h:3100").unwrap(), "http://h:3100/alerting");
        assert!(check("{{ $labels.app").is_err());
        assert!(check("{{ query \"up\" }}").unwrap_err().contains("query"));
    }

    #[test]
    fn values_print_as_go_prints_them() {
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(3.25), "3.25");
        assert_eq!(go_float(f64::INFINITY), "+Inf");
    }
}
