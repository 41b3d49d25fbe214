//! Dashboard provisioning from a Grafana provisioning directory: the provider files of
//! `<provisioning_dir>/dashboards/`, their dashboard files, read at start and again every
//! `updateIntervalSeconds` (the smallest of the providers', 10 s by default), so that added,
//! changed and removed files are picked up. A bad file is logged by name; the others load.

mod files;
mod providers;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use files::resolve;
pub use providers::Provider;

use crate::store::Dashboards;

/// The owner of file-provisioned dashboards in [`Dashboards::provision`].
const OWNER: &str = "file";

/// Reads a provisioning directory into [`Dashboards`].
pub struct Provisioner {
    dir: PathBuf,
    dashboards: Arc<Dashboards>,
}

/// What one read found.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub providers: Vec<Provider>,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub problems: Vec<String>,
}

impl Provisioner {
    pub fn new(provisioning_dir: PathBuf, dashboards: Arc<Dashboards>) -> Provisioner {
        Provisioner { dir: provisioning_dir, dashboards }
    }

    /// Reads every provider and its files once, and puts the result in force.
    pub fn sync(&self) -> Report {
        let mut rep = Report::default();
        let pdir = self.dir.join("dashboards");
        let mut yml: Vec<PathBuf> = std::fs::read_dir(&pdir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
                    .collect()
            })
            .unwrap_or_default();
        yml.sort();
        for f in yml {
            match std::fs::read_to_string(&f) {
                Ok(t) => rep.providers.extend(providers::parse(&f, &t, &mut rep.problems)),
                Err(e) => rep.problems.push(format!("{}: {e}", f.display())),
            }
        }
        let mut items = Vec::new();
        let mut names = std::collections::HashSet::new();
        for p in &rep.providers {
            if !names.insert(p.name.clone()) {
                rep.problems
                    .push(format!("{}: provider name {:?} is used twice; the second is skipped", p.file, p.name));
                continue;
            }
            items.extend(files::scan(p, &self.dir, &mut rep.problems));
        }
        (rep.added, rep.changed, rep.removed) = self.dashboards.provision(OWNER, items);
        for p in &rep.problems {
            tracing::warn!(problem = %p, "dashboard provisioning");
        }
        if rep.added + rep.changed + rep.removed > 0 {
            tracing::info!(added = rep.added, changed = rep.changed, removed = rep.removed, "dashboards provisioned");
        }
        let m = &self.dashboards.metrics;
        m.provisioning_runs.inc();
        m.provisioning_problems.set(rep.problems.len() as i64);
        rep
    }

    /// How often to read again: the smallest provider interval, 10 s without providers.
    fn interval(rep: &Report) -> Duration {
        rep.providers.iter().map(|p| p.update_interval).min().unwrap_or(Duration::from_secs(10))
    }

    /// Reads now, then keeps reading on the current runtime (blocking work off its threads),
    /// until the task is aborted.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        let me = Arc::new(self);
        tokio::spawn(async move {
            loop {
                let m = me.clone();
                let rep = tokio::task::spawn_blocking(move || m.sync()).await.unwrap_or_default();
                tokio::time::sleep(Self::interval(&rep)).await;
            }
        })
    }
}
