//! The web UI's files, embedded in the binary, and the handler that serves them: a file when the
//! path names one, `index.html` for the UI's own routes (`/`, `/explore`, `/apps`, ...).
//!
//! It knows nothing of the API; the page talks to it over HTTP like any other client.

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../ui/dist"]
struct Assets;

/// Serves a UI file or the single-page app's `index.html`; `None` for paths that look like API
/// calls, so the caller can answer them itself.
pub fn serve(uri: &Uri) -> Option<Response> {
    let path = uri.path().trim_start_matches('/');
    if let Some(f) = Assets::get(path).filter(|_| !path.is_empty()) {
        let mime = f.metadata.mimetype().to_string();
        let cache = if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
        let mut r = (StatusCode::OK, f.data.into_owned()).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
        );
        r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        return Some(r);
    }
    let api_like = ["loki/", "api/", "metrics", "ready", "config", "flush", "ingester/", "prometheus/", "otlp/"];
    // A dot means a file, except in the alerting and dashboard pages' paths, which carry names.
    let ui_route_with_names = path.starts_with("alerting/") || path.starts_with("d/");
    if api_like.iter().any(|p| path.starts_with(p)) || (path.contains('.') && !ui_route_with_names) {
        return None;
    }
    let index = Assets::get("index.html")?;
    let mut r = (StatusCode::OK, index.data.into_owned()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Some(r)
}
