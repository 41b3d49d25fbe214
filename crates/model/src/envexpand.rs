//! Environment expansion in provisioning files, as Grafana does it: `$NAME` and `${NAME}` are
//! replaced by the variable's value (empty when unset), `$__env{NAME}` likewise, `$__file{path}`
//! by the file's content (trailing whitespace trimmed), and `$$` stands for a literal `$`.

/// Expands `text` with `lookup` for variables and `read` for `$__file{...}`.
pub fn expand_with(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
    read: impl Fn(&str) -> Option<String>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(r) = after.strip_prefix("__env{").or_else(|| after.strip_prefix('{'))
            && let Some(end) = r.find('}')
        {
            out.push_str(&lookup(&r[..end]).unwrap_or_default());
            rest = &r[end + 1..];
        } else if let Some(r) = after.strip_prefix("__file{")
            && let Some(end) = r.find('}')
        {
            out.push_str(read(&r[..end]).unwrap_or_default().trim_end());
            rest = &r[end + 1..];
        } else {
            let n = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            if n == 0 {
                out.push('$');
            } else {
                out.push_str(&lookup(&after[..n]).unwrap_or_default());
            }
            rest = &after[n..];
        }
    }
    out.push_str(rest);
    out
}

/// Expands `text` with the process environment and the file system.
pub fn expand(text: &str) -> String {
    expand_with(text, |k| std::env::var(k).ok(), |p| std::fs::read_to_string(p).ok())
}

#[cfg(test)]
mod tests {
    use super::expand_with;

    fn x(s: &str) -> String {
        expand_with(
            s,
            |k| match k {
                "HOST" => Some("prom:9090".into()),
                "PW" => Some("s3cret".into()),
                _ => None,
            },
            |p| (p == "/run/pw").then(|| "from-file\n".into()),
        )
    }

    #[test]
    fn forms() {
        assert_eq!(x("http://$HOST/x"), "http://prom:9090/x");
        assert_eq!(x("http://${HOST}/x"), "http://prom:9090/x");
        assert_eq!(x("$__env{PW}"), "s3cret");
        assert_eq!(x("a $__file{/run/pw} b"), "a from-file b");
        assert_eq!(x("cost $$5 $UNSET."), "cost $5 .");
        assert_eq!(x("end $"), "end $");
        assert_eq!(x("${unclosed"), "${unclosed");
    }
}
