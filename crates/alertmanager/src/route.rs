//! The compiled route tree: children inherit their parent's receiver, `group_by` and timers;
//! an alert goes down the tree to the deepest matching routes (siblings after a match only
//! with `continue: true`); when no child matches, the node itself takes it.

use std::collections::BTreeMap;
use std::time::Duration;

use model::Matcher;

use crate::config::RouteConfig;
use crate::matchers::matches_all;

/// How alerts of a route are grouped.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupBy {
    /// `...`: every label.
    All,
    Labels(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Route {
    /// A stable identifier of the node: its path in the tree (`0`, `0.1`, `0.1.0`), plus
    /// the matchers, as Alertmanager's route keys.
    pub id: String,
    pub receiver: String,
    pub group_by: GroupBy,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    pub matchers: Vec<Matcher>,
    pub continue_matching: bool,
    pub routes: Vec<Route>,
}

impl Route {
    /// Compiles the root route. Defaults: group_wait 30s, group_interval 5m, repeat 4h.
    pub fn compile(root: &RouteConfig) -> Result<Route, String> {
        let base = Route {
            id: String::new(),
            receiver: String::new(),
            group_by: GroupBy::Labels(Vec::new()),
            group_wait: Duration::from_secs(30),
            group_interval: Duration::from_secs(300),
            repeat_interval: Duration::from_secs(4 * 3600),
            matchers: Vec::new(),
            continue_matching: false,
            routes: Vec::new(),
        };
        Self::node(root, &base, "0")
    }

    fn node(c: &RouteConfig, parent: &Route, path: &str) -> Result<Route, String> {
        let matchers = c.all_matchers()?;
        let ms: Vec<String> = matchers.iter().map(|m| m.to_string()).collect();
        let mut r = Route {
            id: format!("{path}{{{}}}", ms.join(",")),
            receiver: c.receiver.clone().unwrap_or_else(|| parent.receiver.clone()),
            group_by: match &c.group_by {
                Some(g) if g.iter().any(|l| l == "...") => GroupBy::All,
                Some(g) => GroupBy::Labels(g.clone()),
                None => parent.group_by.clone(),
            },
            group_wait: c.group_wait.map_or(parent.group_wait, |d| d.0),
            group_interval: c.group_interval.map_or(parent.group_interval, |d| d.0),
            repeat_interval: c.repeat_interval.map_or(parent.repeat_interval, |d| d.0),
            matchers,
            continue_matching: c.continue_matching,
            routes: Vec::new(),
        };
        for (i, child) in c.routes.iter().enumerate() {
            let child = Self::node(child, &r, &format!("{path}.{i}"))?;
            r.routes.push(child);
        }
        Ok(r)
    }

    /// The routes an alert with these labels goes to.
    pub fn match_labels<'a>(&'a self, labels: &BTreeMap<String, String>) -> Vec<&'a Route> {
        let mut out = Vec::new();
        self.walk(labels, &mut out);
        out
    }

    fn walk<'a>(&'a self, labels: &BTreeMap<String, String>, out: &mut Vec<&'a Route>) -> bool {
        if !matches_all(&self.matchers, |n| labels.get(n).map(String::as_str)) {
            return false;
        }
        let mut any = false;
        for c in &self.routes {
            if c.walk(labels, out) {
                any = true;
                if !c.continue_matching {
                    break;
                }
            }
        }
        if !any {
            out.push(self);
        }
        true
    }

    /// The labels an alert is grouped by on this route.
    pub fn group_labels(&self, labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        match &self.group_by {
            GroupBy::All => labels.clone(),
            GroupBy::Labels(names) => {
                names.iter().filter_map(|n| labels.get(n).map(|v| (n.clone(), v.clone()))).collect()
            }
        }
    }

    /// Every receiver name used in the tree.
    pub fn receivers(&self, out: &mut Vec<String>) {
        if !out.contains(&self.receiver) {
            out.push(self.receiver.clone());
        }
        for c in &self.routes {
            c.receivers(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AmConfig;

    fn labels(p: &[(&str, &str)]) -> BTreeMap<String, String> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn tree() {
        let c = AmConfig::parse(
            "route:\n  receiver: default\n  group_by: [alertname]\n  group_wait: 1s\n  routes:\n\
             \x20   - matchers: ['team=\"db\"']\n      receiver: db\n      continue: true\n      group_by: ['...']\n\
             \x20   - match_re: {sev: crit|page}\n      receiver: pager\n      repeat_interval: 1h\n\
             \x20   - match: {team: db}\n      receiver: never\n\
             receivers: [{name: default}, {name: db}, {name: pager}, {name: never}]\n",
        )
        .unwrap();
        let r = Route::compile(c.route.as_ref().unwrap()).unwrap();
        let names = |l| r.match_labels(&labels(l)).iter().map(|r| r.receiver.clone()).collect::<Vec<_>>();
        assert_eq!(names(&[("alertname", "A")]), ["default"]);
        assert_eq!(names(&[("team", "db"), ("sev", "crit")]), ["db", "pager"]);
        assert_eq!(names(&[("team", "db")]), ["db", "never"]);
        assert_eq!(names(&[("sev", "critical")]), ["default"]);
        let pager = &r.routes[1];
        assert_eq!(pager.group_wait, Duration::from_secs(1));
        assert_eq!(pager.repeat_interval, Duration::from_secs(3600));
        assert_eq!(pager.group_interval, Duration::from_secs(300));
        assert_eq!(pager.group_labels(&labels(&[("alertname", "A"), ("x", "y")])), labels(&[("alertname", "A")]));
        assert_eq!(r.routes[0].group_by, GroupBy::All);
    }
}
