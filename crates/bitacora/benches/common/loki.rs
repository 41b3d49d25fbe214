//! Grafana Loki as a reference: a single-binary Loki (`scripts/loki.sh build`) on loopback ports
//! over a directory, configured as a self-hoster runs it (filesystem chunks, TSDB index, schema
//! v13) with its ingestion limits lifted so a benchmark can push as fast as it takes it, and its
//! results cache off so every run of a query is computed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Srv;

/// Where the Loki binary is: `LOKI_BIN` (empty: none), else `target/loki/bin/loki` if built.
pub fn binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LOKI_BIN") {
        return (!p.is_empty()).then(|| PathBuf::from(p));
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/loki/bin/loki");
    built.exists().then_some(built)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts Loki over `dir` and waits until it is ready.
pub fn start_in(bin: &Path, dir: &Path) -> Srv {
    let (http, grpc) = (free_port(), free_port());
    let d = dir.display();
    let config = format!(
        r#"auth_enabled: false
server:
  http_listen_address: 127.0.0.1
  http_listen_port: {http}
  grpc_listen_address: 127.0.0.1
  grpc_listen_port: {grpc}
  log_level: warn
  http_server_read_timeout: 600s
  http_server_write_timeout: 600s
  grpc_server_max_recv_msg_size: 104857600
common:
  instance_addr: 127.0.0.1
  path_prefix: {d}
  storage:
    filesystem:
      chunks_directory: {d}/chunks
      rules_directory: {d}/rules
  replication_factor: 1
  ring:
    kvstore:
      store: inmemory
schema_config:
  configs:
    - from: 2020-10-24
      store: tsdb
      object_store: filesystem
      schema: v13
      index:
        prefix: index_
        period: 24h
limits_config:
  ingestion_rate_mb: 100000
  ingestion_burst_size_mb: 100000
  per_stream_rate_limit: 100GB
  per_stream_rate_limit_burst: 100GB
  max_query_series: 100000
  max_entries_limit_per_query: 100000
  reject_old_samples: false
  allow_structured_metadata: true
  volume_enabled: true
  max_query_length: 0
query_range:
  cache_results: false
  results_cache:
    cache:
      embedded_cache:
        enabled: false
pattern_ingester:
  enabled: false
analytics:
  reporting_enabled: false
"#
    );
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("loki.yaml");
    std::fs::write(&path, config).unwrap();
    let log = std::fs::File::create(dir.join("loki.log")).unwrap();
    let child = Command::new(bin)
        .arg(format!("-config.file={}", path.display()))
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let addr = format!("http://127.0.0.1:{http}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let ok = Command::new("curl")
            .args(["-sf", &format!("{addr}/ready")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            break;
        }
        assert!(Instant::now() < deadline, "loki not ready; see {}", dir.join("loki.log").display());
        std::thread::sleep(Duration::from_millis(200));
    }
    Srv { child, addr, dir: dir.to_path_buf() }
}
