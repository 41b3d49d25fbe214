//! Loki's ruler API: rule groups per namespace in YAML, read, created (one group per POST, as
//! lokitool and cortextool send it) and deleted.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{Http, text};
use crate::file::{RuleGroup, parse_group, to_yaml};
use crate::ruler::EditError;

fn yaml(body: String) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/yaml")], body).into_response()
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"success","data":null,"errorType":"","error":""}"#,
    )
        .into_response()
}

fn edit_error(e: EditError) -> Response {
    match e {
        EditError::Invalid(m) => text(StatusCode::BAD_REQUEST, m),
        EditError::NotFound(m) => text(StatusCode::NOT_FOUND, m),
        EditError::Io(m) => {
            tracing::error!(error = %m, "writing a rule file failed");
            text(StatusCode::INTERNAL_SERVER_ERROR, format!("writing the rule file failed: {m}"))
        }
    }
}

fn no_groups() -> Response {
    text(StatusCode::NOT_FOUND, "no rule groups found")
}

pub async fn list_all(State(st): State<Http>, h: HeaderMap) -> Response {
    let tenant = match st.tenant(&h) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let all: BTreeMap<String, Vec<RuleGroup>> =
        st.ruler.namespaces(&tenant).into_iter().map(|(ns, f)| (ns, f.groups)).collect();
    if all.is_empty() {
        return no_groups();
    }
    yaml(to_yaml(&all))
}

pub async fn get_namespace(State(st): State<Http>, h: HeaderMap, Path(ns): Path<String>) -> Response {
    let tenant = match st.tenant(&h) {
        Ok(t) => t,
        Err(r) => return r,
    };
    match st.ruler.namespaces(&tenant).remove(&ns) {
        Some(f) => yaml(to_yaml(&BTreeMap::from([(ns, f.groups)]))),
        None => no_groups(),
    }
}

pub async fn get_group(State(st): State<Http>, h: HeaderMap, Path((ns, group)): Path<(String, String)>) -> Response {
    let tenant = match st.tenant(&h) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let found = st.ruler.namespaces(&tenant).remove(&ns).and_then(|f| f.groups.into_iter().find(|g| g.name == group));
    match found {
        Some(g) => yaml(to_yaml(&g)),
        None => text(StatusCode::NOT_FOUND, "group does not exist"),
    }
}

pub async fn post_group(State(st): State<Http>, h: HeaderMap, Path(ns): Path<String>, body: String) -> Response {
    let tenant = match st.tenant(&h) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let group = match parse_group(&body) {
        Ok(g) => g,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("invalid rule group YAML: {e}")),
    };
    let name = group.name.clone();
    match st.ruler.put_group(&tenant, &ns, group).await {
        Ok(()) => {
            tracing::info!(%tenant, namespace = %ns, group = %name, "rule group saved");
            accepted()
        }
        Err(e) => edit_error(e),
    }
}

pub async fn delete_namespace(State(st): State<Http>, h: HeaderMap, Path(ns): Path<String>) -> Response {
    let tenant = match st.tenant(&h) {
        Ok(t) => t,
        Err(r) => return r,
    };
    match st.ruler.delete(&tenant, &ns, None).await {
        Ok(()) => accepted(),
        Err(e) => edit_error(e),
    }
}

pub async fn delete_group(State(st): State<Http>, h: HeaderMap, Path((ns, group)): Path<(String, String)>) -> Response {
    let tenant = match st.tenant(&h) {
        Ok(t) => t,
        Err(r) => return r,
    };
    match st.ruler.delete(&tenant, &ns, Some(&group)).await {
        Ok(()) => accepted(),
        Err(e) => edit_error(e),
    }
}
