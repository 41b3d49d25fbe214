//! The dashboards directory: one `<uid>.json` per dashboard (with its versions) and
//! `folders.json`, each written to a temporary file, synced, then renamed over the old one.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::record::{Folder, Record};

pub struct Disk {
    pub dir: PathBuf,
}

impl Disk {
    pub fn open(dir: PathBuf) -> std::io::Result<Disk> {
        std::fs::create_dir_all(&dir)?;
        Ok(Disk { dir })
    }

    fn write_atomic(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let tmp = self.dir.join(format!(".{name}.tmp"));
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, self.dir.join(name))?;
        // The rename itself is durable once the directory is synced.
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    pub fn save(&self, r: &Record) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(r).map_err(std::io::Error::other)?;
        self.write_atomic(&format!("{}.json", r.uid), &bytes)
    }

    pub fn remove(&self, uid: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.dir.join(format!("{uid}.json"))) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    pub fn save_folders(&self, folders: &[&Folder]) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(folders).map_err(std::io::Error::other)?;
        self.write_atomic("folders.json", &bytes)
    }

    /// Everything stored; a file that cannot be read is logged by name and skipped.
    pub fn load(&self) -> (Vec<Record>, Vec<Folder>) {
        let mut records = Vec::new();
        let mut folders = Vec::new();
        let Ok(rd) = std::fs::read_dir(&self.dir) else { return (records, folders) };
        for e in rd.flatten() {
            let p = e.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            if name == "folders.json" {
                match read::<Vec<Folder>>(&p) {
                    Ok(f) => folders = f,
                    Err(e) => tracing::error!(file = %p.display(), error = %e, "cannot read the folders"),
                }
            } else {
                match read::<Record>(&p) {
                    Ok(r) => records.push(r),
                    Err(e) => {
                        tracing::error!(file = %p.display(), error = %e, "cannot read a stored dashboard; skipped")
                    }
                }
            }
        }
        (records, folders)
    }
}

fn read<T: serde::de::DeserializeOwned>(p: &Path) -> Result<T, String> {
    let bytes = std::fs::read(p).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}
