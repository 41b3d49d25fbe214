//! Drain against Loki's own expectations: the sample files and the patterns Loki's
//! `TestDrain_TrainExtractsPatterns` expects of them (testdata copied from Loki's
//! `pkg/pattern/drain/testdata`, AGPL-3.0 like this project), with the punctuation tokenizer
//! that test uses.

use drilldown::patterns::drain::{Drain, DrainConfig};
use drilldown::patterns::tokenize::{Format, detect_format, join, tokenize};

fn train(file: &str) -> (Format, Vec<String>) {
    let text = std::fs::read_to_string(format!("{}/tests/testdata/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut d = Drain::new(DrainConfig::default());
    let mut first = None;
    for line in text.lines() {
        first.get_or_insert_with(|| detect_format(line));
        if let Ok(t) = tokenize(Format::Unknown, line) {
            d.train(&t, true);
        }
    }
    let mut out: Vec<String> = d.clusters().iter().map(|c| join(Format::Unknown, &c.tokens, &c.spaces)).collect();
    out.sort();
    (first.unwrap(), out)
}

#[test]
fn ingester_logfmt() {
    let (format, patterns) = train("ingester-logfmt.txt");
    assert_eq!(format, Format::Logfmt);
    assert_eq!(
        patterns,
        [
            r#"ts=2024-04-17T09:52:46.363974185Z caller=http.go:194 level=debug traceID=1b48f5156a61ca69 msg="GET /debug/pprof/delta_mutex (200) 1.161082ms""#,
            r#"ts=<_> caller=head.go:216 level=debug tenant=987678 msg="profile is empty after delta computation" metricName=memory"#,
            r#"ts=<_> caller=http.go:194 level=debug traceID=<_> orgID=<_> msg="POST /ingester.v1.IngesterService/Push (200) <_>""#,
        ]
    );
}

#[test]
fn drone_json() {
    let (format, patterns) = train("drone-json.txt");
    assert_eq!(format, Format::Json);
    assert_eq!(
        patterns,
        [
            r#"{"id":"<_>","level":"debug","max-pool":4,"min-pool":0,"msg":"check capacity","pending-builds":0,"running-builds":0,"server-buffer":0,"server-capacity":0,"server-count":0,"time":"<_>"}"#,
            r#"{"id":"<_>","level":"debug","msg":"calculate server capacity","time":"<_>"}"#,
            r#"{"id":"<_>","level":"debug","msg":"calculate unfinished jobs","time":"<_>"}"#,
            r#"{"id":"<_>","level":"debug","msg":"check capacity complete","time":"<_>"}"#,
            r#"{"id":"<_>","level":"debug","msg":"no capacity changes required","time":"<_>"}"#,
        ]
    );
}
