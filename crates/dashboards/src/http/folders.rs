//! `/api/folders`.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Ctx, json_body};
use crate::error::Error;

pub async fn list(State(c): State<Ctx>) -> Response {
    let v: Vec<Value> = c.d.folders().iter().map(|f| f.to_json()).collect();
    Json(v).into_response()
}

pub async fn get(State(c): State<Ctx>, Path(uid): Path<String>) -> Result<Response, Error> {
    let f = c.d.folder(&uid).ok_or(Error::NotFound("Folder"))?;
    Ok(Json(f.to_json()).into_response())
}

#[derive(serde::Deserialize)]
struct NewFolder {
    title: String,
    #[serde(default)]
    uid: Option<String>,
}

pub async fn create(State(c): State<Ctx>, req: Request) -> Result<Response, Error> {
    let nf: NewFolder = json_body(req.into_body()).await?;
    let d = c.d.clone();
    let f = tokio::task::spawn_blocking(move || d.create_folder(&nf.title, nf.uid.as_deref()))
        .await
        .map_err(|e| Error::Storage(e.to_string()))??;
    let mut v = f.to_json();
    v["version"] = json!(1);
    Ok(Json(v).into_response())
}

pub async fn delete(State(c): State<Ctx>, Path(uid): Path<String>) -> Result<Response, Error> {
    let d = c.d.clone();
    let f = tokio::task::spawn_blocking(move || d.delete_folder(&uid))
        .await
        .map_err(|e| Error::Storage(e.to_string()))??;
    Ok(Json(json!({ "title": f.title, "message": format!("Folder {} deleted", f.title), "id": f.id })).into_response())
}
