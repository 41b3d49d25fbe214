//! Grafana's data source routes: the listing (secrets masked) and the proxy.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::proxy::error;
use crate::set::DataSources;
use crate::source::DataSource;

type S = State<Arc<DataSources>>;

pub fn router(ds: Arc<DataSources>) -> Router {
    Router::new()
        .route("/api/datasources", get(list))
        .route("/api/datasources/uid/{uid}", get(by_uid))
        .route("/api/datasources/name/{name}", get(by_name))
        .route("/api/datasources/{id}", get(by_id))
        .route("/api/datasources/proxy/uid/{uid}/{*path}", get(proxy_uid).post(proxy_uid))
        .route("/api/datasources/proxy/{id}/{*path}", get(proxy_id).post(proxy_id))
        .with_state(ds)
}

fn one(d: Option<DataSource>) -> Response {
    match d {
        Some(d) => axum::Json(d.to_json()).into_response(),
        None => error(StatusCode::NOT_FOUND, "Data source not found"),
    }
}

async fn list(State(ds): S) -> Response {
    let all: Vec<_> = ds.all().iter().map(DataSource::to_json).collect();
    axum::Json(all).into_response()
}

async fn by_uid(State(ds): S, Path(uid): Path<String>) -> Response {
    one(ds.by_uid(&uid))
}

async fn by_name(State(ds): S, Path(name): Path<String>) -> Response {
    one(ds.by_name(&name))
}

async fn by_id(State(ds): S, Path(id): Path<String>) -> Response {
    match id.parse::<i64>() {
        Ok(id) => one(ds.by_id(id)),
        Err(_) => error(StatusCode::BAD_REQUEST, format!("data source id {id:?} is not a number")),
    }
}

async fn proxy_uid(State(ds): S, Path((uid, path)): Path<(String, String)>, req: Request) -> Response {
    match ds.by_uid(&uid) {
        Some(d) => ds.forward(&d, &path, req).await,
        None => error(StatusCode::NOT_FOUND, format!("no data source with uid {uid:?}")),
    }
}

async fn proxy_id(State(ds): S, Path((id, path)): Path<(String, String)>, req: Request) -> Response {
    let Ok(n) = id.parse::<i64>() else {
        return error(StatusCode::BAD_REQUEST, format!("data source id {id:?} is not a number"));
    };
    match ds.by_id(n) {
        Some(d) => ds.forward(&d, &path, req).await,
        None => error(StatusCode::NOT_FOUND, format!("no data source with id {n}")),
    }
}
