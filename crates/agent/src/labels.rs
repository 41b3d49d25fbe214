//! A container's stream labels: Dokku's labels mapped to `app`, `process_type`,
//! `container_type`, `dyno`; `container_name`, `stream` and `host`; compose project and service
//! for other containers; then the user's include/exclude filters and relabel rules.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use model::Labels;
use regex::Regex;

use crate::config::AgentConfig;
use crate::relabel::{self, Rule};

/// What the agent knows of a container.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerInfo {
    pub id: String,
    /// The current name, without Docker's leading `/`.
    pub name: String,
    /// The name the agent first saw it under (kept in the positions file), which Docker renames
    /// do not change; `None`: the current one.
    pub first_name: Option<String>,
    /// The image as it was asked for (`dokku/shop:latest`) and the image's id (`sha256:…`).
    pub image: String,
    pub image_id: String,
    /// Creation time, nanoseconds since the epoch (0: unknown).
    pub created_ns: i64,
    pub labels: HashMap<String, String>,
    pub log_path: Option<PathBuf>,
    pub log_driver: String,
    pub tty: bool,
    pub running: bool,
    /// Exited or dead (a created container that has not started yet is neither).
    pub exited: bool,
}

#[derive(Clone)]
pub struct LabelMaker {
    host: String,
    rules: Vec<Rule>,
    include: Vec<Regex>,
    exclude: Vec<Regex>,
}

fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

/// A container's name that stays through deploys and renames: `<app>.<dyno>` for a Dokku
/// container with a dyno (`shop.web.1`, whether Docker calls it `shop.web.1.upcoming-4242` or
/// `shop.web.1.1796163789` at the moment), otherwise the name it was first seen under.
pub fn stable_name(c: &ContainerInfo) -> String {
    let label = |k: &str| c.labels.get(k).map(String::as_str).filter(|v| !v.is_empty());
    if let (Some(app), Some(dyno)) = (label("com.dokku.app-name"), label("com.dokku.dyno")) {
        return format!("{app}.{dyno}");
    }
    c.first_name.clone().unwrap_or_else(|| c.name.clone())
}

const DOKKU: [(&str, &str); 4] = [
    ("com.dokku.app-name", "app"),
    ("com.dokku.process-type", "process_type"),
    ("com.dokku.container-type", "container_type"),
    ("com.dokku.dyno", "dyno"),
];

impl LabelMaker {
    pub fn new(cfg: &AgentConfig, host: String) -> Result<LabelMaker, String> {
        let compile = |v: &[String]| -> Result<Vec<Regex>, String> {
            v.iter()
                .map(|r| {
                    model::goregex::compile(&format!("^(?:{r})$"))
                        .map_err(|e| format!("bad container filter {r:?}: {e}"))
                })
                .collect()
        };
        Ok(LabelMaker {
            host,
            rules: cfg.relabel_configs.iter().map(relabel::Rule::compile).collect::<Result<_, _>>()?,
            include: compile(&cfg.include_containers)?,
            exclude: compile(&cfg.exclude_containers)?,
        })
    }

    /// The same rules with another `host` label.
    pub fn with_host(&self, host: String) -> LabelMaker {
        LabelMaker { host, ..self.clone() }
    }

    /// The `host` label these rules give.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether the container is collected at all. The filters match its current name or its
    /// stable one (see [`stable_name`]).
    pub fn wanted(&self, c: &ContainerInfo) -> bool {
        let stable = stable_name(c);
        let matches = |r: &Regex| r.is_match(&c.name) || r.is_match(&stable);
        (self.include.is_empty() || self.include.iter().any(matches))
            && !self.exclude.iter().any(matches)
            && self.labels(c, "stdout").is_some()
    }

    /// The label set of one of the container's streams (`stdout`/`stderr`); `None` if a relabel
    /// rule drops it.
    pub fn labels(&self, c: &ContainerInfo, stream: &str) -> Option<Labels> {
        let mut l: BTreeMap<String, String> = BTreeMap::new();
        l.insert("__meta_docker_container_id".into(), c.id.clone());
        l.insert("__meta_docker_container_name".into(), format!("/{}", c.name));
        l.insert("__meta_docker_container_log_stream".into(), stream.into());
        for (k, v) in &c.labels {
            l.insert(format!("__meta_docker_container_label_{}", sanitize(k)), v.clone());
        }
        let dokku = c.labels.contains_key("com.dokku.app-name");
        for (docker, ours) in DOKKU {
            if let Some(v) = c.labels.get(docker).filter(|v| !v.is_empty()) {
                l.insert(ours.into(), v.clone());
            }
        }
        if !dokku {
            if let Some(v) = c.labels.get("com.docker.compose.project") {
                l.insert("compose_project".into(), v.clone());
            }
            if let Some(v) = c.labels.get("com.docker.compose.service") {
                l.insert("compose_service".into(), v.clone());
            }
        }
        l.insert("container_name".into(), stable_name(c));
        l.insert("stream".into(), stream.into());
        l.insert("host".into(), self.host.clone());
        let l = relabel::apply(&self.rules, l)?;
        Labels::from_pairs(l.into_iter().filter(|(k, _)| !k.starts_with("__"))).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(labels: &[(&str, &str)], name: &str) -> ContainerInfo {
        ContainerInfo {
            id: "abc".into(),
            name: name.into(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            log_driver: "json-file".into(),
            running: true,
            ..Default::default()
        }
    }

    #[test]
    fn dokku_and_compose_labels() {
        let m = LabelMaker::new(&AgentConfig::default(), "h1".into()).unwrap();
        let c = container(
            &[
                ("com.dokku.app-name", "shop"),
                ("com.dokku.process-type", "web"),
                ("com.dokku.container-type", "deploy"),
                ("com.dokku.dyno", "web.1"),
            ],
            "shop.web.1",
        );
        assert_eq!(
            m.labels(&c, "stderr").unwrap().to_string(),
            r#"{app="shop", container_name="shop.web.1", container_type="deploy", dyno="web.1", host="h1", process_type="web", stream="stderr"}"#
        );
        let c = container(&[("com.docker.compose.project", "blog"), ("com.docker.compose.service", "db")], "blog-db-1");
        assert_eq!(
            m.labels(&c, "stdout").unwrap().to_string(),
            r#"{compose_project="blog", compose_service="db", container_name="blog-db-1", host="h1", stream="stdout"}"#
        );
        // Docker's names during and after a Dokku deploy, and a renamed compose container, keep
        // their stream.
        let mut c2 =
            container(&[("com.dokku.app-name", "shop"), ("com.dokku.dyno", "web.1")], "shop.web.1.upcoming-4242");
        assert_eq!(m.labels(&c2, "stdout").unwrap().get("container_name"), Some("shop.web.1"));
        c2.name = "shop.web.1.1796163789".into();
        assert_eq!(m.labels(&c2, "stdout").unwrap().get("container_name"), Some("shop.web.1"));
        let mut c3 = container(&[], "blog-db-1");
        c3.first_name = Some("blog-db-1".into());
        c3.name = "3f2a9c1b7d4e_blog-db-1".into();
        assert_eq!(m.labels(&c3, "stdout").unwrap().get("container_name"), Some("blog-db-1"));
        let cfg = AgentConfig { exclude_containers: vec!["blog-.*".into()], ..Default::default() };
        assert!(!LabelMaker::new(&cfg, "h".into()).unwrap().wanted(&c));
    }
}
