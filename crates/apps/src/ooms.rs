//! OOM kills the engine missed. Docker marks a container `OOMKilled` only when containerd's OOM
//! event reaches it before the exit; on a busy host it sometimes arrives after, and the engine
//! then shows exit code 137 with no OOM kill (measured here: 1 run in 40 under load), while its
//! event stream still says `oom`. The agent records that event as a line
//! `event=oom container=<name> id=<12 hex> ...`, so a container the engine shows exited with
//! 137 and no OOM kill is marked killed when such an event was recorded since its last start.

use std::collections::HashMap;
use std::time::Instant;

use crate::activity::Querier;
use crate::model::Container;

/// At most this many OOM events are read (the newest).
const OOM_LINES: u32 = 1000;

/// The exit code of a process killed by SIGKILL, as the OOM killer does.
const KILLED: i64 = 137;

/// When the container started (ns), if the engine shows it killed without saying by whom.
fn suspect(c: &Container) -> Option<i64> {
    if c.oom_killed || c.exit_code != Some(KILLED) {
        return None;
    }
    let started: jiff::Timestamp = c.started_at.as_deref()?.parse().ok()?;
    Some(started.as_nanosecond() as i64)
}

/// The earliest start among the containers that may have an OOM kill the engine missed;
/// `None` when there are none (and nothing needs to be read).
pub fn earliest_suspect(containers: &[Container]) -> Option<i64> {
    containers.iter().filter_map(suspect).min()
}

/// Container id (12 hex) → the time (ns) of its newest recorded OOM event in [since, now].
pub fn recorded(
    q: &dyn Querier,
    tenant: &str,
    since_ns: i64,
    now_ns: i64,
    deadline: Instant,
) -> Result<HashMap<String, i64>, String> {
    let lines = q.logs(tenant, r#"{source="docker"} |= "event=oom""#, since_ns, now_ns + 1, OOM_LINES, deadline)?;
    Ok(from_lines(lines.iter().map(|(_, ts, line)| (*ts, line.as_str()))))
}

fn from_lines<'a>(lines: impl Iterator<Item = (i64, &'a str)>) -> HashMap<String, i64> {
    let mut out: HashMap<String, i64> = HashMap::new();
    for (ts, line) in lines {
        let p = crate::logfmt::pairs(line);
        if let (Some("oom"), Some(id)) = (p.get("event").map(String::as_str), p.get("id").filter(|v| !v.is_empty())) {
            let newest = out.entry(id.chars().take(12).collect()).or_insert(ts);
            *newest = (*newest).max(ts);
        }
    }
    out
}

/// Marks OOM-killed each container exited with 137 whose OOM event was recorded since its
/// last start.
pub fn apply(containers: &mut [Container], ooms: &HashMap<String, i64>) {
    for c in containers.iter_mut() {
        let Some(started) = suspect(c) else { continue };
        let short: String = c.id.chars().take(12).collect();
        if ooms.get(&short).is_some_and(|ts| *ts >= started) {
            c.oom_killed = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oom_event_after_the_exit_marks_the_kill() {
        let s = |secs: i64| secs * 1_000_000_000;
        let ooms = from_lines(
            [
                (s(1_796_400_010), "event=oom container=shop.web.1 id=3f2a9c1b7d4e image=dokku/shop:latest"),
                (s(1_796_400_005), "event=oom container=blog-db-1 id=bbbbbbbbbbbb image=postgres:16"),
                (s(1_796_400_030), "event=die container=blog-db-1 id=bbbbbbbbbbbb exit_code=137 oom=false"),
                (s(1_796_400_001), "event=oom container=shop.web.1 id=3f2a9c1b7d4e image=dokku/shop:latest"),
            ]
            .into_iter(),
        );
        assert_eq!(ooms.len(), 2);
        assert_eq!(ooms["3f2a9c1b7d4e"], s(1_796_400_010), "the newest event counts");
        let c = |id: &str, started: &str, exit: Option<i64>| Container {
            id: id.into(),
            state: "exited".into(),
            exit_code: exit,
            started_at: Some(started.into()),
            ..Default::default()
        };
        // 1_796_400_000 s is 2026-12-04T16:00:00Z.
        let mut cs = vec![
            c("3f2a9c1b7d4e5f60718293a4b5c6d7e8", "2026-12-04T16:00:08Z", Some(137)),
            c("bbbbbbbbbbbbcccc", "2026-12-04T16:00:20Z", Some(137)),
            c("3f2a9c1b7d4e", "2026-12-04T16:00:00Z", Some(1)),
            c("dddddddddddd", "2026-12-04T16:00:00Z", Some(137)),
        ];
        assert_eq!(earliest_suspect(&cs), Some(s(1_796_400_000)));
        apply(&mut cs, &ooms);
        assert!(cs[0].oom_killed, "its OOM event came after its start");
        assert!(!cs[1].oom_killed, "its only OOM event was before its last start");
        assert!(!cs[2].oom_killed, "exit code 1 is no kill");
        assert!(!cs[3].oom_killed, "no OOM event recorded");
        cs.iter_mut().for_each(|c| c.oom_killed = c.exit_code == Some(137));
        assert_eq!(earliest_suspect(&cs), None);
    }
}
