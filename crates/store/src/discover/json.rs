//! A JSON line read only as deep as level discovery looks (three objects), its keys and string
//! values borrowed from the line: deciding a JSON line's level used to build a whole
//! `serde_json::Map` (a string per key and value, an index per object), which was a third of
//! the level discovery's time at full-speed ingest.
//!
//! It reads as `serde_json::Map` (with `preserve_order`) would: an object's keys in the order
//! they first appear, a repeated key's last value, numbers as `as_u64` sees them; and refuses
//! what `serde_json::from_str` refuses.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// How many objects deep values are kept (the top object is depth 0); deeper ones are read
/// past, as `Other`.
const KEPT_DEPTH: u8 = 2;

/// Beyond this many keys, an object finds repeated keys through a hash map.
const LINEAR_KEYS: usize = 32;

/// A value as level discovery sees it.
#[derive(Debug, PartialEq)]
pub enum Val<'a> {
    Str(Cow<'a, str>),
    /// A number, as `serde_json::Number::as_u64` reads it (`None`: negative or fractional).
    Num(Option<u64>),
    Obj(Obj<'a>),
    /// An array, a boolean, null, or an object deeper than discovery looks.
    Other,
}

impl<'a> Val<'a> {
    pub fn as_object(&self) -> Option<&Obj<'a>> {
        match self {
            Val::Obj(o) => Some(o),
            _ => None,
        }
    }
}

/// An object's members in the order their keys first appear.
#[derive(Debug, Default, PartialEq)]
pub struct Obj<'a>(Vec<(Cow<'a, str>, Val<'a>)>);

impl<'a> Obj<'a> {
    pub fn get(&self, key: &str) -> Option<&Val<'a>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn values(&self) -> impl Iterator<Item = &Val<'a>> {
        self.0.iter().map(|(_, v)| v)
    }
}

/// The object a line holds, or `None` when it is not one JSON object.
pub fn parse(line: &str) -> Option<Obj<'_>> {
    let mut de = serde_json::Deserializer::from_str(line);
    let v = ValSeed { depth: 0 }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    match v {
        Val::Obj(o) => Some(o),
        _ => None,
    }
}

struct ValSeed {
    depth: u8,
}

impl<'de> DeserializeSeed<'de> for ValSeed {
    type Value = Val<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Val<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValSeed {
    type Value = Val<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Val<'de>, E> {
        Ok(Val::Num(Some(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Val<'de>, E> {
        Ok(Val::Num(u64::try_from(v).ok()))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Val<'de>, E> {
        Ok(Val::Num(None))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Val<'de>, E> {
        Ok(Val::Other)
    }
    fn visit_unit<E>(self) -> Result<Val<'de>, E> {
        Ok(Val::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Val::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val<'de>, A::Error> {
        if self.depth > KEPT_DEPTH {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Val::Other);
        }
        let mut members: Vec<(Cow<'de, str>, Val<'de>)> = Vec::new();
        let mut index: Option<std::collections::HashMap<Cow<'de, str>, usize>> = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value = map.next_value_seed(ValSeed { depth: self.depth + 1 })?;
            if index.is_none() && members.len() >= LINEAR_KEYS {
                index = Some(members.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect());
            }
            let at = match &mut index {
                None => members.iter().position(|(k, _)| *k == key),
                Some(ix) => match ix.get(&key) {
                    Some(&i) => Some(i),
                    None => {
                        ix.insert(key.clone(), members.len());
                        None
                    }
                },
            };
            match at {
                Some(i) => members[i].1 = value,
                None => members.push((key, value)),
            }
        }
        Ok(Val::Obj(Obj(members)))
    }
}

/// A key, borrowed from the line unless it holds escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value};

    /// What `serde_json::Map` says of the same text, down to the kept depth.
    fn same(a: &Obj, m: &Map<String, Value>, depth: u8) {
        assert_eq!(a.0.iter().map(|(k, _)| k.as_ref()).collect::<Vec<_>>(), m.keys().collect::<Vec<_>>());
        for ((_, v), w) in a.0.iter().zip(m.values()) {
            match (v, w) {
                (Val::Str(s), Value::String(t)) => assert_eq!(s, t),
                (Val::Num(n), Value::Number(x)) => assert_eq!(*n, x.as_u64()),
                (Val::Obj(o), Value::Object(p)) => same(o, p, depth + 1),
                (Val::Other, Value::Object(_)) => assert!(depth >= KEPT_DEPTH),
                (Val::Other, Value::Array(_) | Value::Bool(_) | Value::Null) => {}
                _ => panic!("{v:?} read where serde_json reads {w:?}"),
            }
        }
    }

    #[test]
    fn reads_as_serde_json_maps_read() {
        let lines = [
            r#"{"level":"info","msg":"job finished","job":"invoice-7","attempt":1,"elapsed_ms":2500,"queue":"default"}"#,
            r#"{"a":1,"b":{"level":"warn","c":{"status":"500","d":{"e":{}}}},"a":{"x":[1,{"y":2}]},"n":-3,"f":1.5,"t":true,"z":null}"#,
            r#"{"esc\"aped":"v\u00e9\n","k":"plain","k":"again"}"#,
            r#"{"big":18446744073709551615,"neg":-9223372036854775808,"exp":1e3}"#,
            r#"  {"spaced" : { } }  "#,
            "{}",
        ];
        for l in lines {
            let m: Map<String, Value> = serde_json::from_str(l).unwrap();
            same(&parse(l).expect(l), &m, 0);
        }
        // Many keys, repeated ones among them, past the linear search.
        let mut many = String::from("{");
        for i in 0..100 {
            many.push_str(&format!("\"k{}\":{i},", i % 70));
        }
        many.push_str("\"end\":\"x\"}");
        let m: Map<String, Value> = serde_json::from_str(&many).unwrap();
        same(&parse(&many).unwrap(), &m, 0);
        // What serde_json refuses, refused; what is no object, none.
        for bad in [r#"{"a":1"#, r#"{"a":1} x"#, r#"{"a":}"#, r#"{a:1}"#, "[1,2]", r#""s""#, r#"{"a":"\ud800"}"#] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        // Keys and plain strings are borrowed from the line.
        let o = parse(r#"{"level":"error"}"#).unwrap();
        assert!(matches!(&o.0[0], (Cow::Borrowed(_), Val::Str(Cow::Borrowed("error")))));
    }
}
