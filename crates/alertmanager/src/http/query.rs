//! Query strings with repeated keys (`filter=a="b"&filter=c=~"d"`), which axum's `Query`
//! cannot read into a list.

/// Decodes `application/x-www-form-urlencoded` pairs (`form_urlencoded`).
pub fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes()).into_owned().collect()
}

/// A boolean parameter (`true`/`false`), `default` when absent; an error names it.
pub fn boolean(pairs: &[(String, String)], name: &str, default: bool) -> Result<bool, String> {
    match pairs.iter().rev().find(|(k, _)| k == name) {
        None => Ok(default),
        Some((_, v)) => match v.as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(format!("parameter {name}: {v:?} is not true or false")),
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn repeated_and_encoded() {
        let p = super::pairs(Some("filter=alertname%3D%22X%22&filter=a%3D~b+c&active=false&x"));
        assert_eq!(p[0], ("filter".into(), "alertname=\"X\"".into()));
        assert_eq!(p[1].1, "a=~b c");
        assert_eq!(super::boolean(&p, "active", true), Ok(false));
        assert!(super::boolean(&[("active".into(), "maybe".into())], "active", true).is_err());
        assert_eq!(super::pairs(Some("a=%4")).first().unwrap().1, "%4");
    }
}
