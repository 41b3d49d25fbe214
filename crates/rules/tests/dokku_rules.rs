//! The ready-made Dokku rules over the real LogQL engine: each fires on the bad case and stays
//! quiet on the good one.

mod common;

use common::*;

const T: i64 = 1_700_000_000 * S;

fn rule(name: &str) -> String {
    let b = &rules::builtin_rules()[0];
    let f = rules::parse_file(b.yaml).unwrap();
    rules::validate_file("dokku", &f).unwrap();
    f.groups[0].rules.iter().find(|r| r.name() == name).unwrap().expr.clone()
}

fn fired(src: &logql::MemorySource, name: &str) -> Vec<(String, f64)> {
    let engine = logql::Engine::new(logql::Limits::default());
    let mut out: Vec<(String, f64)> = rules::instant_query(&engine, src, &rule(name), T, None)
        .unwrap()
        .into_iter()
        .map(|(l, v)| (l.to_string(), v))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn error_rate_jump() {
    let src = logql::MemorySource::new();
    let web = |app: &str| labels(&[("app", app), ("process_type", "web"), ("stream", "stderr")]);
    for app in ["spiky", "steady", "new", "bitacora", "calm"] {
        src.push(web(app), lines(T - 3 * 3600 * S, T, 10 * S, "GET / 200"));
    }
    // spiky: one error per 5 minutes for the hour before, then 30 in the last 5 minutes.
    src.push(web("spiky"), lines(T - 65 * M, T - 5 * M, 5 * M, "ERROR db timeout"));
    src.push(web("spiky"), lines(T - 5 * M + S, T, 10 * S, "ERROR db timeout"));
    // steady: always about 20 per 5 minutes; the last 5 minutes are as usual.
    src.push(web("steady"), lines(T - 65 * M, T, 15 * S, "Exception in handler"));
    // new: no errors before, 15 now (no baseline).
    src.push(web("new"), lines(T - 5 * M + S, T, 20 * S, "panic: nil map"));
    // bitacora's own errors and docker event lines never count.
    src.push(web("bitacora"), lines(T - 5 * M + S, T, 5 * S, "error: whatever"));
    src.push(
        labels(&[("app", "calm"), ("source", "docker"), ("process_type", "web")]),
        lines(T - 5 * M + S, T, 5 * S, "event=die error=x"),
    );
    // calm: few errors, under the minimum.
    src.push(web("calm"), lines(T - 5 * M + S, T, 60 * S, "error once"));
    assert_eq!(
        fired(&src, "DokkuAppErrorRateJump"),
        [(r#"{app="new"}"#.to_string(), 15.0), (r#"{app="spiky"}"#.to_string(), 30.0)]
    );
}

#[test]
fn crash_looping() {
    let src = logql::MemorySource::new();
    let docker = |app: &str, pt: &str| labels(&[("app", app), ("source", "docker"), ("process_type", pt)]);
    let ev =
        |t: i64, e: &str, c: &str| model::Entry::new(t, format!("event={e} container={c} exit_code=137 oom=false"));
    src.push(
        docker("shop", "web"),
        vec![
            ev(T - 9 * M, "die", "shop.web.1"),
            ev(T - 8 * M, "start", "shop.web.1"),
            ev(T - 5 * M, "die", "shop.web.1"),
            ev(T - M, "die", "shop.web.1"),
        ],
    );
    // worker died twice in 10 minutes and once long before: quiet.
    src.push(
        docker("shop", "worker"),
        vec![
            ev(T - 30 * M, "die", "shop.worker.1"),
            ev(T - 7 * M, "die", "shop.worker.1"),
            ev(T - 2 * M, "die", "shop.worker.1"),
        ],
    );
    // clock was stopped three times in 10 minutes (docker stop, deploys retiring the old
    // container): no crash loop.
    let stopped = |t: i64| model::Entry::new(t, "event=die container=clock.web.1 exit_code=143 oom=false stopped=true");
    src.push(docker("clock", "web"), vec![stopped(T - 6 * M), stopped(T - 4 * M), stopped(T - 2 * M)]);
    // an app whose log line merely mentions the word: not a Docker event stream.
    src.push(labels(&[("app", "blog"), ("process_type", "web")]), lines(T - 5 * M, T, 10 * S, "event=die container=x"));
    assert_eq!(fired(&src, "DokkuContainerCrashLooping"), [(r#"{app="shop", process_type="web"}"#.to_string(), 3.0)]);
}

#[test]
fn silent_app() {
    let src = logql::MemorySource::new();
    let web = |app: &str| labels(&[("app", app), ("process_type", "web")]);
    src.push(web("gone"), lines(T - 4 * 3600 * S, T - 40 * M, M, "tick"));
    src.push(web("alive"), lines(T - 4 * 3600 * S, T, M, "tick"));
    src.push(web("sparse"), lines(T - 4 * 3600 * S, T - 40 * M, 40 * M, "rare"));
    src.push(web("bitacora"), lines(T - 4 * 3600 * S, T - 40 * M, M, "tick"));
    // (T-90m, T-30m] holds the lines at T-89m .. T-41m.
    assert_eq!(fired(&src, "DokkuAppSilent"), [(r#"{app="gone"}"#.to_string(), 49.0)]);
}
