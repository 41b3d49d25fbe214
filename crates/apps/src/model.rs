//! The JSON shapes of `GET /api/apps` and `GET /api/apps/containers/{id}`.

use serde::Serialize;

/// The answer of `GET /api/apps`.
#[derive(Debug, Clone, Serialize)]
pub struct AppsAnswer {
    /// Live state read from the Docker engine now; false: derived from recorded events.
    pub engine: bool,
    /// RFC 3339.
    pub now: String,
    /// Unix seconds of the first per-minute bucket (60 buckets, the last hour, the current
    /// minute last).
    pub minutes_start: i64,
    pub apps: Vec<App>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A Dokku app (`com.dokku.app-name`): its name is the app's.
    App,
    /// A container outside Dokku: its name is its `container_name`.
    Container,
}

/// A Dokku app or a container outside Dokku.
#[derive(Debug, Clone, Serialize)]
pub struct App {
    pub kind: Kind,
    pub name: String,
    /// The LogQL stream selector of its lines.
    pub selector: String,
    pub process_types: Vec<String>,
    pub containers: Vec<Container>,
    pub last_deploy: Option<Deploy>,
    /// 60 numbers, oldest first, from `minutes_start`.
    pub lines_per_minute: Vec<f64>,
    /// Lines whose `detected_level` is error, critical or fatal.
    pub errors_per_minute: Vec<f64>,
    pub last_error: Option<LastError>,
}

/// One container, live or as recorded events tell it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Container {
    /// The full id (64 hex) from the engine; from events, the 12 hex they carry.
    pub id: String,
    /// The stable name: `<app>.<dyno>` for Dokku containers with a dyno, else the Docker name.
    pub name: String,
    /// Docker's current name (`shop.web.1.upcoming-42` during a deploy).
    pub docker_name: String,
    pub app: Option<String>,
    pub process_type: Option<String>,
    pub dyno: Option<String>,
    /// running, restarting, exited, paused, dead, created, removing or unknown.
    pub state: String,
    /// healthy, unhealthy or starting; null without a health check.
    pub health: Option<String>,
    pub restart_count: u64,
    pub exit_code: Option<i64>,
    pub oom_killed: bool,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub created_at: Option<String>,
    pub image: String,
    /// The first 12 hex of the image's sha256.
    pub image_id: Option<String>,
    /// Percent of one CPU (200 is two CPUs busy), as `docker stats` shows it; null until the
    /// second sample of the container's stats stream.
    pub cpu_percent: Option<f64>,
    /// Memory in use without the inactive page cache, as `docker stats` shows it.
    pub memory_bytes: Option<u64>,
    /// The container's memory limit (`--memory`); null when it has none.
    pub memory_limit_bytes: Option<u64>,
}

/// An app's most recent deploy (`event=deploy`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deploy {
    /// RFC 3339.
    pub at: String,
    pub image: String,
    pub image_id: Option<String>,
    pub old_image: Option<String>,
    pub old_image_id: Option<String>,
    pub took_seconds: Option<f64>,
    /// The stable name of the replaced container.
    pub container: String,
}

/// An app's newest error line in the last hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastError {
    /// Unix nanoseconds, as a string (Loki's way).
    pub ts: String,
    pub line: String,
}

/// RFC 3339 of unix nanoseconds, to the second unless there is a fraction.
pub fn rfc3339_ns(ns: i64) -> String {
    jiff::Timestamp::from_nanosecond(ns as i128).map(|t| t.to_string()).unwrap_or_default()
}

/// `{name="value"}` with the value quoted as LogQL strings are.
pub fn selector(label: &str, value: &str) -> String {
    let mut s = String::with_capacity(value.len() + label.len() + 6);
    s.push('{');
    s.push_str(label);
    s.push_str("=\"");
    for c in value.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s.push_str("\"}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_and_times() {
        assert_eq!(selector("app", "shop"), r#"{app="shop"}"#);
        assert_eq!(selector("container_name", r#"a"b\c"#), r#"{container_name="a\"b\\c"}"#);
        assert_eq!(rfc3339_ns(1_764_658_800_000_000_000), "2025-12-02T07:00:00Z");
        assert_eq!(rfc3339_ns(1_764_658_800_500_000_000), "2025-12-02T07:00:00.5Z");
    }
}
