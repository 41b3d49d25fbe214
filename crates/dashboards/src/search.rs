//! Search over dashboards and folders (`GET /api/search`) and the tag cloud
//! (`GET /api/dashboards/tags`), in Grafana's shapes.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::store::Dashboards;

/// `GET /api/search`'s parameters.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    /// Part of the title, any case.
    pub query: String,
    /// Every one of these tags.
    pub tags: Vec<String>,
    /// `dash-db` or `dash-folder`; both when empty.
    pub kind: String,
    /// Folders to look in (`general` or empty for the General folder).
    pub folder_uids: Vec<String>,
    pub dashboard_uids: Vec<String>,
    pub limit: usize,
}

impl Default for SearchQuery {
    fn default() -> Self {
        SearchQuery {
            query: String::new(),
            tags: Vec::new(),
            kind: String::new(),
            folder_uids: Vec::new(),
            dashboard_uids: Vec::new(),
            limit: 1000,
        }
    }
}

impl SearchQuery {
    /// From a query string; repeated and comma-separated `tag`, `folderUIDs`, `dashboardUIDs`.
    pub fn parse(qs: &str) -> Result<SearchQuery, String> {
        let mut q = SearchQuery::default();
        for (k, v) in form_urlencoded::parse(qs.as_bytes()) {
            let many = || v.split(',').map(|s| s.trim().to_string()).collect::<Vec<_>>();
            match &*k {
                "query" => q.query = v.trim().to_string(),
                "tag" => q.tags.push(v.to_string()),
                "type" => match &*v {
                    "dash-db" | "dash-folder" | "" => q.kind = v.to_string(),
                    other => return Err(format!("type {other:?} is not dash-db or dash-folder")),
                },
                "folderUIDs" | "folderUid" => q.folder_uids.extend(many()),
                "dashboardUIDs" | "dashboardUID" => {
                    q.dashboard_uids.extend(many().into_iter().filter(|s| !s.is_empty()))
                }
                "limit" => {
                    q.limit =
                        v.parse::<usize>().map_err(|_| format!("limit {v:?} is not a whole number"))?.clamp(1, 5000)
                }
                _ => {}
            }
        }
        Ok(q)
    }
}

/// One search result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hit {
    pub id: i64,
    pub uid: String,
    pub title: String,
    pub uri: String,
    pub url: String,
    pub slug: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub tags: Vec<String>,
    pub is_starred: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder_uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder_url: Option<String>,
}

impl Dashboards {
    /// Folders first (when asked for), then dashboards, each by title.
    pub fn search(&self, q: &SearchQuery) -> Vec<Hit> {
        let s = self.state.read();
        let needle = q.query.to_lowercase();
        let title_ok = |t: &str| needle.is_empty() || t.to_lowercase().contains(&needle);
        let mut out = Vec::new();
        let want_folders =
            (q.kind.is_empty() && q.tags.is_empty() && q.dashboard_uids.is_empty()) || q.kind == "dash-folder";
        if want_folders && q.folder_uids.is_empty() {
            let mut fs: Vec<_> = s.folders.values().filter(|f| title_ok(&f.title)).collect();
            fs.sort_by_key(|f| f.title.to_lowercase());
            for f in fs {
                let slug = crate::slug::slugify(&f.title);
                out.push(Hit {
                    id: f.id,
                    uid: f.uid.clone(),
                    title: f.title.clone(),
                    uri: format!("db/{slug}"),
                    url: f.url(),
                    slug,
                    kind: "dash-folder",
                    tags: Vec::new(),
                    is_starred: false,
                    folder_uid: None,
                    folder_title: None,
                    folder_url: None,
                });
            }
        }
        if q.kind != "dash-folder" {
            let in_folder = |f: &str| {
                q.folder_uids.is_empty()
                    || q.folder_uids.iter().any(|u| u == f || (f.is_empty() && (u == "general" || u.is_empty())))
            };
            let mut ds: Vec<_> = s
                .dashboards
                .values()
                .filter(|d| title_ok(d.title()))
                .filter(|d| in_folder(&d.folder_uid))
                .filter(|d| q.dashboard_uids.is_empty() || q.dashboard_uids.contains(&d.uid))
                .filter(|d| {
                    let tags = d.tags();
                    q.tags.iter().all(|t| tags.contains(t))
                })
                .collect();
            ds.sort_by_key(|d| (d.title().to_lowercase(), d.uid.clone()));
            for d in ds {
                let folder = s.folders.get(&d.folder_uid);
                let slug = d.slug();
                out.push(Hit {
                    id: d.id,
                    uid: d.uid.clone(),
                    title: d.title().to_string(),
                    uri: format!("db/{slug}"),
                    url: d.url(),
                    slug,
                    kind: "dash-db",
                    tags: d.tags(),
                    is_starred: false,
                    folder_uid: folder.map(|f| f.uid.clone()),
                    folder_title: folder.map(|f| f.title.clone()),
                    folder_url: folder.map(|f| f.url()),
                });
            }
        }
        out.truncate(q.limit.max(1));
        out
    }

    /// Every tag with the number of dashboards that carry it, by tag.
    pub fn tags(&self) -> Vec<(String, usize)> {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for d in self.state.read().dashboards.values() {
            for t in d.tags() {
                *counts.entry(t).or_default() += 1;
            }
        }
        counts.into_iter().collect()
    }
}
