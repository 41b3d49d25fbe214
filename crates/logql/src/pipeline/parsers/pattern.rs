//! Loki's pattern expressions (`| pattern "<ip> - <_>"` and the `|>` line filter).

use memchr::memmem;

use crate::pipeline::labels::LabelsBuilder;

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Lit(String),
    Cap(String),
}

#[derive(Debug, Clone)]
pub struct Pattern {
    nodes: Vec<Node>,
    names: Vec<String>,
    /// A searcher per node (`Some` for literals), built once instead of per line.
    finders: Vec<Option<memmem::Finder<'static>>>,
}

fn finders(nodes: &[Node]) -> Vec<Option<memmem::Finder<'static>>> {
    nodes
        .iter()
        .map(|n| match n {
            Node::Lit(l) => Some(memmem::Finder::new(l.as_bytes()).into_owned()),
            Node::Cap(_) => None,
        })
        .collect()
}

fn is_unnamed(n: &str) -> bool {
    n == "_"
}

fn parse_nodes(s: &str) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    let mut lit = String::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'<' {
            // capture: < [A-Za-z_][A-Za-z0-9_]* >
            let mut j = i + 1;
            if j < b.len() && (b[j].is_ascii_alphabetic() || b[j] == b'_') {
                j += 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                if j < b.len() && b[j] == b'>' {
                    if !lit.is_empty() {
                        nodes.push(Node::Lit(std::mem::take(&mut lit)));
                    }
                    nodes.push(Node::Cap(s[i + 1..j].to_string()));
                    i = j + 1;
                    continue;
                }
            }
        }
        let c = s[i..].chars().next().unwrap();
        lit.push(c);
        i += c.len_utf8();
    }
    if !lit.is_empty() {
        nodes.push(Node::Lit(lit));
    }
    nodes
}

fn check_consecutive(nodes: &[Node]) -> Result<(), String> {
    for w in nodes.windows(2) {
        if let (Node::Cap(a), Node::Cap(b)) = (&w[0], &w[1]) {
            return Err(format!("found consecutive capture '<{a}><{b}>': invalid expression"));
        }
    }
    Ok(())
}

impl Pattern {
    /// A pattern for the `| pattern` parser: at least one named capture, unique names.
    pub fn parse(s: &str) -> Result<Pattern, String> {
        if s.is_empty() {
            return Err("syntax error: unexpected $end, expecting IDENTIFIER or LITERAL".into());
        }
        let nodes = parse_nodes(s);
        let names: Vec<String> = nodes
            .iter()
            .filter_map(|n| match n {
                Node::Cap(c) if !is_unnamed(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
        if names.is_empty() {
            return Err("at least one capture is required".into());
        }
        check_consecutive(&nodes)?;
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(format!("duplicate capture name ({n}): invalid expression"));
            }
        }
        let finders = finders(&nodes);
        Ok(Pattern { nodes, names, finders })
    }

    /// A pattern for the `|>` / `!>` line filters: only `<_>` captures.
    pub fn parse_line_filter(s: &str) -> Result<Pattern, String> {
        let nodes = parse_nodes(s);
        check_consecutive(&nodes)?;
        for n in &nodes {
            if let Node::Cap(c) = n
                && !is_unnamed(c)
            {
                return Err(format!("named captures are not allowed: found '<{c}>'"));
            }
        }
        let finders = finders(&nodes);
        Ok(Pattern { nodes, names: vec![], finders })
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Captured values in name order; fewer when the line is short; `None` when no match.
    pub fn matches<'a>(&self, line: &'a str) -> Option<Vec<&'a str>> {
        let mut caps = Vec::new();
        self.each_capture(line, |_, v| caps.push(v)).then_some(caps)
    }

    /// Calls `f(name index, value)` for each named capture of a match, in order (fewer when
    /// the line is short); false when the line does not match.
    fn each_capture<'a>(&self, line: &'a str, mut f: impl FnMut(usize, &'a str)) -> bool {
        if line.is_empty() || self.nodes.is_empty() {
            return false;
        }
        let mut input = line;
        let mut i = 0;
        let mut named = 0;
        let mut cap = |c: &str, v: &'a str| {
            if !is_unnamed(c) {
                f(named, v);
                named += 1;
            }
        };
        if let Node::Lit(l) = &self.nodes[0] {
            if !input.starts_with(l.as_str()) {
                return false;
            }
            input = &input[l.len()..];
            i = 1;
        }
        if i == self.nodes.len() {
            return false;
        }
        while i < self.nodes.len() {
            let Node::Cap(c) = &self.nodes[i] else { return true };
            if i + 1 == self.nodes.len() {
                cap(c, input);
                return true;
            }
            let (Node::Lit(l), Some(finder)) = (&self.nodes[i + 1], &self.finders[i + 1]) else { return true };
            i += 2;
            match finder.find(input.as_bytes()) {
                None => {
                    cap(c, input);
                    return true;
                }
                Some(j) => {
                    cap(c, &input[..j]);
                    input = &input[j + l.len()..];
                }
            }
        }
        true
    }

    /// The `|>` line filter test.
    pub fn test(&self, line: &str) -> bool {
        if line.is_empty() || self.nodes.is_empty() {
            return line.is_empty() && self.nodes.is_empty();
        }
        let b = line.as_bytes();
        let mut off = 0;
        for (i, (n, finder)) in self.nodes.iter().zip(&self.finders).enumerate() {
            let (Node::Lit(l), Some(finder)) = (n, finder) else { continue };
            match finder.find(&b[off..]) {
                None => return false,
                Some(j) => {
                    if i != 0 && j == 0 {
                        return false;
                    }
                    off += j + l.len();
                }
            }
        }
        let req_rem = matches!(self.nodes.last(), Some(Node::Cap(_)));
        let has_rem = off != b.len();
        req_rem == has_rem
    }
}

impl Pattern {
    /// Sets the named captures of a match as parsed labels (the first extraction of a name wins).
    pub(crate) fn process(&self, line: &str, lbs: &mut LabelsBuilder) {
        // With parser hints naming none of the captures, matching cannot change anything.
        if !self.names.iter().any(|n| lbs.may_extract_raw(n.as_bytes())) {
            return;
        }
        let names = &self.names;
        self.each_capture(line, |i, v| {
            let k = lbs.parsed_key_cow(&names[i]);
            if lbs.extracted(&k) || !lbs.should_extract(&k) {
                return;
            }
            lbs.set_parsed(&k, v);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_matching() {
        let p = Pattern::parse("<method> <path> <status>").unwrap();
        assert_eq!(p.matches("GET /home 200"), Some(vec!["GET", "/home", "200"]));
        let p = Pattern::parse("<method> <path>").unwrap();
        assert_eq!(p.matches("POST"), Some(vec!["POST"]));
        assert!(Pattern::parse("no captures").is_err());
        assert!(Pattern::parse("<a><b>").is_err());
        let f = Pattern::parse_line_filter("<_> bar").unwrap();
        assert!(f.test("foo bar"));
        assert!(!f.test("foo bar baz"));
        assert!(Pattern::parse_line_filter("<x> y").is_err());
    }
}
