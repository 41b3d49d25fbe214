//! What a request is, for the access rules: the access a path needs (open, public, any
//! principal, push, read, admin, a UI page), the client's address through trusted proxies, and
//! whether another site made the request.

use std::net::IpAddr;

use crate::config::Compiled;
use crate::{Access, Request};

/// Paths whose writes change alerting's configuration: rules, silences, test notifications.
const ALERTING_WRITES: [&str; 5] =
    ["/loki/api/v1/rules", "/api/prom/rules", "/api/v2/silence", "/alertmanager/api/v2/silence", "/api/alerting/"];

/// Paths whose writes change dashboards, folders or data sources; the data source proxy's
/// queries are reads.
const DASHBOARD_WRITES: [&str; 3] = ["/api/dashboards", "/api/folders", "/api/datasources"];

/// Alertmanager's alert intake, which other Prometheus servers and rulers post to.
const ALERT_INTAKE: [&str; 2] = ["/api/v2/alerts", "/alertmanager/api/v2/alerts"];

/// The access a request needs: its path's, except that changing alerting's configuration (rule
/// groups, silences, test notifications) or dashboards, folders and data sources needs the admin
/// scope (queries through the data source proxy are reads) and posting alerts the push
/// scope, while reading them needs only read. Delete requests are listed with read and
/// created or cancelled with admin.
pub(crate) fn classify_request(c: &Compiled, safe_method: bool, path: &str) -> Access {
    let access = classify(c, path);
    // Listing delete requests is a read; creating and cancelling them is an admin's.
    if safe_method && path == "/loki/api/v1/delete" {
        return Access::Read;
    }
    if safe_method || access != Access::Read {
        return access;
    }
    if ALERT_INTAKE.contains(&path) {
        Access::Push
    } else if ALERTING_WRITES.iter().any(|p| path.starts_with(p))
        || (DASHBOARD_WRITES.iter().any(|p| path.starts_with(p)) && !path.starts_with("/api/datasources/proxy/"))
    {
        Access::Admin
    } else {
        access
    }
}

/// The access a path needs.
pub(crate) fn classify(c: &Compiled, path: &str) -> Access {
    if c.open_exact.contains(path) || c.open_prefix.iter().any(|p| path.starts_with(p.as_str())) {
        return Access::Open;
    }
    let admin_prefixes = ["/api/v1/admin", "/admin/", "/ingester/", "/loki/api/v1/delete", "/loki/api/v1/admin"];
    match path {
        "/auth/login" | "/auth/session" | "/login" | "/favicon.ico" => Access::Public,
        p if p.starts_with("/assets/") => Access::Public,
        "/auth/logout" => Access::Any,
        "/flush" | "/config" | "/log_level" => Access::Admin,
        p if admin_prefixes.iter().any(|a| p.starts_with(a)) => Access::Admin,
        "/loki/api/v1/push" | "/api/prom/push" => Access::Push,
        p if p.starts_with("/otlp/") => Access::Push,
        p if p.starts_with("/loki/") || p.starts_with("/api/") || p.starts_with("/prometheus/") => Access::Read,
        p if p.starts_with("/alertmanager/api/") => Access::Read,
        "/metrics" | "/ready" => Access::Read,
        _ => Access::Ui,
    }
}

pub(crate) fn client_ip(c: &Compiled, req: &Request) -> Option<IpAddr> {
    let peer = req.peer?;
    let trusted = |ip: &IpAddr| c.trusted.iter().any(|n| n.contains(ip));
    if !trusted(&peer) {
        return Some(peer);
    }
    let Some(xff) = &req.forwarded_for else { return Some(peer) };
    let mut last = peer;
    for a in xff.rsplit(',') {
        match a.trim().parse::<IpAddr>() {
            Ok(ip) if trusted(&ip) => last = ip,
            Ok(ip) => return Some(ip),
            Err(_) => break,
        }
    }
    Some(last)
}

/// Whether the request's `Origin` (or `Sec-Fetch-Site`) says another site made it.
pub(crate) fn cross_origin(c: &Compiled, req: &Request) -> bool {
    if req.sec_fetch_site.as_deref().is_some_and(|s| s == "cross-site" || s == "same-site") {
        return true;
    }
    let Some(origin) = &req.origin else { return false };
    if origin == "null" {
        return true;
    }
    let origin_host = origin.split_once("://").map_or(origin.as_str(), |(_, h)| h).trim_end_matches('/');
    let behind_proxy = req.peer.is_some_and(|p| c.trusted.iter().any(|n| n.contains(&p)));
    let host = match (&req.forwarded_host, behind_proxy) {
        (Some(h), true) => Some(h.as_str()),
        _ => req.host.as_deref(),
    };
    !host.is_some_and(|h| h.eq_ignore_ascii_case(origin_host))
}
