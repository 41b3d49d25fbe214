//! Go's `text/template` language: parsing (`{{ }}` actions, pipelines, variables, `if`/`else
//! if`/`with`/`range`/`break`/`continue`, comments, trim markers), execution with Go's values,
//! truth, printing and error messages, and two function sets: the one Loki's `line_format` and
//! `label_format` use (Sprig's subset, Go's `strings`) and Prometheus' (`humanize`,
//! `humanizeDuration`, `reReplaceAll`, ...), plus Prometheus' alert template data (`$labels`,
//! `$value`, `$externalLabels`, `$externalURL`).
//!
//! Owns: the template language and the function sets' exact output; Go's number, duration,
//! byte-size, time-layout, string-literal, host:port and regexp-error behaviour they rest on
//! (module `go`, which `logql` reuses).
//!
//! Never knows: LogQL, log entries or pipelines (Loki's entry functions `__line__` and
//! `__timestamp__` are the host's, declared through [`Options::host_funcs`]), alert rules, their
//! state or evaluation (the ruler passes labels and a value).
//!
//! Dependencies beyond the workspace's usual: `serde_json` decodes `fromJson`'s argument;
//! `jiff` (with its time zone database bundled, for machines without `/usr/share/zoneinfo`)
//! gives `toDateInZone`, `date` and `time.Time` printing their zones' offsets and abbreviations.
//!
//! Bounds: blocks and parentheses nest at most [`MAX_TEMPLATE_DEPTH`]; one execution writes at
//! most [`MAX_OUTPUT`] bytes and runs at most [`MAX_STEPS`] nodes and commands.

mod alert;
mod exec;
mod fmt;
mod funcs;
pub mod go;
mod lex;
mod parse;
mod tree;
mod value;

pub use alert::{check_alert_template, expand_alert_template};
pub use exec::{MAX_OUTPUT, MAX_STEPS};
pub use funcs::FuncSet;
pub use parse::MAX_TEMPLATE_DEPTH;
pub use value::{Map, MapKind, Value};

/// What a template is parsed with.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// The template's name in error messages (`template: NAME:1: ...`).
    pub name: &'a str,
    pub funcs: FuncSet,
    /// Functions the host defines (name, exact argument count), called through [`Host::call`].
    pub host_funcs: &'a [(&'a str, usize)],
    /// Variables declared before the text (without `$`), given values at execution.
    pub vars: &'a [&'a str],
}

/// The data and functions a template's host provides.
pub trait Host {
    /// `.name` of [`Value::Root`]: by default a missing entry (`""`).
    fn root_field(&self, _name: &str) -> Value {
        Value::Str(String::new())
    }
    /// [`Value::Root`] as a map (printing it, `len`, `range`).
    fn root_map(&self) -> Map {
        Map { kind: MapKind::Strings, entries: Vec::new() }
    }
    /// A function declared in [`Options::host_funcs`] (argument count already checked).
    fn call(&self, name: &str, _args: &[Value]) -> Result<Value, String> {
        Err(format!("function {name:?} not defined"))
    }
}

/// A host with no data or functions of its own.
pub struct NoHost;
impl Host for NoHost {}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Vec<tree::Node>,
    name: String,
    src: String,
    /// Field names referenced with `.name` (sorted).
    pub fields: Vec<String>,
    /// Functions the template calls (sorted).
    funcs_used: Vec<String>,
    funcs: FuncSet,
    host_funcs: Vec<(String, usize)>,
}

impl Template {
    /// Whether the template calls function `name`.
    pub fn uses_func(&self, name: &str) -> bool {
        self.funcs_used.binary_search_by(|f| f.as_str().cmp(name)).is_ok()
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    fn host_arity(&self, f: &str) -> Option<usize> {
        self.host_funcs.iter().find(|(n, _)| n == f).map(|(_, a)| *a)
    }
}
