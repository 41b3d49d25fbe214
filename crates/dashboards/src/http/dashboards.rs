//! `/api/dashboards/...` and `/api/search`.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Ctx, json_body};
use crate::error::Error;
use crate::record::Record;
use crate::search::SearchQuery;
use crate::store::{SaveRequest, Saved};

fn saved(s: Saved) -> Response {
    Json(json!({ "id": s.id, "uid": s.uid, "url": s.url, "status": "success", "version": s.version, "slug": s.slug }))
        .into_response()
}

fn split(req: Request) -> (axum::http::request::Parts, Body) {
    req.into_parts()
}

pub async fn save(State(c): State<Ctx>, req: Request) -> Result<Response, Error> {
    let (parts, body) = split(req);
    let user = (c.user_of)(&parts).name;
    let r: SaveRequest = json_body(body).await?;
    if r.dashboard.is_null() {
        return Err(Error::BadRequest("the body has no \"dashboard\" object".into()));
    }
    let d = c.d.clone();
    let s =
        tokio::task::spawn_blocking(move || d.save(r, &user)).await.map_err(|e| Error::Storage(e.to_string()))??;
    Ok(saved(s))
}

fn meta(c: &Ctx, r: &Record, can_write: bool) -> Value {
    let folder = c.d.folder(&r.folder_uid);
    let can_save = r.can_save() && can_write;
    let p = r.provisioned.as_ref();
    json!({
        "type": "db",
        "slug": r.slug(),
        "url": r.url(),
        "version": r.version,
        "created": r.created,
        "updated": r.updated,
        "createdBy": r.created_by,
        "updatedBy": r.updated_by,
        "canSave": can_save,
        // As in Grafana: a writer may edit a provisioned dashboard (to save a copy or export it).
        "canEdit": can_write,
        "canAdmin": can_save,
        "canDelete": p.is_none() && can_write,
        "canStar": false,
        "provisioned": p.is_some(),
        "provisionedExternalId": p.map(|p| p.external_id.clone()).unwrap_or_default(),
        "folderId": folder.as_ref().map_or(0, |f| f.id),
        "folderUid": r.folder_uid,
        "folderTitle": folder.as_ref().map_or("General".to_string(), |f| f.title.clone()),
        "folderUrl": folder.as_ref().map(|f| f.url()).unwrap_or_default(),
        "hasAcl": false,
        "isFolder": false,
    })
}

pub async fn get(State(c): State<Ctx>, Path(uid): Path<String>, req: Request) -> Result<Response, Error> {
    let (parts, _) = split(req);
    let caller = (c.user_of)(&parts);
    let r = c.d.get(&uid).ok_or(Error::NotFound("Dashboard"))?;
    Ok(Json(json!({ "dashboard": r.data, "meta": meta(&c, &r, caller.can_write) })).into_response())
}

pub async fn delete(State(c): State<Ctx>, Path(uid): Path<String>) -> Result<Response, Error> {
    let d = c.d.clone();
    let r = tokio::task::spawn_blocking(move || d.delete(&uid)).await.map_err(|e| Error::Storage(e.to_string()))??;
    let title = r.title().to_string();
    Ok(Json(json!({ "title": title, "message": format!("Dashboard {title} deleted"), "id": r.id })).into_response())
}

pub async fn versions(State(c): State<Ctx>, Path(uid): Path<String>) -> Result<Response, Error> {
    let r = c.d.get(&uid).ok_or(Error::NotFound("Dashboard"))?;
    let list: Vec<Value> = r
        .versions
        .iter()
        .rev()
        .map(|v| {
            json!({
                "id": v.version,
                "dashboardId": r.id,
                "uid": r.uid,
                "version": v.version,
                "parentVersion": v.parent_version,
                "restoredFrom": 0,
                "created": v.created,
                "createdBy": v.created_by,
                "message": v.message,
            })
        })
        .collect();
    Ok(Json(list).into_response())
}

pub async fn version(State(c): State<Ctx>, Path((uid, version)): Path<(String, String)>) -> Result<Response, Error> {
    let n: i64 = version.parse().map_err(|_| Error::BadRequest(format!("version {version:?} is not a number")))?;
    let r = c.d.get(&uid).ok_or(Error::NotFound("Dashboard"))?;
    let v = r.versions.iter().find(|v| v.version == n).ok_or(Error::NotFound("Dashboard version"))?;
    Ok(Json(json!({
        "id": v.version,
        "dashboardId": r.id,
        "uid": r.uid,
        "version": v.version,
        "parentVersion": v.parent_version,
        "created": v.created,
        "createdBy": v.created_by,
        "message": v.message,
        "data": v.data,
    }))
    .into_response())
}

#[derive(serde::Deserialize)]
struct RestoreBody {
    version: i64,
}

pub async fn restore(State(c): State<Ctx>, Path(uid): Path<String>, req: Request) -> Result<Response, Error> {
    let (parts, body) = split(req);
    let user = (c.user_of)(&parts).name;
    let b: RestoreBody = json_body(body).await?;
    let d = c.d.clone();
    let s = tokio::task::spawn_blocking(move || d.restore(&uid, b.version, &user))
        .await
        .map_err(|e| Error::Storage(e.to_string()))??;
    Ok(saved(s))
}

pub async fn tags(State(c): State<Ctx>) -> Response {
    let t: Vec<Value> = c.d.tags().into_iter().map(|(term, count)| json!({ "term": term, "count": count })).collect();
    Json(t).into_response()
}

pub async fn search(State(c): State<Ctx>, uri: axum::http::Uri) -> Result<Response, Error> {
    let q = SearchQuery::parse(uri.query().unwrap_or("")).map_err(Error::BadRequest)?;
    Ok(Json(c.d.search(&q)).into_response())
}
