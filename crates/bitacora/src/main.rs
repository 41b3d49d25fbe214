//! `bitacora`: the command line. It parses flags, loads the configuration and hands over to
//! the server or the client; everything else lives in the library crates.

mod client;
mod config;
mod server;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Run(ServerArgs::default())) {
        Command::Server(a) => start(a, false),
        Command::Run(a) => start(a, true),
        Command::Query(a) => client::query(a),
        Command::Labels(a) => client::labels(a),
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
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(server::serve(cfg, all_in_one))
}
