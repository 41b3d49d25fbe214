//! Go's `Regexp.Expand`: `$1`, `${name}` and `$$` in a replacement (`label_replace`).

/// Go's `Regexp.ReplaceAllString` template expansion (`$1`, `${name}`).
pub fn expand_go(template: &str, caps: &regex::Captures) -> String {
    let mut out = String::new();
    let b = template.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            let c = template[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        if i + 1 < b.len() && b[i + 1] == b'$' {
            out.push('$');
            i += 2;
            continue;
        }
        let (name, next) = if i + 1 < b.len() && b[i + 1] == b'{' {
            match template[i + 2..].find('}') {
                Some(e) => (&template[i + 2..i + 2 + e], i + 3 + e),
                None => {
                    out.push('$');
                    i += 1;
                    continue;
                }
            }
        } else {
            let mut j = i + 1;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            (&template[i + 1..j], j)
        };
        if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
            out.push('$');
            i += 1;
            continue;
        }
        let m = if let Ok(n) = name.parse::<usize>() { caps.get(n) } else { caps.name(name) };
        if let Some(m) = m {
            out.push_str(m.as_str());
        }
        i = next;
    }
    out
}
