//! Rough throughput check (ignored by default): `cargo test --release --test perf -- --ignored --nocapture`.

use std::time::Instant;

use logql::{Engine, MemorySource, QueryParams};
use model::{Direction, Entry, Labels};

const S: i64 = 1_000_000_000;

#[test]
#[ignore]
fn throughput() {
    let m = MemorySource::new();
    let n = 200_000;
    for app in ["a", "b", "c", "d", "e"] {
        let l = Labels::from_pairs([("app", app), ("env", "prod")]).unwrap();
        let entries = (0..n)
            .map(|i| {
                Entry::new(
                    i as i64 * S / 100,
                    format!(
                        "ts=2024-01-01 level={} caller=x.go:{} msg=\"request done\" status={} took={}ms",
                        if i % 7 == 0 { "error" } else { "info" },
                        i % 100,
                        200 + i % 5,
                        i % 300
                    ),
                )
            })
            .collect();
        m.push(l, entries);
    }
    let e = Engine::default();
    let end = n as i64 * S / 100;
    for (query, instant) in [
        (r#"sum by (app) (count_over_time({env="prod"}[1m]))"#, false),
        (r#"sum by (app) (count_over_time({env="prod"} |= "level=error" [1m]))"#, false),
        (r#"sum by (level) (count_over_time({env="prod"} | logfmt [1m]))"#, false),
        (r#"quantile_over_time(0.9, {env="prod"} | logfmt | unwrap duration(took) [1m]) by (app)"#, false),
        (r#"{env="prod"} |= "status=201""#, false),
        (r#"{env="prod"} | logfmt | status=201"#, false),
        (r#"{env="prod"} |~ "took=2[0-9]ms""#, false),
    ] {
        let p = QueryParams {
            query: query.into(),
            start: 0,
            end,
            step: 60 * S,
            limit: 5000,
            direction: Direction::Backward,
            instant,
            ..QueryParams::default()
        };
        let t = Instant::now();
        let out = e.query(&m, &p).unwrap();
        let dt = t.elapsed();
        println!(
            "{:>8.1} ms  {:>6.2} Mlines/s  {query}",
            dt.as_secs_f64() * 1e3,
            out.stats.total_lines_processed as f64 / dt.as_secs_f64() / 1e6
        );
    }
}
