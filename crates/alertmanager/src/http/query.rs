//! Query strings with repeated keys (`filter=a="b"&filter=c=~"d"`), which axum's `Query`
//! cannot read into a list.

/// Decodes `application/x-www-form-urlencoded` pairs.
pub fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(x) => {
                        out.push(x);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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
