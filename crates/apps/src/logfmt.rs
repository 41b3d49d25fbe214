//! Reading the agent's event lines (`event=die container=shop.web.1 exit_code=137 ...`): logfmt
//! pairs, bare or double-quoted with `\"`, `\\` and `\n` escapes.

use std::collections::HashMap;

/// The pairs of one line; a later key wins; a key without `=` has an empty value.
pub fn pairs(line: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut it = line.chars().peekable();
    loop {
        while it.next_if(|c| c.is_whitespace()).is_some() {}
        if it.peek().is_none() {
            return out;
        }
        let mut key = String::new();
        while let Some(c) = it.next_if(|c| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        let mut value = String::new();
        if it.next_if_eq(&'=').is_some() {
            if it.next_if_eq(&'"').is_some() {
                while let Some(c) = it.next() {
                    match c {
                        '"' => break,
                        '\\' => match it.next() {
                            Some('n') => value.push('\n'),
                            Some('t') => value.push('\t'),
                            Some(c) => value.push(c),
                            None => break,
                        },
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(c) = it.next_if(|c| !c.is_whitespace()) {
                    value.push(c);
                }
            }
        }
        if !key.is_empty() {
            out.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_and_quoted_values() {
        let p = pairs(r#"event=rename container="a b" id=3f2a9c1b7d4e old_name=old msg="say \"hi\"\\n" flag"#);
        assert_eq!(p["event"], "rename");
        assert_eq!(p["container"], "a b");
        assert_eq!(p["old_name"], "old");
        assert_eq!(p["msg"], "say \"hi\"\\n");
        assert_eq!(p["flag"], "");
        assert_eq!(pairs("  ").len(), 0);
        assert_eq!(pairs("took=8.2s exit_code=")["exit_code"], "");
    }
}
