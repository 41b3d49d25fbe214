//! Secrets in the configuration (passwords, tokens, credentials inside URLs): they load from
//! YAML and the environment like any string, but serialize as `<secret>` (as Loki prints them
//! in `/config`), so every secret field is masked by construction. Only [`reveal`] (the
//! configuration's own round trip through its environment overrides) serializes their values.

use std::cell::Cell;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a secret prints as.
pub const MASK: &str = "<secret>";

thread_local! {
    static REVEAL: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with secrets serialized as their real values (on this thread only).
pub fn reveal<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            REVEAL.with(|r| r.set(self.0));
        }
    }
    let _restore = Restore(REVEAL.with(|r| r.replace(true)));
    f()
}

fn revealing() -> bool {
    REVEAL.with(Cell::get)
}

/// A secret string: a password, a token, a key.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The value, for where it is used (an `Authorization` header, say).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if revealing() { &self.0 } else { MASK })
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// A URL whose credentials (`user:password@`) are secret: it prints with them replaced by
/// `<secret>`, the rest readable.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(s: impl Into<String>) -> Self {
        SecretUrl(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its user-info masked.
    pub fn masked(&self) -> String {
        let u = &self.0;
        let rest_at = u.find("://").map_or(0, |i| i + 3);
        let authority_end = u[rest_at..].find(['/', '?', '#']).map_or(u.len(), |i| rest_at + i);
        match u[rest_at..authority_end].rfind('@') {
            Some(at) => format!("{}{MASK}{}", &u[..rest_at], &u[rest_at + at..]),
            None => u.clone(),
        }
    }
}

impl From<String> for SecretUrl {
    fn from(s: String) -> Self {
        SecretUrl(s)
    }
}

impl From<&str> for SecretUrl {
    fn from(s: &str) -> Self {
        SecretUrl(s.to_string())
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.masked())
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl Serialize for SecretUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if revealing() { s.serialize_str(&self.0) } else { s.serialize_str(&self.masked()) }
    }
}

impl<'de> Deserialize<'de> for SecretUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(SecretUrl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_unless_revealed() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "<secret> <secret>");
        let u = SecretUrl::new("https://bob:pw@logs.example:3100/loki/api/v1/push?x=a@b");
        assert_eq!(u.to_string(), "https://<secret>@logs.example:3100/loki/api/v1/push?x=a@b");
        assert_eq!(SecretUrl::new("http://h:3100/p").masked(), "http://h:3100/p");
        assert_eq!(SecretUrl::new("bob:pw@h/p").masked(), "<secret>@h/p");
        let v = (s.clone(), u.clone());
        let json = |v: &(Secret, SecretUrl)| serde_json::to_string(v).unwrap();
        let masked = r#"["<secret>","https://<secret>@logs.example:3100/loki/api/v1/push?x=a@b"]"#;
        assert_eq!(json(&v), masked);
        assert_eq!(reveal(|| json(&v)), r#"["hunter2","https://bob:pw@logs.example:3100/loki/api/v1/push?x=a@b"]"#);
        assert_eq!(json(&v), masked);
        let back: (Secret, SecretUrl) = serde_json::from_str(&reveal(|| json(&v))).unwrap();
        assert_eq!(back, v);
    }
}
