//! `line_format`/`label_format` templates: Go's `text/template` (crate `gotemplate`) with the
//! function set Loki registers, the entry's labels as the dot, and Loki's entry functions
//! `__line__` and `__timestamp__`.

use std::collections::HashMap;

use gotemplate::{FuncSet, Host, Map, Options, Value};

const HOST_FUNCS: &[(&str, usize)] = &[("__line__", 0), ("__timestamp__", 0)];

/// A parsed `line_format`/`label_format` template.
#[derive(Debug, Clone)]
pub struct Template {
    inner: gotemplate::Template,
    /// Label names referenced with `.name`.
    pub fields: Vec<String>,
    pub uses_line: bool,
}

/// One entry: its labels (the dot), line and timestamp (ns).
pub struct Ctx<'a> {
    pub labels: &'a HashMap<String, String>,
    pub line: &'a str,
    pub ts: i64,
}

impl Host for Ctx<'_> {
    fn root_field(&self, name: &str) -> Value {
        Value::Str(self.labels.get(name).cloned().unwrap_or_default())
    }
    fn root_map(&self) -> Map {
        Map::strings(self.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }
    fn call(&self, name: &str, _args: &[Value]) -> Result<Value, String> {
        Ok(match name {
            "__line__" => Value::Str(self.line.to_string()),
            // time.Unix(0, ts): in the process' zone
            _ => Value::Time(self.ts, gotemplate::go::Tz::Local),
        })
    }
}

impl Template {
    /// Parses a template named `name` (Loki uses "line" for `line_format` and "label" for
    /// `label_format`); errors read like Go's (`template: line:1: ...`).
    pub fn parse_named(src: &str, name: &str) -> Result<Template, String> {
        let inner = gotemplate::Template::parse_with(
            src,
            &Options { name, funcs: FuncSet::Sprig, host_funcs: HOST_FUNCS, vars: &[] },
        )?;
        let fields = inner.fields.clone();
        let uses_line = inner.uses_func("__line__");
        Ok(Template { inner, fields, uses_line })
    }

    pub fn parse(src: &str) -> Result<Template, String> {
        Template::parse_named(src, "line")
    }

    pub fn execute(&self, ctx: &Ctx) -> Result<String, String> {
        self.inner.execute_with(&Value::Root, ctx, &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(t: &str, labels: &[(&str, &str)]) -> Result<String, String> {
        let m: HashMap<String, String> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Template::parse(t)?.execute(&Ctx { labels: &m, line: "the line", ts: 1_700_000_000_000_000_000 })
    }

    #[test]
    fn templates() {
        assert_eq!(run("L={{.level}}", &[("level", "error")]).unwrap(), "L=error");
        assert_eq!(run("{{.level | upper}}", &[("level", "error")]).unwrap(), "ERROR");
        assert_eq!(run("{{ printf \"\\x1b[31m%s\\x1b[0m\" .msg }}", &[("msg", "hello")]).unwrap().len(), 14);
        assert_eq!(run("{{ if eq .s \"500\" }}ERR{{ else }}ok{{ end }}", &[("s", "500")]).unwrap(), "ERR");
        assert_eq!(run("{{ if eq .s \"500\" }}ERR{{ else }}ok{{ end }}", &[("s", "200")]).unwrap(), "ok");
        assert_eq!(run("{{ div .d 1000 }}", &[("d", "5000")]).unwrap(), "5");
        assert_eq!(run("{{ __line__ }}", &[]).unwrap(), "the line");
        assert_eq!(run("{{ __timestamp__ | date \"2006-01-02\" }}", &[]).unwrap(), "2023-11-14");
        assert_eq!(run("{{ __timestamp__ | unixEpoch }}", &[]).unwrap(), "1700000000");
        assert_eq!(
            run("{{ .path | replace \" \" \"_\" | trunc 5 | upper }}", &[("path", "a b c d e f")]).unwrap(),
            "A_B_C"
        );
        assert_eq!(run("{{ regexReplaceAll \"(a)(b)\" .x \"${2}$1\" }}", &[("x", "xaby")]).unwrap(), "xbay");
        assert_eq!(run("{{.missing}}", &[]).unwrap(), "");
        assert_eq!(run("{{ index . \"a-b\" }}", &[("a-b", "v")]).unwrap(), "v");
        assert_eq!(run("{{ . }}", &[("b", "2"), ("a", "1")]).unwrap(), "map[a:1 b:2]");
        assert_eq!(
            run("x\n  {{ div .a 0 }}", &[("a", "1")]).unwrap_err(),
            "template: line:2:5: executing \"line\" at <div>: error calling div: runtime error: integer divide by zero"
        );
        assert_eq!(
            run("{{ regexReplaceAll \"(\" .a \"\" }}", &[]).unwrap_err(),
            "template: line:1:3: executing \"line\" at <regexReplaceAll>: error calling regexReplaceAll: error parsing regexp: missing closing ): `(`"
        );
        assert_eq!(run("{{ default \"d\" .x }}", &[]).unwrap(), "d");
        assert!(Template::parse("{{ nosuchfunc }}").unwrap_err().contains("not defined"));
        assert!(Template::parse("{{").unwrap_err().contains("unclosed action"));
        assert_eq!(run("a {{- \" b \" -}} c", &[]).unwrap(), "a b c");
        assert!(Template::parse("{{ __line__ }}").unwrap().uses_line);
        assert!(!Template::parse("{{ .a }}").unwrap().uses_line);
        assert_eq!(Template::parse("{{ .b }}{{ .a.c }}").unwrap().fields, ["a", "b"]);
        assert_eq!(
            run("{{ __line__ 1 }}", &[]).unwrap_err(),
            "template: line:1:3: executing \"line\" at <__line__>: wrong number of args for __line__: want 0 got 1"
        );
    }
}
