//! Grafana's dashboard, folder and search routes over [`Dashboards`].

mod dashboards;
mod folders;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};

use crate::error::Error;
use crate::store::Dashboards;

#[derive(Clone)]
pub(crate) struct Ctx {
    pub d: Arc<Dashboards>,
    pub user_of: crate::UserOf,
}

impl Dashboards {
    /// The routes; `user_of` names the caller for `createdBy`/`updatedBy`.
    pub fn router(self: &Arc<Self>, user_of: crate::UserOf) -> Router {
        let ctx = Ctx { d: self.clone(), user_of };
        Router::new()
            .route("/api/dashboards/db", post(dashboards::save))
            .route("/api/dashboards/db/", post(dashboards::save))
            .route("/api/dashboards/uid/{uid}", get(dashboards::get).delete(dashboards::delete))
            .route("/api/dashboards/uid/{uid}/versions", get(dashboards::versions))
            .route("/api/dashboards/uid/{uid}/versions/{version}", get(dashboards::version))
            .route("/api/dashboards/uid/{uid}/restore", post(dashboards::restore))
            .route("/api/dashboards/tags", get(dashboards::tags))
            .route("/api/search", get(dashboards::search))
            .route("/api/folders", get(folders::list).post(folders::create))
            .route("/api/folders/{uid}", get(folders::get).delete(folders::delete))
            .with_state(ctx)
    }
}

/// A JSON body of at most [`crate::MAX_DASHBOARD_BYTES`] (+ room for the envelope), parsed
/// into `T`; a parse failure names the line, column and problem.
pub(crate) async fn json_body<T: serde::de::DeserializeOwned>(body: Body) -> Result<T, Error> {
    let bytes =
        axum::body::to_bytes(body, crate::MAX_DASHBOARD_BYTES + 64 * 1024).await.map_err(|_| Error::TooLarge)?;
    if bytes.is_empty() {
        return Err(Error::BadRequest("the request has no body; a JSON object is expected".into()));
    }
    serde_json::from_slice(&bytes).map_err(|e| Error::BadRequest(format!("invalid JSON body: {e}")))
}
