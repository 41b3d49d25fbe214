//! `GET|POST /log_level`, as Loki serves it: GET tells the running level, POST (or GET) with
//! `log_level=debug|info|warn|error` changes it without a restart. Admin only (the auth crate
//! classifies the path).

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

async fn handle(method: Method, p: api::params::Params) -> Response {
    let answer = |status: StatusCode, ok: bool, message: String| {
        let body = json!({"message": message, "status": if ok { "success" } else { "failed" }});
        (status, [(axum::http::header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
    };
    match p.get("log_level") {
        None if method == Method::GET => {
            answer(StatusCode::OK, true, format!("Current log level is {}", crate::logging::level()))
        }
        None => answer(StatusCode::BAD_REQUEST, false, "log_level is required: debug, info, warn or error".into()),
        Some(l) => match crate::logging::set_level(l) {
            Ok(()) => {
                tracing::info!(level = %l, "log level changed");
                answer(StatusCode::OK, true, format!("Log level set to {}", crate::logging::level()))
            }
            Err(e) => answer(StatusCode::BAD_REQUEST, false, e),
        },
    }
}

pub fn routes() -> Router {
    Router::new().route("/log_level", get(handle).post(handle))
}
