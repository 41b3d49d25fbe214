//! The write path: Loki's validation and limits, then one WAL record per push, applied to the
//! heads, synced (group commit) before the caller acknowledges.

use std::sync::atomic::Ordering;
use std::time::Instant;

use model::{Entry, Labels};

use crate::incoming::{Incoming, IncomingStream};
use crate::wal::WalStream;
use crate::{Limits, Store, StoreError, now_ns};

/// One stream of a push request, after decoding.
#[derive(Debug, Clone)]
pub struct PushStream {
    pub labels: Labels,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushStatus {
    /// 204: everything valid was stored.
    Ok,
    /// 400: some streams or entries were refused; the rest were stored.
    BadRequest,
    /// 429: a rate or stream limit was hit.
    RateLimited,
    /// 422: nothing to ingest.
    Unprocessable,
}

#[derive(Debug, Clone)]
pub struct PushOutcome {
    pub status: PushStatus,
    pub accepted: u64,
    /// The failure messages, one per line, as Loki words them.
    pub message: String,
}

/// A token bucket for a tenant's ingestion rate.
pub struct TokenBucket {
    tokens: f64,
    last: Instant,
}

fn rfc3339(ts: i64) -> String {
    jiff::Timestamp::from_nanosecond(ts as i128).map(|t| t.to_string()).unwrap_or_else(|_| ts.to_string())
}

impl Store {
    /// Validates and stores a push. Returns once every accepted entry is in the WAL (synced
    /// when `wal_fsync` is on). Entries refused by validation are reported in the outcome; the
    /// valid rest of the request is stored (Loki's partial success).
    pub fn push(&self, tenant: &str, streams: Vec<PushStream>) -> Result<PushOutcome, StoreError> {
        self.push_incoming(tenant, streams.into_iter().map(IncomingStream::from).collect())
    }

    /// [`Store::push`] for entries whose lines may be borrowed from the request body.
    pub fn push_incoming(&self, tenant: &str, mut streams: Vec<IncomingStream>) -> Result<PushOutcome, StoreError> {
        let limits = self.limits(tenant);
        let limits = &*limits;
        let now = now_ns();
        if streams.is_empty() {
            return Ok(PushOutcome {
                status: PushStatus::Unprocessable,
                accepted: 0,
                message: "error at least one valid stream is required for ingestion".into(),
            });
        }
        let total_bytes: u64 =
            streams.iter().flat_map(|s| &s.entries).map(|e| (e.line.len() + e.metadata.bytes()) as u64).sum();
        let total_lines: u64 = streams.iter().map(|s| s.entries.len() as u64).sum();
        if limits.ingestion_rate_mb > 0.0 {
            let rate = limits.ingestion_rate_mb * 1024.0 * 1024.0;
            let burst = limits.ingestion_burst_size_mb * 1024.0 * 1024.0;
            let mut inner = self.inner.lock();
            let b = inner.rate.entry(tenant.to_string()).or_insert(TokenBucket { tokens: burst, last: Instant::now() });
            b.tokens = (b.tokens + b.last.elapsed().as_secs_f64() * rate).min(burst);
            b.last = Instant::now();
            if (total_bytes as f64) > b.tokens {
                drop(inner);
                self.metrics.discard("rate_limited", tenant, total_lines, total_bytes);
                return Ok(PushOutcome {
                    status: PushStatus::RateLimited,
                    accepted: 0,
                    message: format!(
                        "ingestion rate limit exceeded for user {tenant} (limit: {} bytes/sec) while attempting to ingest '{total_lines}' lines totaling '{total_bytes}' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased",
                        rate as u64
                    ),
                });
            }
            b.tokens -= total_bytes as f64;
        }

        let mut errors: Vec<String> = Vec::new();
        let mut rate_limited = false;
        let old_cutoff = if limits.reject_old_samples {
            now - limits.reject_old_samples_max_age.0.as_nanos() as i64
        } else {
            i64::MIN
        };
        let new_cutoff = now + limits.creation_grace_period.0.as_nanos() as i64;

        // Stateless checks, outside the lock.
        for s in streams.iter_mut() {
            crate::discover::service_name(&mut s.labels, &limits.discover_service_name);
            if let Some(msg) = Self::check_labels(limits, &s.labels) {
                self.metrics.discard("invalid_labels", tenant, s.entries.len() as u64, bytes_of(&s.entries));
                errors.push(msg);
                s.entries.clear();
                continue;
            }
            let labels = &s.labels; // printed only into error messages
            let level = crate::discover::stream_level(&s.labels).map(str::to_string);
            s.entries.retain_mut(|e| {
                let reason = if e.ts < old_cutoff {
                    Some((
                        "greater_than_max_sample_age",
                        format!(
                            "entry for stream '{labels}' has timestamp too old: {}, oldest acceptable timestamp is: {}",
                            rfc3339(e.ts),
                            rfc3339(old_cutoff)
                        ),
                    ))
                } else if e.ts > new_cutoff {
                    Some(("too_far_in_future", format!("entry for stream '{labels}' has timestamp too new: {}", rfc3339(e.ts))))
                } else if e.line.len() > limits.max_line_size && limits.max_line_size > 0 {
                    if limits.max_line_size_truncate {
                        let mut cut = limits.max_line_size;
                        while !e.line.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        match &mut e.line {
                            std::borrow::Cow::Borrowed(l) => *l = &l[..cut],
                            std::borrow::Cow::Owned(l) => l.truncate(cut),
                        }
                        None
                    } else {
                        Some((
                            "line_too_long",
                            format!(
                                "max entry size '{}' bytes exceeded for stream '{labels}' while adding an entry with length '{}' bytes",
                                limits.max_line_size,
                                e.line.len()
                            ),
                        ))
                    }
                } else if !e.metadata.is_empty() && !limits.allow_structured_metadata {
                    Some((
                        "disallowed_structured_metadata",
                        format!("stream '{labels}' includes structured metadata, but this feature is disallowed. Please see `limits_config.structured_metadata` or contact your Loki administrator to enable it."),
                    ))
                } else if e.metadata.bytes() > limits.max_structured_metadata_size {
                    Some((
                        "structured_metadata_too_large",
                        format!(
                            "stream '{labels}' has structured metadata too large: '{}' bytes, limit: '{}' bytes. Please see `limits_config.max_structured_metadata_size` or contact your Loki administrator to increase it.",
                            e.metadata.bytes(),
                            limits.max_structured_metadata_size
                        ),
                    ))
                } else if e.metadata.len() > limits.max_structured_metadata_entries_count {
                    Some((
                        "structured_metadata_too_many",
                        format!(
                            "stream '{labels}' has too many structured metadata labels: '{}', limit: '{}'. Please see `limits_config.max_structured_metadata_entries_count` or contact your Loki administrator to increase it.",
                            e.metadata.len(),
                            limits.max_structured_metadata_entries_count
                        ),
                    ))
                } else {
                    None
                };
                match reason {
                    Some((r, msg)) => {
                        self.metrics.discard(r, tenant, 1, e.line.len() as u64);
                        errors.push(msg);
                        false
                    }
                    None => {
                        if limits.discover_log_levels && limits.allow_structured_metadata {
                            crate::discover::detected_level(level.as_deref(), &e.line, &mut e.metadata);
                        }
                        true
                    }
                }
            });
        }

        // Stateful checks and the WAL append, under the lock (after waiting for room if the
        // flusher is behind). Entries reach the heads only once their record is in the WAL: a
        // failed append leaves no trace, and the client's retry is stored, not deduplicated
        // against entries that were never written.
        self.wait_for_room();
        let window = self.cfg.load().out_of_order_window.0.as_nanos() as i64;
        let idle = self.cfg.load().stream_idle_period.0;
        let (seq, upto, accepted) = {
            let mut guard = self.inner.lock();
            let inner = &mut *guard;
            let tenant_state = inner.tenants.entry(tenant.to_string()).or_default();
            let mut accepted: Vec<(u32, Labels, Vec<Incoming>)> = Vec::with_capacity(streams.len());
            let mut active: Option<usize> = None;
            let mut activated = std::collections::HashSet::new();
            for s in streams {
                if s.entries.is_empty() {
                    continue;
                }
                // A new stream, or an idle one coming back, counts against the active limit.
                let existing = tenant_state.get(&s.labels);
                let idle_now = existing.is_none_or(|id| {
                    !activated.contains(&id)
                        && tenant_state.streams[id as usize].last_push.is_none_or(|t| t.elapsed() >= idle)
                });
                if idle_now {
                    let limit = limits.max_global_streams_per_user;
                    let n = active.get_or_insert_with(|| tenant_state.active_count(idle));
                    if limit > 0 && *n >= limit {
                        self.metrics.discard("stream_limit", tenant, s.entries.len() as u64, bytes_of(&s.entries));
                        errors.push(format!(
                            "maximum active stream limit exceeded when trying to create stream {}, reduce the number of active streams (reduce labels or reduce label values), or contact your Loki administrator to see if the limit can be increased, user: '{tenant}'",
                            s.labels
                        ));
                        rate_limited = true;
                        continue;
                    }
                    *n += 1;
                }
                let sid = match existing {
                    Some(id) => id,
                    None => {
                        self.metrics.streams_created.inc();
                        tenant_state.get_or_create(&s.labels).0
                    }
                };
                if idle_now {
                    activated.insert(sid);
                }
                let st = &tenant_state.streams[sid as usize];
                let n = s.entries.len();
                let mut ignored = String::new();
                let mut nignored = 0;
                let mut keep: Vec<Incoming> = Vec::with_capacity(n);
                let mut max_ts = st.max_ts;
                // Duplicates inside the request: impossible while timestamps only grow; past
                // the first step back, a set of (timestamp, line hash) finds them.
                let mut last_ts = i64::MIN;
                let mut seen: Option<std::collections::HashSet<(i64, u64)>> = None;
                for e in s.entries {
                    if max_ts != i64::MIN && e.ts < max_ts.saturating_sub(window) {
                        ignored.push_str(&format!(
                            "entry with timestamp {} ignored, reason: 'entry too far behind, entry timestamp is: {}, oldest acceptable timestamp is: {}',\n",
                            rfc3339(e.ts),
                            rfc3339(e.ts),
                            rfc3339(max_ts - window)
                        ));
                        nignored += 1;
                        self.metrics.discard("too_far_behind", tenant, 1, e.line.len() as u64);
                        continue;
                    }
                    if st.head.contains(e.ts, &e.line, &e.metadata) {
                        continue; // an exact duplicate of a stored entry: stored once
                    }
                    if e.ts <= last_ts && seen.is_none() {
                        seen = Some(keep.iter().map(|k| (k.ts, entry_hash(k))).collect());
                    }
                    if let Some(seen) = seen.as_mut()
                        && !seen.insert((e.ts, entry_hash(&e)))
                        && keep.iter().any(|k| k.ts == e.ts && k.line == e.line && k.metadata == e.metadata)
                    {
                        continue; // an exact duplicate inside this request
                    }
                    last_ts = last_ts.max(e.ts);
                    max_ts = max_ts.max(e.ts);
                    keep.push(e);
                }
                if nignored > 0 {
                    errors.push(format!(
                        "{ignored}user '{tenant}', total ignored: {nignored} out of {n} for stream: {}",
                        s.labels
                    ));
                }
                if !keep.is_empty() {
                    accepted.push((sid, s.labels, keep));
                }
            }
            if !accepted.is_empty() {
                let ws: Vec<WalStream> = accepted.iter().map(|(_, l, e)| WalStream { labels: l, entries: e }).collect();
                let rec_bytes = match inner.wal.append(tenant, &ws) {
                    Ok(n) => n,
                    Err(e) => {
                        self.metrics.wal_write_failures.inc();
                        let total: u64 = accepted.iter().map(|(_, _, e)| e.len() as u64).sum();
                        drop(guard);
                        let err = self.io_error("WAL append", e);
                        tracing::warn!(tenant, entries = total, error = %err, "push refused: WAL append failed, nothing kept");
                        return Err(err);
                    }
                };
                self.space.succeeded();
                self.metrics.wal_bytes.inc_by(rec_bytes);
                self.metrics.wal_records.inc();
                let now = Instant::now();
                let mut added_bytes = 0u64;
                for (sid, _, entries) in &accepted {
                    let st = &mut tenant_state.streams[*sid as usize];
                    st.head.push_all(entries.iter().map(|e| (e.ts, &*e.line, &e.metadata)));
                    for e in entries {
                        st.max_ts = st.max_ts.max(e.ts);
                        added_bytes += e.line.len() as u64;
                    }
                    st.last_push = Some(now);
                }
                inner.head_bytes += added_bytes;
                if inner.oldest_unflushed.is_none() {
                    inner.oldest_unflushed = Some(Instant::now());
                }
                self.metrics.head_bytes.set(inner.head_bytes as i64);
            }
            let accepted: Vec<(Labels, Vec<Incoming>)> = accepted.into_iter().map(|(_, l, e)| (l, e)).collect();
            if inner.head_bytes >= self.cfg.load().flush_bytes {
                drop(guard);
                self.wake_flusher();
                let inner = self.inner.lock();
                (inner.wal.seq, inner.wal.bytes_written, accepted)
            } else {
                (inner.wal.seq, inner.wal.bytes_written, accepted)
            }
        };
        // Synced even when everything was a duplicate: a retry of a push whose sync failed must
        // not be acknowledged before what it duplicates is on disk.
        if self.cfg.load().wal_fsync {
            self.syncer
                .sync(seq, upto, || {
                    let inner = self.inner.lock();
                    (inner.wal.seq, inner.wal.bytes_written, inner.wal.file())
                })
                .map_err(|e| self.io_error("WAL sync", e))?;
        }
        let mut n_accepted = 0u64;
        let lines =
            self.metrics.lines_received.get_or_create(&crate::metrics::TenantLabel { tenant: tenant.to_string() });
        let bytes =
            self.metrics.bytes_received.get_or_create(&crate::metrics::TenantLabel { tenant: tenant.to_string() });
        for (_, e) in &accepted {
            n_accepted += e.len() as u64;
            bytes.inc_by(bytes_of(e));
        }
        lines.inc_by(n_accepted);
        self.accepted.0.fetch_add(n_accepted, Ordering::Relaxed);
        self.accepted.1.fetch_add(accepted.iter().map(|(_, e)| bytes_of(e)).sum(), Ordering::Relaxed);
        drop((lines, bytes));
        if !accepted.is_empty() {
            let subs = self.subscribers.read();
            for (l, e) in &accepted {
                for f in subs.iter() {
                    f(tenant, l, e);
                }
            }
        }
        let status = if errors.is_empty() {
            PushStatus::Ok
        } else if rate_limited {
            PushStatus::RateLimited
        } else {
            PushStatus::BadRequest
        };
        Ok(PushOutcome { status, accepted: n_accepted, message: errors.join("\n") })
    }

    fn check_labels(l: &Limits, labels: &Labels) -> Option<String> {
        if labels.is_empty() {
            return Some("error at least one label pair is required per stream".into());
        }
        let count = labels.iter().filter(|(k, _)| *k != "service_name").count();
        if count > l.max_label_names_per_series {
            return Some(format!(
                "entry for stream '{labels}' has {count} label names; limit {}",
                l.max_label_names_per_series
            ));
        }
        for (k, v) in labels.iter() {
            if k.len() > l.max_label_name_length {
                return Some(format!("entry for stream '{labels}' has label name too long: '{k}'"));
            }
            if v.len() > l.max_label_value_length {
                return Some(format!("entry for stream '{labels}' has label value too long: '{v}'"));
            }
        }
        None
    }
}

fn bytes_of(entries: &[Incoming]) -> u64 {
    entries.iter().map(|e| e.line.len() as u64).sum()
}

fn entry_hash(e: &Incoming) -> u64 {
    crate::digest::entry_hash(&e.line, &e.metadata)
}
