//! A query answer whose matrix is written straight to JSON: a `serde_json::Value` per point
//! (an array, a number and a string) took about 120 bytes each, so an answer within the limits
//! (500 series of 11,000 steps) held gigabytes before a byte was sent.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use crate::loki_json::{format_value, seconds_json};

/// `{"status": "success", "data": ..., "warnings": [...]}`.
pub struct Answer<'a> {
    pub data: Data<'a>,
    pub warnings: Vec<String>,
}

/// A query's `data`: a matrix's series as they are, anything else as a built value.
pub enum Data<'a> {
    Value(Value),
    Matrix { series: &'a [logql::Series], stats: Value },
}

impl Serialize for Answer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("status", "success")?;
        m.serialize_entry("data", &self.data)?;
        if !self.warnings.is_empty() {
            m.serialize_entry("warnings", &self.warnings)?;
        }
        m.end()
    }
}

impl Serialize for Data<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Data::Value(v) => v.serialize(s),
            Data::Matrix { series, stats } => {
                let mut m = s.serialize_map(Some(3))?;
                m.serialize_entry("resultType", "matrix")?;
                m.serialize_entry("result", &Matrix(series))?;
                m.serialize_entry("stats", stats)?;
                m.end()
            }
        }
    }
}

struct Matrix<'a>(&'a [logql::Series]);
struct Metric<'a>(&'a model::Labels);
struct Points<'a>(&'a [(i64, f64)]);

impl Serialize for Matrix<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for series in self.0 {
            seq.serialize_element(&SeriesJson(series))?;
        }
        seq.end()
    }
}

struct SeriesJson<'a>(&'a logql::Series);

impl Serialize for SeriesJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("metric", &Metric(&self.0.labels))?;
        m.serialize_entry("values", &Points(&self.0.points))?;
        m.end()
    }
}

impl Serialize for Metric<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0.iter() {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl Serialize for Points<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for &(t, v) in self.0 {
            seq.serialize_element(&(seconds_json(t), format_value(v)))?;
        }
        seq.end()
    }
}
