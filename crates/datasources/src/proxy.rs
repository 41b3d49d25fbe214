//! The query proxy: a request on `/api/datasources/proxy/.../{path}` goes to `url + path` with
//! its query string and body, credentials added here (basic auth, `httpHeaderNameN`), within the
//! data source's time-out; the answer keeps the upstream's status, content type and body
//! (streamed). Only query endpoints pass. The built-in data source is answered in process by
//! the API router, with the caller's own credentials.

use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use tower::ServiceExt;

use crate::metrics::{ByType, Proxied};
use crate::set::DataSources;
use crate::source::DataSource;

/// The largest request body the proxy forwards (a long query sent as a form).
const MAX_BODY: usize = 4 << 20;

/// Grafana's error shape.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(serde_json::json!({ "message": message.into() }))).into_response()
}

impl DataSources {
    /// Forwards `req` to `ds` on `path` (percent-decoded, without the proxy prefix).
    pub(crate) async fn forward(&self, ds: &DataSource, path: &str, req: Request) -> Response {
        let started = Instant::now();
        let resp = if !crate::allowed_path(ds.kind, path) {
            error(
                StatusCode::FORBIDDEN,
                format!(
                    "the data source proxy only forwards query endpoints; {:?} is not one of the {} endpoints it allows",
                    format!("/{}", path.trim_start_matches('/')),
                    ds.kind.as_str()
                ),
            )
        } else if ds.builtin {
            self.local(path, req).await
        } else {
            self.remote(ds, path, req).await
        };
        let t = ds.kind.as_str().to_string();
        self.metrics
            .requests
            .get_or_create(&Proxied { r#type: t.clone(), status_code: resp.status().as_u16().to_string() })
            .inc();
        self.metrics.duration.get_or_create(&ByType { r#type: t }).observe(started.elapsed().as_secs_f64());
        resp
    }

    async fn local(&self, path: &str, req: Request) -> Response {
        let Some(router) = self.local.get() else {
            return error(StatusCode::SERVICE_UNAVAILABLE, "the built-in data source is not ready yet");
        };
        let (mut parts, body) = req.into_parts();
        let query = parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        let uri = format!("/{}{query}", path.trim_start_matches('/'));
        parts.uri = match uri.parse() {
            Ok(u) => u,
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("proxied path {uri:?}: {e}")),
        };
        parts.extensions.remove::<axum::extract::MatchedPath>();
        match router.clone().oneshot(Request::from_parts(parts, body)).await {
            Ok(r) => r,
            Err(never) => match never {},
        }
    }

    async fn remote(&self, ds: &DataSource, path: &str, req: Request) -> Response {
        let (parts, body) = req.into_parts();
        let mut url = format!("{}/{}", ds.url.trim_end_matches('/'), path.trim_start_matches('/'));
        if let Some(q) = parts.uri.query() {
            url.push('?');
            url.push_str(q);
        }
        let body = match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(b) => b,
            Err(_) => {
                return error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("a proxied request body may be at most {} MiB", MAX_BODY >> 20),
                );
            }
        };
        let mut rb = self.client.request(parts.method.clone(), &url).timeout(ds.timeout());
        for h in [header::CONTENT_TYPE, header::ACCEPT] {
            if let Some(v) = parts.headers.get(&h) {
                rb = rb.header(h, v.clone());
            }
        }
        if ds.basic_auth {
            let pw = ds.secure_json_data.get("basicAuthPassword").map(String::as_str).unwrap_or("");
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{}:{pw}", ds.basic_auth_user));
            rb = rb.header(header::AUTHORIZATION, format!("Basic {token}"));
        }
        for (name, value) in ds.extra_headers() {
            rb = rb.header(name, value);
        }
        if !body.is_empty() {
            rb = rb.body(body);
        }
        let upstream = match rb.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return error(
                    StatusCode::GATEWAY_TIMEOUT,
                    format!("data source {:?} did not answer within {:?}", ds.name, ds.timeout()),
                );
            }
            Err(e) => {
                let mut msg = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    msg = format!("{msg}: {s}");
                    src = s.source();
                }
                return error(StatusCode::BAD_GATEWAY, format!("data source {:?} ({}): {msg}", ds.name, ds.url));
            }
        };
        let status = StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let ctype = upstream.headers().get(header::CONTENT_TYPE).cloned();
        let name = ds.name.clone();
        let stream = futures_util::stream::unfold(Some(upstream), move |r| {
            let name = name.clone();
            async move {
                let mut r = r?;
                match r.chunk().await {
                    Ok(Some(b)) => Some((Ok::<_, std::io::Error>(b), Some(r))),
                    Ok(None) => None,
                    Err(e) => {
                        tracing::warn!(datasource = %name, error = %e, "proxied answer cut short");
                        Some((Err(std::io::Error::other(e)), None))
                    }
                }
            }
        });
        let mut resp = Response::new(Body::from_stream(stream));
        *resp.status_mut() = status;
        if let Some(c) = ctype {
            resp.headers_mut().insert(header::CONTENT_TYPE, c);
        }
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}
