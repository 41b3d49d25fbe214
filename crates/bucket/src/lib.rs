//! The bucket: Bitácora's client for S3-compatible object storage (AWS S3, Garage, MinIO,
//! Ceph RGW, ...), through the `object_store` crate.
//!
//! It owns the protocol, credentials, retries and timeouts, and a small runtime of its own, and
//! implements the store's [`store::tier::ObjectTier`]: the store calls it from its own threads
//! (uploader, queries, compaction) and every call blocks until the bucket answers. Objects of a
//! writer live under `<prefix>/<node id>/`, so writers sharing a bucket never write the same
//! object.
//!
//! It must never know the segment format: it moves bytes under keys the store chooses.
//!
//! Dependency: `object_store` (Apache Arrow's, `aws` feature) — request signing, multipart
//! uploads, ranged reads, listing pagination and retries, tested against many S3 servers; far
//! more than this crate should write by hand.

use std::io;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use store::ObjectStoreConfig;
use tokio::io::AsyncWriteExt;

#[derive(Debug, thiserror::Error)]
pub enum BucketError {
    #[error("store.object_store: {0}")]
    Config(String),
    #[error("object storage client: {0}")]
    Client(#[from] object_store::Error),
    #[error("object storage runtime: {0}")]
    Runtime(#[from] io::Error),
}

/// A writer's place in one bucket.
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    /// `<prefix>` (no slash at either end; may be empty).
    prefix: String,
    /// `<prefix>/<node id>` (no slash at either end).
    root: String,
    /// `<endpoint>/<bucket>`.
    base: String,
    describe: String,
    rt: Arc<Runtime>,
}

/// The client's runtime, shared by every node's handle; shut down in the background when the
/// last goes (a runtime may not be dropped inside another one).
struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl Bucket {
    /// A client for `cfg`'s bucket, writing under `<prefix>/<node_id>/`. Nothing is requested
    /// yet: an unreachable bucket shows in the first request.
    pub fn new(cfg: &ObjectStoreConfig, node_id: &str) -> Result<Bucket, BucketError> {
        if cfg.bucket.is_empty() {
            return Err(BucketError::Config("bucket is empty".into()));
        }
        // `_nodes` and other names starting with '_' are the cluster's own, beside the writers'.
        if node_id.is_empty() || node_id.contains('/') || node_id.starts_with('_') {
            return Err(BucketError::Config(format!(
                "cluster.node_id {node_id:?} must be a non-empty name without '/', not starting with '_'"
            )));
        }
        // The usual AWS variables first; the configuration's values win.
        let mut b = AmazonS3Builder::from_env().with_bucket_name(&cfg.bucket);
        if !cfg.endpoint.is_empty() {
            b = b.with_endpoint(&cfg.endpoint).with_virtual_hosted_style_request(false);
        }
        if !cfg.region.is_empty() {
            b = b.with_region(&cfg.region);
        }
        if !cfg.access_key_id.is_empty() {
            b = b.with_access_key_id(&cfg.access_key_id);
        }
        if !cfg.secret_access_key.is_empty() {
            b = b.with_secret_access_key(&cfg.secret_access_key);
        }
        // Fail within seconds when the bucket is down: uploads are retried by the store, and a
        // query waiting on a block should answer with a warning rather than hang.
        let retry = RetryConfig {
            max_retries: 2,
            retry_timeout: Duration::from_secs(5),
            backoff: object_store::BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(1),
                base: 2.0,
            },
        };
        // (The client options replace the builder's, allow_http included: set it here.)
        let client = ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(3))
            .with_timeout(Duration::from_secs(60))
            .with_allow_http(cfg.endpoint.starts_with("http://"));
        let s3 = b.with_retry(retry).with_client_options(client).build()?;
        let endpoint = if cfg.endpoint.is_empty() { "s3".to_string() } else { cfg.endpoint.clone() };
        let base = format!("{endpoint}/{}", cfg.bucket);
        let rt =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("bucket").enable_all().build()?;
        let rt = Arc::new(Runtime(Some(rt)));
        Ok(Bucket::at(Arc::new(s3), cfg.prefix.trim_matches('/'), node_id, base, rt))
    }

    fn at(store: Arc<dyn ObjectStore>, prefix: &str, node_id: &str, base: String, rt: Arc<Runtime>) -> Bucket {
        let root = if prefix.is_empty() { node_id.to_string() } else { format!("{prefix}/{node_id}") };
        let describe = format!("{base}/{root}");
        Bucket { store, prefix: prefix.to_string(), root, base, describe, rt }
    }

    fn path(&self, key: &str) -> ObjectPath {
        ObjectPath::from(format!("{}/{key}", self.root))
    }

    /// Runs `f` on the bucket's runtime and waits for it from any thread (a query's, the
    /// store's), whether or not that thread is inside another runtime.
    fn run<T: Send + 'static>(
        &self,
        f: impl std::future::Future<Output = Result<T, object_store::Error>> + Send + 'static,
    ) -> io::Result<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let Some(rt) = &self.rt.0 else { return Err(io::Error::other("object storage client shut down")) };
        rt.spawn(async move {
            let _ = tx.send(f.await);
        });
        match rx.recv() {
            Ok(r) => r.map_err(to_io),
            Err(_) => Err(io::Error::other("object storage request abandoned (shutting down)")),
        }
    }
}

fn to_io(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e.to_string()),
        e => io::Error::other(e.to_string()),
    }
}

impl store::tier::ObjectTier for Bucket {
    fn put_file(&self, key: &str, path: &Path) -> io::Result<()> {
        let (store, location, path) = (self.store.clone(), self.path(key), path.to_path_buf());
        self.run(async move {
            let mut file = tokio::fs::File::open(&path)
                .await
                .map_err(|e| object_store::Error::Generic { store: "local file", source: Box::new(e) })?;
            // Large segments go up in parts (multipart upload), holding at most a few parts.
            let mut w = object_store::buffered::BufWriter::with_capacity(store, location, 8 << 20);
            let copied = tokio::io::copy(&mut file, &mut w).await;
            let closed = match copied {
                Ok(_) => w.shutdown().await,
                Err(e) => {
                    let _ = w.abort().await;
                    Err(e)
                }
            };
            closed.map_err(|e| object_store::Error::Generic { store: "upload", source: Box::new(e) })
        })
    }

    fn put(&self, key: &str, data: Vec<u8>) -> io::Result<()> {
        let (store, location) = (self.store.clone(), self.path(key));
        self.run(async move { store.put(&location, PutPayload::from(data)).await.map(|_| ()) })
    }

    fn get(&self, key: &str) -> io::Result<Vec<u8>> {
        let (store, location) = (self.store.clone(), self.path(key));
        self.run(async move { Ok(store.get(&location).await?.bytes().await?.to_vec()) })
    }

    fn get_range(&self, key: &str, range: Range<u64>) -> io::Result<Vec<u8>> {
        let (store, location) = (self.store.clone(), self.path(key));
        self.run(async move { Ok(store.get_range(&location, range).await?.to_vec()) })
    }

    /// Near ranges are coalesced and read concurrently (`object_store`'s `get_ranges`).
    fn get_ranges(&self, key: &str, ranges: &[Range<u64>]) -> io::Result<Vec<Vec<u8>>> {
        let (store, location, ranges) = (self.store.clone(), self.path(key), ranges.to_vec());
        self.run(
            async move { Ok(store.get_ranges(&location, &ranges).await?.into_iter().map(|b| b.to_vec()).collect()) },
        )
    }

    fn delete(&self, key: &str) -> io::Result<()> {
        let (store, location) = (self.store.clone(), self.path(key));
        self.run(async move {
            match store.delete(&location).await {
                Err(object_store::Error::NotFound { .. }) => Ok(()),
                r => r,
            }
        })
    }

    fn list(&self) -> io::Result<Vec<(String, u64)>> {
        let (store, root) = (self.store.clone(), self.root.clone());
        self.run(async move {
            let prefix = ObjectPath::from(root.as_str());
            let mut out = Vec::new();
            let mut s = store.list(Some(&prefix));
            while let Some(meta) = s.next().await {
                let meta = meta?;
                let key = meta.location.as_ref();
                if let Some(rel) = key.strip_prefix(root.as_str()).and_then(|k| k.strip_prefix('/')) {
                    out.push((rel.to_string(), meta.size));
                }
            }
            Ok(out)
        })
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn nodes(&self) -> io::Result<Vec<String>> {
        let (store, prefix) = (self.store.clone(), self.prefix.clone());
        self.run(async move {
            let p = (!prefix.is_empty()).then(|| ObjectPath::from(prefix.as_str()));
            let listed = store.list_with_delimiter(p.as_ref()).await?;
            Ok(listed.common_prefixes.iter().filter_map(|p| p.filename().map(str::to_string)).collect())
        })
    }

    fn node_id(&self) -> String {
        self.root.rsplit('/').next().unwrap_or_default().to_string()
    }

    fn node(&self, node_id: &str) -> Arc<dyn store::tier::ObjectTier> {
        Arc::new(Bucket::at(self.store.clone(), &self.prefix, node_id, self.base.clone(), self.rt.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A node id the bucket's layout cannot hold is refused with the reason, before any request.
    #[test]
    fn node_ids_that_would_collide_with_the_layout_are_refused() {
        let cfg = ObjectStoreConfig {
            bucket: "logs".into(),
            endpoint: "http://127.0.0.1:9".into(),
            region: "garage".into(),
            access_key_id: "k".into(),
            secret_access_key: "s".into(),
            ..Default::default()
        };
        for bad in ["", "a/b", "_nodes"] {
            let e = Bucket::new(&cfg, bad).err().expect("refused").to_string();
            assert!(e.contains("cluster.node_id"), "{e}");
        }
        assert!(Bucket::new(&cfg, "writer-a").is_ok());
    }
}
