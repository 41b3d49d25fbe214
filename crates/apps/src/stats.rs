//! Live CPU and memory from the Docker stats API, read only while someone looks: a container's
//! stats stream is opened by the first request that asks for it and closed once nobody has
//! asked for `linger` (30 s by default; the apps page polls every 15 s, the container view
//! every 2 s).
//!
//! The numbers are `docker stats`'s: CPU percent from the change of the container's CPU time
//! over the change of the host's, times the online CPUs (null until the second sample); memory
//! as the usage without the inactive file cache (`total_inactive_file` on cgroup v1,
//! `inactive_file` on v2).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::ContainerStatsResponse;
use bollard::query_parameters::StatsOptions;
use futures_util::StreamExt;
use parking_lot::Mutex;

use crate::metrics::Metrics;

/// The latest numbers of one container.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latest {
    pub cpu_percent: Option<f64>,
    pub memory_bytes: Option<u64>,
}

struct Watch {
    last_asked: Instant,
    latest: Arc<Mutex<Latest>>,
    task: tokio::task::JoinHandle<()>,
}

/// The open streams, by container id.
pub struct Stats {
    linger: Duration,
    watches: Mutex<HashMap<String, Watch>>,
    metrics: Metrics,
}

impl Stats {
    pub fn new(linger: Duration, metrics: Metrics) -> Arc<Stats> {
        Arc::new(Stats { linger, watches: Mutex::new(HashMap::new()), metrics })
    }

    /// The latest numbers of a running container, opening its stream if none is open (or the
    /// last one ended, the container having stopped in between).
    pub fn get(&self, docker: &Docker, id: &str) -> Latest {
        let mut w = self.watches.lock();
        let now = Instant::now();
        if let Some(watch) = w.get_mut(id)
            && !watch.task.is_finished()
        {
            watch.last_asked = now;
            return *watch.latest.lock();
        }
        let latest = Arc::new(Mutex::new(Latest::default()));
        let task = tokio::spawn(watch(docker.clone(), id.to_string(), latest.clone(), self.metrics.clone()));
        if let Some(old) = w.insert(id.to_string(), Watch { last_asked: now, latest, task }) {
            old.task.abort();
        }
        Latest::default()
    }

    /// Closes the streams nobody asked for within `linger`; runs until the process ends.
    pub fn spawn_reaper(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = Arc::downgrade(self);
        let every = (self.linger / 4).clamp(Duration::from_millis(100), Duration::from_secs(1));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let Some(s) = me.upgrade() else { return };
                s.reap(Instant::now());
            }
        })
    }

    fn reap(&self, now: Instant) {
        self.watches.lock().retain(|_, w| {
            let keep = now.duration_since(w.last_asked) < self.linger && !w.task.is_finished();
            if !keep {
                w.task.abort();
            }
            keep
        });
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.watches.lock().values().filter(|w| !w.task.is_finished()).count()
    }
}

impl Drop for Stats {
    fn drop(&mut self) {
        for w in self.watches.get_mut().values() {
            w.task.abort();
        }
    }
}

/// Counts an open stream for as long as its task lives (an abort drops it too).
struct OpenGuard(Metrics);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.stats_streams_open.dec();
    }
}

async fn watch(docker: Docker, id: String, latest: Arc<Mutex<Latest>>, metrics: Metrics) {
    metrics.stats_streams_open.inc();
    let _guard = OpenGuard(metrics.clone());
    let opts = StatsOptions { stream: true, one_shot: false };
    let mut stream = docker.stats(&id, Some(opts));
    while let Some(sample) = stream.next().await {
        match sample {
            Ok(s) => {
                metrics.stats_samples.inc();
                *latest.lock() = numbers(&s);
            }
            Err(e) => {
                tracing::debug!(container = %id, error = %e, "stats stream ended");
                metrics.engine_errors.inc();
                return;
            }
        }
    }
}

/// `docker stats`'s numbers from one sample (its `precpu_stats` are the previous sample's).
pub fn numbers(s: &ContainerStatsResponse) -> Latest {
    let cpu = s.cpu_stats.as_ref();
    let pre = s.precpu_stats.as_ref();
    let total = |c: Option<&bollard::models::ContainerCpuStats>| {
        c.and_then(|c| c.cpu_usage.as_ref()).and_then(|u| u.total_usage).unwrap_or(0)
    };
    let system = |c: Option<&bollard::models::ContainerCpuStats>| c.and_then(|c| c.system_cpu_usage).unwrap_or(0);
    let cpu_percent = (system(pre) > 0 && system(cpu) > 0).then(|| {
        let cpu_delta = total(cpu) as f64 - total(pre) as f64;
        let system_delta = system(cpu) as f64 - system(pre) as f64;
        let online = cpu
            .and_then(|c| c.online_cpus)
            .filter(|n| *n > 0)
            .map(f64::from)
            .or_else(|| cpu.and_then(|c| c.cpu_usage.as_ref()?.percpu_usage.as_ref()).map(|p| p.len() as f64))
            .unwrap_or(1.0);
        if system_delta > 0.0 && cpu_delta > 0.0 { cpu_delta / system_delta * online * 100.0 } else { 0.0 }
    });
    let memory_bytes = s.memory_stats.as_ref().and_then(|m| {
        let usage = m.usage?;
        let stats = m.stats.as_ref();
        let inactive = |k: &str| stats.and_then(|s| s.get(k)).copied().filter(|v| *v < usage);
        Some(match inactive("total_inactive_file").or_else(|| inactive("inactive_file")) {
            Some(v) => usage - v,
            None => usage,
        })
    });
    Latest { cpu_percent, memory_bytes }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(v: serde_json::Value) -> ContainerStatsResponse {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn docker_cli_numbers() {
        // The first sample of a stream has no previous one: no CPU yet, memory already.
        let first = sample(serde_json::json!({
            "cpu_stats": {"cpu_usage": {"total_usage": 1_000_000_000u64}, "system_cpu_usage": 50_000_000_000u64, "online_cpus": 2},
            "precpu_stats": {"cpu_usage": {"total_usage": 0}},
            "memory_stats": {"usage": 10_000_000, "limit": 536870912, "stats": {"total_inactive_file": 4_000_000}}
        }));
        assert_eq!(numbers(&first), Latest { cpu_percent: None, memory_bytes: Some(6_000_000) });
        // Half a second of CPU over 2 s of two CPUs' time (system time counts every CPU).
        let second = sample(serde_json::json!({
            "cpu_stats": {"cpu_usage": {"total_usage": 1_500_000_000u64}, "system_cpu_usage": 54_000_000_000u64, "online_cpus": 2},
            "precpu_stats": {"cpu_usage": {"total_usage": 1_000_000_000u64}, "system_cpu_usage": 50_000_000_000u64},
            "memory_stats": {"usage": 10_000_000, "stats": {"inactive_file": 20_000_000}}
        }));
        let n = numbers(&second);
        assert!((n.cpu_percent.unwrap() - 25.0).abs() < 1e-9, "{n:?}");
        // An inactive cache larger than the usage is not subtracted (cgroup v2 key here).
        assert_eq!(n.memory_bytes, Some(10_000_000));
        let idle = sample(serde_json::json!({
            "cpu_stats": {"cpu_usage": {"total_usage": 7}, "system_cpu_usage": 9, "online_cpus": 1},
            "precpu_stats": {"cpu_usage": {"total_usage": 7}, "system_cpu_usage": 8}
        }));
        assert_eq!(numbers(&idle), Latest { cpu_percent: Some(0.0), memory_bytes: None });
    }
}
