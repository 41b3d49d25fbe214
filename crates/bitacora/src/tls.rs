//! HTTPS on the listener: rustls (aws-lc-rs, the provider reqwest already brings) through
//! tokio-rustls. The certificate and key are read from `tls.cert_file` and `tls.key_file` (PEM)
//! and read again whenever either file's modification time or size changes (checked every
//! `tls.reload_interval`), so a renewed certificate is served without a restart; a pair that
//! does not load is logged and the previous one stays.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use arc_swap::ArcSwap;
use model::duration::PromDuration;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain (the server's certificate first). With `key_file`: HTTPS.
    pub cert_file: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: Option<PathBuf>,
    /// How often the two files are checked for a change.
    pub reload_interval: PromDuration,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig { cert_file: None, key_file: None, reload_interval: PromDuration(Duration::from_secs(5)) }
    }
}

/// The files' identity: a change means "read them again".
type Stamp = Option<(SystemTime, u64)>;

fn stamp(p: &Path) -> Stamp {
    let m = std::fs::metadata(p).ok()?;
    Some((m.modified().ok()?, m.len()))
}

fn load(cert: &Path, key: &Path) -> anyhow::Result<CertifiedKey> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read tls.cert_file {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("tls.cert_file {}: not PEM certificates", cert.display()))?;
    if certs.is_empty() {
        anyhow::bail!("tls.cert_file {}: no certificate in it", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("tls.key_file {}: no PEM private key in it", key.display()))?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let ck = CertifiedKey::from_der(certs, key, &provider)
        .context("tls.cert_file and tls.key_file do not belong together (or the key type is unsupported)")?;
    Ok(ck)
}

/// Serves the current certificate to every handshake.
#[derive(Debug)]
struct Resolver(ArcSwap<CertifiedKey>);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.load_full())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

/// The acceptor, and the task that reloads the certificate.
pub struct Tls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    reloads: prometheus_client::metrics::family::Family<Outcome, prometheus_client::metrics::counter::Counter>,
    resolver: Arc<Resolver>,
    cert: PathBuf,
    key: PathBuf,
    interval: Duration,
}

impl Tls {
    /// `None` without TLS configured; an error names the file at fault.
    pub fn from_config(
        c: &TlsConfig,
        registry: &mut prometheus_client::registry::Registry,
    ) -> anyhow::Result<Option<Tls>> {
        let (cert, key) = match (&c.cert_file, &c.key_file) {
            (None, None) => return Ok(None),
            (Some(c), Some(k)) => (c.clone(), k.clone()),
            _ => anyhow::bail!("tls: give both cert_file and key_file (or neither)"),
        };
        let ck = load(&cert, &key)?;
        let resolver = Arc::new(Resolver(ArcSwap::from_pointee(ck)));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut sc = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        sc.alpn_protocols = vec![b"http/1.1".to_vec()];
        let interval = c.reload_interval.0.max(Duration::from_millis(100));
        let reloads = prometheus_client::metrics::family::Family::default();
        registry.register(
            "bitacora_tls_certificate_reloads",
            "Changed TLS certificate files read again, by outcome (loaded, failed: the previous pair is kept)",
            reloads.clone(),
        );
        Ok(Some(Tls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(sc)),
            reloads,
            resolver,
            cert,
            key,
            interval,
        }))
    }

    /// Watches the files' modification times and sizes; a changed pair that loads replaces the
    /// served one.
    pub fn spawn_reloader(&self) -> tokio::task::JoinHandle<()> {
        let (resolver, cert, key, interval) =
            (self.resolver.clone(), self.cert.clone(), self.key.clone(), self.interval);
        let reloads = self.reloads.clone();
        tokio::spawn(async move {
            let mut last = (stamp(&cert), stamp(&key));
            let mut failed_at: Option<(Stamp, Stamp)> = None;
            loop {
                tokio::time::sleep(interval).await;
                let now = (stamp(&cert), stamp(&key));
                if now == last || failed_at.as_ref() == Some(&now) {
                    continue;
                }
                let (c, k) = (cert.clone(), key.clone());
                match tokio::task::spawn_blocking(move || load(&c, &k)).await {
                    Ok(Ok(ck)) => {
                        resolver.0.store(Arc::new(ck));
                        reloads.get_or_create(&Outcome { outcome: "loaded" }).inc();
                        tracing::info!(cert = %cert.display(), "TLS certificate reloaded");
                        last = now;
                        failed_at = None;
                    }
                    Ok(Err(e)) => {
                        // Often the moment between writing the certificate and the key: the
                        // next change is tried again.
                        tracing::warn!(error = %format!("{e:#}"), "TLS certificate changed but does not load; still serving the previous one");
                        failed_at = Some(now);
                        reloads.get_or_create(&Outcome { outcome: "failed" }).inc();
                    }
                    Err(e) => tracing::warn!(error = %e, "TLS reload task failed"),
                }
            }
        })
    }
}
