//! Delete requests as kept and as listed: a request is one query over one time range, split
//! into shards (requests with line filters longer than `max_interval`), each received or
//! processed; the listing merges the shards back into one entry, as Loki does.

use serde::{Deserialize, Serialize};

use crate::time::model_time;

/// A shard's state. Cancelled shards are removed, not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Hidden from queries; still on disk; cancellable within the cancel period.
    Received,
    /// Removed from disk (and still hidden from queries, for lines stored later in its range).
    Processed,
}

/// One shard: an inclusive millisecond range.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Shard {
    pub start_ms: i64,
    pub end_ms: i64,
    pub status: Status,
}

/// A delete request as persisted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub request_id: String,
    pub user_id: String,
    pub query: String,
    pub created_at_ms: i64,
    pub shards: Vec<Shard>,
}

impl Request {
    pub fn start_ms(&self) -> i64 {
        self.shards.iter().map(|s| s.start_ms).min().unwrap_or(0)
    }

    pub fn end_ms(&self) -> i64 {
        self.shards.iter().map(|s| s.end_ms).max().unwrap_or(0)
    }

    /// `received` (no shard processed), `processed` (all), else `NN% Complete`.
    pub fn status(&self) -> String {
        let done = self.shards.iter().filter(|s| s.status == Status::Processed).count();
        let total = self.shards.len();
        if done == 0 {
            "received".into()
        } else if done == total {
            "processed".into()
        } else {
            format!("{}% Complete", (done as f64 / total as f64 * 100.0) as i64)
        }
    }

    pub fn view(&self) -> RequestView {
        RequestView {
            request_id: self.request_id.clone(),
            start_ms: self.start_ms(),
            end_ms: self.end_ms(),
            query: self.query.clone(),
            status: self.status(),
            created_at_ms: self.created_at_ms,
            user_id: self.user_id.clone(),
        }
    }
}

/// One entry of the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestView {
    pub request_id: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub query: String,
    pub status: String,
    pub created_at_ms: i64,
    pub user_id: String,
}

impl RequestView {
    /// Loki's JSON: `{request_id, start_time, end_time, query, status, created_at, user_id}`,
    /// times as `model.Time` numbers.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "request_id": self.request_id,
            "start_time": model_time(self.start_ms),
            "end_time": model_time(self.end_ms),
            "query": self.query,
            "status": self.status,
            "created_at": model_time(self.created_at_ms),
            "user_id": self.user_id,
        })
    }
}

/// An 8-hex-digit request id: FNV-1 (32 bits) of the tenant, the time and the query.
pub fn request_id(tenant: &str, now_ns: u64, query: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in tenant.bytes().chain(now_ns.to_le_bytes()).chain(query.bytes()) {
        h = h.wrapping_mul(0x0100_0193);
        h ^= b as u32;
    }
    format!("{h:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(statuses: &[Status]) -> Request {
        Request {
            request_id: "abc".into(),
            user_id: "fake".into(),
            query: "{a=\"b\"}".into(),
            created_at_ms: 5,
            shards: statuses
                .iter()
                .enumerate()
                .map(|(i, &status)| Shard { start_ms: i as i64 * 10, end_ms: i as i64 * 10 + 10, status })
                .collect(),
        }
    }

    #[test]
    fn merged_status_and_range() {
        use Status::*;
        assert_eq!(req(&[Received, Received]).status(), "received");
        assert_eq!(req(&[Processed, Processed]).status(), "processed");
        assert_eq!(req(&[Processed, Received, Received]).status(), "33% Complete");
        let r = req(&[Received, Received, Received]);
        assert_eq!((r.start_ms(), r.end_ms()), (0, 30));
        let j = r.view().to_json().to_string();
        assert_eq!(
            j,
            r#"{"request_id":"abc","start_time":0,"end_time":0.03,"query":"{a=\"b\"}","status":"received","created_at":0.005,"user_id":"fake"}"#
        );
    }

    #[test]
    fn ids_are_eight_hex_digits_and_vary() {
        let a = request_id("fake", 1, "{a=\"b\"}");
        let b = request_id("fake", 2, "{a=\"b\"}");
        assert_eq!(a.len(), 8);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
