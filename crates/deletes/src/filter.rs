//! A delete request's query compiled: the stream matchers and the pipeline a line must pass
//! to be deleted.

use logql::{Expr, Pipeline};
use model::{Entry, Labels, Matcher};

/// A parsed delete query (`{app="api"} |= "secret"`).
#[derive(Debug, Clone)]
pub struct Compiled {
    matchers: Vec<Matcher>,
    /// `None` without pipeline stages: every line of a matching stream in range is deleted.
    pipeline: Option<Pipeline>,
}

impl Compiled {
    /// Parses a delete query as Loki does: a log selector with an optional pipeline, with
    /// Loki's error text (`invalid query expression: ...`).
    pub fn parse(query: &str) -> Result<Compiled, String> {
        let invalid = |e: String| format!("invalid query expression: {e}");
        let expr = logql::parse(query).map_err(|e| invalid(e.to_string()))?;
        if !matches!(expr, Expr::Log(_)) {
            return Err(invalid("only log selector is supported".into()));
        }
        let has_stages = matches!(&expr, Expr::Log(l) if !l.stages.is_empty());
        let (matchers, pipeline) = logql::log_pipeline(&expr).map_err(|e| invalid(e.to_string()))?;
        Ok(Compiled { matchers, pipeline: has_stages.then_some(pipeline) })
    }

    /// Whether the query filters lines (Loki shards only such requests by `max_interval`).
    pub fn has_filter(&self) -> bool {
        self.pipeline.is_some()
    }

    /// Whether a stream's labels satisfy every matcher (a missing label is the empty value).
    pub fn matches(&self, labels: &Labels) -> bool {
        self.matchers.iter().all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
    }

    /// A line test for one stream: true when the pipeline keeps the entry (it is deleted).
    pub fn line_test(&self) -> LineTest {
        LineTest { pipeline: self.pipeline.clone() }
    }
}

/// One request's pipeline, owned by one reader.
pub struct LineTest {
    pipeline: Option<Pipeline>,
}

impl LineTest {
    pub fn deletes(&mut self, labels: &Labels, e: &Entry) -> bool {
        match &mut self.pipeline {
            None => true,
            Some(p) => p.run(labels, e).is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(s: &str) -> Labels {
        model::parse_prom_labels(s).unwrap()
    }

    #[test]
    fn compiles_selectors_and_filters() {
        let c = Compiled::parse(r#"{app="api", env=~"prod|dev"} |= "secret""#).unwrap();
        assert!(c.has_filter());
        assert!(c.matches(&labels(r#"{app="api", env="prod"}"#)));
        assert!(!c.matches(&labels(r#"{app="api"}"#)));
        let l = labels(r#"{app="api", env="dev"}"#);
        let mut t = c.line_test();
        assert!(t.deletes(&l, &Entry::new(1, "a secret here")));
        assert!(!t.deletes(&l, &Entry::new(1, "nothing to hide")));
        let whole = Compiled::parse(r#"{app="api"}"#).unwrap();
        assert!(!whole.has_filter());
        assert!(whole.line_test().deletes(&l, &Entry::new(1, "anything")));
    }

    #[test]
    fn refuses_what_loki_refuses() {
        let e = Compiled::parse(r#"count_over_time({app="api"}[5m])"#).unwrap_err();
        assert_eq!(e, "invalid query expression: only log selector is supported");
        let e = Compiled::parse(r#"{app="api""#).unwrap_err();
        assert!(e.starts_with("invalid query expression: parse error at line 1"), "{e}");
        assert!(Compiled::parse(r#"{app="api"} |~ "(""#).is_err());
    }
}
