//! The requests file (`<data_dir>/delete_requests.json`): read at start, replaced whole and
//! atomically (temporary file, sync, rename, folder sync) on every change.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::request::Request;

#[derive(serde::Serialize, serde::Deserialize)]
struct File {
    version: u32,
    requests: Vec<Request>,
}

/// The requests kept in `path`; none when it does not exist.
pub fn load(path: &Path) -> Result<Vec<Request>, String> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice::<File>(&bytes)
            .map(|f| f.requests)
            .map_err(|e| format!("delete requests file {}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("delete requests file {}: {e}", path.display())),
    }
}

/// Replaces the file with `requests`.
pub fn save(path: &Path, requests: &[Request]) -> std::io::Result<()> {
    let body = serde_json::to_vec_pretty(&File { version: 1, requests: requests.to_vec() })?;
    let tmp = path.with_extension("json.tmp");
    let res = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&body)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res?;
    if let Some(dir) = path.parent()
        && let Ok(d) = fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}
