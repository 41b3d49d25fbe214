//! Container lifecycle as log lines: the Docker engine's container events (create, start, die
//! with its exit code, oom, kill, restart, health_status, rename, destroy, ...) become entries of
//! one stream per app and source, e.g. `{app="shop", process_type="web", source="docker"}`
//! with logfmt lines such as `event=die container=shop.web.1 id=3f2a9c1b7d4e exit_code=137
//! oom=true stopped=false image=dokku/shop:latest`, so restarts and crash loops are queryable
//! with LogQL and alert rules can count them.
//!
//! They travel with the containers' lines and are acknowledged the same way: the time of the
//! newest acknowledged event is kept in the positions file under [`POSITION_KEY`], and the
//! next start asks the engine for the events since then (the store drops the one repeated at
//! that instant as a duplicate).

use std::collections::{BTreeMap, HashMap};

use model::{Entry, Labels};

use crate::labels::{ContainerInfo, LabelMaker, stable_name};

/// The positions file's key for the event stream (never a container id, which is hex).
pub const POSITION_KEY: &str = "docker-events";

/// The actions recorded (besides `health_status: <state>`); exec and attach noise is not.
const RECORDED: [&str; 11] =
    ["create", "start", "restart", "die", "oom", "kill", "stop", "pause", "unpause", "rename", "destroy"];

/// Attributes of an event that are not the container's labels.
const NOT_LABELS: [&str; 6] = ["name", "image", "exitCode", "signal", "oldName", "execDuration"];

/// One container event as the engine reported it.
#[derive(Debug, Clone)]
pub struct ContainerEvent {
    pub id: String,
    /// `die`, `start`, ..., or `health_status: unhealthy`.
    pub action: String,
    /// The container's labels plus `name`, `image` and the action's own (`exitCode`, `signal`,
    /// `oldName`).
    pub attributes: HashMap<String, String>,
    /// Nanoseconds since the epoch.
    pub ts: i64,
}

impl ContainerEvent {
    /// Whether the action is one worth a line.
    pub fn recorded(action: &str) -> bool {
        RECORDED.contains(&action) || action.starts_with("health_status")
    }

    fn info(&self) -> ContainerInfo {
        ContainerInfo {
            id: self.id.clone(),
            name: self.attributes.get("name").cloned().unwrap_or_default(),
            labels: self
                .attributes
                .iter()
                .filter(|(k, _)| !NOT_LABELS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            image: self.attributes.get("image").cloned().unwrap_or_default(),
            ..Default::default()
        }
    }
}

/// Turns events into entries; remembers `oom` events so the `die` that follows says `oom=true`,
/// and `kill` events (`docker stop`, `docker kill`, `docker restart`, Dokku retiring a deploy's
/// old container, `compose down`) so that it says `stopped=true`: the engine was asked to end
/// it, so its exit code (137, 143) is no crash.
#[derive(Default)]
pub struct Recorder {
    oom_at: HashMap<String, i64>,
    kill_at: HashMap<String, i64>,
}

/// An `oom` event counts for the container's `die` within this long.
const OOM_WINDOW_NS: i64 = 60_000_000_000;

/// A `kill` counts for the container's `die` within this long (a stop's grace period before its
/// SIGKILL is 10 s by default; Dokku and compose let it be longer).
const STOP_WINDOW_NS: i64 = 300_000_000_000;

/// Signals sent to a running container that ask it to do something other than end (reload,
/// rotate logs, dump state): a `kill` with one of them is not a stop.
fn ends_the_container(signal: &str) -> bool {
    let name = signal.trim_start_matches("SIG");
    !matches!(
        name,
        "1" | "HUP" | "10" | "USR1" | "12" | "USR2" | "28" | "WINCH" | "18" | "CONT" | "17" | "CHLD" | "23" | "URG"
    )
}

impl Recorder {
    /// The stream and entry of one event; `None` for containers the filters leave out (or a
    /// relabel rule drops).
    pub fn entry(
        &mut self,
        maker: &LabelMaker,
        first_name: Option<&str>,
        ev: &ContainerEvent,
    ) -> Option<(Labels, Entry)> {
        let mut info = ev.info();
        info.first_name = first_name.map(str::to_string);
        if !maker.wanted(&info) {
            return None;
        }
        let labels = stream_labels(maker, &info)?;
        let (event, health) = match ev.action.split_once(':') {
            Some((a, h)) => (a.trim(), Some(h.trim())),
            None => (ev.action.as_str(), None),
        };
        let a = |k: &str| ev.attributes.get(k).map(String::as_str).filter(|v| !v.is_empty());
        let mut pairs: Vec<(&str, String)> = vec![("event", event.to_string()), ("container", stable_name(&info))];
        pairs.push(("id", ev.id.chars().take(12).collect()));
        match event {
            "die" => {
                pairs.push(("exit_code", a("exitCode").unwrap_or("").to_string()));
                let oom = self.oom_at.remove(&ev.id).is_some_and(|t| ev.ts - t <= OOM_WINDOW_NS);
                pairs.push(("oom", oom.to_string()));
                let stopped = self.kill_at.remove(&ev.id).is_some_and(|t| ev.ts - t <= STOP_WINDOW_NS);
                pairs.push(("stopped", stopped.to_string()));
            }
            "start" => {
                self.kill_at.remove(&ev.id);
            }
            "oom" => {
                self.oom_at.retain(|_, t| ev.ts - *t <= OOM_WINDOW_NS);
                self.oom_at.insert(ev.id.clone(), ev.ts);
            }
            "kill" => {
                let signal = a("signal").unwrap_or("");
                if ends_the_container(signal) {
                    self.kill_at.retain(|_, t| ev.ts - *t <= STOP_WINDOW_NS);
                    self.kill_at.entry(ev.id.clone()).or_insert(ev.ts);
                }
                pairs.push(("signal", signal.to_string()));
            }
            "rename" => {
                pairs.push(("old_name", a("oldName").unwrap_or("").trim_start_matches('/').to_string()));
                pairs.push(("new_name", info.name.clone()));
            }
            "health_status" => pairs.push(("health", health.unwrap_or("").to_string())),
            "destroy" => {
                self.oom_at.remove(&ev.id);
                self.kill_at.remove(&ev.id);
            }
            _ => {}
        }
        if let Some(image) = a("image") {
            pairs.push(("image", image.to_string()));
        }
        let line = pairs.iter().map(|(k, v)| format!("{k}={}", logfmt_value(v))).collect::<Vec<_>>().join(" ");
        Some((labels, Entry::new(ev.ts, line)))
    }
}

/// One stream per app and source: the container's labels without what tells its containers
/// apart (name, dyno, stream); containers outside Dokku keep their name.
pub(crate) fn stream_labels(maker: &LabelMaker, info: &ContainerInfo) -> Option<Labels> {
    let l = maker.labels(info, "stdout")?;
    let dokku = l.get("app").is_some();
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in l.iter() {
        let drop = k == "stream" || (dokku && matches!(k, "container_name" | "dyno" | "container_type"));
        if !drop {
            out.insert(k.to_string(), v.to_string());
        }
    }
    out.insert("source".into(), "docker".into());
    Labels::from_pairs(out).ok()
}

/// A logfmt value: bare when it can be, quoted (with `"` and `\` escaped) otherwise.
pub(crate) fn logfmt_value(v: &str) -> String {
    if !v.is_empty() && !v.chars().any(|c| c == ' ' || c == '=' || c == '"' || c == '\\' || c.is_control()) {
        return v.to_string();
    }
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maker() -> LabelMaker {
        LabelMaker::new(&crate::AgentConfig::default(), "h1".into()).unwrap()
    }

    fn ev(action: &str, attrs: &[(&str, &str)], ts: i64) -> ContainerEvent {
        ContainerEvent {
            id: "3f2a9c1b7d4e5f60718293a4b5c6d7e8f9".into(),
            action: action.into(),
            attributes: attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ts,
        }
    }

    const DOKKU: [(&str, &str); 6] = [
        ("name", "shop.web.1"),
        ("image", "dokku/shop:latest"),
        ("com.dokku.app-name", "shop"),
        ("com.dokku.process-type", "web"),
        ("com.dokku.dyno", "web.1"),
        ("com.dokku.container-type", "deploy"),
    ];

    #[test]
    fn die_after_oom_says_so_in_the_apps_stream() {
        let m = maker();
        let mut r = Recorder::default();
        let (l, e) = r.entry(&m, None, &ev("oom", &DOKKU, 1_000)).unwrap();
        assert_eq!(l.to_string(), r#"{app="shop", host="h1", process_type="web", source="docker"}"#);
        assert_eq!(e.line, "event=oom container=shop.web.1 id=3f2a9c1b7d4e image=dokku/shop:latest");
        let mut die = DOKKU.to_vec();
        die.push(("exitCode", "137"));
        let (_, e) = r.entry(&m, None, &ev("die", &die, 2_000)).unwrap();
        assert_eq!(e.ts, 2_000);
        assert_eq!(
            e.line,
            "event=die container=shop.web.1 id=3f2a9c1b7d4e exit_code=137 oom=true stopped=false image=dokku/shop:latest"
        );
        // The next crash without an oom event is not an OOM kill.
        let (_, e) = r.entry(&m, None, &ev("die", &die, 3_000)).unwrap();
        assert!(e.line.contains("oom=false"), "{}", e.line);
    }

    #[test]
    fn a_die_after_a_stop_or_kill_is_no_crash() {
        let m = maker();
        let mut r = Recorder::default();
        let die = |code: &'static str| {
            let mut d = DOKKU.to_vec();
            d.push(("exitCode", code));
            d
        };
        let kill = |sig: &'static str| {
            let mut d = DOKKU.to_vec();
            d.push(("signal", sig));
            d
        };
        // docker stop: SIGTERM, then SIGKILL after the grace period, then die.
        r.entry(&m, None, &ev("kill", &kill("15"), 1_000)).unwrap();
        r.entry(&m, None, &ev("kill", &kill("9"), 10_000_001_000)).unwrap();
        let (_, e) = r.entry(&m, None, &ev("die", &die("137"), 10_000_002_000)).unwrap();
        assert!(e.line.contains("exit_code=137 oom=false stopped=true"), "{}", e.line);
        // Started again, it crashes by itself: a crash.
        r.entry(&m, None, &ev("start", &DOKKU, 11_000_000_000)).unwrap();
        let (_, e) = r.entry(&m, None, &ev("die", &die("1"), 12_000_000_000)).unwrap();
        assert!(e.line.contains("stopped=false"), "{}", e.line);
        // A reload signal is no stop; nor is a kill long before the die.
        r.entry(&m, None, &ev("start", &DOKKU, 13_000_000_000)).unwrap();
        r.entry(&m, None, &ev("kill", &kill("1"), 14_000_000_000)).unwrap();
        let (_, e) = r.entry(&m, None, &ev("die", &die("2"), 15_000_000_000)).unwrap();
        assert!(e.line.contains("stopped=false"), "{}", e.line);
        r.entry(&m, None, &ev("kill", &kill("SIGTERM"), 16_000_000_000)).unwrap();
        let (_, e) = r.entry(&m, None, &ev("die", &die("143"), 16_000_000_000 + STOP_WINDOW_NS + 1)).unwrap();
        assert!(e.line.contains("stopped=false"), "{}", e.line);
    }

    #[test]
    fn other_containers_keep_their_name_and_actions_their_details() {
        let m = maker();
        let mut r = Recorder::default();
        let attrs = [("name", "blog-db-1"), ("com.docker.compose.project", "blog"), ("signal", "15")];
        let (l, e) = r.entry(&m, None, &ev("kill", &attrs, 5)).unwrap();
        assert_eq!(
            l.to_string(),
            r#"{compose_project="blog", container_name="blog-db-1", host="h1", source="docker"}"#
        );
        assert_eq!(e.line, "event=kill container=blog-db-1 id=3f2a9c1b7d4e signal=15");
        let (_, e) = r.entry(&m, None, &ev("health_status: unhealthy", &attrs[..1], 6)).unwrap();
        assert_eq!(e.line, "event=health_status container=blog-db-1 id=3f2a9c1b7d4e health=unhealthy");
        let (_, e) = r.entry(&m, None, &ev("rename", &[("name", "a b"), ("oldName", "/old")], 7)).unwrap();
        assert_eq!(e.line, r#"event=rename container="a b" id=3f2a9c1b7d4e old_name=old new_name="a b""#);
        assert!(ContainerEvent::recorded("die") && !ContainerEvent::recorded("exec_start: sh"));
    }

    #[test]
    fn filtered_containers_record_nothing() {
        let cfg = crate::AgentConfig { exclude_containers: vec!["shop\\..*".into()], ..Default::default() };
        let m = LabelMaker::new(&cfg, "h1".into()).unwrap();
        assert!(Recorder::default().entry(&m, None, &ev("start", &DOKKU, 1)).is_none());
    }
}
