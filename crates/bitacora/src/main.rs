//! `bitacora`: the command line. It parses flags, loads the configuration and hands over to
//! the server or the client; everything else lives in the library crates.
//!
//! `hyper`, `hyper-util` and `tower` (all already under axum) drive the HTTP listener directly,
//! for what `axum::serve` does not offer: a header read timeout, an idle timeout and a
//! connection cap (see `server.rs`).

mod alerting;
mod apps;
mod client;
mod cluster;
mod config;
mod dashboards;
mod drilldown;
mod log_level;
mod logging;
mod memory;
mod reload;
mod server;
mod tls;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "bitacora", version, about = "Logs of Docker and Dokku hosts: collect, store, query, see.")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Store and Loki-compatible API (and UI) on one port.
    Server(ServerArgs),
    /// Everything for one host: server plus the local Docker agent (the default).
    Run(ServerArgs),
    /// Run a LogQL query against a server, like logcli.
    Query(client::QueryArgs),
    /// List label names, or the values of one label.
    Labels(client::LabelsArgs),
    /// Collect this host's Docker logs and push them to Bitácora or Loki.
    Agent(AgentArgs),
    /// Read a password (or API token) from stdin, print its argon2id hash for
    /// auth.users[].password_hash (or auth.tokens[].token_hash).
    HashPassword,
    /// Check a configuration (file and environment): exit 0, or 1 with every problem named.
    CheckConfig(CheckArgs),
}

#[derive(Args)]
struct CheckArgs {
    /// YAML configuration file.
    #[arg(long, env = "BITACORA_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Args)]
struct AgentArgs {
    /// Push endpoint, e.g. http://central:3100/loki/api/v1/push.
    #[arg(long, env = "BITACORA_AGENT__PUSH_URL")]
    push_url: Option<String>,
    /// YAML configuration file (its `agent:` section).
    #[arg(long, env = "BITACORA_CONFIG")]
    config: Option<PathBuf>,
    /// Docker API socket [default: unix:///var/run/docker.sock].
    #[arg(long)]
    docker_host: Option<String>,
    /// Positions file [default: ./data/agent-positions.json].
    #[arg(long)]
    positions: Option<PathBuf>,
    /// Tenant (X-Scope-OrgID).
    #[arg(long)]
    tenant: Option<String>,
    /// Serve the agent's /metrics here.
    #[arg(long, default_value = "127.0.0.1:9080")]
    metrics_listen: std::net::SocketAddr,
}

#[derive(Args, Default)]
struct ServerArgs {
    /// YAML configuration file.
    #[arg(long, env = "BITACORA_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:3100].
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Data directory [default: ./data].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// `writer` (default) stores pushes and answers queries; `query` only answers queries, over
    /// every writer's segments in the bucket (store.object_store).
    #[arg(long, value_enum)]
    role: Option<config::Role>,
}

fn main() -> std::process::ExitCode {
    memory::tune();
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Run(ServerArgs::default())) {
        Command::Server(a) => start(a, false),
        Command::Run(a) => start(a, true),
        Command::Query(a) => client::query(a),
        Command::Labels(a) => client::labels(a),
        Command::Agent(a) => start_agent(a),
        Command::CheckConfig(a) => {
            let problems = config::check(a.config.as_deref());
            if problems.is_empty() {
                let what = a.config.as_deref().map_or("the defaults".into(), |p| p.display().to_string());
                println!("configuration OK: {what} with the BITACORA_* environment");
                return std::process::ExitCode::SUCCESS;
            }
            for p in &problems {
                eprintln!("bitacora: {p}");
            }
            eprintln!("bitacora: {} problem(s) in the configuration", problems.len());
            return std::process::ExitCode::FAILURE;
        }
        Command::HashPassword => hash_password(),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bitacora: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn start(a: ServerArgs, all_in_one: bool) -> anyhow::Result<()> {
    let mut cfg = config::Config::load(a.config.as_deref())?;
    if let Some(l) = a.listen {
        cfg.listen = l;
    }
    if let Some(d) = a.data_dir {
        cfg.data_dir = d;
    }
    if let Some(r) = a.role {
        cfg.cluster.role = r;
    }
    if cfg.cluster.role == config::Role::Query {
        if all_in_one {
            anyhow::bail!("a query node collects no logs: use `bitacora server --role query`");
        }
        if !cfg.store.object_store.enabled() {
            anyhow::bail!(
                "a query node answers from the writers' bucket: set store.object_store (bucket, endpoint, credentials)"
            );
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(server::serve(cfg, all_in_one, a.config))
}

/// `bitacora hash-password`: the first line of stdin (without its line end) hashed.
fn hash_password() -> anyhow::Result<()> {
    use std::io::{BufRead, Read};
    let mut line = String::new();
    std::io::stdin().lock().take(64 * 1024).read_line(&mut line)?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        anyhow::bail!("no password on stdin: e.g. `printf '%s' \"$PASSWORD\" | bitacora hash-password`");
    }
    let hash = auth::hash_password(password.as_bytes()).map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    println!("{hash}");
    Ok(())
}

fn start_agent(a: AgentArgs) -> anyhow::Result<()> {
    // The agent is small and mostly single-threaded work: one malloc arena keeps its memory
    // from spreading over per-thread arenas (peak RSS measured by `cargo bench --bench agent`).
    #[cfg(all(target_os = "linux", target_env = "gnu", not(feature = "mimalloc")))]
    // SAFETY: mallopt only sets an allocator tunable; it is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
    let mut cfg = config::Config::load(a.config.as_deref())?;
    if let Some(u) = a.push_url {
        cfg.agent.push_url = Some(u.into());
    }
    if let Some(h) = a.docker_host {
        cfg.agent.docker_host = h;
    }
    if let Some(p) = a.positions {
        cfg.agent.positions_file = Some(p);
    }
    if let Some(t) = a.tenant {
        cfg.agent.tenant = Some(t);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(server::agent_only(cfg, a.metrics_listen))
}
