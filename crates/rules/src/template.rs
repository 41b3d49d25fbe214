//! Expansion of alert labels and annotations written in Prometheus' template language.
//!
//! All expansion goes through [`expand`] (and [`check`], used by validation). For now it is a
//! small, honest subset: `{{ $labels.X }}`, `{{ .Labels.X }}`, `{{ $value }}`, `{{ .Value }}`
//! and `{{ $value | humanize }}` (with `{{-`/`-}}` trimming); any other action is refused with
//! its text, so a rule never sends a half-expanded message. The workspace's Go-template engine
//! replaces it when it gains Prometheus' variables and functions.

use std::collections::BTreeMap;

/// Expands `text` for one alert: its labels and its value.
pub fn expand(text: &str, labels: &BTreeMap<String, String>, value: f64) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let mut before = &rest[..open];
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(format!("template: unclosed action in {text:?}"));
        };
        let mut action = &after[..close];
        let mut tail = &after[close + 2..];
        if let Some(a) = action.strip_prefix('-') {
            action = a;
            before = before.trim_end();
        }
        if let Some(a) = action.strip_suffix('-') {
            action = a;
            tail = tail.trim_start();
        }
        out.push_str(before);
        out.push_str(&action_value(action.trim(), labels, value)?);
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

/// Checks that `text` can be expanded (any labels, any value).
pub fn check(text: &str) -> Result<(), String> {
    expand(text, &BTreeMap::new(), 0.0).map(|_| ())
}

fn action_value(action: &str, labels: &BTreeMap<String, String>, value: f64) -> Result<String, String> {
    let label = action.strip_prefix("$labels.").or_else(|| action.strip_prefix(".Labels."));
    if let Some(name) = label
        && !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Ok(labels.get(name).cloned().unwrap_or_default());
    }
    let compact: String = action.split_whitespace().collect::<Vec<_>>().join(" ");
    match compact.as_str() {
        "$value" | ".Value" => Ok(go_float(value)),
        "$value | humanize" | ".Value | humanize" | "humanize $value" | "humanize .Value" => Ok(humanize(value)),
        _ => Err(format!(
            "template: {{{{ {action} }}}} is not supported yet (supported: $labels.<name>, .Labels.<name>, $value, $value | humanize)"
        )),
    }
}

/// Go's `%v` of a float64.
pub fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if v == 0.0 {
        return "0".into();
    }
    let exp = v.abs().log10().floor() as i32;
    if !(-4..21).contains(&exp) { go_exp(&format!("{v:e}")) } else { format!("{v}") }
}

/// Rust's `1.5e3` as Go writes it: `1.5e+03`.
fn go_exp(s: &str) -> String {
    let (m, e) = s.split_once('e').unwrap_or((s, "0"));
    let (sign, digits) = match e.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', e),
    };
    format!("{m}e{sign}{digits:0>2}")
}

/// Go's `%.<p>g`.
pub fn fmt_g(v: f64, p: usize) -> String {
    if v.is_nan() || v.is_infinite() {
        return go_float(v);
    }
    if v == 0.0 {
        return "0".into();
    }
    let e_form = format!("{:.*e}", p.saturating_sub(1), v);
    let exp: i32 = e_form.split_once('e').map_or(0, |(_, e)| e.parse().unwrap_or(0));
    if exp < -4 || exp >= p as i32 {
        let (m, _) = e_form.split_once('e').unwrap_or((&e_form, ""));
        let m = if m.contains('.') { m.trim_end_matches('0').trim_end_matches('.') } else { m };
        go_exp(&format!("{m}e{exp}"))
    } else {
        let s = format!("{:.*}", (p as i32 - 1 - exp).max(0) as usize, v);
        if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
    }
}

/// Prometheus' `humanize`: SI prefixes, four significant digits.
pub fn humanize(mut v: f64) -> String {
    if v == 0.0 || v.is_nan() || v.is_infinite() {
        return fmt_g(v, 4);
    }
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", fmt_g(v, 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_the_supported_subset() {
        let l: BTreeMap<String, String> = [("app".to_string(), "shop".to_string())].into();
        assert_eq!(expand("{{ $labels.app }} has {{ $value }} errors", &l, 42.0).unwrap(), "shop has 42 errors");
        assert_eq!(expand("{{.Labels.app}}/{{ .Labels.none }}/{{ .Value }}", &l, 0.5).unwrap(), "shop//0.5");
        assert_eq!(expand("x {{- $value | humanize -}} y", &l, 1234567.0).unwrap(), "x1.235My");
        assert_eq!(expand("no actions", &l, 1.0).unwrap(), "no actions");
        let e = expand("{{ $value | humanizeDuration }}", &l, 1.0).unwrap_err();
        assert!(e.contains("humanizeDuration"), "{e}");
        assert!(check("{{ if gt $value 1.0 }}big{{ end }}").is_err());
        assert!(check("{{ $labels.app").unwrap_err().contains("unclosed"));
    }

    #[test]
    fn numbers_as_go_and_prometheus_print_them() {
        assert_eq!(humanize(0.0), "0");
        assert_eq!(humanize(999.0), "999");
        assert_eq!(humanize(1000.0), "1k");
        assert_eq!(humanize(0.0012), "1.2m");
        assert_eq!(humanize(123456789.0), "123.5M");
        assert_eq!(fmt_g(1e-7, 4), "1e-07");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(3.25), "3.25");
        assert_eq!(go_float(f64::INFINITY), "+Inf");
    }
}
