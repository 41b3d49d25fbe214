//! Containers without a Docker engine (a server whose agents run on other hosts): their state
//! replayed from the container events the agents recorded in the last 24 h (`{source="docker"}`
//! streams, logfmt lines `event=die container=shop.web.1 id=3f2a9c1b7d4e exit_code=137 ...`).
//!
//! The latest event of each id decides its state: create → created, start and unpause →
//! running, die → exited with its exit code (and `oom=true` → OOM-killed), stop → exited,
//! pause → paused, destroy → gone; every die followed by a start is a restart.

use std::collections::HashMap;
use std::time::Instant;

use model::Labels;

use crate::activity::Querier;
use crate::model::{Container, rfc3339_ns};

/// How far back events are replayed.
pub const LOOKBACK_NS: i64 = 24 * 3600 * 1_000_000_000;

/// At most this many events are read (the newest).
const EVENT_LINES: u32 = 5000;

/// The containers the events of the last 24 h tell of, destroyed ones left out.
pub fn containers(q: &dyn Querier, tenant: &str, now_ns: i64, deadline: Instant) -> Result<Vec<Container>, String> {
    let lines = q.logs(tenant, r#"{source="docker"}"#, now_ns - LOOKBACK_NS, now_ns + 1, EVENT_LINES, deadline)?;
    Ok(replay(lines))
}

struct Replayed {
    c: Container,
    /// Its last exit was its own (not a stop asked of the engine): the next start is a restart.
    died: bool,
    gone: bool,
    /// The newest event's time, for ordering.
    last: i64,
}

/// The state of every container from its events, in any order.
pub fn replay(mut lines: Vec<(Labels, i64, String)>) -> Vec<Container> {
    lines.sort_by_key(|(_, ts, _)| *ts);
    let mut by_id: HashMap<String, Replayed> = HashMap::new();
    for (labels, ts, line) in lines {
        let p = crate::logfmt::pairs(&line);
        let get = |k: &str| p.get(k).map(String::as_str).filter(|v| !v.is_empty());
        let (Some(event), Some(id)) = (get("event"), get("id")) else { continue };
        // A deploy names the new container, whose own events tell its state.
        if event == "deploy" {
            continue;
        }
        let r = by_id.entry(id.to_string()).or_insert_with(|| {
            let name = get("container").or(labels.get("container_name")).unwrap_or(id).to_string();
            let app = labels.get("app").filter(|a| !a.is_empty()).map(str::to_string);
            let dyno = app.as_ref().and_then(|a| name.strip_prefix(&format!("{a}."))).map(str::to_string);
            Replayed {
                c: Container {
                    id: id.to_string(),
                    docker_name: name.clone(),
                    name,
                    process_type: app.as_ref().and_then(|_| labels.get("process_type")).map(str::to_string),
                    app,
                    dyno,
                    state: "unknown".into(),
                    ..Default::default()
                },
                died: false,
                gone: false,
                last: ts,
            }
        });
        r.last = ts;
        let c = &mut r.c;
        if let Some(image) = get("image") {
            c.image = image.to_string();
        }
        match event {
            "create" => {
                c.state = "created".into();
                c.created_at = Some(rfc3339_ns(ts));
            }
            "start" => {
                if r.died {
                    c.restart_count += 1;
                }
                r.died = false;
                c.state = "running".into();
                c.started_at = Some(rfc3339_ns(ts));
                c.exit_code = None;
                c.oom_killed = false;
            }
            "unpause" => c.state = "running".into(),
            "pause" => c.state = "paused".into(),
            "die" => {
                // Stopped on request (docker stop, a deploy), it is not restarted by the engine.
                r.died = get("stopped") != Some("true");
                c.state = "exited".into();
                c.exit_code = get("exit_code").and_then(|v| v.parse().ok());
                c.oom_killed |= get("oom") == Some("true");
                c.finished_at = Some(rfc3339_ns(ts));
            }
            "oom" => c.oom_killed = true,
            "stop" if c.state == "running" => c.state = "exited".into(),
            "health_status" => {
                c.health =
                    get("health").filter(|h| matches!(*h, "healthy" | "unhealthy" | "starting")).map(str::to_string)
            }
            "destroy" => r.gone = true,
            _ => {}
        }
    }
    let mut out: Vec<Replayed> = by_id.into_values().filter(|r| !r.gone).collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.last));
    out.into_iter().map(|r| r.c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> Labels {
        Labels::from_pairs([("app", "shop"), ("process_type", "web"), ("host", "h"), ("source", "docker")]).unwrap()
    }

    #[test]
    fn a_crash_loop_an_oom_kill_and_a_removed_container() {
        let l = shop();
        let db = Labels::from_pairs([("container_name", "db"), ("host", "h"), ("source", "docker")]).unwrap();
        let ev = |ts: i64, line: &str| (l.clone(), ts * 1_000_000_000, line.to_string());
        let mut lines = vec![
            ev(1, "event=create container=shop.web.1 id=aaaaaaaaaaaa image=dokku/shop:latest"),
            ev(2, "event=start container=shop.web.1 id=aaaaaaaaaaaa image=dokku/shop:latest"),
            ev(3, "event=die container=shop.web.1 id=aaaaaaaaaaaa exit_code=1 oom=false image=dokku/shop:latest"),
            ev(4, "event=start container=shop.web.1 id=aaaaaaaaaaaa image=dokku/shop:latest"),
            ev(5, "event=die container=shop.web.1 id=aaaaaaaaaaaa exit_code=1 oom=false image=dokku/shop:latest"),
            ev(6, "event=start container=shop.web.1 id=aaaaaaaaaaaa image=dokku/shop:latest"),
            ev(7, "event=oom container=shop.web.1 id=aaaaaaaaaaaa image=dokku/shop:latest"),
            ev(7, "event=die container=shop.web.1 id=aaaaaaaaaaaa exit_code=137 oom=true image=dokku/shop:latest"),
            ev(8, "event=start container=shop.worker.1 id=bbbbbbbbbbbb image=dokku/shop:latest"),
            ev(9, "event=health_status container=shop.worker.1 id=bbbbbbbbbbbb health=unhealthy"),
            ev(9, "event=deploy container=shop.web.1 id=cccccccccccc old_id=aaaaaaaaaaaa image=dokku/shop:latest"),
            (db.clone(), 3_000_000_000, "event=start container=db id=dddddddddddd image=postgres".into()),
            (db.clone(), 4_000_000_000, "event=destroy container=db id=dddddddddddd image=postgres".into()),
        ];
        // The engine answers newest first: the order of the input does not matter.
        lines.reverse();
        let out = replay(lines);
        assert_eq!(out.len(), 2, "{out:?}");
        let (worker, web) = (&out[0], &out[1]);
        assert_eq!(
            (web.name.as_str(), web.dyno.as_deref(), web.process_type.as_deref()),
            ("shop.web.1", Some("web.1"), Some("web"))
        );
        assert_eq!(
            (web.state.as_str(), web.restart_count, web.exit_code, web.oom_killed),
            ("exited", 2, Some(137), true)
        );
        assert_eq!(web.created_at.as_deref(), Some("1970-01-01T00:00:01Z"));
        assert_eq!(web.started_at.as_deref(), Some("1970-01-01T00:00:06Z"));
        assert_eq!(web.finished_at.as_deref(), Some("1970-01-01T00:00:07Z"));
        assert_eq!((web.image.as_str(), web.cpu_percent), ("dokku/shop:latest", None));
        assert_eq!(
            (worker.state.as_str(), worker.health.as_deref(), worker.dyno.as_deref()),
            ("running", Some("unhealthy"), Some("worker.1"))
        );
    }

    #[test]
    fn a_stop_and_start_is_no_restart() {
        let l = shop();
        let ev = |ts: i64, line: &str| (l.clone(), ts * 1_000_000_000, line.to_string());
        let out = replay(vec![
            ev(1, "event=start container=shop.web.1 id=aaaaaaaaaaaa"),
            ev(2, "event=kill container=shop.web.1 id=aaaaaaaaaaaa signal=15"),
            ev(3, "event=die container=shop.web.1 id=aaaaaaaaaaaa exit_code=143 oom=false stopped=true"),
            ev(4, "event=start container=shop.web.1 id=aaaaaaaaaaaa"),
        ]);
        assert_eq!((out[0].state.as_str(), out[0].restart_count), ("running", 0));
    }
}
