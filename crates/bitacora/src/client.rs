//! `bitacora query` and `bitacora labels`: a small logcli over the same HTTP API.

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use serde_json::Value;

#[derive(Clone, Copy, ValueEnum, Default)]
pub enum Output {
    /// Timestamp, labels and line.
    #[default]
    Default,
    /// The line alone.
    Raw,
    /// One JSON object per entry.
    Jsonl,
}

#[derive(Args)]
pub struct QueryArgs {
    /// The LogQL query.
    query: String,
    #[command(flatten)]
    remote: Remote,
    /// How far back to look (Prometheus duration), unless --from is given.
    #[arg(long, default_value = "1h")]
    since: String,
    /// Start: RFC3339 or Unix time.
    #[arg(long)]
    from: Option<String>,
    /// End: RFC3339 or Unix time [default: now].
    #[arg(long)]
    to: Option<String>,
    /// Maximum number of entries.
    #[arg(long, default_value_t = 30)]
    limit: u32,
    /// Oldest first.
    #[arg(long)]
    forward: bool,
    /// Step for metric queries (e.g. 1m).
    #[arg(long)]
    step: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    output: Output,
}

#[derive(Args)]
pub struct LabelsArgs {
    /// A label name: list its values instead of the names.
    name: Option<String>,
    #[command(flatten)]
    remote: Remote,
    #[arg(long, default_value = "1h")]
    since: String,
}

/// Where the server is and how to authenticate (logcli's flags and variables).
#[derive(Args)]
pub struct Remote {
    /// Server address.
    #[arg(long, env = "BITACORA_ADDR", default_value = "http://127.0.0.1:3100")]
    addr: String,
    /// Tenant (X-Scope-OrgID).
    #[arg(long, env = "BITACORA_TENANT")]
    tenant: Option<String>,
    /// User name for HTTP basic auth.
    #[arg(long, env = "LOKI_USERNAME")]
    username: Option<String>,
    /// Password for HTTP basic auth.
    #[arg(long, env = "LOKI_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// API token, sent as `Authorization: Bearer`.
    #[arg(long, env = "LOKI_BEARER_TOKEN", hide_env_values = true)]
    bearer_token: Option<String>,
    /// A PEM CA certificate to trust for an https:// address (besides the system's).
    #[arg(long, env = "LOKI_CA_CERT_PATH")]
    ca_cert: Option<std::path::PathBuf>,
}

fn get(remote: &Remote, path: &str, params: &[(&str, String)]) -> anyhow::Result<Value> {
    let addr = &remote.addr;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let mut client = reqwest::Client::builder();
        if let Some(p) = &remote.ca_cert {
            let pem = std::fs::read(p).with_context(|| format!("cannot read --ca-cert {}", p.display()))?;
            client = client.add_root_certificate(
                reqwest::Certificate::from_pem(&pem)
                    .with_context(|| format!("--ca-cert {}: not a PEM certificate", p.display()))?,
            );
        }
        let mut req = client.build()?.get(format!("{}{path}", addr.trim_end_matches('/'))).query(params);
        if let Some(t) = &remote.tenant {
            req = req.header("X-Scope-OrgID", t);
        }
        if let Some(u) = &remote.username {
            req = req.basic_auth(u, remote.password.as_deref());
        } else if let Some(t) = &remote.bearer_token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.with_context(|| format!("cannot reach {addr}; is `bitacora server` running?"))?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            bail!("{status}: {}", text.trim());
        }
        serde_json::from_str(&text).with_context(|| format!("unexpected answer: {text}"))
    })
}

pub fn query(a: QueryArgs) -> anyhow::Result<()> {
    let mut params = vec![
        ("query", a.query.clone()),
        ("limit", a.limit.to_string()),
        ("direction", if a.forward { "forward" } else { "backward" }.to_string()),
    ];
    match &a.from {
        Some(f) => params.push(("start", f.clone())),
        None => params.push(("since", a.since.clone())),
    }
    if let Some(t) = &a.to {
        params.push(("end", t.clone()));
    }
    if let Some(s) = &a.step {
        params.push(("step", s.clone()));
    }
    let v = get(&a.remote, "/loki/api/v1/query_range", &params)?;
    let data = &v["data"];
    if data["resultType"] != "streams" {
        println!("{}", serde_json::to_string_pretty(&data["result"])?);
        return Ok(());
    }
    // Merge all streams' entries in the requested order, as logcli prints them.
    let mut rows: Vec<(i64, String, String, &Value)> = Vec::new();
    for s in data["result"].as_array().into_iter().flatten() {
        let labels = format_labels(&s["stream"]);
        for v in s["values"].as_array().into_iter().flatten() {
            let ts: i64 = v[0].as_str().unwrap_or("0").parse().unwrap_or(0);
            rows.push((ts, labels.clone(), v[1].as_str().unwrap_or("").to_string(), &s["stream"]));
        }
    }
    rows.sort_by_key(|r| r.0);
    if !a.forward {
        rows.reverse();
    }
    for (ts, labels, line, stream) in rows {
        let t = jiff::Timestamp::from_nanosecond(ts as i128).map(|t| t.to_string()).unwrap_or_default();
        match a.output {
            Output::Default => println!("{t} {labels} {line}"),
            Output::Raw => println!("{line}"),
            Output::Jsonl => println!("{}", serde_json::json!({"timestamp": t, "labels": stream, "line": line})),
        }
    }
    Ok(())
}

fn format_labels(v: &Value) -> String {
    let mut parts: Vec<String> = v
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", serde_json::to_string(v).unwrap_or_default()))
        .collect();
    parts.sort();
    format!("{{{}}}", parts.join(", "))
}

pub fn labels(a: LabelsArgs) -> anyhow::Result<()> {
    let path = match &a.name {
        Some(n) => format!("/loki/api/v1/label/{n}/values"),
        None => "/loki/api/v1/labels".to_string(),
    };
    let v = get(&a.remote, &path, &[("since", a.since.clone())])?;
    for item in v["data"].as_array().into_iter().flatten() {
        println!("{}", item.as_str().unwrap_or_default());
    }
    Ok(())
}
