//! Access control on the HTTP layer: the middleware in front of every route, and the login
//! page's endpoints (`POST /auth/login`, `POST /auth/logout`, `GET /auth/session`). The
//! decisions themselves are the `auth` crate's.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::{ApiError, AppState};

/// The internal header that carries a principal's pinned tenant to the handlers
/// ([`AppState::tenant`]); any value a client sends is removed first.
pub const PINNED_TENANT: &str = "x-bitacora-pinned-tenant";

/// The connection a request came on, set by the listener.
#[derive(Debug, Clone, Copy)]
pub struct ClientConn {
    pub peer: SocketAddr,
    pub tls: bool,
}

fn auth_request(
    app: &AppState,
    req_method: &Method,
    path: &str,
    headers: &HeaderMap,
    conn: Option<ClientConn>,
) -> auth::Request {
    auth::Request::new(&app.auth, req_method.as_str(), path, conn.map(|c| c.peer.ip()), |name| {
        headers.get(name).and_then(|v| v.to_str().ok())
    })
}

/// A request from the UI's own scripts (not a navigation): a 401 must not carry
/// `WWW-Authenticate`, or the browser would show its own password dialog.
fn from_script(headers: &HeaderMap) -> bool {
    headers.contains_key("x-requested-with")
        || headers.get("sec-fetch-mode").and_then(|v| v.to_str().ok()).is_some_and(|m| m != "navigate")
}

/// The middleware: authenticates, authorises, pins the tenant, or answers 401/403/429 (a UI
/// page without a session: a redirect to the login page).
pub async fn guard(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    req.headers_mut().remove(PINNED_TENANT);
    let conn = req.extensions().get::<ClientConn>().copied();
    let ar = auth_request(&app, req.method(), req.uri().path(), req.headers(), conn);
    match app.auth.authenticate(&ar).await {
        auth::Decision::Allow(p) => {
            if let Some(t) = &p.tenant
                && let Ok(v) = HeaderValue::from_str(t)
            {
                req.headers_mut().insert(PINNED_TENANT, v);
            }
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        auth::Decision::Unauthenticated { access: auth::Access::Ui, .. }
            if matches!(*req.method(), Method::GET | Method::HEAD) =>
        {
            let target = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let next: String = form_urlencoded::byte_serialize(target.as_bytes()).collect();
            let mut r = StatusCode::SEE_OTHER.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("/login?next={next}")) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        auth::Decision::Unauthenticated { message, .. } | auth::Decision::Invalid { message } => {
            let mut r = ApiError::new(StatusCode::UNAUTHORIZED, message).into_response();
            if !from_script(req.headers()) {
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(concat!("Basic realm=\"", "bitacora", "\", charset=\"UTF-8\"")),
                );
            }
            r
        }
        auth::Decision::Forbidden { message } => ApiError::new(StatusCode::FORBIDDEN, message).into_response(),
        auth::Decision::RateLimited { retry_after, message } => too_many(retry_after, message),
    }
}

fn too_many(retry_after: std::time::Duration, message: String) -> Response {
    let mut r = ApiError::new(StatusCode::TOO_MANY_REQUESTS, message).into_response();
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after.as_secs().max(1)));
    r
}

/// Whether cookies should be `Secure`: the connection is TLS, or a trusted proxy says its was.
fn secure(app: &AppState, headers: &HeaderMap, conn: Option<ClientConn>) -> bool {
    let Some(c) = conn else { return false };
    c.tls
        || (app.auth.trusted_proxy(c.peer.ip())
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|p| p.eq_ignore_ascii_case("https")))
}

fn cookie(value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let s = format!(
        "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        auth::SESSION_COOKIE,
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static(""))
}

#[derive(serde::Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

/// `POST /auth/login` with `{"username", "password"}` (JSON or a form): a session cookie and
/// `{"user", "csrf"}`.
pub async fn login(State(app): State<AppState>, req: Request) -> Response {
    let conn = req.extensions().get::<ClientConn>().copied();
    let (parts, body) = req.into_parts();
    let ar = auth_request(&app, &parts.method, parts.uri.path(), &parts.headers, conn);
    if app.auth.cross_origin(&ar) {
        return ApiError::new(StatusCode::FORBIDDEN, "cross-origin login refused: its Origin is not this server")
            .into_response();
    }
    let body: Bytes = match axum::body::to_bytes(body, 16 * 1024).await {
        Ok(b) => b,
        Err(_) => return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "login body larger than 16 KiB").into_response(),
    };
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    let form: LoginForm = if is_json {
        match serde_json::from_slice(&body) {
            Ok(f) => f,
            Err(e) => return ApiError::bad_request(format!("login body: {e}")).into_response(),
        }
    } else {
        let mut f = LoginForm { username: String::new(), password: String::new() };
        for (k, v) in form_urlencoded::parse(&body) {
            match &*k {
                "username" => f.username = v.into_owned(),
                "password" => f.password = v.into_owned(),
                _ => {}
            }
        }
        f
    };
    if form.username.is_empty() || form.password.is_empty() {
        return ApiError::bad_request("give a user name and a password").into_response();
    }
    match app.auth.login(&ar, &form.username, &form.password).await {
        Ok(s) => {
            let mut r = crate::json::response(&serde_json::json!({"user": s.user, "csrf": s.csrf}));
            r.headers_mut()
                .insert(header::SET_COOKIE, cookie(&s.id, s.max_age.as_secs(), secure(&app, &parts.headers, conn)));
            r
        }
        Err(auth::LoginError::Invalid) => {
            ApiError::new(StatusCode::UNAUTHORIZED, "wrong user name or password").into_response()
        }
        Err(auth::LoginError::RateLimited(wait)) => {
            too_many(wait, format!("too many failed logins; try again in {} s", wait.as_secs().max(1)))
        }
        Err(auth::LoginError::Disabled) => {
            ApiError::bad_request("no users are configured: this server needs no login").into_response()
        }
    }
}

/// `POST /auth/logout`: ends the session and clears its cookie.
pub async fn logout(State(app): State<AppState>, req: Request) -> Response {
    let conn = req.extensions().get::<ClientConn>().copied();
    let id = req.headers().get(header::COOKIE).and_then(|v| v.to_str().ok()).and_then(auth::session_from_cookies);
    if let Some(id) = id {
        app.auth.logout(id);
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(header::SET_COOKIE, cookie("", 0, secure(&app, req.headers(), conn)));
    r
}

/// `GET /auth/session`: who is logged in, how, and the session's CSRF token.
pub async fn session(State(app): State<AppState>, req: Request) -> Response {
    let p = req.extensions().get::<auth::Principal>();
    let user = p.filter(|p| !matches!(p.via, auth::Via::Anonymous | auth::Via::Disabled | auth::Via::Open));
    crate::json::response(&serde_json::json!({
        "auth_enabled": app.auth.enabled(),
        "user": user.map(|p| p.name.clone()),
        "csrf": user.and_then(|p| p.csrf.clone()),
        "tenant": user.and_then(|p| p.tenant.clone()),
        // How: "session" (the login page; logout ends it) or "proxy" (this path ignores an
        // Authorization header, so "basic" and "bearer" do not occur).
        "via": user.map(|p| match p.via {
            auth::Via::Session => "session",
            auth::Via::Basic => "basic",
            auth::Via::Bearer => "bearer",
            _ => "proxy",
        }),
    }))
}
