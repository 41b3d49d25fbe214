//! Names that survive `docker rename`. The agent names a container outside Dokku by the first
//! name it saw (its lines' `container_name` never changes), and records every rename as an
//! event line `event=rename container=<that name> id=<12 hex> old_name=... new_name=...`. The
//! engine only knows the current name, so a renamed container is shown under the name its
//! lines carry, read back from those events.

use std::collections::HashMap;
use std::time::Instant;

use crate::activity::Querier;
use crate::model::Container;

/// How far back renames are read: a month, Bitácora's default retention.
pub const LOOKBACK_NS: i64 = 30 * 24 * 3600 * 1_000_000_000;

/// At most this many rename events are read (the newest).
const RENAME_LINES: u32 = 5000;

/// Container id (12 hex) → the name its lines carry, from the recorded rename events.
pub fn stable_names(
    q: &dyn Querier,
    tenant: &str,
    now_ns: i64,
    deadline: Instant,
) -> Result<HashMap<String, String>, String> {
    let lines = q.logs(
        tenant,
        r#"{source="docker"} |= "event=rename""#,
        now_ns - LOOKBACK_NS,
        now_ns + 1,
        RENAME_LINES,
        deadline,
    )?;
    Ok(from_lines(lines.iter().map(|(_, _, line)| line.as_str())))
}

fn from_lines<'a>(lines: impl Iterator<Item = &'a str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in lines {
        let p = crate::logfmt::pairs(line);
        let get = |k: &str| p.get(k).filter(|v| !v.is_empty());
        if let (Some("rename"), Some(id), Some(name)) = (get("event").map(String::as_str), get("id"), get("container"))
        {
            out.entry(id.chars().take(12).collect()).or_insert_with(|| name.clone());
        }
    }
    out
}

/// Gives each renamed container outside Dokku (Dokku's are named `<app>.<dyno>` already) the
/// name its lines carry.
pub fn apply(containers: &mut [Container], names: &HashMap<String, String>) {
    for c in containers.iter_mut().filter(|c| c.app.is_none()) {
        let short: String = c.id.chars().take(12).collect();
        if let Some(n) = names.get(&short) {
            c.name = n.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renamed_container_keeps_the_name_of_its_lines() {
        let names = from_lines(
            [
                "event=rename container=blog-db-1 id=3f2a9c1b7d4e old_name=blog-db-2 new_name=blog-db-3",
                "event=rename container=blog-db-1 id=3f2a9c1b7d4e old_name=blog-db-1 new_name=blog-db-2",
                "event=die container=other id=aaaaaaaaaaaa exit_code=0",
            ]
            .into_iter(),
        );
        assert_eq!(names.len(), 1);
        let c = |id: &str, name: &str, app: Option<&str>| Container {
            id: id.into(),
            name: name.into(),
            docker_name: name.into(),
            app: app.map(String::from),
            ..Default::default()
        };
        let mut cs = vec![
            c("3f2a9c1b7d4e00112233", "blog-db-3", None),
            c("bbbbbbbbbbbb", "web", None),
            c("3f2a9c1b7d4e", "shop.web.1", Some("shop")),
        ];
        apply(&mut cs, &names);
        assert_eq!((cs[0].name.as_str(), cs[0].docker_name.as_str()), ("blog-db-1", "blog-db-3"));
        assert_eq!(cs[1].name, "web");
        assert_eq!(cs[2].name, "shop.web.1", "Dokku's names are stable already");
    }
}
